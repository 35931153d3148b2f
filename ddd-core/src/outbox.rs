//! The transactional outbox, the inbox, and the relay between the outbox and the bus.

pub mod lease;

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;
use tokio::time::Instant;
use uuid::Uuid;

use self::lease::{Held, LeaseTiming};
pub use self::lease::{Lease, LeaseRecord};
use crate::bus::{BusError, EventBus, Message, subject};
use crate::event::{EventId, RawEnvelope};
use crate::store::StoreError;

/// Events recorded with the state change that produced them, waiting to be published.
///
/// Stores implement it so that an append and its outbox rows commit together: an event is
/// published if and only if it was recorded.
pub trait Outbox: Send + Sync + 'static {
    /// Up to `limit` unpublished events, in global position order (so per aggregate in
    /// version order). Fewer than `limit` means none other was pending when it read: the
    /// relay takes that as drained and waits for the next [`signal`](Self::signal) or poll.
    fn pending(
        &self,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RawEnvelope>, StoreError>> + Send;

    /// Marks events as published.
    fn mark_published(
        &self,
        event_ids: &[EventId],
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Takes the store's relay lease for `holder` for `ttl` by the store's clock (when it is
    /// free or expired; the generation grows), or extends it when `holder` holds it (the
    /// generation stays); `None` while another holder's lease runs. Why a lease: see
    /// [`lease`].
    fn claim_lease(
        &self,
        holder: Uuid,
        ttl: Duration,
    ) -> impl Future<Output = Result<Option<Lease>, StoreError>> + Send;

    /// Ends `lease` now if it is still current, so a standby takes over at its next try
    /// instead of after the expiry.
    fn release_lease(&self, lease: Lease) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// [`mark_published`](Self::mark_published), in a transaction that first checks that
    /// `lease` is still current (no other holder took over since); `false`, and nothing
    /// marked, when it is not.
    fn mark_published_under(
        &self,
        event_ids: &[EventId],
        lease: Lease,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The relay's step between two batches: marks `published` as
    /// [`mark_published_under`](Self::mark_published_under) does (as
    /// [`mark_published`](Self::mark_published) without a lease), then reads up to `limit`
    /// pending events as [`pending`](Self::pending) does. `None`, with nothing marked or
    /// read, when `lease` is no longer current. The default makes the two calls; a store
    /// that can does both in one round trip, so that a relay publishing one event at a time
    /// costs it one round trip per event instead of two.
    fn settle_and_read(
        &self,
        published: &[EventId],
        lease: Option<Lease>,
        limit: usize,
    ) -> impl Future<Output = Result<Option<Vec<RawEnvelope>>, StoreError>> + Send {
        async move {
            if !published.is_empty() {
                match lease {
                    Some(lease) => {
                        if !self.mark_published_under(published, lease).await? {
                            return Ok(None);
                        }
                    }
                    None => self.mark_published(published).await?,
                }
            }
            self.pending(limit).await.map(Some)
        }
    }

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
/// published (while running, together with the next read). A crash between publish and mark
/// publishes the batch again (at-least-once); consumers deduplicate by event id.
///
/// [`run`](Self::run) publishes only while it holds the store's relay [`Lease`], so any
/// number of replicas may each run a relay over one database: one publishes, the others
/// stand by and take over within the lease's time-to-live when it dies or hangs.
#[derive(Debug)]
pub struct Relay<O, B> {
    outbox: O,
    bus: B,
    routing: Routing,
    batch_size: usize,
    holder: Uuid,
    timing: LeaseTiming,
}

/// What one batch came to.
enum Batch {
    /// This many outbox entries were settled.
    Settled(usize),
    /// The lease ran out before the publish, or was taken over before the mark: nothing of
    /// the batch was marked.
    Fenced,
}

impl<O: Outbox, B: EventBus> Relay<O, B> {
    /// A relay with batches of 256 events and a lease of 3 seconds: a standby takes over
    /// at most 3.5 s after the holder stopped renewing.
    pub fn new(outbox: O, bus: B, routing: Routing) -> Self {
        Self {
            outbox,
            bus,
            routing,
            batch_size: 256,
            holder: Uuid::new_v4(),
            timing: LeaseTiming {
                ttl: Duration::from_secs(3),
            },
        }
    }

    /// Sets the batch size (at least 1).
    #[must_use]
    pub fn batch_size(mut self, batch_size: usize) -> Self {
        self.batch_size = batch_size.max(1);
        self
    }

    /// Sets the lease's time-to-live (at least 60 ms): the holder renews three times per
    /// time-to-live, a standby tries six times, so a takeover comes at most 7/6 of it after
    /// the holder stopped. Shorter means a faster takeover, and a holder that loses the
    /// lease to a stall of its own (a long pause, a slow store) more often.
    #[must_use]
    pub fn lease_ttl(mut self, ttl: Duration) -> Self {
        self.timing.ttl = ttl.max(Duration::from_millis(60));
        self
    }

    /// Sets who this relay is to the lease (a random id unless set). Ids must differ
    /// between relays that run at once; a process restarted with its predecessor's id
    /// resumes its lease at once instead of waiting for it to expire.
    #[must_use]
    pub fn lease_holder(mut self, holder: Uuid) -> Self {
        self.holder = holder;
        self
    }

    /// Relays one batch, whether or not this relay holds the lease (for a process that
    /// knows it relays alone: tools, tests); returns how many outbox entries it settled
    /// (published or, when not published by this context, just marked).
    pub async fn relay_once(&self) -> Result<usize, RelayError> {
        let mut unmarked = Vec::new();
        let settled = match self.relay_batch(None, &mut unmarked).await? {
            Batch::Settled(settled) => settled,
            Batch::Fenced => 0,
        };
        if !unmarked.is_empty() {
            self.outbox.mark_published(&unmarked).await?;
        }
        Ok(settled)
    }

    /// Relays until the outbox is empty, as [`relay_once`](Self::relay_once) does; returns
    /// how many entries it settled.
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

    /// Marks the batch published before (`unmarked`) and reads the next one, publishes it
    /// and leaves its ids in `unmarked`: its mark goes with the next read (see
    /// [`Outbox::settle_and_read`]). Under the lease in `held`, only while it is valid by
    /// this relay's clock (checked before the mark and just before the publish) and current
    /// (checked by the store with the mark).
    ///
    /// A mark that waits for the next read is lost with the process more often than one made
    /// at once; its events are then published again by the next holder, which delivery (at
    /// least once, consumers deduplicating by event id) already allows.
    async fn relay_batch(
        &self,
        held: Option<&Held>,
        unmarked: &mut Vec<EventId>,
    ) -> Result<Batch, RelayError> {
        let still_valid = || held.map(|held| held.valid(Instant::now()));
        let lease = match still_valid() {
            None => None,
            Some(Some(lease)) => Some(lease),
            Some(None) => return Ok(Batch::Fenced),
        };
        let read = self
            .outbox
            .settle_and_read(unmarked, lease, self.batch_size)
            .await?;
        unmarked.clear();
        let Some(pending) = read else {
            return Ok(Batch::Fenced);
        };
        if pending.is_empty() {
            return Ok(Batch::Settled(0));
        }
        let ids: Vec<EventId> = pending.iter().map(|envelope| envelope.event_id).collect();
        let messages: Vec<Message> = pending
            .into_iter()
            .filter_map(|envelope| {
                let subject = self.routing.subject_of(&envelope)?;
                Some(Message::new(subject, envelope))
            })
            .collect();
        if let Some(None) = still_valid() {
            return Ok(Batch::Fenced);
        }
        if !messages.is_empty() {
            self.bus.publish(messages).await?;
        }
        *unmarked = ids;
        Ok(Batch::Settled(unmarked.len()))
    }

    /// Claims or renews the lease when due; returns the lease while this relay holds it.
    async fn lead(&self, held: &mut Held) -> Result<Option<Lease>, RelayError> {
        let sent = Instant::now();
        if !held.due(sent) {
            return Ok(held.valid(sent));
        }
        match self.outbox.claim_lease(self.holder, self.timing.ttl).await {
            Ok(Some(lease)) => {
                if held.granted(lease, sent, self.timing) {
                    tracing::info!(
                        context = %self.routing.context,
                        holder = %lease.holder,
                        generation = lease.generation,
                        "took the outbox relay lease: this replica publishes"
                    );
                }
                Ok(held.valid(Instant::now()))
            }
            Ok(None) => {
                self.lose(held, "another replica holds it");
                Ok(None)
            }
            Err(error) => {
                if held.valid(Instant::now()).is_none() {
                    self.lose(held, "it expired while the store did not answer");
                }
                Err(error.into())
            }
        }
    }

    fn lose(&self, held: &mut Held, why: &str) {
        if let Some(lease) = held.lost() {
            tracing::info!(
                context = %self.routing.context,
                holder = %lease.holder,
                generation = lease.generation,
                why,
                "lost the outbox relay lease: this replica stands by"
            );
        }
    }

    /// Relays batches while this relay holds the lease, until the outbox is empty; the
    /// lease is renewed between batches when due and checked before each publish. A batch
    /// shorter than the batch size emptied it: reading again only to find nothing would be
    /// one more round trip per event when commands come one at a time, and what is
    /// recorded after that read raises the signal (or is found by the next poll).
    async fn drain_leading(
        &self,
        held: &mut Held,
        unmarked: &mut Vec<EventId>,
    ) -> Result<(), RelayError> {
        loop {
            if self.lead(held).await?.is_none() {
                // Not the holder, or the lease ran out by this relay's clock (a stall): a
                // standby may publish already.
                if held.valid(Instant::now()).is_none() {
                    self.lose(held, "it ran out before it was renewed");
                }
                return Ok(());
            }
            match self.relay_batch(Some(held), unmarked).await? {
                Batch::Settled(settled) if settled < self.batch_size => return Ok(()),
                Batch::Settled(_) => {}
                Batch::Fenced => {
                    self.lose(held, "it ran out or another replica took it over");
                    return Ok(());
                }
            }
        }
    }

    /// Relays until `shutdown` completes, while it holds the store's relay [`Lease`]: at
    /// once when the outbox [signals](Outbox::signal) that events were recorded, else every
    /// `interval` when idle; backing off on errors. Without the lease it stands by, trying
    /// for it six times per time-to-live. On `shutdown` the holder drains once more, so
    /// nothing recorded stays behind, and releases the lease to a standby.
    pub async fn run(
        &self,
        interval: Duration,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), RelayError> {
        tokio::pin!(shutdown);
        let mut signal = self.outbox.signal();
        let mut held = Held::default();
        // The last batch published, marked with the next read.
        let mut unmarked = Vec::new();
        let mut backoff = interval;
        loop {
            // Seen before draining: events recorded during the drain change it again.
            if let Some(signal) = &mut signal {
                signal.borrow_and_update();
            }
            let (wait, listen) = match self.drain_leading(&mut held, &mut unmarked).await {
                Ok(()) => {
                    backoff = interval;
                    match held.renew_at() {
                        Some(renew_at) => (
                            interval.min(renew_at.saturating_duration_since(Instant::now())),
                            true,
                        ),
                        // A standby waits for the lease, not for events.
                        None => (self.timing.standby_every(), false),
                    }
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
        if held.renew_at().is_none() {
            return Ok(());
        }
        let mut drained = self.drain_leading(&mut held, &mut unmarked).await;
        if drained.is_ok()
            && !unmarked.is_empty()
            && let Some(lease) = held.valid(Instant::now())
        {
            drained = self
                .outbox
                .mark_published_under(&unmarked, lease)
                .await
                .map(|_| ())
                .map_err(RelayError::from);
        }
        if let Some(lease) = held.lost() {
            match self.outbox.release_lease(lease).await {
                Ok(()) => tracing::info!(
                    context = %self.routing.context,
                    holder = %lease.holder,
                    generation = lease.generation,
                    "released the outbox relay lease: stopping"
                ),
                // A standby then takes over when the lease expires instead of at once.
                Err(error) => tracing::warn!(
                    context = %self.routing.context,
                    %error,
                    "could not release the outbox relay lease"
                ),
            }
        }
        drained
    }
}
