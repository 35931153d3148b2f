//! A write that holds the transaction open for seconds, and a second store (another writer
//! thread, as another process would be) on the same file, while a subscriber tails the
//! global order: every event is delivered once, in order, none skipped.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ddd_core::testing::conformance::{Tick, tick};
use ddd_core::{
    AppendError, AppendRequest, EventId, EventStore, ExpectedVersion, Position, StreamId,
};
use ddd_sqlite::SqliteStore;
use ddd_sqlite::testing::TestFile;

fn request(stream: &StreamId, n: u64) -> AppendRequest<Tick> {
    AppendRequest {
        stream: stream.clone(),
        expected: ExpectedVersion::Any,
        events: vec![tick(&stream.aggregate_type, &stream.aggregate_id, 0, n)],
        inbox: None,
    }
}

async fn subscribe(store: SqliteStore, writing: Arc<AtomicBool>) -> Vec<(Position, EventId)> {
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

async fn fast_writer(store: SqliteStore, stream: StreamId, during: Duration) -> Vec<EventId> {
    let started = tokio::time::Instant::now();
    let mut written = Vec::new();
    let mut n = 0;
    while started.elapsed() < during {
        n += 1;
        let appended = store.append(request(&stream, n)).await.expect("append");
        written.push(appended.events[0].event_id);
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
    written
}

/// Appends, then keeps the writer's transaction open for `hold` before it commits.
async fn slow_writer(store: SqliteStore, stream: StreamId, hold: Duration) -> EventId {
    store
        .write(move |tx| {
            let appended = tx.append(request(&stream, 0))?;
            std::thread::sleep(hold);
            Ok::<_, AppendError>(appended.events[0].event_id)
        })
        .await
        .expect("slow write")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscriber_never_skips_an_event_that_commits_late() {
    let file = TestFile::new();
    let first = file.connect().await;
    let second = file.connect().await;
    let writing = Arc::new(AtomicBool::new(true));
    let subscriber = tokio::spawn(subscribe(first.clone(), Arc::clone(&writing)));

    let fast: Vec<_> = (0..4)
        .map(|writer| {
            let store = if writer % 2 == 0 { &first } else { &second };
            let stream = StreamId::new("Fast", format!("writer-{writer}"));
            tokio::spawn(fast_writer(store.clone(), stream, Duration::from_secs(4)))
        })
        .collect();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let mut written = HashSet::new();
    for (store, hold) in [(&first, 2), (&second, 1)] {
        let stream = StreamId::new("Slow", format!("held-{hold}s"));
        written.insert(slow_writer(store.clone(), stream, Duration::from_secs(hold)).await);
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
        "{} events delivered; writes held the lock 1-2 s; {} transactions",
        seen.len(),
        first.writer_stats().transactions + second.writer_stats().transactions
    );
}
