//! Projection checkpoints, and a runner that writes a read model and its checkpoint in one
//! transaction, so after a crash the two never disagree (no event applied twice or skipped).

use std::sync::Arc;

use ddd_core::projection::{self, BatchError, BatchProjection};
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
#[derive(Debug)]
pub struct SqlProjectionRunner<P> {
    store: SqliteStore,
    projection: Arc<P>,
    batch_size: usize,
}

impl<P: SqlProjection> SqlProjectionRunner<P> {
    /// A runner applying up to 500 events per transaction.
    pub fn new(store: SqliteStore, projection: P) -> Self {
        Self {
            store,
            projection: Arc::new(projection),
            batch_size: 500,
        }
    }

    /// Sets how many events one transaction applies (at least 1).
    #[must_use]
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// The projection.
    pub fn projection(&self) -> &P {
        &self.projection
    }

    /// Applies every event after the checkpoint; returns how many it applied. When an event
    /// fails, the events before it are kept with the checkpoint just before it.
    pub async fn catch_up(&self) -> Result<usize, CatchUpError> {
        let mut batches = Transactional(self);
        projection::catch_up(&self.store, &self.store, &mut batches, self.batch_size).await
    }

    /// Empties the read model and sets the checkpoint to 0 in one transaction, then applies
    /// every event from the first. Readers see the read model grow back, not a mix.
    pub async fn rebuild(&self) -> Result<usize, CatchUpError> {
        let projection = Arc::clone(&self.projection);
        self.store
            .write(move |tx| {
                projection.reset(tx).map_err(|error| CatchUpError::Event {
                    projection: P::NAME,
                    position: 0,
                    reason: error.0,
                })?;
                save(tx, P::NAME, 0)?;
                Ok::<_, CatchUpError>(())
            })
            .await?;
        self.catch_up().await
    }
}

/// A runner's batches, each applied in one write with the checkpoint after it.
struct Transactional<'a, P>(&'a SqlProjectionRunner<P>);

impl<P: SqlProjection> BatchProjection for Transactional<'_, P> {
    const NAME: &'static str = P::NAME;
    const ATOMIC: bool = true;

    async fn apply_batch(
        &mut self,
        from: Position,
        batch: &[RawEnvelope],
    ) -> Result<usize, BatchError> {
        let projection = Arc::clone(&self.0.projection);
        // The write runs on the writer's thread, which needs the events to own.
        let batch = batch.to_vec();
        self.0
            .store
            .write(move |tx| {
                let found = load(tx.connection(), P::NAME)?;
                if found != from {
                    return Err(BatchError::checkpoint_moved(P::NAME, from, found));
                }
                let mut applied = 0;
                let last = batch.last().map_or(from, |event| event.position);
                for (index, raw) in batch.into_iter().enumerate() {
                    let failed = |reason: String| BatchError::Event { index, reason };
                    match raw.decode::<P::Event>() {
                        Ok(Some(event)) => {
                            projection
                                .apply(tx, &event)
                                .map_err(|error| failed(error.0))?;
                            applied += 1;
                        }
                        Ok(None) => {}
                        Err(error) => return Err(failed(error.to_string())),
                    }
                }
                save(tx, P::NAME, last)?;
                Ok(applied)
            })
            .await
    }
}
