//! Projection checkpoints, and a runner that writes a read model and its checkpoint in one
//! transaction, so after a crash the two never disagree (no event applied twice or skipped).

use std::future::Future;
use std::sync::Arc;

use ddd_core::projection::{BatchError, Transactional, TransactionalRunner};
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
pub type SqlProjectionRunner<P> = TransactionalRunner<PostgresStore, P>;

impl<P: SqlProjection> Transactional<P> for PostgresStore {
    const NAME: &'static str = P::NAME;

    async fn apply_batch(
        &self,
        projection: &Arc<P>,
        from: Position,
        batch: &[RawEnvelope],
    ) -> Result<usize, BatchError> {
        let failed = |error| BatchError::Store(store_error("applying a batch", error));
        let mut transaction = self.pool().begin().await.map_err(failed)?;
        let found = lock_checkpoint(&mut transaction, P::NAME).await?;
        if found != from {
            return Err(BatchError::checkpoint_moved(P::NAME, from, found));
        }
        let mut applied = 0;
        for (index, raw) in batch.iter().enumerate() {
            let decoded = raw.clone().decode::<P::Event>();
            let Some(event) = decoded.map_err(|error| BatchError::event(index, error))? else {
                continue;
            };
            let connection = transaction.acquire().await.map_err(failed)?;
            projection
                .apply(connection, &event)
                .await
                .map_err(|error| BatchError::event(index, error))?;
            applied += 1;
        }
        let last = batch.last().map_or(from, |event| event.position);
        save(&mut *transaction, P::NAME, last).await?;
        transaction.commit().await.map_err(failed)?;
        Ok(applied)
    }

    async fn reset(&self, projection: &Arc<P>) -> Result<(), CatchUpError> {
        let failed = |error| store_error("rebuilding", error);
        let mut transaction = self.pool().begin().await.map_err(failed)?;
        lock_checkpoint(&mut transaction, P::NAME).await?;
        projection
            .reset(&mut transaction)
            .await
            .map_err(|error| CatchUpError::not_reset(P::NAME, error))?;
        save(&mut *transaction, P::NAME, 0).await?;
        transaction.commit().await.map_err(failed)?;
        Ok(())
    }
}
