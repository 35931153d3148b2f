//! Views in the store's file: a table per view (`ddd_view_<table>`), folded by steps that
//! each commit their rows with the view's checkpoint in the writer's transaction, queried
//! on the readers.

mod query;
mod rows;
mod table;

use ddd_core::view::{
    Advanced, Progress, View, ViewError, ViewPage, ViewQuery, ViewRecord, ViewSchema, ViewStore,
    ViewTarget,
};
use ddd_core::{EventId, Position, StoreError};
use rusqlite::{Connection, OptionalExtension as _};

use self::rows::{Step, advance};
use self::table::Table;
use crate::checkpoint;
use crate::store::{SqliteStore, sql_error};
use crate::writer::WriteTx;

impl ViewStore for SqliteStore {
    async fn prepare_view(&self, schema: &'static ViewSchema) -> Result<(), StoreError> {
        self.write(move |tx| Table::live(schema).prepare(tx.connection()))
            .await
    }

    async fn advance_view<V: View>(
        &self,
        target: &ViewTarget,
        limit: usize,
    ) -> Result<Advanced, ViewError> {
        let target = target.clone();
        let step: Step = self
            .write(move |tx| advance::<V>(tx, &target, limit).map_err(ViewError::from))
            .await?;
        step.into_result()
    }

    async fn rebuild_view<V: View>(&self, batch: usize) -> Result<Advanced, ViewError> {
        let batch = batch.max(1);
        let Some(_claim) = self.claim_rebuild(V::SCHEMA.name) else {
            return Err(StoreError::transient(format!(
                "view `{}` is being rebuilt already",
                V::SCHEMA.name
            ))
            .into());
        };
        self.write(|tx| start_rebuild(tx, &V::SCHEMA)).await?;
        let rebuilt = self.fill_and_swap::<V>(batch).await;
        if rebuilt.is_err() {
            let discarded = self.write(|tx| discard_rebuild(tx, &V::SCHEMA)).await;
            if let Err(error) = discarded {
                tracing::warn!(view = V::SCHEMA.name, %error, "cannot drop a failed rebuild's table");
            }
        }
        rebuilt
    }

    async fn view_progress(&self, schema: &'static ViewSchema) -> Result<Progress, StoreError> {
        let checkpoint = schema.checkpoint();
        self.read(move |connection| progress(connection, &checkpoint))
            .await
    }

    async fn query_view(
        &self,
        schema: &'static ViewSchema,
        query: &ViewQuery,
    ) -> Result<ViewPage, StoreError> {
        let query = query.clone();
        self.read(move |connection| query::page(connection, &Table::live(schema), &query))
            .await
    }

    async fn view_row(
        &self,
        schema: &'static ViewSchema,
        key: &str,
    ) -> Result<Option<ViewRecord>, StoreError> {
        let key = key.to_owned();
        self.read(move |connection| row(connection, &Table::live(schema), key))
            .await
    }

    async fn event_position(&self, event_id: EventId) -> Result<Option<Position>, StoreError> {
        self.read(move |connection| {
            let position: Option<i64> = connection
                .prepare_cached("SELECT position FROM ddd_events WHERE event_id = ?1")
                .and_then(|mut statement| {
                    statement
                        .query_row([&event_id.as_bytes()[..]], |row| row.get(0))
                        .optional()
                })
                .map_err(sql_error("reading an event's position"))?;
            Ok(position.and_then(|position| u64::try_from(position).ok()))
        })
        .await
    }
}

impl SqliteStore {
    /// Fills the rebuild's table step by step, each step a write of its own so commands keep
    /// committing between them; then catches it up and swaps it in, in one write.
    async fn fill_and_swap<V: View>(&self, batch: usize) -> Result<Advanced, ViewError> {
        let fresh = ViewTarget::rebuild(&V::SCHEMA);
        let mut total = Advanced::default();
        loop {
            let step = self.advance_view::<V>(&fresh, batch).await?;
            add(&mut total, step);
            if step.read < batch {
                break;
            }
        }
        let last = self.write(move |tx| swap::<V>(tx, batch)).await?;
        add(&mut total, last);
        Ok(total)
    }
}

fn add(total: &mut Advanced, step: Advanced) {
    total.read += step.read;
    total.applied += step.applied;
    total.checkpoint = step.checkpoint;
}

/// A fresh rebuild table and checkpoint: what an earlier rebuild left (it was stopped) goes.
fn start_rebuild(tx: &WriteTx<'_>, schema: &'static ViewSchema) -> Result<(), StoreError> {
    let fresh = ViewTarget::rebuild(schema);
    let table = Table::new(schema, &fresh.table);
    table.drop(tx.connection())?;
    checkpoint::delete(tx, &fresh.checkpoint)?;
    table.prepare(tx.connection())
}

fn discard_rebuild(tx: &WriteTx<'_>, schema: &'static ViewSchema) -> Result<(), StoreError> {
    let fresh = ViewTarget::rebuild(schema);
    Table::new(schema, &fresh.table).drop(tx.connection())?;
    checkpoint::delete(tx, &fresh.checkpoint)
}

/// Catches the rebuild's table up to the last event and puts it in the live one's place,
/// with its checkpoint: queries see the old rows until this commits, the new ones after.
fn swap<V: View>(tx: &WriteTx<'_>, batch: usize) -> Result<Advanced, ViewError> {
    let schema = &V::SCHEMA;
    let fresh = ViewTarget::rebuild(schema);
    let live = ViewTarget::live(schema);
    let mut total = Advanced::default();
    loop {
        let step = advance::<V>(tx, &fresh, batch)?.into_result()?;
        add(&mut total, step);
        if step.read < batch {
            break;
        }
    }
    let connection = tx.connection();
    let position = checkpoint::load(connection, &fresh.checkpoint)?;
    Table::new(schema, &fresh.table).replace(connection, &Table::live(schema))?;
    checkpoint::save(tx, &live.checkpoint, position)?;
    checkpoint::delete(tx, &fresh.checkpoint)?;
    total.checkpoint = position;
    Ok(total)
}

/// The view's checkpoint, the head and the oldest event after the checkpoint, in one
/// statement so they come from one snapshot.
fn progress(connection: &Connection, checkpoint: &str) -> Result<Progress, StoreError> {
    let (checkpoint, head, oldest): (i64, i64, Option<i64>) = connection
        .prepare_cached(
            "WITH c(position) AS (SELECT coalesce((SELECT position FROM ddd_checkpoints \
                 WHERE projection = ?1), 0)) \
             SELECT c.position, coalesce((SELECT max(position) FROM ddd_events), 0), \
                 (SELECT recorded_at FROM ddd_events WHERE position > c.position \
                  ORDER BY position LIMIT 1) \
             FROM c",
        )
        .and_then(|mut statement| {
            statement.query_row([checkpoint], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
        })
        .map_err(sql_error("reading a view's progress"))?;
    Ok(Progress {
        checkpoint: u64::try_from(checkpoint).unwrap_or(0),
        head: u64::try_from(head).unwrap_or(0),
        oldest_pending: oldest.and_then(chrono::DateTime::from_timestamp_micros),
    })
}

/// The row with `key`; none when the table was never prepared.
fn row(
    connection: &Connection,
    table: &Table,
    key: String,
) -> Result<Option<ViewRecord>, StoreError> {
    let sql = format!(r#"SELECT "row" FROM {} WHERE "key" = ?1"#, table.sql);
    let found = connection
        .prepare_cached(&sql)
        .and_then(|mut statement| statement.query_row([&key], |row| row.get(0)).optional());
    match found {
        Ok(row) => Ok(row.map(|row| ViewRecord { key, row })),
        Err(error) => match table.exists(connection)? {
            true => Err(table.error("reading a row", error)),
            false => Ok(None),
        },
    }
}

#[cfg(all(test, feature = "testing"))]
mod tests {
    use ddd_core::testing::conformance::views::TickCount;
    use ddd_core::{View as _, ViewStore as _};

    /// A second rebuild of a view while one runs is refused (retryable) instead of dropping
    /// the first one's table halfway; once it is done, the next may run.
    #[tokio::test]
    async fn a_second_rebuild_of_a_view_waits_its_turn() {
        let file = crate::testing::TestFile::new();
        let store = file.connect().await;
        store
            .prepare_view(&TickCount::SCHEMA)
            .await
            .expect("prepare");
        let claim = store.claim_rebuild(TickCount::SCHEMA.name);
        assert!(claim.is_some());
        let refused = store.rebuild_view::<TickCount>(10).await;
        assert!(
            matches!(&refused, Err(ddd_core::ViewError::Store(error)) if error.is_retryable()),
            "{refused:?}"
        );
        drop(claim);
        store
            .rebuild_view::<TickCount>(10)
            .await
            .expect("the next rebuild runs");
    }
}
