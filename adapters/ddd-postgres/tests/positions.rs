//! Who gives events their global positions: an append committing on its own positions its
//! events in its statement when the sequencer is free; inside a caller's transaction, behind
//! an unpositioned event, or while the sequencer is busy it leaves them to the sequencer,
//! without waiting and without putting a stream's events out of order.

use std::time::Duration;

use ddd_core::testing::conformance::{request, ticks, unique};
use ddd_core::{EventStore, ExpectedVersion, StreamId};
use ddd_postgres::testing::TestDatabase;
use ddd_postgres::{PostgresStore, sqlx};

/// Each event of `stream` as (version, position), NULL positions as `None`.
async fn positions(store: &PostgresStore, stream: &StreamId) -> Vec<(i64, Option<i64>)> {
    sqlx::query_as(
        "SELECT version, position FROM ddd_events
         WHERE aggregate_type = $1 AND aggregate_id = $2 ORDER BY version",
    )
    .bind(stream.aggregate_type.as_ref())
    .bind(&stream.aggregate_id)
    .fetch_all(store.pool())
    .await
    .expect("the stream's positions")
}

/// The positions of the outbox rows of `stream`'s events, in version order.
async fn outbox_positions(store: &PostgresStore, stream: &StreamId) -> Vec<Option<i64>> {
    sqlx::query_scalar(
        "SELECT o.position FROM ddd_outbox AS o JOIN ddd_events AS e ON e.id = o.event_row
         WHERE e.aggregate_type = $1 AND e.aggregate_id = $2 ORDER BY e.version",
    )
    .bind(stream.aggregate_type.as_ref())
    .bind(&stream.aggregate_id)
    .fetch_all(store.pool())
    .await
    .expect("the outbox rows")
}

async fn last_position(store: &PostgresStore) -> i64 {
    sqlx::query_scalar("SELECT last_position FROM ddd_sequencer")
        .fetch_one(store.pool())
        .await
        .expect("the sequencer")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_on_its_own_positions_its_events_and_their_outbox_rows() {
    let database = TestDatabase::new();
    let store = database.connect().await;
    let first = StreamId::new("Positioned", unique("p"));
    let second = StreamId::new("Positioned", unique("p"));
    let appended = store
        .append(request(&first, ExpectedVersion::NoStream, ticks(&first, 3)))
        .await
        .expect("an append");
    store
        .append(request(
            &second,
            ExpectedVersion::NoStream,
            ticks(&second, 2),
        ))
        .await
        .expect("a second append");

    assert_eq!(
        positions(&store, &first).await,
        vec![(1, Some(1)), (2, Some(2)), (3, Some(3))],
        "positioned at commit, with no sequencer step run"
    );
    assert_eq!(
        positions(&store, &second).await,
        vec![(1, Some(4)), (2, Some(5))]
    );
    assert_eq!(
        outbox_positions(&store, &first).await,
        vec![Some(1), Some(2), Some(3)]
    );
    assert_eq!(last_position(&store).await, 5, "the sequencer counts them");
    let answered: Vec<u64> = appended.events.iter().map(|e| e.position).collect();
    assert_eq!(
        answered,
        vec![1, 2, 3],
        "append answers the positions it gave"
    );
    assert_eq!(store.sequence().await.expect("a sequencer step"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_in_a_callers_transaction_leaves_positions_to_the_sequencer() {
    let database = TestDatabase::new();
    let store = database.connect().await;
    let stream = StreamId::new("Positioned", unique("p"));
    let mut transaction = store.pool().begin().await.expect("a transaction");
    let appended = store
        .append_in(
            &mut transaction,
            request(&stream, ExpectedVersion::NoStream, ticks(&stream, 2)),
        )
        .await
        .expect("an append in the caller's transaction");
    // A caller's transaction may stay open for long: the sequencer's row must stay free.
    let free: Option<bool> =
        sqlx::query_scalar("SELECT singleton FROM ddd_sequencer FOR UPDATE NOWAIT")
            .fetch_optional(store.pool())
            .await
            .expect("the sequencer's row is not held by the open transaction");
    assert_eq!(free, Some(true));
    transaction.commit().await.expect("commit");

    assert!(appended.events.iter().all(|event| event.position == 0));
    assert_eq!(positions(&store, &stream).await, vec![(1, None), (2, None)]);
    assert_eq!(store.sequence().await.expect("a sequencer step"), 2);
    assert_eq!(
        positions(&store, &stream).await,
        vec![(1, Some(1)), (2, Some(2))]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_behind_an_unpositioned_event_keeps_the_insert_order() {
    let database = TestDatabase::new();
    let store = database.connect().await;
    let stream = StreamId::new("Positioned", unique("p"));
    let other = StreamId::new("Positioned", unique("p"));
    let mut transaction = store.pool().begin().await.expect("a transaction");
    store
        .append_in(
            &mut transaction,
            request(&stream, ExpectedVersion::NoStream, ticks(&stream, 1)),
        )
        .await
        .expect("version 1, unpositioned");
    transaction.commit().await.expect("commit");

    // Version 2 of the same stream, and another stream: positioned at commit, either would
    // come before version 1 in the global order.
    let next = ticks(&stream, 2).split_off(1);
    store
        .append(request(&stream, ExpectedVersion::Exact(1), next))
        .await
        .expect("version 2");
    store
        .append(request(&other, ExpectedVersion::NoStream, ticks(&other, 1)))
        .await
        .expect("another stream");
    assert_eq!(positions(&store, &stream).await, vec![(1, None), (2, None)]);
    assert_eq!(positions(&store, &other).await, vec![(1, None)]);

    assert_eq!(store.sequence().await.expect("a sequencer step"), 3);
    assert_eq!(
        positions(&store, &stream).await,
        vec![(1, Some(1)), (2, Some(2))]
    );
    assert_eq!(positions(&store, &other).await, vec![(1, Some(3))]);

    // With nothing left unpositioned, appends position their own again.
    let later = StreamId::new("Positioned", unique("p"));
    store
        .append(request(&later, ExpectedVersion::NoStream, ticks(&later, 1)))
        .await
        .expect("a later append");
    assert_eq!(positions(&store, &later).await, vec![(1, Some(4))]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_append_does_not_wait_for_a_busy_sequencer() {
    let database = TestDatabase::new();
    let store = database.connect().await;
    let stream = StreamId::new("Positioned", unique("p"));
    // A sequencer step in flight, as long as the test wants.
    let mut busy = store.pool().begin().await.expect("a transaction");
    sqlx::query("SELECT last_position FROM ddd_sequencer FOR UPDATE")
        .execute(&mut *busy)
        .await
        .expect("the sequencer's row");

    let append = store.append(request(
        &stream,
        ExpectedVersion::NoStream,
        ticks(&stream, 1),
    ));
    tokio::time::timeout(Duration::from_secs(10), append)
        .await
        .expect("the append did not wait for the sequencer's row")
        .expect("an append");
    assert_eq!(positions(&store, &stream).await, vec![(1, None)]);

    busy.rollback().await.expect("the step ends");
    assert_eq!(store.sequence().await.expect("a sequencer step"), 1);
    assert_eq!(positions(&store, &stream).await, vec![(1, Some(1))]);
}
