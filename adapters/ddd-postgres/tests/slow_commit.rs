//! Writers that hold their transaction open for seconds while a subscriber tails the global
//! order: every event is delivered once, in order, none skipped. This is the gap of Axon's
//! JDBC store: a reader that reads by an insert sequence passes the id a slow transaction
//! holds, and the event is never read when it commits.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ddd_core::testing::conformance::{Tick, tick};
use ddd_core::{AppendRequest, EventId, EventStore, ExpectedVersion, Position, StreamId};
use ddd_postgres::PostgresStore;
use ddd_postgres::testing::TestDatabase;

fn request(stream: &StreamId, n: u64) -> AppendRequest<Tick> {
    AppendRequest {
        stream: stream.clone(),
        expected: ExpectedVersion::Any,
        events: vec![tick(&stream.aggregate_type, &stream.aggregate_id, 0, n)],
        inbox: None,
    }
}

/// Reads the global order until `writing` is off and a read comes back empty.
async fn subscribe(store: PostgresStore, writing: Arc<AtomicBool>) -> Vec<(Position, EventId)> {
    let mut seen = Vec::new();
    let mut after = 0;
    loop {
        let last_round = !writing.load(Ordering::SeqCst);
        let page = store.read_all(after, 100).await.expect("read_all");
        for event in &page {
            assert_eq!(
                event.position,
                after + 1,
                "positions are gap-free and in order"
            );
            after = event.position;
            seen.push((event.position, event.event_id));
        }
        if page.is_empty() {
            if last_round {
                return seen;
            }
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Appends in a transaction held open for `hold`, then commits.
async fn slow_writer(store: PostgresStore, stream: StreamId, hold: Duration) -> EventId {
    let mut transaction = store.pool().begin().await.expect("begin");
    let appended = store
        .append_in(&mut transaction, request(&stream, 0))
        .await
        .expect("append");
    tokio::time::sleep(hold).await;
    transaction.commit().await.expect("commit");
    appended.events[0].event_id
}

/// Appends one event every few milliseconds for `during`.
async fn fast_writer(store: PostgresStore, stream: StreamId, during: Duration) -> Vec<EventId> {
    let started = tokio::time::Instant::now();
    let mut written = Vec::new();
    let mut n = 0;
    while started.elapsed() < during {
        n += 1;
        let appended = store.append(request(&stream, n)).await.expect("append");
        written.push(appended.events[0].event_id);
        tokio::time::sleep(Duration::from_millis(3)).await;
    }
    written
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscriber_never_skips_an_event_that_commits_late() {
    let database = TestDatabase::new();
    let store = database.connect_with("max_connections=12").await;
    let writing = Arc::new(AtomicBool::new(true));
    let subscriber = tokio::spawn(subscribe(store.clone(), Arc::clone(&writing)));

    let slow: Vec<_> = [2, 3, 4]
        .into_iter()
        .map(|seconds| {
            let stream = StreamId::new("Slow", format!("held-{seconds}s"));
            tokio::spawn(slow_writer(
                store.clone(),
                stream,
                Duration::from_secs(seconds),
            ))
        })
        .collect();
    // Let the slow transactions take their ids before the fast ones start.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let fast: Vec<_> = (0..4)
        .map(|writer| {
            let stream = StreamId::new("Fast", format!("writer-{writer}"));
            tokio::spawn(fast_writer(store.clone(), stream, Duration::from_secs(5)))
        })
        .collect();

    let mut written = HashSet::new();
    let mut slow_ids = Vec::new();
    for writer in slow {
        let id = writer.await.expect("slow writer");
        slow_ids.push(id);
        written.insert(id);
    }
    for writer in fast {
        written.extend(writer.await.expect("fast writer"));
    }
    writing.store(false, Ordering::SeqCst);
    let seen = subscriber.await.expect("subscriber");

    let seen_ids: Vec<EventId> = seen.iter().map(|(_, id)| *id).collect();
    let distinct: HashSet<EventId> = seen_ids.iter().copied().collect();
    assert_eq!(distinct.len(), seen_ids.len(), "no event delivered twice");
    assert_eq!(
        distinct, written,
        "every committed event delivered, none skipped"
    );
    eprintln!(
        "{} events delivered, {} of them held open 2-4 s",
        seen.len(),
        slow_ids.len()
    );

    // The scenario really had late committers: each slow event was inserted (smaller id)
    // before fast events that were delivered ahead of it, so reading by insert order would
    // have skipped it.
    for slow_id in slow_ids {
        let overtaken: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM ddd_events AS fast, ddd_events AS slow \
             WHERE slow.event_id = $1 AND fast.id > slow.id AND fast.position < slow.position",
        )
        .bind(slow_id)
        .fetch_one(store.pool())
        .await
        .expect("query");
        assert!(overtaken > 0, "event {slow_id} committed late");
    }
}
