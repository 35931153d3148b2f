//! The store hands what it commits to the relay of its process with the events' positions,
//! and the relay publishes that without reading it back. Everything else (commits of other
//! processes, appends in a caller's transaction, whose positions the sequencer gives later)
//! leaves a gap in the positions, which the relay reads. Under both at once every event is
//! published once, in order per stream, and marked.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use ddd_core::memory::InProcessBus;
use ddd_core::testing::conformance::event_bus::{next, nothing_more};
use ddd_core::testing::conformance::{request, tick, unique};
use ddd_core::{
    ConsumerConfig, Delivery, EventBus, EventId, EventStore, ExpectedVersion, Outbox, Relay,
    Routing, StreamId,
};
use ddd_postgres::PostgresStore;
use ddd_postgres::testing::TestDatabase;

const PER_WRITER: u64 = 40;

/// Appends `PER_WRITER` events to a stream of its own one at a time, as a service's
/// clients send commands; every fifth inside a transaction of the caller's (`append_in`).
async fn write(store: PostgresStore, name: &str) -> (StreamId, Vec<EventId>) {
    let stream = StreamId::new("Handed", unique(name));
    let mut sent = Vec::new();
    for n in 1..=PER_WRITER {
        let events = vec![tick(&stream.aggregate_type, &stream.aggregate_id, 0, n)];
        let appended = if n % 5 == 0 {
            let mut transaction = store.pool().begin().await.expect("a transaction");
            let appended = store
                .append_in(
                    &mut transaction,
                    request(&stream, ExpectedVersion::Exact(n - 1), events),
                )
                .await
                .expect("an append in a transaction");
            transaction.commit().await.expect("committed");
            appended
        } else {
            store
                .append(request(&stream, ExpectedVersion::Exact(n - 1), events))
                .await
                .expect("an append")
        };
        sent.extend(appended.events.iter().map(|event| event.event_id));
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    (stream, sent)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commits_handed_over_and_commits_elsewhere_are_each_published_once_in_order() {
    let database = TestDatabase::new();
    // Two handles: two processes on one database. The relay runs in the first.
    let here = database.connect().await;
    let elsewhere = database.connect().await;
    let bus = InProcessBus::new();
    let mut consumer = bus
        .subscribe(ConsumerConfig::new("watcher", ["handover.>"]))
        .await
        .expect("subscribe");
    let relay = Relay::new(here.clone(), bus, Routing::new("handover", "Ledger"));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = tokio::spawn(async move {
        relay
            .run(Duration::from_millis(100), async {
                let _ = stopped.await;
            })
            .await
    });

    let writers = [
        tokio::spawn(write(here.clone(), "here-a")),
        tokio::spawn(write(here.clone(), "here-b")),
        tokio::spawn(write(here.clone(), "here-c")),
        tokio::spawn(write(elsewhere.clone(), "elsewhere")),
    ];
    let mut sent: HashMap<String, Vec<EventId>> = HashMap::new();
    for writer in writers {
        let (stream, ids) = writer.await.expect("a writer");
        sent.insert(stream.aggregate_id, ids);
    }
    let total = sent.values().map(Vec::len).sum::<usize>();

    let mut received: HashMap<String, Vec<EventId>> = HashMap::new();
    let mut seen = HashSet::new();
    for _ in 0..total {
        let delivery = next(&mut consumer, "the writers' events").await;
        let envelope = &delivery.message().envelope;
        assert!(
            seen.insert(envelope.event_id),
            "{} published twice",
            envelope.event_id
        );
        received
            .entry(envelope.aggregate_id.clone())
            .or_default()
            .push(envelope.event_id);
        delivery.ack().await.expect("ack");
    }
    nothing_more(&mut consumer, "after every event").await;
    assert_eq!(
        received, sent,
        "each stream's events, once, in version order"
    );

    // The marks of what was handed over come with the relay's next poll.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while !here.pending(10).await.expect("pending").is_empty() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "published events still unmarked 5 s after the last"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let _ = stop.send(());
    running
        .await
        .expect("the relay task")
        .expect("the relay stops cleanly");
}
