//! Views caught up by a process killed with SIGKILL at random points, again and again, while
//! events keep arriving between the kills: after every kill each view's rows equal a fold from
//! scratch of the events up to its checkpoint, and after the last catch-up, of every event.
//!
//! The catch-up runs in a child process (this test binary, re-run with an environment
//! variable) on the parent's file: a counting view (`TickCount`, the state is the row) and a
//! view keeping state beside its row (`TickHistory`), concurrently, so their steps share the
//! writer's transactions.

#[path = "support/views.rs"]
mod support;

use std::collections::BTreeMap;
use std::time::Duration;

use ddd_core::testing::conformance::Tick;
use ddd_core::testing::conformance::views::{self, TickCount, TickHistory};
use ddd_core::view::{View, ViewSchema, ViewStore};
use ddd_core::{EventStore as _, Position, RawEnvelope, StreamId};
use ddd_sqlite::SqliteStore;
use ddd_sqlite::testing::TestFile;
use ddd_store_testkit::{child, rng};

const CHILD_URL: &str = "DDD_VIEW_CHILD_URL";
const CHILD_BATCH: &str = "DDD_VIEW_CHILD_BATCH";
const KILLS: u32 = 40;
const STREAMS: u64 = 16;

async fn catch_up<V: View>(store: SqliteStore, batch: usize) {
    views::catch_up::<V, _>(&store, batch).await;
}

/// The catch-up process: opens the store, says so, catches both views up, waits to be killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of views_caught_up_by_a_process_killed_at_random_points"]
async fn view_child_process() {
    let Ok(url) = std::env::var(CHILD_URL) else {
        return;
    };
    let batch = std::env::var(CHILD_BATCH)
        .ok()
        .and_then(|batch| batch.parse().ok())
        .unwrap_or(8);
    let store = SqliteStore::connect(&url).await.expect("child opens");
    child::up();
    let counts = tokio::spawn(catch_up::<TickCount>(store.clone(), batch));
    let histories = tokio::spawn(catch_up::<TickHistory>(store, batch + 3));
    counts.await.expect("counts");
    histories.await.expect("histories");
    std::future::pending::<()>().await;
}

async fn checkpoint(store: &SqliteStore, schema: &'static ViewSchema) -> u64 {
    store
        .view_progress(schema)
        .await
        .expect("progress")
        .checkpoint
}

/// The ticks of each stream (`type/id`) up to `upto`, in order.
async fn ticks_upto(store: &SqliteStore, upto: Position) -> BTreeMap<String, Vec<Tick>> {
    let mut streams: BTreeMap<String, Vec<Tick>> = BTreeMap::new();
    let mut after = 0;
    while after < upto {
        let page: Vec<RawEnvelope> = store.read_all(after, 1000).await.expect("read_all");
        let Some(last) = page.last() else { break };
        after = last.position;
        for raw in page.into_iter().filter(|raw| raw.position <= upto) {
            let stream = format!("{}/{}", raw.aggregate_type, raw.aggregate_id);
            let event = raw.decode::<Tick>().expect("decode").expect("a tick");
            streams.entry(stream).or_default().push(event.payload);
        }
    }
    streams
}

/// The rows `TickCount` must hold after folding `ticks`.
fn counts(ticks: &BTreeMap<String, Vec<Tick>>) -> BTreeMap<String, serde_json::Value> {
    ticks
        .iter()
        .map(|(stream, ticks)| {
            let row = serde_json::json!({
                "stream": stream,
                "count": ticks.len(),
                "total": ticks.iter().map(|tick| tick.n).sum::<u64>(),
                "writer": ticks.last().map_or(0, |tick| tick.writer),
            });
            (stream.clone(), row)
        })
        .collect()
}

/// The rows `TickHistory` must hold after folding `ticks`.
fn histories(ticks: &BTreeMap<String, Vec<Tick>>) -> BTreeMap<String, serde_json::Value> {
    ticks
        .iter()
        .map(|(stream, ticks)| {
            let ns: Vec<u64> = ticks.iter().map(|tick| tick.n).collect();
            let row = serde_json::json!({
                "stream": stream, "len": ns.len(), "ns": ns, "version": ns.len(),
            });
            (stream.clone(), row)
        })
        .collect()
}

/// Each view's rows equal a fold from scratch of the events up to its checkpoint; whether
/// either was caught up.
async fn rows_match_a_fold(store: &SqliteStore) -> bool {
    let head = store
        .view_progress(&TickCount::SCHEMA)
        .await
        .expect("progress")
        .head;
    let at = checkpoint(store, &TickCount::SCHEMA).await;
    let expected = counts(&ticks_upto(store, at).await);
    assert_eq!(
        views::rows::<serde_json::Value, _>(store, &TickCount::SCHEMA).await,
        expected,
        "counts at {at}"
    );
    let at_history = checkpoint(store, &TickHistory::SCHEMA).await;
    let expected = histories(&ticks_upto(store, at_history).await);
    assert_eq!(
        views::rows::<serde_json::Value, _>(store, &TickHistory::SCHEMA).await,
        expected,
        "histories at {at_history}"
    );
    at == head || at_history == head
}

fn ticks(rng: &mut rng::Rng, count: u64) -> Vec<(StreamId, u32, u64)> {
    (0..count)
        .map(|_| {
            let stream = StreamId::new("Tick", format!("s{}", rng.below(STREAMS)));
            let writer = u32::try_from(rng.below(8)).expect("writer");
            (stream, writer, rng.below(1000))
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn views_caught_up_by_a_process_killed_at_random_points() {
    let file = TestFile::new();
    let store = file.connect().await;
    let seed = rng::seed();
    eprintln!("seed {seed} (DDD_TEST_SEED to replay)");
    let mut rng = rng::Rng::new(seed);
    support::append(&store, ticks(&mut rng, 2000)).await;
    let mut caught_up = 0;
    for _ in 0..KILLS {
        support::append(&store, ticks(&mut rng, 300)).await;
        let lifetime = Duration::from_millis(rng.below(60));
        let env = [
            (CHILD_URL, file.url()),
            (CHILD_BATCH, (rng.below(40) + 1).to_string()),
        ];
        child::run_and_kill("view_child_process", &env, lifetime).await;
        if rows_match_a_fold(&store).await {
            caught_up += 1;
        }
    }
    let checkpoint_before = checkpoint(&store, &TickCount::SCHEMA).await;
    catch_up::<TickCount>(store.clone(), 500).await;
    catch_up::<TickHistory>(store.clone(), 500).await;
    assert!(rows_match_a_fold(&store).await, "caught up at the end");
    let events = 2000 + u64::from(KILLS) * 300;
    let rows = views::rows::<serde_json::Value, _>(&store, &TickCount::SCHEMA).await;
    let counted: u64 = rows
        .values()
        .map(|row| row["count"].as_u64().expect("count"))
        .sum();
    assert_eq!(counted, events, "every event counted once");
    eprintln!(
        "{KILLS} kills, {caught_up} of them after a view had caught up; the child processes \
         folded {checkpoint_before} of {events} events"
    );
    assert!(
        caught_up < KILLS / 2,
        "most kills land in the middle of a catch-up"
    );
    assert!(checkpoint_before > 0, "the children folded events");
}
