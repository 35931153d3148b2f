//! Projection checkpoints, and a runner that writes a read model and its checkpoint in one
//! transaction, so after a crash the two never disagree (no event applied twice or skipped).

use std::sync::Arc;

use ddd_core::projection::{BatchError, Transactional, TransactionalRunner};
use ddd_core::{
    CatchUpError, CheckpointStore, DomainEvent, Envelope, Position, ProjectionError, RawEnvelope,
    StoreError,
};
use rusqlite::{OptionalExtension as _, params};

use crate::error::store_error;
use crate::store::SqliteStore;
use crate::writer::WriteTx;

fn signed(position: Position) -> i64 {
    i64::try_from(position).unwrap_or(i64::MAX)
}

pub(crate) fn load(
    connection: &rusqlite::Connection,
    projection: &str,
) -> Result<Position, StoreError> {
    let position: Option<i64> = connection
        .prepare_cached("SELECT position FROM ddd_checkpoints WHERE projection = ?1")
        .and_then(|mut statement| {
            statement
                .query_row([projection], |row| row.get(0))
                .optional()
        })
        .map_err(|error| store_error("loading a checkpoint", error))?;
    Ok(position.map_or(0, |position| u64::try_from(position).unwrap_or(0)))
}

pub(crate) fn save(
    tx: &WriteTx<'_>,
    projection: &str,
    position: Position,
) -> Result<(), StoreError> {
    tx.connection()
        .prepare_cached(
            "INSERT INTO ddd_checkpoints (projection, position, updated_at) VALUES (?1, ?2, ?3) \
             ON CONFLICT (projection) DO UPDATE SET position = excluded.position, \
             updated_at = excluded.updated_at",
        )
        .and_then(|mut statement| {
            statement.execute(params![
                projection,
                signed(position),
                chrono::Utc::now().timestamp_micros()
            ])
        })
        .map(|_| ())
        .map_err(|error| store_error("saving a checkpoint", error))
}

/// Forgets `projection`'s checkpoint (a view's rebuild, once swapped in or abandoned).
pub(crate) fn delete(tx: &WriteTx<'_>, projection: &str) -> Result<(), StoreError> {
    tx.connection()
        .prepare_cached("DELETE FROM ddd_checkpoints WHERE projection = ?1")
        .and_then(|mut statement| statement.execute([projection]))
        .map(|_| ())
        .map_err(|error| store_error("deleting a checkpoint", error))
}

impl CheckpointStore for SqliteStore {
    async fn load(&self, projection: &str) -> Result<Position, StoreError> {
        let projection = projection.to_owned();
        self.read(move |connection| load(connection, &projection))
            .await
    }

    async fn save(&self, projection: &str, position: Position) -> Result<(), StoreError> {
        let projection = projection.to_owned();
        self.write(move |tx| save(tx, &projection, position)).await
    }
}

/// A read model kept in tables of the store's file, written in the transaction that also
/// moves its checkpoint.
///
/// Keep the read model in the database: state held in the value itself is not rolled back
/// when a batch fails.
pub trait SqlProjection: Send + Sync + 'static {
    /// The events it reads; others are skipped.
    type Event: DomainEvent;
    /// Names its checkpoint.
    const NAME: &'static str;

    /// Folds one event into the read model, within the writer's transaction.
    fn apply(&self, tx: &WriteTx<'_>, event: &Envelope<Self::Event>)
    -> Result<(), ProjectionError>;

    /// Empties the read model, within the writer's transaction, for a rebuild.
    fn reset(&self, tx: &WriteTx<'_>) -> Result<(), ProjectionError>;
}

/// Feeds a [`SqlProjection`] from the global order: each batch of events and the checkpoint
/// after it commit in one transaction.
pub type SqlProjectionRunner<P> = TransactionalRunner<SqliteStore, P>;

impl<P: SqlProjection> Transactional<P> for SqliteStore {
    const NAME: &'static str = P::NAME;

    async fn apply_batch(
        &self,
        projection: &Arc<P>,
        from: Position,
        batch: &[RawEnvelope],
    ) -> Result<usize, BatchError> {
        let projection = Arc::clone(projection);
        // The write runs on the writer's thread, which needs the events to own.
        let batch = batch.to_vec();
        self.write(move |tx| {
            let found = load(tx.connection(), P::NAME)?;
            if found != from {
                return Err(BatchError::checkpoint_moved(P::NAME, from, found));
            }
            let mut applied = 0;
            let last = batch.last().map_or(from, |event| event.position);
            for (index, raw) in batch.into_iter().enumerate() {
                let decoded = raw.decode::<P::Event>();
                let Some(event) = decoded.map_err(|error| BatchError::event(index, error))? else {
                    continue;
                };
                projection
                    .apply(tx, &event)
                    .map_err(|error| BatchError::event(index, error))?;
                applied += 1;
            }
            save(tx, P::NAME, last)?;
            Ok(applied)
        })
        .await
    }

    async fn reset(&self, projection: &Arc<P>) -> Result<(), CatchUpError> {
        let projection = Arc::clone(projection);
        self.write(move |tx| {
            projection
                .reset(tx)
                .map_err(|error| CatchUpError::not_reset(P::NAME, error))?;
            save(tx, P::NAME, 0)?;
            Ok::<_, CatchUpError>(())
        })
        .await
    }
}
