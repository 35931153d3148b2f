//! Conformance checks for [`Outbox`] and [`Inbox`] implementations (usually the event store
//! itself). The outbox checks drain the whole outbox and take its relay lease: give them a
//! store nobody else relays from.

use std::collections::HashSet;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use super::{PATIENCE, Tick, tick, unique};
use crate::aggregate::ExpectedVersion;
use crate::bus::{BusError, ConsumerConfig, Delivery, EventBus, Message};
use crate::event::{Envelope, EventId, RawEnvelope};
use crate::memory::{InProcessBus, InProcessSubscription};
use crate::outbox::{Inbox, Lease, Outbox, Relay, Routing};
use crate::store::{AppendRequest, EventStore, StoreError, StreamId};

/// Runs every check.
pub async fn run_all<S: EventStore + Outbox + Inbox + Clone>(store: S) {
    relay_publishes_appended_events_in_order(&store).await;
    a_signalling_store_wakes_its_relay_at_once(&store).await;
    a_signalled_pass_reads_until_a_short_batch(&store).await;
    commands_one_at_a_time_are_published_once_in_order_and_marked(&store).await;
    unpublished_types_stay_inside(&store).await;
    a_crash_before_marking_publishes_again(&store).await;
    inbox_records_each_event_once(&store).await;
    the_lease_has_one_holder_and_fences_out_the_one_it_left(&store).await;
    of_two_relays_one_publishes_and_the_other_takes_over_from_a_dead_one(&store).await;
    a_hung_holder_is_fenced_out_and_stands_by(&store).await;
}

async fn append_ticks<S: EventStore>(
    store: &S,
    stream: &StreamId,
    count: u64,
) -> Vec<Envelope<Tick>> {
    let events: Vec<_> = (1..=count)
        .map(|n| tick(&stream.aggregate_type, &stream.aggregate_id, 0, n))
        .collect();
    store
        .append(AppendRequest {
            stream: stream.clone(),
            expected: ExpectedVersion::Any,
            events,
            inbox: None,
        })
        .await
        .expect("append")
        .events
}

/// Appends tick `n` to `stream`, whatever its version: one command's event.
pub async fn append_tick<S: EventStore>(
    store: &S,
    stream: &StreamId,
    n: u64,
) -> Vec<Envelope<Tick>> {
    store
        .append(AppendRequest {
            stream: stream.clone(),
            expected: ExpectedVersion::Any,
            events: vec![tick(&stream.aggregate_type, &stream.aggregate_id, 0, n)],
            inbox: None,
        })
        .await
        .expect("append")
        .events
}

async fn pending_ids<S: Outbox>(store: &S) -> HashSet<EventId> {
    let mut ids = HashSet::new();
    loop {
        let page = store.pending(1000).await.expect("pending");
        let fresh = page.iter().filter(|e| ids.insert(e.event_id)).count();
        if page.len() < 1000 || fresh == 0 {
            return ids;
        }
    }
}

/// Appended events are pending; the relay publishes them on `<system>.<context>.<Event>` in
/// per-aggregate order and marks them, after which they are no longer pending.
pub async fn relay_publishes_appended_events_in_order<S: EventStore + Outbox + Clone>(store: &S) {
    let system = unique("sys");
    let bus = InProcessBus::new();
    let mut consumer = bus
        .subscribe(ConsumerConfig::new(unique("c"), [format!("{system}.>")]))
        .await
        .expect("subscribe");
    let (a, b) = (
        StreamId::new("Outboxed", unique("a")),
        StreamId::new("Outboxed", unique("b")),
    );
    let mut sent = append_ticks(store, &a, 3).await;
    sent.extend(append_ticks(store, &b, 2).await);
    let pending = pending_ids(store).await;
    assert!(
        sent.iter().all(|e| pending.contains(&e.event_id)),
        "appended events are pending"
    );
    let relay = Relay::new(
        store.clone(),
        bus.clone(),
        Routing::new(system.clone(), "Ledger"),
    )
    .batch_size(2);
    relay.drain().await.expect("relay");
    let ours: HashSet<EventId> = sent.iter().map(|e| e.event_id).collect();
    let mut received = Vec::new();
    while received.len() < sent.len() {
        let delivery = super::event_bus::next(&mut consumer, "a relayed event").await;
        let message = delivery.message().clone();
        delivery.ack().await.expect("ack");
        assert_eq!(message.subject, format!("{system}.Ledger.Tick"));
        if ours.contains(&message.envelope.event_id) {
            received.push(message.envelope);
        }
    }
    for stream in [&a, &b] {
        let versions: Vec<u64> = received
            .iter()
            .filter(|e| stream.holds(e))
            .map(|e| e.version)
            .collect();
        let expected: Vec<u64> = (1..=versions.len() as u64).collect();
        assert_eq!(versions, expected, "{stream}: relayed in version order");
    }
    let still_pending = pending_ids(store).await;
    assert!(
        ours.is_disjoint(&still_pending),
        "relayed events are marked published"
    );
}

/// A store whose outbox [signals](Outbox::signal) recorded events has a running relay
/// publish an append at once, not at its next poll (a minute away here). A store that
/// cannot signal passes: its relays poll.
pub async fn a_signalling_store_wakes_its_relay_at_once<S: EventStore + Outbox + Clone>(store: &S) {
    if store.signal().is_none() {
        return;
    }
    let mut relay = SignalledRelay::start(store.clone(), 256).await;
    // The relay's first drain, then its wait: what comes next must wake it.
    tokio::time::sleep(Duration::from_millis(50)).await;
    let sent = append_ticks(store, &StreamId::new("Signalled", unique("a")), 1).await;
    let took = relay.until_published(&sent, "the signalled append").await;
    assert!(
        took < Duration::from_secs(5),
        "published {took:?} after the append: the relay waited for its poll"
    );
    relay.stop().await;
}

/// A signalled pass reads the outbox until a batch comes back short, and no further: a
/// burst larger than the batch size is published at once (not at the next poll, a minute
/// away here), and a single event costs one read, not a second one that finds nothing, nor
/// a mark of its own (the next read marks it). A store that cannot signal passes: its relays
/// poll.
pub async fn a_signalled_pass_reads_until_a_short_batch<S: EventStore + Outbox + Clone>(store: &S) {
    if store.signal().is_none() {
        return;
    }
    let outbox = CountingReads::new(store.clone());
    let mut relay = SignalledRelay::start(outbox.clone(), 2).await;
    let settled = || async {
        // Until the relay's pass is over: no read for a while. (Its last batch stays pending
        // until the next read marks it.)
        loop {
            let before = outbox.reads();
            tokio::time::sleep(Duration::from_millis(100)).await;
            if outbox.reads() == before {
                return outbox.reads();
            }
        }
    };
    let idle = settled().await;

    let burst = append_ticks(store, &StreamId::new("Burst", unique("a")), 5).await;
    let took = relay.until_published(&burst, "the burst").await;
    assert!(
        took < Duration::from_secs(5),
        "five events in batches of two took {took:?}: the relay waited for its poll"
    );
    let after_burst = settled().await;
    assert_eq!(
        after_burst - idle,
        3,
        "five events in batches of two: reads of 2, 2 and 1, the last one short"
    );

    let single = append_ticks(store, &StreamId::new("Single", unique("a")), 1).await;
    relay.until_published(&single, "the single event").await;
    let reads = settled().await - after_burst;
    // A store that hands its commits over (`OutboxSignal::recorded`) needs no read at all:
    // the relay knows where it stands since the burst's short batch, and the marks wait
    // for the read due at the next poll.
    let (expected, why) = match reads {
        0 => (
            vec![burst[4].event_id, single[0].event_id],
            "handed over: the burst's last batch and the single event wait for the next read",
        ),
        1 => (
            vec![single[0].event_id],
            "one read marked the burst's last batch; the single event waits for the next",
        ),
        more => {
            panic!("one event took {more} reads: at most one (which marks the burst's last batch)")
        }
    };
    let still_pending: Vec<EventId> = store
        .pending(10)
        .await
        .expect("pending")
        .iter()
        .map(|event| event.event_id)
        .collect();
    assert_eq!(still_pending, expected, "{why}");
    relay.stop().await;
    assert!(
        store.pending(10).await.expect("pending").is_empty(),
        "a relay that stops marks what it published"
    );
}

/// Commands one at a time, as a service's clients send them: each event is published at
/// once (well before the relay's next poll), once, in order, and marked within about one
/// interval of the relay. A store that hands its commits over (`OutboxSignal::recorded`)
/// publishes them without reading them back, and the marks wait for the poll. A store
/// that cannot signal passes: its relays poll.
pub async fn commands_one_at_a_time_are_published_once_in_order_and_marked<S>(store: &S)
where
    S: EventStore + Outbox + Clone,
{
    if store.signal().is_none() {
        return;
    }
    let interval = Duration::from_millis(300);
    let mut relay = SignalledRelay::polling(store.clone(), 256, interval).await;
    let streams: Vec<StreamId> = (0..3)
        .map(|n| StreamId::new("OneByOne", unique(&format!("s{n}"))))
        .collect();
    let mut sent_ids: Vec<EventId> = Vec::new();
    let mut delivered_ids: Vec<EventId> = Vec::new();
    for n in 1..=30_u64 {
        let stream = &streams[usize::try_from(n % 3).unwrap_or(0)];
        let appended = append_tick(store, stream, n).await;
        delivered_ids.extend(relay.receive(1, "one command's event").await);
        sent_ids.extend(appended.iter().map(|event| event.event_id));
    }
    assert_eq!(
        delivered_ids, sent_ids,
        "each command's event is published before the next command, once, in order"
    );
    relay.nothing_more("after the last command").await;
    let ours: HashSet<EventId> = sent_ids.iter().copied().collect();
    let deadline = tokio::time::Instant::now() + interval * 4;
    loop {
        let left = pending_ids(store).await.intersection(&ours).count();
        if left == 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{left} published events still unmarked {:?} after the last: marks are due \
             within the relay's interval ({interval:?})",
            interval * 4
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    relay.stop().await;
}

/// A running relay into an in-process bus, and a consumer of all it publishes. Started by
/// [`start`](Self::start) it polls only once a minute, so what it publishes sooner it
/// published because the store signalled.
#[derive(Debug)]
pub struct SignalledRelay {
    consumer: InProcessSubscription,
    stop: tokio::sync::oneshot::Sender<()>,
    running: tokio::task::JoinHandle<Result<(), crate::outbox::RelayError>>,
}

impl SignalledRelay {
    /// A relay that polls once a minute.
    pub async fn start<O: Outbox>(outbox: O, batch_size: usize) -> Self {
        Self::polling(outbox, batch_size, Duration::from_secs(60)).await
    }

    /// A relay that polls every `interval`.
    pub async fn polling<O: Outbox>(outbox: O, batch_size: usize, interval: Duration) -> Self {
        let system = unique("sys");
        let bus = InProcessBus::new();
        let consumer = bus
            .subscribe(ConsumerConfig::new(unique("c"), [format!("{system}.>")]))
            .await
            .expect("subscribe");
        let relay = Relay::new(outbox, bus, Routing::new(system, "Ledger")).batch_size(batch_size);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let running = tokio::spawn(async move {
            relay
                .run(interval, async {
                    let _ = stopped.await;
                })
                .await
        });
        Self {
            consumer,
            stop,
            running,
        }
    }

    /// The ids of the next `count` deliveries, in the order they came.
    pub async fn receive(&mut self, count: usize, what: &str) -> Vec<EventId> {
        let mut ids = Vec::with_capacity(count);
        for _ in 0..count {
            let delivery = super::event_bus::next(&mut self.consumer, what).await;
            ids.push(delivery.message().envelope.event_id);
            delivery.ack().await.expect("ack");
        }
        ids
    }

    /// Panics when anything more is delivered within a short quiet period.
    pub async fn nothing_more(&mut self, what: &str) {
        super::event_bus::nothing_more(&mut self.consumer, what).await;
    }

    /// Consumes until every one of `sent` was delivered; returns how long that took.
    pub async fn until_published(&mut self, sent: &[Envelope<Tick>], what: &str) -> Duration {
        let started = tokio::time::Instant::now();
        let mut missing: HashSet<EventId> = sent.iter().map(|event| event.event_id).collect();
        while !missing.is_empty() {
            let delivery = super::event_bus::next(&mut self.consumer, what).await;
            missing.remove(&delivery.message().envelope.event_id);
            delivery.ack().await.expect("ack");
        }
        started.elapsed()
    }

    /// Stops the relay; panics unless it stopped cleanly.
    pub async fn stop(self) {
        let _ = self.stop.send(());
        self.running
            .await
            .expect("the relay task")
            .expect("the relay stops cleanly");
    }
}

/// An outbox that counts its reads of pending events (each `pending` and
/// `settle_and_read`), for checks of how often a relay reads.
#[derive(Clone, Debug)]
pub struct CountingReads<S> {
    store: S,
    reads: Arc<std::sync::atomic::AtomicUsize>,
    signal: Option<crate::outbox::OutboxSignal>,
}

impl<S> CountingReads<S> {
    /// Counts the reads of `store`.
    pub fn new(store: S) -> Self {
        Self {
            store,
            reads: Arc::default(),
            signal: None,
        }
    }

    /// Signals relays through `signal` instead of the store's own, as a relay of another
    /// process sees the store: what the store records reaches it only as the test raises
    /// (or hands over) on `signal`.
    #[must_use]
    pub fn signalled_by(mut self, signal: crate::outbox::OutboxSignal) -> Self {
        self.signal = Some(signal);
        self
    }

    /// The store counted.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// How many reads so far.
    pub fn reads(&self) -> usize {
        self.reads.load(std::sync::atomic::Ordering::SeqCst)
    }
}

impl<S: Outbox> Outbox for CountingReads<S> {
    async fn pending(&self, limit: usize) -> Result<Vec<RawEnvelope>, StoreError> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.store.pending(limit).await
    }

    async fn settle_and_read(
        &self,
        published: &[EventId],
        lease: Option<Lease>,
        limit: usize,
    ) -> Result<Option<Vec<RawEnvelope>>, StoreError> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.store.settle_and_read(published, lease, limit).await
    }

    async fn mark_published(&self, event_ids: &[EventId]) -> Result<(), StoreError> {
        self.store.mark_published(event_ids).await
    }

    async fn claim_lease(
        &self,
        holder: uuid::Uuid,
        ttl: Duration,
    ) -> Result<Option<Lease>, StoreError> {
        self.store.claim_lease(holder, ttl).await
    }

    async fn release_lease(&self, lease: Lease) -> Result<(), StoreError> {
        self.store.release_lease(lease).await
    }

    async fn mark_published_under(
        &self,
        event_ids: &[EventId],
        lease: Lease,
    ) -> Result<bool, StoreError> {
        self.store.mark_published_under(event_ids, lease).await
    }

    fn signal(&self) -> Option<crate::outbox::OutboxListener> {
        match &self.signal {
            Some(signal) => Some(signal.subscribe()),
            None => self.store.signal(),
        }
    }
}

/// Events whose types the context does not publish are settled without being published.
pub async fn unpublished_types_stay_inside<S: EventStore + Outbox + Clone>(store: &S) {
    let system = unique("sys");
    let bus = InProcessBus::new();
    let mut consumer = bus
        .subscribe(ConsumerConfig::new(unique("c"), [format!("{system}.>")]))
        .await
        .expect("subscribe");
    let stream = StreamId::new("Internal", unique("s"));
    let sent = append_ticks(store, &stream, 2).await;
    let routing = Routing::new(system, "Ledger").publishing(["SomethingElse"]);
    Relay::new(store.clone(), bus, routing)
        .drain()
        .await
        .expect("relay");
    super::event_bus::nothing_more(&mut consumer, "an event type the context keeps").await;
    let pending = pending_ids(store).await;
    assert!(
        sent.iter().all(|e| !pending.contains(&e.event_id)),
        "unpublished types are settled"
    );
}

/// Publishing without marking (a relay killed in between) leaves the events pending, so the
/// next relay publishes them again: at-least-once, never lost.
pub async fn a_crash_before_marking_publishes_again<S: EventStore + Outbox + Clone>(store: &S) {
    let system = unique("sys");
    let bus = InProcessBus::new();
    let mut consumer = bus
        .subscribe(ConsumerConfig::new(unique("c"), [format!("{system}.>")]))
        .await
        .expect("subscribe");
    let stream = StreamId::new("Crashy", unique("s"));
    let sent = append_ticks(store, &stream, 1).await;
    let routing = Routing::new(system, "Ledger");
    let pending = store.pending(10_000).await.expect("pending");
    let ours: Vec<_> = pending
        .into_iter()
        .filter(|e| e.event_id == sent[0].event_id)
        .collect();
    assert_eq!(ours.len(), 1, "the event is pending once");
    let messages = ours
        .into_iter()
        .map(|e| crate::bus::Message::new(routing.subject_of(&e).expect("published"), e))
        .collect();
    bus.publish(messages).await.expect("publish");
    Relay::new(store.clone(), bus.clone(), routing)
        .drain()
        .await
        .expect("relay after crash");
    for copy in 1..=2 {
        let delivery = super::event_bus::next(&mut consumer, "a copy of the event").await;
        assert_eq!(
            delivery.message().envelope.event_id,
            sent[0].event_id,
            "copy {copy}"
        );
        delivery.ack().await.expect("ack");
    }
}

/// The inbox records an event once per consumer.
pub async fn inbox_records_each_event_once<S: Inbox>(store: &S) {
    let consumer = unique("consumer");
    let event_id = uuid::Uuid::now_v7();
    assert!(
        !store
            .is_processed(&consumer, event_id)
            .await
            .expect("inbox")
    );
    assert!(
        store
            .mark_processed(&consumer, event_id)
            .await
            .expect("inbox"),
        "first mark"
    );
    assert!(
        !store
            .mark_processed(&consumer, event_id)
            .await
            .expect("inbox"),
        "second mark"
    );
    assert!(
        store
            .is_processed(&consumer, event_id)
            .await
            .expect("inbox")
    );
    assert!(
        !store
            .is_processed(&unique("other"), event_id)
            .await
            .expect("inbox")
    );
}

/// The relay lease has one holder at a time: a claim by another holder is refused while the
/// lease runs and granted, with a higher generation, once it expired (or was released); a
/// mark under a superseded lease marks nothing.
pub async fn the_lease_has_one_holder_and_fences_out_the_one_it_left<S>(store: &S)
where
    S: EventStore + Outbox,
{
    let (first, second) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let ttl = Duration::from_millis(300);
    let claim = |holder| async move { store.claim_lease(holder, ttl).await.expect("claim") };
    let old = claim(first)
        .await
        .expect("a free lease (is another relay running?)");
    assert_eq!(old.holder, first);
    assert_eq!(claim(second).await, None, "a running lease is refused");
    assert_eq!(
        claim(first).await,
        Some(old),
        "a renewal keeps the generation"
    );
    let started = tokio::time::Instant::now();
    let new = loop {
        if let Some(lease) = claim(second).await {
            break lease;
        }
        assert!(started.elapsed() < PATIENCE, "the lease never expired");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(new.generation > old.generation, "{old:?} then {new:?}");

    let sent = append_ticks(store, &StreamId::new("Fenced", unique("s")), 1).await;
    let id = sent[0].event_id;
    let marked = store.mark_published_under(&[id], old).await.expect("mark");
    assert!(!marked, "a superseded lease marks nothing");
    assert!(pending_ids(store).await.contains(&id), "still pending");
    let settled = store
        .settle_and_read(&[id], Some(old), 100)
        .await
        .expect("settle");
    assert!(settled.is_none(), "a superseded lease settles nothing");
    assert!(pending_ids(store).await.contains(&id), "still pending");
    let marked = store.mark_published_under(&[id], new).await.expect("mark");
    assert!(marked, "the current lease marks");
    assert!(!pending_ids(store).await.contains(&id), "marked");

    let sent = append_ticks(store, &StreamId::new("Settled", unique("s")), 2).await;
    let (first_id, second_id) = (sent[0].event_id, sent[1].event_id);
    let read = store
        .settle_and_read(&[first_id], Some(new), 1000)
        .await
        .expect("settle")
        .expect("the current lease settles");
    let read: Vec<EventId> = read.iter().map(|event| event.event_id).collect();
    assert!(
        !read.contains(&first_id) && read.contains(&second_id),
        "the mark comes before the read: {read:?}"
    );
    assert!(!pending_ids(store).await.contains(&first_id), "marked");
    store
        .settle_and_read(&[second_id], None, 1)
        .await
        .expect("settle")
        .expect("without a lease, always");
    assert!(!pending_ids(store).await.contains(&second_id), "marked");

    store.release_lease(new).await.expect("release");
    let next = claim(first)
        .await
        .expect("a released lease is free at once");
    assert!(next.generation > new.generation, "{new:?} then {next:?}");
    store.release_lease(next).await.expect("release");
}

/// A bus that keeps what was published, for telling relays apart; [stalled](Self::stall),
/// its publishes wait (a holder hung in the middle of a batch).
#[derive(Clone)]
struct Recorded {
    published: Arc<Mutex<Vec<Message>>>,
    open: Arc<tokio::sync::watch::Sender<bool>>,
}

impl Default for Recorded {
    fn default() -> Self {
        Self {
            published: Arc::default(),
            open: Arc::new(tokio::sync::watch::channel(true).0),
        }
    }
}

impl Recorded {
    fn versions(&self, stream: &StreamId) -> Vec<u64> {
        let messages = self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        messages
            .iter()
            .filter(|message| stream.holds(&message.envelope))
            .map(|message| message.envelope.version)
            .collect()
    }

    fn stall(&self) {
        self.open.send_replace(false);
    }

    fn resume(&self) {
        self.open.send_replace(true);
    }
}

impl EventBus for Recorded {
    type Subscription = InProcessSubscription;

    async fn publish(&self, messages: Vec<Message>) -> Result<(), BusError> {
        let mut open = self.open.subscribe();
        let _ = open.wait_for(|open| *open).await;
        let mut published = self
            .published
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        published.extend(messages);
        Ok(())
    }

    async fn subscribe(&self, _: ConsumerConfig) -> Result<InProcessSubscription, BusError> {
        Err(BusError::Rejected("a recording bus only publishes".into()))
    }
}

/// A relay over `store` into `bus`, running until `stopped` says stop.
fn spawn_relay<S: EventStore + Outbox + Clone>(
    store: &S,
    bus: &Recorded,
    system: &str,
    ttl: Duration,
    stopped: &tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<Result<(), crate::outbox::RelayError>> {
    let relay =
        Relay::new(store.clone(), bus.clone(), Routing::new(system, "Ledger")).lease_ttl(ttl);
    let mut stopped = stopped.clone();
    tokio::spawn(async move {
        relay
            .run(Duration::from_millis(10), async move {
                let _ = stopped.wait_for(|stop| *stop).await;
            })
            .await
    })
}

/// Two relays run over one store, each into a bus of its own: one publishes everything,
/// the other nothing. The publishing one is then dropped without a word (its process
/// killed): the other takes over and publishes what comes next, in order.
pub async fn of_two_relays_one_publishes_and_the_other_takes_over_from_a_dead_one<S>(store: &S)
where
    S: EventStore + Outbox + Clone,
{
    let ttl = Duration::from_millis(1500);
    let system = unique("sys");
    let buses = [Recorded::default(), Recorded::default()];
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut relays: Vec<_> = buses
        .iter()
        .map(|bus| Some(spawn_relay(store, bus, &system, ttl, &stopped)))
        .collect();
    let stream = StreamId::new("Leased", unique("s"));
    for _ in 0..3 {
        append_ticks(store, &stream, 2).await;
    }
    let leader = eventually("the first six events published", || {
        buses
            .iter()
            .position(|bus| bus.versions(&stream).len() >= 6)
    })
    .await;
    let standby = 1 - leader;
    // Renewals go on for a while: a second relay that also published would show now.
    tokio::time::sleep(ttl).await;
    assert_eq!(buses[leader].versions(&stream), (1..=6).collect::<Vec<_>>());
    assert_eq!(
        buses[standby].versions(&stream),
        Vec::<u64>::new(),
        "the standby published"
    );

    relays[leader].take().expect("the leader runs").abort();
    append_ticks(store, &stream, 4).await;
    eventually("the standby takes over and publishes the rest", || {
        (buses[standby].versions(&stream).len() >= 4).then_some(())
    })
    .await;
    assert_eq!(
        buses[standby].versions(&stream),
        (7..=10).collect::<Vec<_>>()
    );

    let _ = stop.send(true);
    for relay in relays.into_iter().flatten() {
        relay
            .await
            .expect("the relay task")
            .expect("the relay stops cleanly");
    }
}

/// A holder hung in the middle of a batch (its publish does not return) stops renewing: a
/// standby takes over after the expiry and publishes. When the hung one resumes, its batch
/// goes out a second time (the copy a hang costs, with what it published before and had
/// not marked yet), its mark is refused, and it stands by: what comes next only the new
/// holder publishes.
pub async fn a_hung_holder_is_fenced_out_and_stands_by<S>(store: &S)
where
    S: EventStore + Outbox + Clone,
{
    let ttl = Duration::from_millis(600);
    let system = unique("sys");
    let (hung, next) = (Recorded::default(), Recorded::default());
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let stream = StreamId::new("Hung", unique("s"));
    let mut relays = vec![spawn_relay(store, &hung, &system, ttl, &stopped)];
    append_ticks(store, &stream, 2).await;
    eventually("the first holder publishes", || {
        (hung.versions(&stream).len() >= 2).then_some(())
    })
    .await;
    hung.stall();
    append_ticks(store, &stream, 2).await;
    relays.push(spawn_relay(store, &next, &system, ttl, &stopped));
    eventually("the standby takes over from the hung holder", || {
        (next.versions(&stream).len() >= 2).then_some(())
    })
    .await;
    hung.resume();
    eventually("the hung holder's batch goes out when it resumes", || {
        (hung.versions(&stream).len() >= 4).then_some(())
    })
    .await;
    append_ticks(store, &stream, 2).await;
    eventually("the new holder publishes what comes next", || {
        (next.versions(&stream).len() >= 4).then_some(())
    })
    .await;
    // Long enough for the old holder to publish again, had it not stood by.
    tokio::time::sleep(ttl).await;
    assert_eq!(hung.versions(&stream), [1, 2, 3, 4], "the fenced holder");
    // Its marks wait for its next read (and for the poll, when the store hands commits
    // over), so the new holder may publish again what the hung one published before.
    let taken_over = next.versions(&stream);
    assert!(
        [&[3, 4, 5, 6][..], &[1, 2, 3, 4, 5, 6][..]].contains(&taken_over.as_slice()),
        "the new holder: {taken_over:?}, not 3 to 6 (after 1 and 2, which the hung one \
         published before its hung batch and may not have marked)"
    );

    let _ = stop.send(true);
    for relay in relays {
        relay
            .await
            .expect("the relay task")
            .expect("the relay stops cleanly");
    }
}

/// Polls `probe` until it answers, for at most [`PATIENCE`].
async fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let started = tokio::time::Instant::now();
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(
            started.elapsed() < PATIENCE,
            "{what}: not within {PATIENCE:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
