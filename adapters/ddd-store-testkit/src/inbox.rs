//! The inbox: a redelivered event has no second effect, whether the handler's effect is an
//! append (the mark goes with it) or writes of its own (the mark goes in the same write).

use std::future::Future;

use ddd_core::testing::conformance::{Tick, tick};
use ddd_core::{
    AppendError, AppendRequest, EventId, EventStore, ExpectedVersion, Inbox, InboxMark, StreamId,
};

/// A handler whose effect is a write of its own, beside the inbox mark.
pub trait OwnWrites: Inbox + Clone {
    /// Creates the table the effect counts in, at 0.
    fn create_effects(&self) -> impl Future<Output = ()> + Send;

    /// In one write: marks `event_id` processed by `consumer` and, when it was not marked
    /// before, adds one to the count. Returns whether it counted.
    fn count_once(&self, consumer: &str, event_id: EventId) -> impl Future<Output = bool> + Send;

    /// The count.
    fn effects(&self) -> impl Future<Output = i64> + Send;
}

/// Eight deliveries of one event at once, then one more later: one has the effect.
pub async fn a_redelivered_event_has_no_second_effect<S: OwnWrites>(store: &S) {
    store.create_effects().await;
    let event_id = uuid::Uuid::now_v7();
    let handlers: Vec<_> = (0..8)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.count_once("counter", event_id).await })
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
        !store.count_once("counter", event_id).await,
        "a later redelivery has none"
    );
    assert_eq!(store.effects().await, 1);
    assert!(
        Inbox::is_processed(store, "counter", event_id)
            .await
            .expect("inbox")
    );
}

/// The same event handled by eight workers at once, each appending to its own stream (as
/// when the policy picks a stream from a clock or a counter): one append commits.
pub async fn concurrent_appends_with_one_inbox_mark_commit_once<S: EventStore + Clone>(store: &S) {
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
