//! The transactional outbox, the inbox, and the relay between the outbox and the bus.

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use crate::bus::{BusError, EventBus, Message, subject};
use crate::event::{EventId, RawEnvelope};
use crate::store::StoreError;

/// Events recorded with the state change that produced them, waiting to be published.
///
/// Stores implement it so that an append and its outbox rows commit together: an event is
/// published if and only if it was recorded.
pub trait Outbox: Send + Sync + 'static {
    /// Up to `limit` unpublished events, in global position order (so per aggregate in
    /// version order).
    fn pending(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RawEnvelope>, StoreError>> + Send;

    /// Marks events as published.
    fn mark_published(
        &self,
        event_ids: &[EventId],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A signal that changes whenever this handle's store records events, so a relay
    /// publishes them at once instead of at its next poll; `None` (the default) where the
    /// store cannot tell. Writes by other processes are still found by polling.
    fn signal(&self) -> Option<watch::Receiver<u64>> {
        None
    }
}

/// What a store raises when it records events, for [`Outbox::signal`]. Clones share it.
#[derive(Clone, Debug)]
pub struct OutboxSignal(Arc<watch::Sender<u64>>);

impl Default for OutboxSignal {
    fn default() -> Self {
        Self(Arc::new(watch::channel(0).0))
    }
}

impl OutboxSignal {
    /// Events were recorded: wakes every relay waiting on [`subscribe`](Self::subscribe).
    pub fn raise(&self) {
        self.0.send_modify(|count| *count = count.wrapping_add(1));
    }

    /// What [`Outbox::signal`] hands a relay.
    pub fn subscribe(&self) -> watch::Receiver<u64> {
        self.0.subscribe()
    }
}

/// The ids of events a consumer has processed, so a redelivered event has no second effect.
///
/// For handlers whose effect is an append, pass an [`InboxMark`](crate::store::InboxMark)
/// with the append instead, so the mark and the effect commit together.
pub trait Inbox: Send + Sync + 'static {
    /// Whether `consumer` processed `event_id`.
    fn is_processed(
        &self,
        consumer: &str,
        event_id: EventId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Records that `consumer` processed `event_id`; `false` if it was recorded before.
    fn mark_processed(
        &self,
        consumer: &str,
        event_id: EventId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// Which events leave a context, and on which subjects.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Routing {
    system: String,
    context: String,
    published: Option<HashSet<String>>,
}

impl Routing {
    /// Publishes every event of `context` on `<system>.<context>.<EventType>`.
    pub fn new(system: impl Into<String>, context: impl Into<String>) -> Self {
        Self {
            system: system.into(),
            context: context.into(),
            published: None,
        }
    }

    /// Publishes only these event types; the rest stay inside the context.
    #[must_use]
    pub fn publishing<I, S>(mut self, event_types: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.published = Some(event_types.into_iter().map(Into::into).collect());
        self
    }

    /// The subject of an event, or `None` when it is not published (a copy of another
    /// context's event, kept for views, never is).
    pub fn subject_of(&self, envelope: &RawEnvelope) -> Option<String> {
        if crate::view::is_copy(&envelope.aggregate_type) {
            return None;
        }
        let published = self
            .published
            .as_ref()
            .is_none_or(|types| types.contains(envelope.event_type.as_ref()));
        published.then(|| subject(&self.system, &self.context, &envelope.event_type))
    }
}

/// Why a relay pass failed. Nothing was marked published for the batch that failed, so it
/// is retried: at-least-once.
#[derive(Debug, thiserror::Error)]
pub enum RelayError {
    /// Reading or marking the outbox failed.
    #[error("outbox: {0}")]
    Outbox(#[from] StoreError),
    /// Publishing failed.
    #[error("publish: {0}")]
    Bus(#[from] BusError),
}

/// Moves events from an outbox to a bus: read a batch, publish it in order, mark it
/// published. A crash between publish and mark publishes the batch again (at-least-once);
/// consumers deduplicate by event id.
#[derive(Debug)]
pub struct Relay<O, B> {
    outbox: O,
    bus: B,
    routing: Routing,
    batch_size: usize,
}

impl<O: Outbox, B: EventBus> Relay<O, B> {
    /// A relay with batches of 256 events.
    pub fn new(outbox: O, bus: B, routing: Routing) -> Self {
        Self {
            outbox,
            bus,
            routing,
            batch_size: 256,
        }
    }

    /// Sets the batch size (at least 1).
    #[must_use]
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Relays one batch; returns how many outbox entries it settled (published or, when not
    /// published by this context, just marked).
    pub async fn relay_once(&self) -> Result<usize, RelayError> {
        let pending = self.outbox.pending(self.batch_size).await?;
        if pending.is_empty() {
            return Ok(0);
        }
        let ids: Vec<EventId> = pending.iter().map(|envelope| envelope.event_id).collect();
        let messages: Vec<Message> = pending
            .into_iter()
            .filter_map(|envelope| {
                let subject = self.routing.subject_of(&envelope)?;
                Some(Message::new(subject, envelope))
            })
            .collect();
        if !messages.is_empty() {
            self.bus.publish(messages).await?;
        }
        self.outbox.mark_published(&ids).await?;
        Ok(ids.len())
    }

    /// Relays until the outbox is empty; returns how many entries it settled.
    pub async fn drain(&self) -> Result<usize, RelayError> {
        let mut total = 0;
        loop {
            let settled = self.relay_once().await?;
            if settled == 0 {
                return Ok(total);
            }
            total += settled;
        }
    }

    /// Relays until `shutdown` completes: at once when the outbox [signals](Outbox::signal)
    /// that events were recorded, else every `interval` when idle; backing off on errors;
    /// drains once more before returning so nothing recorded stays behind.
    pub async fn run(
        &self,
        interval: Duration,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), RelayError> {
        tokio::pin!(shutdown);
        let mut signal = self.outbox.signal();
        let mut backoff = interval;
        loop {
            // Seen before draining: events recorded during the drain change it again.
            if let Some(signal) = &mut signal {
                signal.borrow_and_update();
            }
            let (wait, listen) = match self.drain().await {
                Ok(_) => {
                    backoff = interval;
                    (interval, true)
                }
                // While the bus or the store fails, only the backoff decides the next try.
                Err(_) => {
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    (backoff, false)
                }
            };
            let recorded = async {
                match &mut signal {
                    Some(signal) if listen => signal.changed().await.is_ok(),
                    _ => std::future::pending().await,
                }
            };
            tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(wait) => {}
                still = recorded => {
                    if !still {
                        signal = None;
                    }
                }
            }
        }
        self.drain().await.map(|_| ())
    }
}
