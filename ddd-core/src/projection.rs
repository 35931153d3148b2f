//! Projections: read models folded from the global event order, with a checkpoint.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use crate::event::{DomainEvent, Envelope, Position};
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
        let mut checkpoint = self.checkpoints.load(P::NAME).await?;
        let mut applied = 0;
        loop {
            let batch = self.store.read_all(checkpoint, self.batch_size).await?;
            let Some(last) = batch.last().map(|envelope| envelope.position) else {
                return Ok(applied);
            };
            for raw in batch {
                let position = raw.position;
                let failed = |reason: String| CatchUpError::Event {
                    projection: P::NAME,
                    position,
                    reason,
                };
                match raw.decode::<P::Event>() {
                    Ok(Some(event)) => {
                        if let Err(error) = self.projection.apply(&event) {
                            self.checkpoints.save(P::NAME, checkpoint).await?;
                            return Err(failed(error.0));
                        }
                        applied += 1;
                    }
                    Ok(None) => {}
                    Err(error) => {
                        self.checkpoints.save(P::NAME, checkpoint).await?;
                        return Err(failed(error.to_string()));
                    }
                }
                checkpoint = position;
            }
            self.checkpoints.save(P::NAME, last).await?;
        }
    }

    /// Empties the read model and applies every event from the first.
    pub async fn rebuild(&mut self) -> Result<usize, CatchUpError> {
        self.projection.reset();
        self.checkpoints.save(P::NAME, 0).await?;
        self.catch_up().await
    }
}
