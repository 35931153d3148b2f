//! The inbox: a redelivered event has no second effect, whether the handler's effect is an
//! append (the mark goes with it) or writes of its own (the mark goes in the same write).

use ddd_core::testing::conformance::{Tick, tick};
use ddd_core::{
    AppendError, AppendRequest, EventId, EventStore, ExpectedVersion, Inbox, InboxMark, StoreError,
    StreamId,
};
use ddd_sqlite::SqliteStore;
use ddd_sqlite::testing::TestFile;

/// A handler with an effect of its own: counts the event in a table, in the write that marks
/// it processed. Returns whether it had an effect.
async fn handle(store: &SqliteStore, event_id: EventId) -> bool {
    store
        .write(move |tx| {
            if !tx.mark_processed("counter", event_id)? {
                return Ok(false);
            }
            tx.connection()
                .execute("UPDATE effects SET count = count + 1", [])
                .map_err(|error| StoreError::permanent(error.to_string()))?;
            Ok::<_, StoreError>(true)
        })
        .await
        .expect("handle")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_redelivered_event_has_no_second_effect() {
    let file = TestFile::new();
    let store = file.connect().await;
    store
        .write(|tx| {
            tx.connection()
                .execute_batch(
                    "CREATE TABLE effects (count INTEGER NOT NULL); INSERT INTO effects VALUES (0)",
                )
                .map_err(|error| StoreError::permanent(error.to_string()))
        })
        .await
        .expect("table");
    let event_id = uuid::Uuid::now_v7();
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
    let count: i64 = store
        .read(|connection| {
            connection
                .query_row("SELECT count FROM effects", [], |row| row.get(0))
                .map_err(|error| StoreError::permanent(error.to_string()))
        })
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
    let file = TestFile::new();
    let store = file.connect().await;
    let mark = InboxMark {
        consumer: "payments".into(),
        event_id: uuid::Uuid::now_v7(),
    };
    let workers: Vec<_> = (0..8)
        .map(|worker| {
            let (store, mark) = (store.clone(), mark.clone());
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
