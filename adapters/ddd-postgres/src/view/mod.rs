//! Views in PostgreSQL: a table per view (`ddd_view_<table>`), each step folded by
//! ddd-core's [`ViewBatch`] in one transaction that holds the view's checkpoint row, so a
//! second runner (another replica) waits for it and continues where it stopped: no event is
//! folded twice, none skipped.
//!
//! A rebuild fills a second table batch by batch while the live one keeps serving and
//! folding, then swaps it in with one transaction that holds the live checkpoint: queries see
//! the old rows or the new ones.

mod query;
mod table;

use ddd_core::view::{
    Advanced, Progress, View, ViewBatch, ViewError, ViewPage, ViewQuery, ViewRecord, ViewSchema,
    ViewStore, ViewTarget,
};
use ddd_core::{EventId, Position, StoreError};
use sqlx::{AssertSqlSafe, Connection as _, PgConnection};

use crate::checkpoint::{lock_checkpoint, save};
use crate::error::{store_error, undefined_table};
use crate::row::event_columns;
use crate::store::{PostgresStore, fetch_events_on, limit_param, position_param};
use table::Table;

/// The events after a checkpoint, in the order views fold them.
const EVENTS_AFTER: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM ddd_events WHERE position > $1 ORDER BY position LIMIT $2"
);

/// Where a view stands, in one statement (one snapshot, no writes): its checkpoint, the last
/// position given, the committed events still without one (they will follow it, so they
/// count as pending), and when the first event after the checkpoint was recorded.
const PROGRESS: &str = "
SELECT coalesce(c.position, 0),
       s.last_position,
       (SELECT count(*) FROM ddd_events WHERE position IS NULL),
       coalesce(
           (SELECT recorded_at FROM ddd_events WHERE position = coalesce(c.position, 0) + 1),
           (SELECT recorded_at FROM ddd_events WHERE position IS NULL ORDER BY id LIMIT 1))
FROM ddd_sequencer AS s
LEFT JOIN ddd_checkpoints AS c ON c.projection = $1";

/// How far one step got, and the event it stopped before.
type Step = (Advanced, Option<ViewError>);

impl ViewStore for PostgresStore {
    async fn prepare_view(&self, schema: &'static ViewSchema) -> Result<(), StoreError> {
        let table = Table::new(schema, schema.table)?;
        // A rebuild's names are longer: refuse a view that could not be rebuilt now.
        Table::new(schema, &ViewTarget::rebuild(schema).table)?;
        let failed = |error| store_error("preparing a view", error);
        let mut transaction = self.pool().begin().await.map_err(failed)?;
        lock_ddl(&mut transaction, &table).await?;
        match fingerprint(&mut transaction, &table).await? {
            None => table.create(&mut transaction).await?,
            Some(found) => {
                same_view(&table, &found)?;
                table.create_indexes(&mut transaction).await?;
            }
        }
        transaction.commit().await.map_err(failed)
    }

    async fn advance_view<V: View>(
        &self,
        target: &ViewTarget,
        limit: usize,
    ) -> Result<Advanced, ViewError> {
        let table = Table::new(&V::SCHEMA, &target.table)?;
        self.sequence().await?;
        let failed = |error| store_error("advancing a view", error);
        let mut transaction = self.pool().begin().await.map_err(failed)?;
        let (advanced, failure) =
            step::<V>(&mut transaction, &table, &target.checkpoint, limit).await?;
        transaction.commit().await.map_err(failed)?;
        failure.map_or(Ok(advanced), Err)
    }

    async fn rebuild_view<V: View>(&self, batch: usize) -> Result<Advanced, ViewError> {
        let failed = |error| store_error("rebuilding a view", error);
        // Detached from the pool: the session lock that keeps a second rebuild out ends with
        // the connection, which closes when this future ends or is dropped halfway.
        let mut connection = self.pool().acquire().await.map_err(failed)?.detach();
        let rebuilt = self.rebuild_on::<V>(&mut connection, batch.max(1)).await;
        let _ = connection.close().await;
        rebuilt
    }

    async fn view_progress(&self, schema: &'static ViewSchema) -> Result<Progress, StoreError> {
        let (checkpoint, sequenced, unsequenced, oldest_pending): (
            i64,
            i64,
            i64,
            Option<chrono::DateTime<chrono::Utc>>,
        ) = sqlx::query_as(PROGRESS)
            .bind(schema.checkpoint())
            .fetch_one(self.pool())
            .await
            .map_err(|error| store_error("reading a view's progress", error))?;
        let position = |value: i64| u64::try_from(value).unwrap_or(0);
        Ok(Progress {
            checkpoint: position(checkpoint),
            head: position(sequenced) + position(unsequenced),
            oldest_pending,
        })
    }

    async fn query_view(
        &self,
        schema: &'static ViewSchema,
        query: &ViewQuery,
    ) -> Result<ViewPage, StoreError> {
        query::page(self.pool(), &Table::new(schema, schema.table)?, query).await
    }

    async fn view_row(
        &self,
        schema: &'static ViewSchema,
        key: &str,
    ) -> Result<Option<ViewRecord>, StoreError> {
        let table = Table::new(schema, schema.table)?;
        let select = format!(r#"SELECT "row" FROM {} WHERE "key" = $1"#, table.quoted());
        let row: Option<String> = match sqlx::query_scalar(AssertSqlSafe(select))
            .bind(key)
            .fetch_optional(self.pool())
            .await
        {
            Ok(row) => row,
            Err(error) if undefined_table(&error) => None,
            Err(error) => return Err(store_error("reading a view's row", error)),
        };
        Ok(row.map(|row| ViewRecord {
            key: key.to_owned(),
            row,
        }))
    }

    async fn event_position(&self, event_id: EventId) -> Result<Option<Position>, StoreError> {
        loop {
            let found: Option<Option<i64>> =
                sqlx::query_scalar("SELECT position FROM ddd_events WHERE event_id = $1")
                    .bind(event_id)
                    .fetch_optional(self.pool())
                    .await
                    .map_err(|error| store_error("reading an event's position", error))?;
            match found {
                None => return Ok(None),
                Some(Some(position)) => return Ok(Some(u64::try_from(position).unwrap_or(0))),
                // Committed, not yet given a position (a command's token names its last
                // event at once): give it one. A run positions the oldest first, so a
                // backlog may take more than one.
                Some(None) => {
                    if self.sequence().await? == 0 {
                        // Another run positioned it after this read: read again, after a
                        // moment in case that run has yet to commit.
                        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
                    }
                }
            }
        }
    }
}

impl PostgresStore {
    /// [`ViewStore::rebuild_view`] on `connection`, a connection of its own.
    async fn rebuild_on<V: View>(
        &self,
        connection: &mut PgConnection,
        batch: usize,
    ) -> Result<Advanced, ViewError> {
        let live = ViewTarget::live(&V::SCHEMA);
        let fresh = ViewTarget::rebuild(&V::SCHEMA);
        let live_table = Table::new(&V::SCHEMA, &live.table)?;
        let fresh_table = Table::new(&V::SCHEMA, &fresh.table)?;
        let failed = |error| store_error("rebuilding a view", error);
        claim_rebuild(connection, &fresh_table).await?;
        reset(connection, &fresh_table, &fresh.checkpoint).await?;
        let mut total = Advanced::default();
        // Batch by batch, each its own transaction: the live table keeps serving and folding.
        loop {
            self.sequence().await?;
            let mut transaction = connection.begin().await.map_err(failed)?;
            let step = step::<V>(&mut transaction, &fresh_table, &fresh.checkpoint, batch).await?;
            transaction.commit().await.map_err(failed)?;
            if add(&mut total, step)? < batch {
                break;
            }
        }
        // The swap: with the live checkpoint held no live runner folds, so the rebuilt table
        // catches up to the head, and it goes in at that checkpoint.
        let mut transaction = connection.begin().await.map_err(failed)?;
        lock_checkpoint(&mut transaction, &live.checkpoint).await?;
        loop {
            self.sequence().await?;
            let step = step::<V>(&mut transaction, &fresh_table, &fresh.checkpoint, batch).await?;
            if add(&mut total, step)? < batch {
                break;
            }
        }
        lock_ddl(&mut transaction, &live_table).await?;
        live_table.drop_if_exists(&mut transaction).await?;
        fresh_table.rename_to(&mut transaction, &live_table).await?;
        save(&mut *transaction, &live.checkpoint, total.checkpoint).await?;
        forget_checkpoint(&mut transaction, &fresh.checkpoint).await?;
        transaction.commit().await.map_err(failed)?;
        Ok(total)
    }
}

/// One step of `V` into `table` in `transaction`: holds the checkpoint, reads up to `limit`
/// events after it, loads the rows they touch, folds, writes the rows and the checkpoint.
async fn step<V: View>(
    transaction: &mut PgConnection,
    table: &Table,
    checkpoint: &str,
    limit: usize,
) -> Result<Step, StoreError> {
    let from = lock_checkpoint(transaction, checkpoint).await?;
    // Checked with the checkpoint held, so no rebuild can swap another table in until this
    // step commits: a replica still running an older build of the view stops here rather
    // than fold into a table made by the newer one.
    match fingerprint(transaction, table).await? {
        Some(found) => same_view(table, &found)?,
        None => {
            return Err(StoreError::permanent(format!(
                "view `{}`: no table {}; prepare the view first",
                table.schema.name,
                table.quoted()
            )));
        }
    }
    let query = sqlx::query(EVENTS_AFTER)
        .bind(position_param(from))
        .bind(limit_param(limit));
    let raw = fetch_events_on(&mut *transaction, query, "reading events for a view").await?;
    let batch = ViewBatch::<V>::decode(from, raw);
    if batch.is_empty() {
        let advanced = Advanced {
            checkpoint: from,
            ..Advanced::default()
        };
        return Ok((advanced, None));
    }
    let loaded = table.load(transaction, &batch.keys()).await?;
    let folded = batch.fold(&loaded)?;
    table.write(transaction, folded.writes).await?;
    if folded.advanced.checkpoint != from {
        save(&mut *transaction, checkpoint, folded.advanced.checkpoint).await?;
    }
    Ok((folded.advanced, folded.failure))
}

/// Adds a rebuild's step to its total; how many events it read. A failing event ends the
/// rebuild (the live table stays).
fn add(total: &mut Advanced, (step, failure): Step) -> Result<usize, ViewError> {
    if let Some(failure) = failure {
        return Err(failure);
    }
    total.read += step.read;
    total.applied += step.applied;
    total.checkpoint = step.checkpoint;
    Ok(step.read)
}

/// Serializes the DDL of one table across processes: replicas starting together would
/// otherwise race in `CREATE TABLE IF NOT EXISTS` (a unique violation in the catalog).
async fn lock_ddl(transaction: &mut PgConnection, table: &Table) -> Result<(), StoreError> {
    sqlx::query(
        "SELECT pg_advisory_xact_lock(hashtext('ddd-view:' || current_schema() || '.' || $1))",
    )
    .bind(table.quoted())
    .execute(transaction)
    .await
    .map_err(|error| store_error("locking a view's table", error))?;
    Ok(())
}

/// The comment of `table`, `None` when there is no such table.
async fn fingerprint(
    transaction: &mut PgConnection,
    table: &Table,
) -> Result<Option<String>, StoreError> {
    let found: Option<Option<String>> = sqlx::query_scalar(
        "SELECT obj_description(oid, 'pg_class') FROM pg_class WHERE oid = to_regclass($1)",
    )
    .bind(table.quoted())
    .fetch_optional(transaction)
    .await
    .map_err(|error| store_error("reading a view's table", error))?;
    Ok(found.map(Option::unwrap_or_default))
}

/// Refuses a table made for another schema of the view (its comment is `found`): its rows
/// came from another fold, and folding on would mix the two. A rebuild replaces it.
fn same_view(table: &Table, found: &str) -> Result<(), StoreError> {
    if found == table.fingerprint() {
        return Ok(());
    }
    Err(StoreError::permanent(format!(
        "view `{}`: table {} was made for another version of the view ({found}); this build's \
         is ({}). Rebuild the view (`rebuild_view`) to replace the table",
        table.schema.name,
        table.quoted(),
        table.fingerprint()
    )))
}

/// Holds the rebuild of `table` for this session, or says another is running.
async fn claim_rebuild(connection: &mut PgConnection, table: &Table) -> Result<(), StoreError> {
    let claimed: bool = sqlx::query_scalar(
        "SELECT pg_try_advisory_lock(hashtext('ddd-view-rebuild:' || current_schema() || '.' || $1))",
    )
    .bind(table.quoted())
    .fetch_one(connection)
    .await
    .map_err(|error| store_error("claiming a view's rebuild", error))?;
    if claimed {
        Ok(())
    } else {
        Err(StoreError::transient(format!(
            "view `{}` is being rebuilt by another process",
            table.schema.name
        )))
    }
}

/// An empty rebuild table and no rebuild checkpoint: a rebuild starts from the first event,
/// whatever an earlier one left.
async fn reset(
    connection: &mut PgConnection,
    table: &Table,
    checkpoint: &str,
) -> Result<(), StoreError> {
    let failed = |error| store_error("starting a view's rebuild", error);
    let mut transaction = connection.begin().await.map_err(failed)?;
    lock_ddl(&mut transaction, table).await?;
    table.drop_if_exists(&mut transaction).await?;
    table.create(&mut transaction).await?;
    forget_checkpoint(&mut transaction, checkpoint).await?;
    transaction.commit().await.map_err(failed)
}

async fn forget_checkpoint(
    transaction: &mut PgConnection,
    checkpoint: &str,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM ddd_checkpoints WHERE projection = $1")
        .bind(checkpoint)
        .execute(transaction)
        .await
        .map_err(|error| store_error("deleting a checkpoint", error))?;
    Ok(())
}
