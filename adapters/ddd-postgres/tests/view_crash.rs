//! A view's catch-up killed with SIGKILL at random points, again and again, while events keep
//! being appended: each restart continues from the checkpoint that committed with the rows,
//! so after the last one the rows equal a fold of the whole store from scratch (no event
//! folded twice, none skipped).
//!
//! The runner is a child process (this test binary, re-run with an environment variable), so
//! a kill can land anywhere: between statements of a step's transaction, during its commit,
//! between steps.

#[path = "support/views.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ddd_core::StreamId;
use ddd_core::testing::conformance::views::TickCount;
use ddd_core::view::{View, ViewHandle, ViewRunner, ViewStore};
use ddd_postgres::PostgresStore;
use ddd_postgres::testing::TestDatabase;
use ddd_store_testkit::{child, rng};

use support::{append_tick, catch_up, fold_from_scratch, rows};

const CHILD_URL: &str = "DDD_VIEW_CHILD_URL";
const CHILD_BATCH: &str = "DDD_VIEW_CHILD_BATCH";
const KILLS: u32 = 40;
const STREAMS: usize = 16;
/// The backlog each child starts on: more than a child folds in its longest life (about
/// 2,000 events a second here), so that its kill lands mid-catch-up whatever the machine's
/// load. Writers running beside the children could not keep one that long: the children
/// outrun them.
const LEAST_BACKLOG: u64 = 1_000;

/// The runner process: connects, prepares the view, says so, keeps `TickCount` caught up until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of a_catch_up_killed_with_sigkill_folds_each_event_once"]
async fn view_child_process() {
    let Ok(url) = std::env::var(CHILD_URL) else {
        return;
    };
    let batch = std::env::var(CHILD_BATCH)
        .ok()
        .and_then(|batch| batch.parse().ok())
        .unwrap_or(16);
    let store = PostgresStore::connect(&url).await.expect("child connects");
    store
        .prepare_view(&TickCount::SCHEMA)
        .await
        .expect("prepare");
    child::up();
    let handle = ViewHandle::of::<TickCount>();
    let runner = ViewRunner::<TickCount, _>::new(store, &handle).batch_size(batch);
    let _ = runner
        .run(Duration::from_millis(1), std::future::pending())
        .await;
}

fn streams() -> Vec<StreamId> {
    (0..STREAMS)
        .map(|at| StreamId::new("crash", format!("s{at}")))
        .collect()
}

/// Appends ticks round-robin over the streams, `writers` at once, `count` in all.
async fn backlog(store: &PostgresStore, writers: u32, count: u64) {
    let mut appending = tokio::task::JoinSet::new();
    for writer in 0..writers {
        let store = store.clone();
        appending.spawn(async move {
            let streams = streams();
            for n in (u64::from(writer)..count).step_by(writers as usize) {
                let at = usize::try_from(n).expect("small") % STREAMS;
                append_tick(&store, &streams[at], writer, n).await;
            }
        });
    }
    appending.join_all().await;
}

/// Appends what the view lacks of a backlog of `least` events.
async fn top_up(store: &PostgresStore, least: u64) {
    let lag = store
        .view_progress(&TickCount::SCHEMA)
        .await
        .expect("progress")
        .lag_events();
    if lag < least {
        backlog(store, 8, least - lag).await;
    }
    // Positions for the backlog now: a child's first sequencer run would otherwise be one
    // long transaction that every kill rolls back.
    store.sequence().await.expect("sequence");
}

/// Appends ticks as fast as it can until `stop`: while a child starts, a backlog grows that
/// it is still folding when it is killed.
async fn keep_appending(store: PostgresStore, writer: u32, stop: Arc<AtomicBool>) -> u64 {
    let streams = streams();
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        append_tick(&store, &streams[n % STREAMS], writer, 1).await;
        n += 1;
    }
    u64::try_from(n).expect("small")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_catch_up_killed_with_sigkill_folds_each_event_once() {
    let database = TestDatabase::new();
    let store = database.connect_with("max_connections=16").await;
    store
        .prepare_view(&TickCount::SCHEMA)
        .await
        .expect("prepare");
    let seed = rng::seed();
    eprintln!("seed {seed} (DDD_TEST_SEED to replay)");
    let mut rng = rng::Rng::new(seed);
    let stop = Arc::new(AtomicBool::new(false));
    let mut writers = tokio::task::JoinSet::new();
    for writer in 100..102 {
        writers.spawn(keep_appending(store.clone(), writer, Arc::clone(&stop)));
    }

    let mut behind_at_kill = 0;
    for _ in 0..KILLS {
        top_up(&store, LEAST_BACKLOG).await;
        let batch = rng.below(100) + 1;
        let lifetime = Duration::from_millis(rng.below(400));
        let env = [
            (CHILD_URL, database.url()),
            (CHILD_BATCH, batch.to_string()),
        ];
        child::run_and_kill("view_child_process", &env, lifetime).await;
        let progress = store
            .view_progress(&TickCount::SCHEMA)
            .await
            .expect("progress");
        if progress.lag_events() >= 100 {
            behind_at_kill += 1;
        }
    }
    stop.store(true, Ordering::SeqCst);
    let appended: u64 = writers.join_all().await.into_iter().sum();
    let folded_by_children = store
        .view_progress(&TickCount::SCHEMA)
        .await
        .expect("progress")
        .checkpoint;
    catch_up(&store).await;

    let stored = ddd_store_testkit::everything(&store).await;
    eprintln!(
        "{} events ({appended} during the kills), {folded_by_children} folded by the killed \
         runners, {behind_at_kill} of {KILLS} kills mid-catch-up",
        stored.len()
    );
    assert!(folded_by_children > 1000, "the children folded a good part");
    assert!(
        behind_at_kill > KILLS / 2,
        "most kills landed during a catch-up of 100 events or more"
    );
    assert_eq!(
        rows(&store).await,
        fold_from_scratch(&stored),
        "rows = fold"
    );
    let total: u64 = rows(&store).await.values().map(|row| row.count).sum();
    assert_eq!(total, u64::try_from(stored.len()).expect("small"));
}
