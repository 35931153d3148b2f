//! Projection checkpoints, and a runner that writes a read model and its checkpoint in one
//! transaction, so after a crash the two never disagree (no event applied twice or skipped).

use std::future::Future;

use ddd_core::projection::{self, BatchError, BatchProjection};
use ddd_core::{
    CatchUpError, CheckpointStore, DomainEvent, Envelope, Position, ProjectionError, RawEnvelope,
    StoreError,
};
use sqlx::{Acquire as _, PgConnection};

use crate::error::store_error;
use crate::store::{PostgresStore, position_param};

impl CheckpointStore for PostgresStore {
    async fn load(&self, projection: &str) -> Result<Position, StoreError> {
        let position: Option<i64> =
            sqlx::query_scalar("SELECT position FROM ddd_checkpoints WHERE projection = $1")
                .bind(projection)
                .fetch_optional(self.pool())
                .await
                .map_err(|error| store_error("loading a checkpoint", error))?;
        Ok(position.map_or(0, |position| u64::try_from(position).unwrap_or(0)))
    }

    async fn save(&self, projection: &str, position: Position) -> Result<(), StoreError> {
        save(self.pool(), projection, position).await
    }
}

pub(crate) async fn save<'c>(
    executor: impl sqlx::PgExecutor<'c>,
    projection: &str,
    position: Position,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO ddd_checkpoints (projection, position) VALUES ($1, $2) \
         ON CONFLICT (projection) DO UPDATE SET position = EXCLUDED.position, updated_at = now()",
    )
    .bind(projection)
    .bind(position_param(position))
    .execute(executor)
    .await
    .map_err(|error| store_error("saving a checkpoint", error))?;
    Ok(())
}

/// Locks the projection's checkpoint row for the transaction (creating it at 0) and returns
/// its position: a second runner of the same projection waits here.
pub(crate) async fn lock_checkpoint(
    transaction: &mut PgConnection,
    projection: &str,
) -> Result<Position, StoreError> {
    let position: i64 = sqlx::query_scalar(
        "INSERT INTO ddd_checkpoints (projection, position) VALUES ($1, 0) \
         ON CONFLICT (projection) DO UPDATE SET projection = EXCLUDED.projection \
         RETURNING position",
    )
    .bind(projection)
    .fetch_one(transaction)
    .await
    .map_err(|error| store_error("locking a checkpoint", error))?;
    Ok(u64::try_from(position).unwrap_or(0))
}

/// A read model kept in PostgreSQL tables, written in the transaction that also moves its
/// checkpoint.
///
/// Keep the read model in the database: state held in the value itself is not rolled back
/// when a batch fails.
pub trait SqlProjection: Send + Sync + 'static {
    /// The events it reads; others are skipped.
    type Event: DomainEvent;
    /// Names its checkpoint.
    const NAME: &'static str;

    /// Folds one event into the read model, within `transaction`.
    fn apply(
        &self,
        transaction: &mut PgConnection,
        event: &Envelope<Self::Event>,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;

    /// Empties the read model, within `transaction`, for a rebuild.
    fn reset(
        &self,
        transaction: &mut PgConnection,
    ) -> impl Future<Output = Result<(), ProjectionError>> + Send;
}

/// Feeds a [`SqlProjection`] from the global order: each batch of events and the checkpoint
/// after it commit in one transaction.
#[derive(Debug)]
pub struct SqlProjectionRunner<P> {
    store: PostgresStore,
    projection: P,
    batch_size: usize,
}

impl<P: SqlProjection> SqlProjectionRunner<P> {
    /// A runner applying up to 500 events per transaction.
    pub fn new(store: PostgresStore, projection: P) -> Self {
        Self {
            store,
            projection,
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
        let failed = |error| store_error("rebuilding", error);
        let mut transaction = self.store.pool().begin().await.map_err(failed)?;
        lock_checkpoint(&mut transaction, P::NAME).await?;
        self.projection
            .reset(&mut transaction)
            .await
            .map_err(|error| CatchUpError::Event {
                projection: P::NAME,
                position: 0,
                reason: error.0,
            })?;
        save(&mut *transaction, P::NAME, 0).await?;
        transaction.commit().await.map_err(failed)?;
        self.catch_up().await
    }
}

/// A runner's batches, each applied in one transaction with the checkpoint after it.
struct Transactional<'a, P>(&'a SqlProjectionRunner<P>);

impl<P: SqlProjection> BatchProjection for Transactional<'_, P> {
    const NAME: &'static str = P::NAME;
    const ATOMIC: bool = true;

    async fn apply_batch(
        &mut self,
        from: Position,
        batch: &[RawEnvelope],
    ) -> Result<usize, BatchError> {
        let Self(runner) = *self;
        let failed = |error| BatchError::Store(store_error("applying a batch", error));
        let mut transaction = runner.store.pool().begin().await.map_err(failed)?;
        let found = lock_checkpoint(&mut transaction, P::NAME).await?;
        if found != from {
            return Err(BatchError::checkpoint_moved(P::NAME, from, found));
        }
        let mut applied = 0;
        for (index, raw) in batch.iter().enumerate() {
            let event = match raw.clone().decode::<P::Event>() {
                Ok(Some(event)) => event,
                Ok(None) => continue,
                Err(error) => {
                    return Err(BatchError::Event {
                        index,
                        reason: error.to_string(),
                    });
                }
            };
            let connection = transaction.acquire().await.map_err(failed)?;
            runner
                .projection
                .apply(connection, &event)
                .await
                .map_err(|error| BatchError::Event {
                    index,
                    reason: error.0,
                })?;
            applied += 1;
        }
        let last = batch.last().map_or(from, |event| event.position);
        save(&mut *transaction, P::NAME, last).await?;
        transaction.commit().await.map_err(failed)?;
        Ok(applied)
    }
}
