//! Conformance checks for [`EventStore`] implementations.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use super::{Tick, request, tick, ticks, unique};
use crate::aggregate::ExpectedVersion;
use crate::event::{Envelope, EventId, Position};
use crate::store::{
    AppendError, AppendRequest, Appended, EventStore, InboxMark, Snapshot, StreamId,
};

/// How hard [`concurrent_writers_on_hot_streams`] pushes.
#[derive(Clone, Copy, Debug)]
pub struct Load {
    /// Concurrent writers.
    pub writers: u32,
    /// Streams they all write to.
    pub streams: u32,
    /// Append attempts per writer.
    pub attempts_per_writer: u32,
}

impl Default for Load {
    fn default() -> Self {
        Self {
            writers: 16,
            streams: 50,
            attempts_per_writer: 100,
        }
    }
}

/// Runs every check.
pub async fn run_all<S: EventStore + Clone>(store: S) {
    append_then_load(&store).await;
    expected_version_is_enforced(&store).await;
    conflicts_are_typed_at_any_version(&store).await;
    reappend_is_idempotent(&store).await;
    a_batch_is_one_stream(&store).await;
    read_all_is_ordered(&store).await;
    snapshots_keep_the_latest(&store).await;
    inbox_mark_commits_with_the_events(&store).await;
    concurrent_writers_on_hot_streams(&store, Load::default()).await;
}

fn stream() -> StreamId {
    StreamId::new(unique("conformance"), unique("s"))
}

async fn append<S: EventStore>(
    store: &S,
    stream: &StreamId,
    expected: ExpectedVersion,
    events: Vec<Envelope<Tick>>,
) -> Result<Appended<Tick>, AppendError> {
    store.append(request(stream, expected, events)).await
}

async fn load<S: EventStore>(store: &S, stream: &StreamId) -> Vec<Envelope<Tick>> {
    store.load::<Tick>(stream, 0).await.expect("load")
}

/// Appended events come back from `load` complete and in order, with versions from 1 and
/// increasing positions; `load` after a version returns only the later ones.
pub async fn append_then_load<S: EventStore>(store: &S) {
    let stream = stream();
    let sent = ticks(&stream, 3);
    let appended = append(store, &stream, ExpectedVersion::NoStream, sent.clone())
        .await
        .expect("first append to a new stream");
    assert_eq!(appended.version, 3);
    assert!(!appended.already_stored);
    let loaded = load(store, &stream).await;
    assert_eq!(loaded.len(), 3, "load returns every appended event");
    for (index, (got, sent)) in loaded.iter().zip(&sent).enumerate() {
        assert_eq!(got.version, index as u64 + 1, "versions count from 1");
        assert_eq!(got.event_id, sent.event_id);
        assert_eq!(got.payload, sent.payload);
        assert_eq!(got.correlation_id, sent.correlation_id);
        assert_eq!(got.causation_id, sent.causation_id);
        assert_eq!(got.trace, sent.trace, "trace context survives the store");
        assert_eq!(got.metadata, sent.metadata, "metadata survives the store");
        assert_eq!(got.event_type, "Tick");
        assert_eq!(
            got, &appended.events[index],
            "append returns what load returns"
        );
    }
    // A store may assign global positions after commit (to keep `read_all` gap-free without
    // serializing writers); where assigned, they follow the stream's order.
    let assigned: Vec<u64> = loaded
        .iter()
        .map(|e| e.position)
        .filter(|p| *p > 0)
        .collect();
    assert!(
        assigned.windows(2).all(|w| w[0] < w[1]),
        "positions follow versions"
    );
    let tail = store.load::<Tick>(&stream, 2).await.expect("load after 2");
    assert_eq!(tail.iter().map(|e| e.version).collect::<Vec<_>>(), [3]);
    assert!(
        load(store, &self::stream()).await.is_empty(),
        "an unknown stream is empty"
    );
}

/// `NoStream` fails on an existing stream, `Exact` on any other version, with the typed
/// conflict naming the actual version; nothing is written by a refused append.
pub async fn expected_version_is_enforced<S: EventStore>(store: &S) {
    let stream = stream();
    append(store, &stream, ExpectedVersion::Exact(0), ticks(&stream, 2))
        .await
        .expect("Exact(0) on a new stream");
    for expected in [
        ExpectedVersion::NoStream,
        ExpectedVersion::Exact(1),
        ExpectedVersion::Exact(3),
    ] {
        match append(store, &stream, expected, ticks(&stream, 1)).await {
            Err(AppendError::Conflict {
                expected: e,
                actual,
                stream: s,
            }) => {
                assert_eq!((e, actual, &s), (expected, 2, &stream));
            }
            other => panic!("{expected:?} on a stream at 2 must conflict, got {other:?}"),
        }
    }
    assert_eq!(
        load(store, &stream).await.len(),
        2,
        "refused appends write nothing"
    );
    append(store, &stream, ExpectedVersion::Exact(2), ticks(&stream, 1))
        .await
        .expect("Exact(2)");
    append(store, &stream, ExpectedVersion::Any, ticks(&stream, 1))
        .await
        .expect("Any");
    assert_eq!(load(store, &stream).await.len(), 4);
}

/// A conflict is reported as [`AppendError::Conflict`] whatever the versions involved
/// (a store that recognises conflicts by parsing database messages breaks at two digits).
pub async fn conflicts_are_typed_at_any_version<S: EventStore>(store: &S) {
    let stream = stream();
    for _ in 0..12 {
        append(store, &stream, ExpectedVersion::Any, ticks(&stream, 1))
            .await
            .expect("Any");
    }
    for expected in [9, 10, 11, 100, 1_000_000] {
        let result = append(
            store,
            &stream,
            ExpectedVersion::Exact(expected),
            ticks(&stream, 1),
        )
        .await;
        assert!(
            matches!(result, Err(AppendError::Conflict { actual: 12, .. })),
            "Exact({expected}) on a stream at 12: {result:?}"
        );
    }
}

/// Appending events whose ids are all stored succeeds without storing them again (even
/// with the now-stale expected version) and returns the first copies; a batch of which only
/// some ids are stored is refused.
pub async fn reappend_is_idempotent<S: EventStore>(store: &S) {
    let stream = stream();
    let batch = ticks(&stream, 2);
    let first = append(store, &stream, ExpectedVersion::NoStream, batch.clone())
        .await
        .expect("first append");
    for expected in [
        ExpectedVersion::NoStream,
        ExpectedVersion::Any,
        ExpectedVersion::Exact(0),
    ] {
        let again = append(store, &stream, expected, batch.clone())
            .await
            .unwrap_or_else(|e| panic!("re-append with {expected:?} must succeed: {e}"));
        assert!(
            again.already_stored,
            "a re-append reports it stored nothing new"
        );
        assert_eq!(
            again.events, first.events,
            "a re-append returns the first copies"
        );
        assert_eq!(again.version, 2);
    }
    assert_eq!(
        load(store, &stream).await.len(),
        2,
        "no duplicates after re-appends"
    );
    let mut partial = vec![batch[0].clone()];
    partial.extend(ticks(&stream, 1));
    let result = append(store, &stream, ExpectedVersion::Any, partial).await;
    assert!(
        matches!(result, Err(AppendError::InvalidBatch { .. })),
        "partial re-append: {result:?}"
    );
    assert_eq!(load(store, &stream).await.len(), 2);
}

/// Every event of an append belongs to the request's stream, and ids are unique in it.
pub async fn a_batch_is_one_stream<S: EventStore>(store: &S) {
    let stream = stream();
    let other = self::stream();
    let mut mixed = ticks(&stream, 1);
    mixed.extend(ticks(&other, 1));
    let result = append(store, &stream, ExpectedVersion::Any, mixed).await;
    assert!(
        matches!(result, Err(AppendError::InvalidBatch { .. })),
        "mixed streams: {result:?}"
    );
    let twice = vec![ticks(&stream, 1).remove(0); 2];
    let result = append(store, &stream, ExpectedVersion::Any, twice).await;
    assert!(
        matches!(result, Err(AppendError::InvalidBatch { .. })),
        "same id twice: {result:?}"
    );
    assert!(load(store, &stream).await.is_empty() && load(store, &other).await.is_empty());
    let empty = append(store, &stream, ExpectedVersion::Any, Vec::new()).await;
    assert!(
        matches!(empty, Ok(Appended { ref events, version: 0, .. }) if events.is_empty()),
        "{empty:?}"
    );
}

/// `read_all` returns events in strictly increasing position order, with every event of
/// every stream, the payload encoded and the metadata intact; a limit is honoured.
pub async fn read_all_is_ordered<S: EventStore>(store: &S) {
    let (a, b) = (stream(), stream());
    let marker = append(store, &a, ExpectedVersion::NoStream, ticks(&a, 1))
        .await
        .expect("marker");
    let start = marker.events[0].position;
    let mut sent = Vec::new();
    for round in 0..3 {
        for s in [&a, &b] {
            let batch = ticks(s, 2);
            sent.extend(batch.iter().map(|e| e.event_id));
            append(store, s, ExpectedVersion::Any, batch)
                .await
                .unwrap_or_else(|e| panic!("round {round}: {e}"));
        }
    }
    let ours: HashSet<EventId> = sent.iter().copied().collect();
    let mut seen = Vec::new();
    let mut after = start;
    loop {
        let page = store.read_all(after, 4).await.expect("read_all");
        assert!(page.len() <= 4, "read_all honours its limit");
        let Some(last) = page.last() else { break };
        assert!(
            page.iter().all(|e| e.position > after),
            "only positions after the checkpoint"
        );
        assert!(
            page.windows(2).all(|w| w[0].position < w[1].position),
            "increasing positions"
        );
        after = last.position;
        for raw in page.into_iter().filter(|e| ours.contains(&e.event_id)) {
            assert_eq!(raw.payload["writer"], 0, "payload is encoded");
            assert!(raw.trace.is_some() && raw.metadata.contains_key("writer"));
            seen.push(raw.event_id);
        }
    }
    assert_eq!(
        seen, sent,
        "read_all yields every event once, in append order"
    );
}

/// The latest snapshot of a stream is the one loaded; other streams have none.
pub async fn snapshots_keep_the_latest<S: EventStore>(store: &S) {
    let stream = stream();
    assert!(store.load_snapshot(&stream).await.expect("load").is_none());
    for version in [5, 10] {
        let snapshot = Snapshot {
            version,
            schema_version: 1,
            state: serde_json::json!({ "count": version }),
            taken_at: chrono::Utc::now(),
        };
        store.save_snapshot(&stream, snapshot).await.expect("save");
    }
    let latest = store
        .load_snapshot(&stream)
        .await
        .expect("load")
        .expect("a snapshot");
    assert_eq!(
        (latest.version, latest.state["count"].as_u64()),
        (10, Some(10))
    );
    assert!(
        store
            .load_snapshot(&self::stream())
            .await
            .expect("load")
            .is_none()
    );
}

/// An inbox mark commits with the events: once recorded, `is_processed` says so and an
/// append with the same mark is refused with nothing written.
pub async fn inbox_mark_commits_with_the_events<S: EventStore>(store: &S) {
    let stream = stream();
    let mark = InboxMark {
        consumer: unique("consumer"),
        event_id: uuid::Uuid::now_v7(),
    };
    assert!(
        !store
            .is_processed(&mark.consumer, mark.event_id)
            .await
            .expect("inbox")
    );
    let request = |events| AppendRequest {
        stream: stream.clone(),
        expected: ExpectedVersion::Any,
        events,
        inbox: Some(mark.clone()),
    };
    store
        .append(request(ticks(&stream, 1)))
        .await
        .expect("append with mark");
    assert!(
        store
            .is_processed(&mark.consumer, mark.event_id)
            .await
            .expect("inbox")
    );
    assert!(
        !store
            .is_processed("someone-else", mark.event_id)
            .await
            .expect("inbox")
    );
    let again = store.append(request(ticks(&stream, 1))).await;
    assert!(
        matches!(again, Err(AppendError::AlreadyProcessed(ref m)) if *m == mark),
        "{again:?}"
    );
    assert_eq!(
        load(store, &stream).await.len(),
        1,
        "a processed event has no second effect"
    );
}

/// Many writers append to a few hot streams at once, each with the version it read, while a
/// reader tails `read_all`: every stream ends with versions 1..n and no duplicates, successes
/// equal the final versions, every loser got the typed conflict, and the reader saw every
/// event exactly once even though commits raced its reads.
pub async fn concurrent_writers_on_hot_streams<S: EventStore + Clone>(store: &S, load: Load) {
    let streams: Arc<Vec<StreamId>> = Arc::new((0..load.streams).map(|_| stream()).collect());
    let marker = append(store, &streams[0], ExpectedVersion::Any, Vec::new())
        .await
        .expect("empty");
    assert!(marker.events.is_empty());
    let start = head(store).await;
    let writing = Arc::new(AtomicBool::new(true));
    let reader = tokio::spawn(tail(store.clone(), start, Arc::clone(&writing)));
    let conflicts = Arc::new(AtomicU64::new(0));
    let writers: Vec<_> = (0..load.writers)
        .map(|writer| {
            let (store, streams, conflicts) =
                (store.clone(), Arc::clone(&streams), Arc::clone(&conflicts));
            tokio::spawn(async move {
                write(
                    &store,
                    &streams,
                    writer,
                    load.attempts_per_writer,
                    &conflicts,
                )
                .await
            })
        })
        .collect();
    let mut successes: HashMap<StreamId, u64> = HashMap::new();
    let mut written: HashSet<EventId> = HashSet::new();
    for writer in writers {
        for (stream, event_id) in writer.await.expect("writer task") {
            *successes.entry(stream).or_default() += 1;
            written.insert(event_id);
        }
    }
    writing.store(false, Ordering::SeqCst);
    let seen = reader.await.expect("reader task");
    verify_streams(store, &streams, &successes, &written).await;
    let total = u64::from(load.writers) * u64::from(load.attempts_per_writer);
    assert_eq!(
        written.len() as u64 + conflicts.load(Ordering::SeqCst),
        total,
        "every attempt won or got a conflict"
    );
    let ours: Vec<EventId> = seen.into_iter().filter(|id| written.contains(id)).collect();
    let distinct: HashSet<EventId> = ours.iter().copied().collect();
    assert_eq!(
        distinct.len(),
        ours.len(),
        "the tailing reader saw an event twice"
    );
    assert_eq!(
        distinct, written,
        "the tailing reader skipped an event that committed late"
    );
}

async fn head<S: EventStore>(store: &S) -> Position {
    let mut after = 0;
    loop {
        let page = store.read_all(after, 10_000).await.expect("read_all");
        match page.last() {
            Some(last) => after = last.position,
            None => return after,
        }
    }
}

async fn tail<S: EventStore>(
    store: S,
    mut after: Position,
    writing: Arc<AtomicBool>,
) -> Vec<EventId> {
    let mut seen = Vec::new();
    loop {
        // Read the flag before the page: a page read after writing stopped is complete.
        let last_round = !writing.load(Ordering::SeqCst);
        let page = store
            .read_all(after, 500)
            .await
            .expect("read_all while writing");
        let full = page.len() == 500;
        for event in page {
            assert!(
                event.position > after,
                "positions go backwards: {} after {after}",
                event.position
            );
            after = event.position;
            seen.push(event.event_id);
        }
        if last_round && !full {
            return seen;
        }
        if !full {
            tokio::time::sleep(std::time::Duration::from_millis(2)).await;
        }
    }
}

async fn write<S: EventStore>(
    store: &S,
    streams: &[StreamId],
    writer: u32,
    attempts: u32,
    conflicts: &AtomicU64,
) -> Vec<(StreamId, EventId)> {
    let mut won = Vec::new();
    for attempt in 0..attempts {
        let stream = &streams[((writer + attempt) as usize) % streams.len()];
        let version = store.load::<Tick>(stream, 0).await.expect("load").len() as u64;
        let event = tick(
            &stream.aggregate_type,
            &stream.aggregate_id,
            writer,
            u64::from(attempt),
        );
        let event_id = event.event_id;
        match append(store, stream, ExpectedVersion::Exact(version), vec![event]).await {
            Ok(appended) => {
                assert_eq!(appended.version, version + 1);
                won.push((stream.clone(), event_id));
            }
            Err(AppendError::Conflict { actual, .. }) => {
                assert!(actual > version, "a conflict reports a newer version");
                conflicts.fetch_add(1, Ordering::SeqCst);
            }
            Err(other) => {
                panic!("writer {writer}: only typed conflicts may fail an append, got {other}")
            }
        }
    }
    won
}

async fn verify_streams<S: EventStore>(
    store: &S,
    streams: &[StreamId],
    successes: &HashMap<StreamId, u64>,
    written: &HashSet<EventId>,
) {
    let mut stored = HashSet::new();
    for stream in streams {
        let events = load(store, stream).await;
        let versions: Vec<u64> = events.iter().map(|e| e.version).collect();
        let expected: Vec<u64> = (1..=events.len() as u64).collect();
        assert_eq!(
            versions, expected,
            "{stream}: versions must be 1..n without gaps"
        );
        assert_eq!(
            events.len() as u64,
            successes.get(stream).copied().unwrap_or(0),
            "{stream}: successful appends must equal the final version"
        );
        for event in events {
            assert!(
                stored.insert(event.event_id),
                "{stream}: event {} stored twice",
                event.event_id
            );
        }
    }
    assert_eq!(
        &stored, written,
        "the stored events are exactly the acknowledged ones"
    );
}
