//! Conformance checks for [`Outbox`] and [`Inbox`] implementations (usually the event store
//! itself). The outbox checks drain the whole outbox: give them a store nobody else relays
//! from.

use std::collections::HashSet;

use super::{Tick, tick, unique};
use crate::aggregate::ExpectedVersion;
use crate::bus::{ConsumerConfig, Delivery, EventBus};
use crate::event::{Envelope, EventId};
use crate::memory::InProcessBus;
use crate::outbox::{Inbox, Outbox, Relay, Routing};
use crate::store::{AppendRequest, EventStore, StreamId};

/// Runs every check.
pub async fn run_all<S: EventStore + Outbox + Inbox + Clone>(store: S) {
    relay_publishes_appended_events_in_order(&store).await;
    a_signalling_store_wakes_its_relay_at_once(&store).await;
    unpublished_types_stay_inside(&store).await;
    a_crash_before_marking_publishes_again(&store).await;
    inbox_records_each_event_once(&store).await;
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
    let system = unique("sys");
    let bus = InProcessBus::new();
    let mut consumer = bus
        .subscribe(ConsumerConfig::new(unique("c"), [format!("{system}.>")]))
        .await
        .expect("subscribe");
    let relay = Relay::new(store.clone(), bus.clone(), Routing::new(system, "Ledger"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        relay
            .run(std::time::Duration::from_secs(60), async {
                let _ = stopped.await;
            })
            .await
    });
    // The relay's first drain, then its wait: what comes next must wake it.
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let sent = append_ticks(store, &StreamId::new("Signalled", unique("a")), 1).await;
    let started = tokio::time::Instant::now();
    loop {
        let delivery = super::event_bus::next(&mut consumer, "the signalled append").await;
        let id = delivery.message().envelope.event_id;
        delivery.ack().await.expect("ack");
        if id == sent[0].event_id {
            break;
        }
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(5),
        "published {:?} after the append: the relay waited for its poll",
        started.elapsed()
    );
    let _ = stop.send(());
    running
        .await
        .expect("the relay task")
        .expect("the relay stops cleanly");
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
