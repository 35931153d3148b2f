//! Projections: read models folded from the global event order, with a checkpoint.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use crate::event::{DomainEvent, Envelope, Position, RawEnvelope};
use crate::store::{EventStore, StoreError};

/// Why a projection could not apply an event.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProjectionError(pub String);

/// A read model built from events.
pub trait Projection: Send + 'static {
    /// The events it reads; others in the store are skipped.
    type Event: DomainEvent;
    /// Names its checkpoint.
    const NAME: &'static str;

    /// Folds one event into the read model.
    fn apply(&mut self, event: &Envelope<Self::Event>) -> Result<(), ProjectionError>;

    /// Empties the read model, for a rebuild from the first event.
    fn reset(&mut self);
}

/// Where projections keep how far they got.
pub trait CheckpointStore: Send + Sync + 'static {
    /// The last position `projection` applied; 0 before the first.
    fn load(&self, projection: &str) -> impl Future<Output = Result<Position, StoreError>> + Send;

    /// Records the last position `projection` applied.
    fn save(
        &self,
        projection: &str,
        position: Position,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Checkpoints in memory. Clones share them.
#[derive(Clone, Debug, Default)]
pub struct InMemoryCheckpoints {
    positions: Arc<Mutex<HashMap<String, Position>>>,
}

impl CheckpointStore for InMemoryCheckpoints {
    async fn load(&self, projection: &str) -> Result<Position, StoreError> {
        let positions = self
            .positions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        Ok(positions.get(projection).copied().unwrap_or(0))
    }

    async fn save(&self, projection: &str, position: Position) -> Result<(), StoreError> {
        let mut positions = self
            .positions
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        positions.insert(projection.to_owned(), position);
        Ok(())
    }
}

/// Why catching up stopped.
#[derive(Debug, thiserror::Error)]
pub enum CatchUpError {
    /// Reading events or the checkpoint failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An event did not decode or apply; the checkpoint stays before it.
    #[error("projection `{projection}` stopped at position {position}: {reason}")]
    Event {
        /// The projection.
        projection: &'static str,
        /// The event's position.
        position: Position,
        /// What went wrong.
        reason: String,
    },
}

/// Why one batch of a [`BatchProjection`] was not applied.
#[derive(Debug)]
pub enum BatchError {
    /// The event at `index` of the batch did not decode or apply.
    Event {
        /// Its index in the batch.
        index: usize,
        /// What went wrong.
        reason: String,
    },
    /// Reading or writing the checkpoint or the read model failed.
    Store(StoreError),
}

impl BatchError {
    /// The event at `index` of the batch did not decode or apply, for `reason`.
    pub fn event(index: usize, reason: impl std::fmt::Display) -> Self {
        Self::Event {
            index,
            reason: reason.to_string(),
        }
    }

    /// The checkpoint of `projection` is at `found`, not at `from` where the batch starts:
    /// another runner applied it meanwhile. Retryable: the next catch-up starts from there.
    pub fn checkpoint_moved(projection: &str, from: Position, found: Position) -> Self {
        Self::Store(StoreError::transient(format!(
            "projection `{projection}`: checkpoint moved from {from} to {found}; another runner \
             is applying it"
        )))
    }
}

impl From<StoreError> for BatchError {
    fn from(error: StoreError) -> Self {
        Self::Store(error)
    }
}

/// A read model fed a batch of the global order at a time, each batch applied with the
/// checkpoint after it: what [`catch_up`] drives, whatever keeps the read model.
pub trait BatchProjection: Send {
    /// Names its checkpoint.
    const NAME: &'static str;
    /// Whether a batch that fails keeps nothing of itself (a rolled-back transaction). When
    /// it does not, `apply_batch` keeps the events before the failing one, with the
    /// checkpoint after them, before it reports the failure.
    const ATOMIC: bool;

    /// Applies `batch` and moves the checkpoint from `from` to its last event; returns how
    /// many events it applied. Refuses with a retryable [`StoreError`] when the checkpoint
    /// is no longer at `from` (another runner got there first), where it can tell.
    fn apply_batch(
        &mut self,
        from: Position,
        batch: &[RawEnvelope],
    ) -> impl Future<Output = Result<usize, BatchError>> + Send;
}

/// Applies every event of `store` after `target`'s checkpoint in `checkpoints`, `batch_size`
/// at a time; returns how many it applied. When an event fails, the events before it are kept
/// with the checkpoint just before it, so the next catch-up starts at the failing event.
pub async fn catch_up<T: BatchProjection>(
    store: &impl EventStore,
    checkpoints: &impl CheckpointStore,
    target: &mut T,
    batch_size: usize,
) -> Result<usize, CatchUpError> {
    let mut checkpoint = checkpoints.load(T::NAME).await?;
    let mut applied = 0;
    loop {
        let batch = store.read_all(checkpoint, batch_size.max(1)).await?;
        let Some(last) = batch.last().map(|event| event.position) else {
            return Ok(applied);
        };
        match target.apply_batch(checkpoint, &batch).await {
            Ok(count) => {
                applied += count;
                checkpoint = last;
            }
            Err(BatchError::Store(error)) => return Err(error.into()),
            Err(BatchError::Event { index, reason }) => {
                // A rolled-back batch lost the events before the failing one too: they go
                // in again, alone, so that only the failing event is left for next time.
                if T::ATOMIC && index > 0 {
                    match target.apply_batch(checkpoint, &batch[..index]).await {
                        Ok(_) => {}
                        Err(BatchError::Store(error)) => return Err(error.into()),
                        Err(BatchError::Event { index, reason }) => {
                            return Err(stopped::<T>(&batch[index], reason));
                        }
                    }
                }
                return Err(stopped::<T>(&batch[index], reason));
            }
        }
    }
}

fn stopped<T: BatchProjection>(event: &RawEnvelope, reason: String) -> CatchUpError {
    CatchUpError::Event {
        projection: T::NAME,
        position: event.position,
        reason,
    }
}

impl CatchUpError {
    /// `projection`'s read model could not be emptied for a rebuild.
    pub fn not_reset(projection: &'static str, error: ProjectionError) -> Self {
        Self::Event {
            projection,
            position: 0,
            reason: error.0,
        }
    }
}

/// A store that keeps projections of kind `P` in its own tables: it applies a batch and
/// moves the checkpoint after it in one of its transactions, and empties a read model with
/// its checkpoint in another. What a [`TransactionalRunner`] drives.
pub trait Transactional<P>: EventStore + CheckpointStore + Clone {
    /// The projection's name, and its checkpoint's.
    const NAME: &'static str;

    /// Applies `batch` and moves the checkpoint from `from` to its last event, in one
    /// transaction that keeps nothing when an event fails; refuses with
    /// [`BatchError::checkpoint_moved`] when the checkpoint is no longer at `from`.
    fn apply_batch(
        &self,
        projection: &Arc<P>,
        from: Position,
        batch: &[RawEnvelope],
    ) -> impl Future<Output = Result<usize, BatchError>> + Send;

    /// Empties the read model and sets its checkpoint to 0, in one transaction.
    fn reset(&self, projection: &Arc<P>) -> impl Future<Output = Result<(), CatchUpError>> + Send;
}

/// Feeds a projection kept in a store's tables from the store's global order: each batch of
/// events and the checkpoint after it commit in one transaction, so after a crash the two
/// never disagree (no event applied twice or skipped).
#[derive(Debug)]
pub struct TransactionalRunner<S, P> {
    store: S,
    projection: Arc<P>,
    batch_size: usize,
}

impl<S: Transactional<P>, P: Send + Sync + 'static> TransactionalRunner<S, P> {
    /// A runner applying up to 500 events per transaction.
    pub fn new(store: S, projection: P) -> Self {
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
        let mut batches = StoreBatches {
            store: &self.store,
            projection: &self.projection,
        };
        catch_up(&self.store, &self.store, &mut batches, self.batch_size).await
    }

    /// Empties the read model and sets the checkpoint to 0 in one transaction, then applies
    /// every event from the first. Readers see the read model grow back, not a mix.
    pub async fn rebuild(&self) -> Result<usize, CatchUpError> {
        self.store.reset(&self.projection).await?;
        self.catch_up().await
    }
}

/// A [`TransactionalRunner`]'s batches.
struct StoreBatches<'a, S, P> {
    store: &'a S,
    projection: &'a Arc<P>,
}

impl<S: Transactional<P>, P: Send + Sync + 'static> BatchProjection for StoreBatches<'_, S, P> {
    const NAME: &'static str = S::NAME;
    const ATOMIC: bool = true;

    fn apply_batch(
        &mut self,
        from: Position,
        batch: &[RawEnvelope],
    ) -> impl Future<Output = Result<usize, BatchError>> + Send {
        self.store.apply_batch(self.projection, from, batch)
    }
}

/// Feeds a projection from a store's global order and keeps its checkpoint.
#[derive(Debug)]
pub struct ProjectionRunner<P, S, C> {
    projection: P,
    store: S,
    checkpoints: C,
    batch_size: usize,
}

impl<P: Projection, S: EventStore, C: CheckpointStore> ProjectionRunner<P, S, C> {
    /// A runner reading 512 events at a time.
    pub fn new(projection: P, store: S, checkpoints: C) -> Self {
        Self {
            projection,
            store,
            checkpoints,
            batch_size: 512,
        }
    }

    /// The read model.
    pub fn projection(&self) -> &P {
        &self.projection
    }

    /// Applies every event after the checkpoint; returns how many it applied.
    pub async fn catch_up(&mut self) -> Result<usize, CatchUpError> {
        let mut target = InMemory {
            projection: &mut self.projection,
            checkpoints: &self.checkpoints,
        };
        catch_up(&self.store, &self.checkpoints, &mut target, self.batch_size).await
    }

    /// Empties the read model and applies every event from the first.
    pub async fn rebuild(&mut self) -> Result<usize, CatchUpError> {
        self.projection.reset();
        self.checkpoints.save(P::NAME, 0).await?;
        self.catch_up().await
    }
}

/// A [`Projection`] held in memory: nothing to roll back, so a failing event leaves the
/// events before it applied and the checkpoint after them.
struct InMemory<'a, P, C> {
    projection: &'a mut P,
    checkpoints: &'a C,
}

impl<P: Projection, C: CheckpointStore> BatchProjection for InMemory<'_, P, C> {
    const NAME: &'static str = P::NAME;
    const ATOMIC: bool = false;

    async fn apply_batch(
        &mut self,
        from: Position,
        batch: &[RawEnvelope],
    ) -> Result<usize, BatchError> {
        let mut applied = 0;
        let mut kept = from;
        for (index, raw) in batch.iter().enumerate() {
            let outcome = match raw.clone().decode::<P::Event>() {
                Ok(Some(event)) => self.projection.apply(&event).map(|()| 1),
                Ok(None) => Ok(0),
                Err(error) => Err(ProjectionError(error.to_string())),
            };
            match outcome {
                Ok(count) => applied += count,
                Err(error) => {
                    self.checkpoints.save(P::NAME, kept).await?;
                    return Err(BatchError::Event {
                        index,
                        reason: error.0,
                    });
                }
            }
            kept = raw.position;
        }
        self.checkpoints.save(P::NAME, kept).await?;
        Ok(applied)
    }
}
