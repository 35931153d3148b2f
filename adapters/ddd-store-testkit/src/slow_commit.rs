//! Writes held open for seconds while a subscriber tails the global order: every event is
//! delivered once, in order, none skipped. This is the gap of Axon's JDBC store: a reader
//! that reads by an insert sequence passes the id a slow transaction holds, and the event is
//! never read when it commits.

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ddd_core::testing::conformance::{Tick, tick};
use ddd_core::{AppendRequest, EventId, EventStore, ExpectedVersion, Position, StreamId};

use crate::TestStore;

/// How long the fast writers write.
const FAST_FOR: Duration = Duration::from_secs(5);

fn request(stream: &StreamId, n: u64) -> AppendRequest<Tick> {
    AppendRequest {
        stream: stream.clone(),
        expected: ExpectedVersion::Any,
        events: vec![tick(&stream.aggregate_type, &stream.aggregate_id, 0, n)],
        inbox: None,
    }
}

/// Reads the global order until `writing` is off and a read comes back empty.
async fn subscribe<S: EventStore>(store: S, writing: Arc<AtomicBool>) -> Vec<(Position, EventId)> {
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

/// Appends one event every few milliseconds for `during`.
async fn fast_writer<S: EventStore>(store: S, stream: StreamId, during: Duration) -> Vec<EventId> {
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

/// Holds writes open for 1, 2 and 3 s (at once where the store allows it, else one after
/// another, each shorter than SQLite's default wait for a lock), the first on `handles[0]`,
/// the next on the next handle.
async fn slow_writers<S: TestStore>(handles: &[S]) -> Vec<EventId> {
    let writes: Vec<_> = [1, 2, 3]
        .into_iter()
        .zip(handles.iter().cycle())
        .map(|(seconds, store)| {
            let stream = StreamId::new("Slow", format!("held-{seconds}s"));
            let hold = Duration::from_secs(seconds);
            let store = store.clone();
            async move { store.append_held_open(request(&stream, 0), hold).await }
        })
        .collect();
    if S::CONCURRENT_WRITES {
        let writes: Vec<_> = writes.into_iter().map(tokio::spawn).collect();
        let mut ids = Vec::new();
        for write in writes {
            ids.push(write.await.expect("slow writer"));
        }
        ids
    } else {
        let mut ids = Vec::new();
        for write in writes {
            ids.push(write.await);
            // The fast writers get the writer between two held writes.
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
        ids
    }
}

/// The scenario on `handles` of one store (more than one where a store's handles are separate
/// writers, as other processes would be); returns the ids of the writes held open.
pub async fn a_subscriber_never_skips_an_event_that_commits_late<S: TestStore>(
    handles: &[S],
) -> Vec<EventId> {
    let writing = Arc::new(AtomicBool::new(true));
    let subscriber = tokio::spawn(subscribe(handles[0].clone(), Arc::clone(&writing)));
    let slow = {
        let handles = handles.to_vec();
        tokio::spawn(async move { slow_writers(&handles).await })
    };
    // Let the slow writes take their ids before the fast ones start.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let fast: Vec<_> = (0..4)
        .zip(handles.iter().cycle())
        .map(|(writer, store)| {
            let stream = StreamId::new("Fast", format!("writer-{writer}"));
            tokio::spawn(fast_writer(store.clone(), stream, FAST_FOR))
        })
        .collect();

    let slow_ids = slow.await.expect("slow writers");
    let mut written: HashSet<EventId> = slow_ids.iter().copied().collect();
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
        "{} events delivered, {} of them held open 1-3 s",
        seen.len(),
        slow_ids.len()
    );
    slow_ids
}
