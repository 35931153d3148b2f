//! Keeps one view caught up in the background, and lets readers wait for it.

use std::future::Future;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{Notify, watch};
use tokio::time::Instant;

use crate::event::Position;
use crate::store::StoreError;

use super::{Advanced, View, ViewError, ViewSchema, ViewStore, ViewTarget};

/// How often a reader waiting for a view asks the store, for the case where another replica
/// keeps it.
const STORE_POLL: Duration = Duration::from_millis(20);

/// Where a view's runner stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ViewStatus {
    /// Catching up, or caught up to `checkpoint`.
    Running {
        /// The last position folded.
        checkpoint: Position,
    },
    /// Stopped before an event that did not decode or apply; the rest of the service keeps
    /// serving, this view keeps its rows as they were before the event.
    Failed {
        /// The last position folded.
        checkpoint: Position,
        /// The failing event's position.
        position: Position,
        /// Why it failed.
        reason: String,
    },
}

impl ViewStatus {
    /// The last position folded.
    pub fn checkpoint(&self) -> Position {
        match self {
            Self::Running { checkpoint } | Self::Failed { checkpoint, .. } => *checkpoint,
        }
    }
}

/// Why a reader's wait for a view ended without it.
#[derive(Debug, thiserror::Error)]
pub enum WaitError {
    /// The view had not folded the position when time ran out.
    #[error("the view is at position {checkpoint}, behind {wanted} after {waited:?}")]
    Behind {
        /// Where it is.
        checkpoint: Position,
        /// Where the reader wanted it.
        wanted: Position,
        /// How long the reader waited.
        waited: Duration,
    },
    /// The view stopped at a failing event.
    #[error("the view stopped at position {position}: {reason}")]
    Failed {
        /// The failing event.
        position: Position,
        /// Why.
        reason: String,
    },
    /// The store did not answer.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What readers hold of a running view: its status, and a way to have it catch up now.
/// Made before the runner (routes need it first); clones share it.
#[derive(Clone, Debug)]
pub struct ViewHandle {
    schema: &'static ViewSchema,
    status: Arc<watch::Sender<ViewStatus>>,
    wake: Arc<Notify>,
}

impl ViewHandle {
    /// The handle of view `V`, before its runner starts.
    pub fn of<V: View>() -> Self {
        Self {
            schema: &V::SCHEMA,
            status: Arc::new(watch::Sender::new(ViewStatus::Running { checkpoint: 0 })),
            wake: Arc::new(Notify::new()),
        }
    }

    /// The view's schema.
    pub fn schema(&self) -> &'static ViewSchema {
        self.schema
    }

    /// Where the runner stands.
    pub fn status(&self) -> ViewStatus {
        self.status.borrow().clone()
    }

    /// Has the runner catch up now instead of at its next interval.
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    /// Waits until the view has folded `position`, for at most `timeout`.
    ///
    /// # Errors
    /// [`WaitError::Behind`] when time ran out, [`WaitError::Failed`] when the view stopped
    /// before reaching it.
    pub async fn wait_for<S: ViewStore>(
        &self,
        store: &S,
        position: Position,
        timeout: Duration,
    ) -> Result<Position, WaitError> {
        let started = Instant::now();
        let deadline = started + timeout;
        let mut status = self.status.subscribe();
        loop {
            let current = status.borrow_and_update().clone();
            match current {
                ViewStatus::Running { checkpoint } if checkpoint >= position => {
                    return Ok(checkpoint);
                }
                ViewStatus::Failed {
                    position: failed,
                    reason,
                    ..
                } if failed <= position => {
                    return Err(WaitError::Failed {
                        position: failed,
                        reason,
                    });
                }
                _ => {}
            }
            self.wake();
            let poll = (Instant::now() + STORE_POLL).min(deadline);
            tokio::select! {
                changed = status.changed() => {
                    if changed.is_err() {
                        // The runner is gone (shutting down): the store still knows.
                        tokio::time::sleep_until(poll).await;
                    }
                }
                () = tokio::time::sleep_until(poll) => {
                    // Another replica may be the one keeping the view.
                    let progress = store.view_progress(self.schema).await?;
                    if progress.checkpoint >= position {
                        return Ok(progress.checkpoint);
                    }
                }
            }
            if Instant::now() >= deadline {
                return Err(WaitError::Behind {
                    checkpoint: self.status.borrow().checkpoint(),
                    wanted: position,
                    waited: started.elapsed(),
                });
            }
        }
    }
}

/// Feeds a view from its store's global order: catches up, then again at every interval or
/// when a reader wakes it. Replicas may each run one: the store's checkpoint lock makes them
/// take turns, and each event is folded once.
#[derive(Debug)]
pub struct ViewRunner<V, S> {
    store: S,
    status: Arc<watch::Sender<ViewStatus>>,
    wake: Arc<Notify>,
    batch: usize,
    view: PhantomData<fn() -> V>,
}

impl<V: View, S: ViewStore> ViewRunner<V, S> {
    /// A runner over `store` folding up to 500 events per transaction, reporting to `handle`
    /// (one made by [`ViewHandle::of::<V>`](ViewHandle::of)).
    pub fn new(store: S, handle: &ViewHandle) -> Self {
        debug_assert_eq!(handle.schema, &V::SCHEMA, "a handle of another view");
        Self {
            store,
            status: Arc::clone(&handle.status),
            wake: Arc::clone(&handle.wake),
            batch: 500,
            view: PhantomData,
        }
    }

    /// Sets how many events one transaction folds (at least 1).
    #[must_use]
    pub fn batch_size(mut self, batch: usize) -> Self {
        self.batch = batch.max(1);
        self
    }

    /// Folds every event recorded so far; returns how many the view applied.
    ///
    /// # Errors
    /// The store failing, or an event that did not decode or apply (the status says so).
    pub async fn catch_up(&self) -> Result<usize, ViewError> {
        // A read first: an idle view costs the store a query, not a write transaction
        // (SQLite's one writer, PostgreSQL's checkpoint row lock) at every interval.
        let progress = self.store.view_progress(&V::SCHEMA).await?;
        if progress.lag_events() == 0 {
            self.status.send_if_modified(|status| match status {
                ViewStatus::Running { checkpoint } if *checkpoint == progress.checkpoint => false,
                _ => {
                    *status = ViewStatus::Running {
                        checkpoint: progress.checkpoint,
                    };
                    true
                }
            });
            return Ok(0);
        }
        let target = ViewTarget::live(&V::SCHEMA);
        let mut applied = 0;
        loop {
            match self.store.advance_view::<V>(&target, self.batch).await {
                Ok(Advanced {
                    read,
                    applied: count,
                    checkpoint,
                }) => {
                    applied += count;
                    self.status.send_replace(ViewStatus::Running { checkpoint });
                    if read < self.batch {
                        return Ok(applied);
                    }
                }
                Err(ViewError::Event {
                    view,
                    position,
                    reason,
                }) => {
                    let checkpoint = self.status.borrow().checkpoint();
                    self.status.send_replace(ViewStatus::Failed {
                        checkpoint: checkpoint.max(position.saturating_sub(1)),
                        position,
                        reason: reason.clone(),
                    });
                    return Err(ViewError::Event {
                        view,
                        position,
                        reason,
                    });
                }
                Err(error) => return Err(error),
            }
        }
    }

    /// Creates the view's table, then keeps it caught up until `shutdown`. A store error is
    /// retried with backoff; a failing event stops the view until it is woken (after a
    /// rebuild or a fix), without stopping anything else.
    ///
    /// # Errors
    /// Never while `shutdown` is pending; the last store error when the table could not be
    /// created before it.
    pub async fn run(
        self,
        interval: Duration,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), StoreError> {
        tokio::pin!(shutdown);
        let mut backoff = interval;
        let mut prepared = false;
        loop {
            let wait = if prepared {
                self.step(interval, &mut backoff).await
            } else {
                match self.store.prepare_view(&V::SCHEMA).await {
                    Ok(()) => {
                        prepared = true;
                        Some(Duration::ZERO)
                    }
                    Err(error) => {
                        tracing::warn!(view = V::SCHEMA.name, %error, "cannot create the view's table");
                        backoff = (backoff * 2).min(Duration::from_secs(5));
                        Some(backoff)
                    }
                }
            };
            let woken = self.wake.notified();
            tokio::select! {
                () = &mut shutdown => return Ok(()),
                () = woken => {}
                () = sleep_or_forever(wait) => {}
            }
        }
    }

    /// One catch-up; how long to wait before the next (`None`: until woken).
    async fn step(&self, interval: Duration, backoff: &mut Duration) -> Option<Duration> {
        match self.catch_up().await {
            Ok(_) => {
                *backoff = interval;
                Some(interval)
            }
            Err(ViewError::Event {
                position, reason, ..
            }) => {
                tracing::error!(view = V::SCHEMA.name, position, %reason, "view stopped at an event");
                None
            }
            Err(ViewError::Store(error)) => {
                tracing::warn!(view = V::SCHEMA.name, %error, "view catch-up failed; retrying");
                *backoff = (*backoff * 2).min(Duration::from_secs(5));
                Some(*backoff)
            }
        }
    }
}

async fn sleep_or_forever(wait: Option<Duration>) {
    match wait {
        Some(wait) => tokio::time::sleep(wait).await,
        None => std::future::pending().await,
    }
}
