//! The transactional outbox, the inbox, and the relay between the outbox and the bus.

pub mod lease;

use std::collections::HashSet;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::broadcast;
use tokio::time::Instant;
use uuid::Uuid;

use self::lease::{Held, LeaseTiming};
pub use self::lease::{Lease, LeaseRecord};
use crate::bus::{BusError, EventBus, Message, subject};
use crate::event::{DomainEvent, Envelope, EventId, Position, RawEnvelope};
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

    /// What this handle's store tells the relays of its process when it records events, so
    /// that a relay publishes them at once instead of at its next poll (and, where the store
    /// hands them over, without reading them back: see [`OutboxSignal::recorded`]); `None`
    /// (the default) where the store cannot tell. Writes by other processes are still found
    /// by polling.
    fn signal(&self) -> Option<OutboxListener> {
        None
    }
}

/// How many notices a relay may fall behind before it reads the store instead.
const SIGNAL_CAPACITY: usize = 1024;

/// What a store raises when it records events, for [`Outbox::signal`]. Clones share it.
#[derive(Clone, Debug)]
pub struct OutboxSignal(broadcast::Sender<Recorded>);

/// One notice of an [`OutboxSignal`].
#[derive(Clone, Debug)]
enum Recorded {
    /// These events committed, with their positions.
    Positioned(Arc<[RawEnvelope]>),
    /// Events committed whose positions the store did not learn: a relay reads them.
    Unpositioned,
}

impl Default for OutboxSignal {
    fn default() -> Self {
        Self(broadcast::channel(SIGNAL_CAPACITY).0)
    }
}

impl OutboxSignal {
    /// Events were recorded: wakes every relay listening, which reads them from the store.
    pub fn raise(&self) {
        self.notify(|| Recorded::Unpositioned);
    }

    /// These events committed, each with its position: wakes every relay listening and
    /// hands them over, so a relay that has published every event before the first of
    /// them publishes them without reading them back (one round trip of the store per
    /// relay interval instead of one per command, when commands come one at a time).
    ///
    /// Only for a store whose positions have no gaps and become visible in order (when a
    /// position is visible, so is every lower one), and whose every event has an outbox
    /// entry: a relay takes position `p + 1` after `p` as the next event pending, and the
    /// gap left by an event recorded elsewhere (another process) or [raised](Self::raise)
    /// without its position as a reason to read. Events without a position (0) are raised.
    pub fn recorded<E: DomainEvent>(&self, events: &[Envelope<E>]) {
        if events.is_empty() {
            return;
        }
        self.notify(|| {
            let raw: Option<Vec<RawEnvelope>> = events
                .iter()
                .map(|event| event.to_raw().ok().filter(|raw| raw.position > 0))
                .collect();
            match raw {
                Some(raw) => Recorded::Positioned(raw.into()),
                None => Recorded::Unpositioned,
            }
        });
    }

    /// Sends the notice when a relay listens (encoding nothing for nobody).
    fn notify(&self, notice: impl FnOnce() -> Recorded) {
        if self.0.receiver_count() > 0 {
            // An error only means the last listener went away meanwhile.
            let _ = self.0.send(notice());
        }
    }

    /// What [`Outbox::signal`] hands a relay.
    pub fn subscribe(&self) -> OutboxListener {
        OutboxListener(self.0.subscribe())
    }
}

/// A relay's end of an [`OutboxSignal`].
#[derive(Debug)]
pub struct OutboxListener(broadcast::Receiver<Recorded>);

/// What a relay learned since it last acted: the events handed over, and whether it must
/// read the store (something was recorded without its position, notices were missed, or
/// it is time to poll).
#[derive(Debug, Default)]
struct Woken {
    handed: Vec<RawEnvelope>,
    read: bool,
}

impl Woken {
    fn reading() -> Self {
        Self {
            handed: Vec::new(),
            read: true,
        }
    }

    fn add(&mut self, notice: Recorded) {
        match notice {
            Recorded::Positioned(events) => {
                if !self.read {
                    self.handed.extend(events.iter().cloned());
                }
            }
            Recorded::Unpositioned => self.must_read(),
        }
    }

    /// A read finds everything handed over too.
    fn must_read(&mut self) {
        self.read = true;
        self.handed.clear();
    }
}

impl OutboxListener {
    /// Waits until the store records something, then takes every notice since into
    /// `woken`; `false` once the store is gone.
    async fn wait(&mut self, woken: &mut Woken) -> bool {
        match self.0.recv().await {
            Ok(notice) => woken.add(notice),
            Err(broadcast::error::RecvError::Lagged(_)) => woken.must_read(),
            Err(broadcast::error::RecvError::Closed) => return false,
        }
        loop {
            match self.0.try_recv() {
                Ok(notice) => woken.add(notice),
                Err(broadcast::error::TryRecvError::Lagged(_)) => woken.must_read(),
                Err(
                    broadcast::error::TryRecvError::Empty | broadcast::error::TryRecvError::Closed,
                ) => {
                    return true;
                }
            }
        }
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
/// published (while running, together with the next read). Where the store hands its
/// commits over ([`OutboxSignal::recorded`]), a running relay publishes them without reading
/// them back and marks them with its next poll's read. A crash between publish and mark
/// publishes again what was not marked (at-least-once); consumers deduplicate by event id.
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
    /// This many outbox entries were settled, the last at this position.
    Settled(usize, Option<Position>),
    /// The lease ran out before the publish, or was taken over before the mark: nothing of
    /// the batch was marked.
    Fenced,
}

/// Where a relay stands in its store's positions, for publishing what the store hands over
/// at commit ([`OutboxSignal::recorded`]) without reading it back.
#[derive(Debug, Default)]
struct Tail {
    /// The position after the last event published, while this relay knows every event
    /// before it published: since a read that came back short, under one lease.
    next: Option<Position>,
    /// When the events published from handovers get marked, by a read that also finds
    /// whatever the handovers missed: one round trip per interval, not one per event.
    settle_by: Option<Instant>,
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
            Batch::Settled(settled, _) => settled,
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
        let lease = match held.map(|held| held.valid(Instant::now())) {
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
        let settled = pending.len();
        let last = pending.last().map(|envelope| envelope.position);
        if settled > 0 && !self.publish(held, pending, unmarked).await? {
            return Ok(Batch::Fenced);
        }
        Ok(Batch::Settled(settled, last))
    }

    /// Publishes `events` in order (those this context publishes; the others are only
    /// marked) unless the lease in `held` ran out by this relay's clock, and leaves their
    /// ids in `unmarked`; `false`, with nothing published, when it ran out.
    async fn publish(
        &self,
        held: Option<&Held>,
        events: Vec<RawEnvelope>,
        unmarked: &mut Vec<EventId>,
    ) -> Result<bool, RelayError> {
        let ids: Vec<EventId> = events.iter().map(|envelope| envelope.event_id).collect();
        let messages: Vec<Message> = events
            .into_iter()
            .filter_map(|envelope| {
                let subject = self.routing.subject_of(&envelope)?;
                Some(Message::new(subject, envelope))
            })
            .collect();
        if held.is_some_and(|held| held.valid(Instant::now()).is_none()) {
            return Ok(false);
        }
        if !messages.is_empty() {
            self.bus.publish(messages).await?;
        }
        unmarked.extend(ids);
        Ok(true)
    }

    /// Publishes events handed over at commit without reading them back, when they are
    /// the next ones: this relay holds the lease and published every event before the
    /// first of them. Their marks wait for the read due at `tail`'s settle time, which also
    /// finds anything the handovers missed. `false` when the store must be read instead:
    /// this relay does not know where it stands, or a position is missing between them (an
    /// event recorded by another process, or without its position).
    async fn publish_handed(
        &self,
        held: &mut Held,
        unmarked: &mut Vec<EventId>,
        tail: &mut Tail,
        mut handed: Vec<RawEnvelope>,
        interval: Duration,
    ) -> Result<bool, RelayError> {
        let Some(mut next) = tail.next else {
            return Ok(false);
        };
        if self.lead(held).await?.is_none() {
            return Ok(false);
        }
        handed.sort_unstable_by_key(|envelope| envelope.position);
        let mut run = Vec::with_capacity(handed.len());
        let mut complete = true;
        for envelope in handed {
            match envelope.position.cmp(&next) {
                // Published already, by the read that found it first.
                std::cmp::Ordering::Less => {}
                std::cmp::Ordering::Equal => {
                    next += 1;
                    run.push(envelope);
                }
                std::cmp::Ordering::Greater => {
                    complete = false;
                    break;
                }
            }
        }
        if run.is_empty() {
            return Ok(complete);
        }
        if !self.publish(Some(held), run, unmarked).await? {
            tail.next = None;
            return Ok(false);
        }
        tail.next = Some(next);
        tail.settle_by
            .get_or_insert_with(|| Instant::now() + interval);
        Ok(complete)
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
    /// recorded after that read raises the signal (or is found by the next poll). Where
    /// that short batch ended is where `tail` stands.
    async fn drain_leading(
        &self,
        held: &mut Held,
        unmarked: &mut Vec<EventId>,
        tail: &mut Tail,
    ) -> Result<(), RelayError> {
        tail.settle_by = None;
        loop {
            if self.lead(held).await?.is_none() {
                tail.next = None;
                // Not the holder, or the lease ran out by this relay's clock (a stall): a
                // standby may publish already.
                if held.valid(Instant::now()).is_none() {
                    self.lose(held, "it ran out before it was renewed");
                }
                return Ok(());
            }
            match self.relay_batch(Some(held), unmarked).await? {
                Batch::Settled(settled, last) if settled < self.batch_size => {
                    if let Some(last) = last {
                        tail.next = Some(last + 1);
                    }
                    return Ok(());
                }
                Batch::Settled(..) => {}
                Batch::Fenced => {
                    tail.next = None;
                    self.lose(held, "it ran out or another replica took it over");
                    return Ok(());
                }
            }
        }
    }

    /// Acts on what woke the relay: publishes the events handed over when it can, else
    /// (and when the marks are due) reads the store.
    async fn pass(
        &self,
        held: &mut Held,
        unmarked: &mut Vec<EventId>,
        tail: &mut Tail,
        woken: Woken,
        interval: Duration,
    ) -> Result<(), RelayError> {
        let handover = !woken.read
            && unmarked.len() < self.batch_size
            && tail
                .settle_by
                .is_none_or(|settle_by| Instant::now() < settle_by);
        if handover
            && self
                .publish_handed(held, unmarked, tail, woken.handed, interval)
                .await?
        {
            return Ok(());
        }
        self.drain_leading(held, unmarked, tail).await
    }

    /// Relays until `shutdown` completes, while it holds the store's relay [`Lease`]: at
    /// once when the outbox [signals](Outbox::signal) that events were recorded (what the
    /// store hands over without a read, while the positions follow on from what it
    /// published), else every `interval`, which is also when the events published from
    /// handovers are marked; backing off on errors. Without the lease it stands by, trying
    /// for it six times per time-to-live. On `shutdown` the holder drains once more, so
    /// nothing recorded stays behind, and releases the lease to a standby.
    pub async fn run(
        &self,
        interval: Duration,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), RelayError> {
        tokio::pin!(shutdown);
        let mut listener = self.outbox.signal();
        let mut held = Held::default();
        // The events published and not yet marked: marked with the next read.
        let mut unmarked = Vec::new();
        let mut tail = Tail::default();
        let mut woken = Woken::reading();
        let mut backoff = interval;
        loop {
            let passed = self
                .pass(
                    &mut held,
                    &mut unmarked,
                    &mut tail,
                    std::mem::take(&mut woken),
                    interval,
                )
                .await;
            let now = Instant::now();
            let (wait, listen) = match passed {
                Ok(()) => {
                    backoff = interval;
                    match held.renew_at() {
                        Some(renew_at) => {
                            let due = tail.settle_by.map_or(renew_at, |by| by.min(renew_at));
                            (interval.min(due.saturating_duration_since(now)), true)
                        }
                        // A standby waits for the lease, not for events.
                        None => (self.timing.standby_every(), false),
                    }
                }
                // While the bus or the store fails, only the backoff decides the next try.
                Err(_) => {
                    tail = Tail::default();
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                    (backoff, false)
                }
            };
            let recorded = async {
                match &mut listener {
                    Some(listener) if listen => listener.wait(&mut woken).await,
                    _ => std::future::pending().await,
                }
            };
            let woke = tokio::select! {
                () = &mut shutdown => break,
                () = tokio::time::sleep(wait) => None,
                still = recorded => Some(still),
            };
            match woke {
                // The poll, the lease's renewal or the marks are due.
                None => woken.must_read(),
                Some(false) => {
                    listener = None;
                    woken.must_read();
                }
                Some(true) => {}
            }
        }
        if held.renew_at().is_none() {
            return Ok(());
        }
        let mut drained = self
            .drain_leading(&mut held, &mut unmarked, &mut tail)
            .await;
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
