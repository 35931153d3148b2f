//! Group commit: appends that queue while the store's append statements are busy commit
//! together, in one transaction, and each still gets the answer it would get alone.

use std::time::{Duration, Instant};

use ddd_core::testing::conformance::{Tick, request, tick, ticks};
use ddd_core::{
    AppendError, AppendRequest, Appended, Envelope, EventStore, ExpectedVersion, InboxMark,
    StreamId,
};
use ddd_postgres::PostgresStore;
use ddd_postgres::testing::TestDatabase;

const TYPE: &str = "Grouped";

fn stream(id: &str) -> StreamId {
    StreamId::new(TYPE, id)
}

fn spawn_append(
    store: &PostgresStore,
    request: AppendRequest<Tick>,
) -> tokio::task::JoinHandle<Result<Appended<Tick>, AppendError>> {
    let store = store.clone();
    tokio::spawn(async move { store.append(request).await })
}

/// Waits until a backend waits for a lock `blocker` holds.
async fn until_blocked_by(store: &PostgresStore, blocker: i32) {
    let started = Instant::now();
    loop {
        let waiting: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))",
        )
        .bind(blocker)
        .fetch_one(store.pool())
        .await
        .expect("pg_stat_activity");
        if waiting > 0 {
            return;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the append never waited for the blocker"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

type Outcome = tokio::task::JoinHandle<Result<Appended<Tick>, AppendError>>;

/// Takes a lane of the store (with `append_concurrency=1` its only one; with an
/// `append_stall_after` longer than the test, for good) with a pooled append that waits for
/// another transaction's uncommitted insert of the same stream version. Commit the
/// transaction to free the lane; the waiting append then conflicts.
async fn hold_the_slot(
    store: &PostgresStore,
) -> (sqlx::Transaction<'static, sqlx::Postgres>, Outcome) {
    let held = stream("held");
    let mut blocker = store.pool().begin().await.expect("begin");
    let blocker_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(&mut *blocker)
        .await
        .expect("pid");
    store
        .append_in(
            &mut blocker,
            request(&held, ExpectedVersion::NoStream, ticks(&held, 1)),
        )
        .await
        .expect("uncommitted append");
    let waiting = spawn_append(
        store,
        request(&held, ExpectedVersion::NoStream, ticks(&held, 1)),
    );
    until_blocked_by(store, blocker_pid).await;
    (blocker, waiting)
}

async fn free_the_slot(blocker: sqlx::Transaction<'static, sqlx::Postgres>, waiting: Outcome) {
    // The queued appends are in the queue once their tasks ran to their first await.
    tokio::time::sleep(Duration::from_millis(200)).await;
    blocker.commit().await.expect("commit the blocker");
    match waiting.await.expect("task") {
        Err(AppendError::Conflict { actual: 1, .. }) => {}
        other => panic!("the held append lost to the blocker: {other:?}"),
    }
}

/// The transactions that wrote the events of the streams whose id starts with `prefix`.
async fn transactions_of(store: &PostgresStore, prefix: &str) -> i64 {
    sqlx::query_scalar(
        "SELECT count(DISTINCT xmin::text) FROM ddd_events \
         WHERE aggregate_type = $1 AND starts_with(aggregate_id, $2)",
    )
    .bind(TYPE)
    .bind(prefix)
    .fetch_one(store.pool())
    .await
    .expect("count transactions")
}

/// Waits for an append that must not wait for the held lane: a test that fails ends here
/// instead of hanging on the blocker.
async fn without_the_held_lane(task: Outcome) -> Appended<Tick> {
    tokio::time::timeout(Duration::from_secs(30), task)
        .await
        .expect("the append waited for the held lane")
        .expect("task")
        .expect("appended")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_statement_gives_its_lane_up() {
    let database = TestDatabase::new();
    let store = database
        .connect_with("append_concurrency=1&max_connections=4&append_stall_after=100ms")
        .await;
    let (blocker, waiting) = hold_the_slot(&store).await;
    let other = stream("other");
    let appended = without_the_held_lane(spawn_append(
        &store,
        request(&other, ExpectedVersion::NoStream, ticks(&other, 1)),
    ))
    .await;
    assert_eq!(appended.version, 1);
    free_the_slot(blocker, waiting).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_queue_worth_a_statement_opens_a_second_lane() {
    let database = TestDatabase::new();
    let store = database
        .connect_with("append_concurrency=2&max_connections=6&append_stall_after=60s")
        .await;
    let (blocker, waiting) = hold_the_slot(&store).await;
    // Eight queued appends are a group worth a lane of its own (`LANE_AT`).
    let laned: Vec<StreamId> = (0..8).map(|n| stream(&format!("laned-{n}"))).collect();
    let appends: Vec<Outcome> = laned
        .iter()
        .map(|laned| {
            spawn_append(
                &store,
                request(laned, ExpectedVersion::NoStream, ticks(laned, 1)),
            )
        })
        .collect();
    for task in appends {
        assert_eq!(without_the_held_lane(task).await.version, 1);
    }
    assert_eq!(
        transactions_of(&store, "laned-").await,
        1,
        "the eight were committed as one group"
    );
    free_the_slot(blocker, waiting).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn queued_appends_commit_together_each_with_its_own_answer() {
    let database = TestDatabase::new();
    let store = database
        .connect_with("append_concurrency=1&max_connections=4&append_stall_after=60s")
        .await;

    // What the group's refusals need: a stream that moved on, a stored batch, a used mark.
    let moved = stream("moved");
    store
        .append(request(&moved, ExpectedVersion::NoStream, ticks(&moved, 2)))
        .await
        .expect("moved");
    let retried = stream("retried");
    let stored_batch = ticks(&retried, 2);
    let first = store
        .append(request(
            &retried,
            ExpectedVersion::NoStream,
            stored_batch.clone(),
        ))
        .await
        .expect("stored batch");
    let mark = InboxMark {
        consumer: "policy".into(),
        event_id: uuid::Uuid::now_v7(),
    };
    let marked = stream("marked");
    store
        .append(AppendRequest {
            inbox: Some(mark.clone()),
            ..request(&marked, ExpectedVersion::NoStream, ticks(&marked, 1))
        })
        .await
        .expect("marked");

    let (blocker, waiting) = hold_the_slot(&store).await;
    // These queue behind it.
    let fresh: Vec<StreamId> = (0..6).map(|n| stream(&format!("fresh-{n}"))).collect();
    let fresh_appends: Vec<_> = fresh
        .iter()
        .enumerate()
        .map(|(n, fresh)| {
            spawn_append(
                &store,
                request(fresh, ExpectedVersion::Any, ticks(fresh, n as u64 + 1)),
            )
        })
        .collect();
    let stale = spawn_append(
        &store,
        request(&moved, ExpectedVersion::Exact(1), ticks(&moved, 1)),
    );
    let retry = spawn_append(
        &store,
        request(&retried, ExpectedVersion::NoStream, stored_batch.clone()),
    );
    let handled_again = spawn_append(
        &store,
        AppendRequest {
            inbox: Some(mark.clone()),
            ..request(&marked, ExpectedVersion::Exact(1), ticks(&marked, 1))
        },
    );
    let twin = stream("twin");
    let twins = [
        spawn_append(
            &store,
            request(&twin, ExpectedVersion::NoStream, ticks(&twin, 1)),
        ),
        spawn_append(
            &store,
            request(&twin, ExpectedVersion::NoStream, ticks(&twin, 1)),
        ),
    ];
    free_the_slot(blocker, waiting).await;

    for (n, (fresh, task)) in fresh.iter().zip(fresh_appends).enumerate() {
        let appended = task.await.expect("task").expect("a fresh stream appends");
        assert_eq!(appended.version, n as u64 + 1);
        assert!(!appended.already_stored);
        let loaded: Vec<Envelope<Tick>> = store.load(fresh, 0).await.expect("load");
        assert_eq!(
            loaded.iter().map(|e| e.version).collect::<Vec<_>>(),
            (1..=n as u64 + 1).collect::<Vec<_>>()
        );
        assert_eq!(
            loaded.iter().map(|e| e.event_id).collect::<Vec<_>>(),
            appended
                .events
                .iter()
                .map(|e| e.event_id)
                .collect::<Vec<_>>()
        );
    }
    match stale.await.expect("task") {
        Err(AppendError::Conflict {
            expected: ExpectedVersion::Exact(1),
            actual: 2,
            ..
        }) => {}
        other => panic!("an append to a stream that moved conflicts: {other:?}"),
    }
    let retry = retry.await.expect("task").expect("a retry succeeds");
    assert!(retry.already_stored);
    assert_eq!(
        retry.events.iter().map(|e| e.event_id).collect::<Vec<_>>(),
        first.events.iter().map(|e| e.event_id).collect::<Vec<_>>()
    );
    match handled_again.await.expect("task") {
        Err(AppendError::AlreadyProcessed(again)) => assert_eq!(again, mark),
        other => panic!("a used inbox mark is refused: {other:?}"),
    }
    let mut twin_outcomes = Vec::new();
    for task in twins {
        twin_outcomes.push(task.await.expect("task"));
    }
    assert_eq!(twin_outcomes.iter().filter(|o| o.is_ok()).count(), 1);
    assert!(
        twin_outcomes
            .iter()
            .any(|o| matches!(o, Err(AppendError::Conflict { actual: 1, .. }))),
        "the second append to one stream conflicts: {twin_outcomes:?}"
    );

    // The fresh streams' events went in together: one transaction wrote them all.
    assert_eq!(
        transactions_of(&store, "fresh-").await,
        1,
        "the queued appends were committed as a group"
    );
    // Nothing else was written: the refused appends left no rows.
    let total: i64 = sqlx::query_scalar("SELECT count(*) FROM ddd_events")
        .fetch_one(store.pool())
        .await
        .expect("count");
    assert_eq!(total, 2 + 2 + 1 + 1 + (1..=6).sum::<i64>() + 1);
    let outbox: i64 = sqlx::query_scalar("SELECT count(*) FROM ddd_outbox")
        .fetch_one(store.pool())
        .await
        .expect("count outbox");
    assert_eq!(outbox, total, "every stored event has its outbox row");
}

/// A member that makes the group's statement fail (a later event id already stored) sends
/// every member back to be appended alone: the others still succeed, it is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_whose_statement_fails_is_appended_member_by_member() {
    let database = TestDatabase::new();
    let store = database
        .connect_with("append_concurrency=1&max_connections=4&append_stall_after=60s")
        .await;
    let retried = stream("retried");
    let stored_batch = ticks(&retried, 2);
    store
        .append(request(
            &retried,
            ExpectedVersion::NoStream,
            stored_batch.clone(),
        ))
        .await
        .expect("stored batch");

    let (blocker, waiting) = hold_the_slot(&store).await;
    let fresh: Vec<StreamId> = (0..4).map(|n| stream(&format!("fresh-{n}"))).collect();
    let fresh_appends: Vec<_> = fresh
        .iter()
        .map(|fresh| {
            spawn_append(
                &store,
                request(fresh, ExpectedVersion::NoStream, ticks(fresh, 2)),
            )
        })
        .collect();
    let partly_stored = spawn_append(
        &store,
        request(
            &retried,
            ExpectedVersion::Exact(2),
            vec![
                tick(TYPE, "retried", 0, 9),
                stored_batch.last().expect("two events").clone(),
            ],
        ),
    );
    free_the_slot(blocker, waiting).await;

    for task in fresh_appends {
        assert_eq!(task.await.expect("task").expect("appends").version, 2);
    }
    assert!(
        matches!(
            partly_stored.await.expect("task"),
            Err(AppendError::InvalidBatch { .. })
        ),
        "a batch of which only a later event is stored is refused"
    );
    let stored: i64 = sqlx::query_scalar("SELECT count(*) FROM ddd_events")
        .fetch_one(store.pool())
        .await
        .expect("count");
    assert_eq!(
        stored,
        2 + 1 + 4 * 2,
        "each fresh stream once, nothing partial"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_grouping_every_append_runs_alone() {
    let database = TestDatabase::new();
    let store = database
        .connect_with("append_concurrency=0&max_connections=4")
        .await;
    let tasks: Vec<_> = (0..8)
        .map(|n| {
            let one = stream(&format!("alone-{n}"));
            spawn_append(
                &store,
                request(&one, ExpectedVersion::NoStream, ticks(&one, 1)),
            )
        })
        .collect();
    for task in tasks {
        assert_eq!(task.await.expect("task").expect("appends").version, 1);
    }
}
