//! The inbox: a redelivered event has no second effect, whether the handler's effect is an
//! append (the mark goes with it) or writes of its own (the mark goes in its transaction).

use std::sync::Arc;

use ddd_core::testing::conformance::{Tick, tick};
use ddd_core::{
    AppendError, AppendRequest, EventId, EventStore, ExpectedVersion, Inbox, InboxMark, StreamId,
};
use ddd_postgres::PostgresStore;
use ddd_postgres::testing::TestDatabase;

/// A handler with an effect of its own: counts the event in a table, in the transaction that
/// marks it processed. Returns whether it had an effect.
async fn handle(store: &PostgresStore, event_id: EventId) -> bool {
    let mut transaction = store.pool().begin().await.expect("begin");
    if !store
        .mark_processed_in(&mut transaction, "counter", event_id)
        .await
        .expect("inbox")
    {
        return false;
    }
    sqlx::query("UPDATE effects SET count = count + 1")
        .execute(&mut *transaction)
        .await
        .expect("effect");
    transaction.commit().await.expect("commit");
    true
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_redelivered_event_has_no_second_effect() {
    let database = TestDatabase::new();
    let store = database.connect().await;
    sqlx::raw_sql("CREATE TABLE effects (count BIGINT NOT NULL); INSERT INTO effects VALUES (0)")
        .execute(store.pool())
        .await
        .expect("table");
    let event_id = uuid::Uuid::now_v7();
    // Eight deliveries of one event at once, then one more later.
    let handlers: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { handle(&store, event_id).await })
        })
        .collect();
    let mut effects = 0;
    for handler in handlers {
        effects += u32::from(handler.await.expect("handler"));
    }
    assert_eq!(
        effects, 1,
        "one of the concurrent deliveries had the effect"
    );
    assert!(
        !handle(&store, event_id).await,
        "a later redelivery has none"
    );
    let count: i64 = sqlx::query_scalar("SELECT count FROM effects")
        .fetch_one(store.pool())
        .await
        .expect("count");
    assert_eq!(count, 1);
    assert!(
        Inbox::is_processed(&store, "counter", event_id)
            .await
            .expect("inbox")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_with_one_inbox_mark_commit_once() {
    let database = TestDatabase::new();
    let store = Arc::new(database.connect().await);
    let mark = InboxMark {
        consumer: "payments".into(),
        event_id: uuid::Uuid::now_v7(),
    };
    // The same event handled by eight workers at once, each appending to its own stream (as
    // when the policy picks a stream from a clock or a counter): one append commits.
    let workers: Vec<_> = (0..8)
        .map(|worker| {
            let (store, mark) = (Arc::clone(&store), mark.clone());
            tokio::spawn(async move {
                let stream = StreamId::new("Payment", format!("p-{worker}"));
                store
                    .append(AppendRequest {
                        events: vec![tick("Payment", &stream.aggregate_id, worker, 1)],
                        stream,
                        expected: ExpectedVersion::NoStream,
                        inbox: Some(mark),
                    })
                    .await
            })
        })
        .collect();
    let (mut committed, mut refused) = (0, 0);
    for worker in workers {
        match worker.await.expect("worker") {
            Ok(_) => committed += 1,
            Err(AppendError::AlreadyProcessed(m)) => {
                assert_eq!(m, mark);
                refused += 1;
            }
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!((committed, refused), (1, 7));
    let mut stored = 0;
    for worker in 0..8 {
        let stream = StreamId::new("Payment", format!("p-{worker}"));
        stored += store.load::<Tick>(&stream, 0).await.expect("load").len();
    }
    assert_eq!(stored, 1, "the losers wrote nothing");
}
