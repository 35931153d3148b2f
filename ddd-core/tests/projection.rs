//! Projections catch up from the global order, keep a checkpoint, and rebuild.

mod common;

use std::collections::HashMap;

use common::{Account, AccountCommand, AccountEvent, AccountId};
use ddd_core::memory::InMemoryEventStore;
use ddd_core::testing::ProjectionTest;
use ddd_core::{
    CatchUpError, CheckpointStore, Envelope, InMemoryCheckpoints, Projection, ProjectionError,
    ProjectionRunner, Repository,
};

#[derive(Debug, Default)]
struct Balances {
    by_account: HashMap<String, i64>,
    applied: u64,
}

impl Projection for Balances {
    type Event = AccountEvent;
    const NAME: &'static str = "balances";

    fn apply(&mut self, event: &Envelope<AccountEvent>) -> Result<(), ProjectionError> {
        self.applied += 1;
        let balance = self
            .by_account
            .entry(event.aggregate_id.clone())
            .or_default();
        match event.payload {
            AccountEvent::Opened => {}
            AccountEvent::Deposited { amount } => *balance += amount,
            AccountEvent::Withdrawn { amount } => *balance -= amount,
        }
        Ok(())
    }

    fn reset(&mut self) {
        *self = Self::default();
    }
}

async fn seed(store: &InMemoryEventStore) -> (AccountId, AccountId) {
    let accounts = Repository::<Account, _>::new(store.clone());
    let (a, b) = (AccountId::new(), AccountId::new());
    for id in [&a, &b] {
        accounts.execute(id, AccountCommand::Open).await.unwrap();
    }
    accounts
        .execute(&a, AccountCommand::Deposit(10))
        .await
        .unwrap();
    accounts
        .execute(&b, AccountCommand::Deposit(4))
        .await
        .unwrap();
    accounts
        .execute(&a, AccountCommand::Withdraw(3))
        .await
        .unwrap();
    (a, b)
}

#[tokio::test]
async fn catch_up_applies_each_event_once_and_keeps_the_checkpoint() {
    let store = InMemoryEventStore::new();
    let (a, b) = seed(&store).await;
    let checkpoints = InMemoryCheckpoints::default();
    let mut runner = ProjectionRunner::new(Balances::default(), store.clone(), checkpoints.clone());
    assert_eq!(runner.catch_up().await.unwrap(), 5);
    assert_eq!(runner.projection().by_account[&a.to_string()], 7);
    assert_eq!(runner.projection().by_account[&b.to_string()], 4);
    assert_eq!(checkpoints.load("balances").await.unwrap(), 5);
    assert_eq!(
        runner.catch_up().await.unwrap(),
        0,
        "nothing new, nothing applied"
    );
    Repository::<Account, _>::new(store.clone())
        .execute(&b, AccountCommand::Deposit(1))
        .await
        .unwrap();
    assert_eq!(runner.catch_up().await.unwrap(), 1);
    assert_eq!(runner.projection().applied, 6);
    // A new runner over the same checkpoint starts where the last one stopped.
    let mut resumed = ProjectionRunner::new(Balances::default(), store.clone(), checkpoints);
    assert_eq!(resumed.catch_up().await.unwrap(), 0);
}

#[tokio::test]
async fn rebuild_starts_from_scratch_and_matches_catch_up() {
    let store = InMemoryEventStore::new();
    seed(&store).await;
    let mut runner = ProjectionRunner::new(
        Balances::default(),
        store.clone(),
        InMemoryCheckpoints::default(),
    );
    runner.catch_up().await.unwrap();
    let before = runner.projection().by_account.clone();
    assert_eq!(runner.rebuild().await.unwrap(), 5);
    assert_eq!(runner.projection().by_account, before);
    assert_eq!(
        runner.projection().applied,
        5,
        "the rebuild reset the read model first"
    );
}

#[derive(Debug, Default)]
struct Fussy;

impl Projection for Fussy {
    type Event = AccountEvent;
    const NAME: &'static str = "fussy";

    fn apply(&mut self, event: &Envelope<AccountEvent>) -> Result<(), ProjectionError> {
        match event.payload {
            AccountEvent::Withdrawn { .. } => {
                Err(ProjectionError("withdrawals are not supported".into()))
            }
            _ => Ok(()),
        }
    }

    fn reset(&mut self) {}
}

#[tokio::test]
async fn a_failing_event_stops_catch_up_before_it() {
    let store = InMemoryEventStore::new();
    seed(&store).await;
    let checkpoints = InMemoryCheckpoints::default();
    let mut runner = ProjectionRunner::new(Fussy, store, checkpoints.clone());
    match runner.catch_up().await {
        Err(CatchUpError::Event {
            position: 5,
            reason,
            ..
        }) => assert!(reason.contains("withdrawals")),
        other => panic!("expected a stop at position 5, got {other:?}"),
    }
    assert_eq!(
        checkpoints.load("fussy").await.unwrap(),
        4,
        "the checkpoint stays before the failing event"
    );
}

#[test]
fn projections_are_testable_without_a_store() {
    ProjectionTest::new(Balances::default())
        .given(
            "Account",
            "a",
            [AccountEvent::Opened, AccountEvent::Deposited { amount: 5 }],
        )
        .given("Account", "b", [AccountEvent::Opened])
        .then(|balances| {
            assert_eq!(balances.by_account["a"], 5);
            assert_eq!(balances.by_account["b"], 0);
        });
}

mod views {
    //! The view test kit folds like a store: the conformance suite's counting view.
    use ddd_core::testing::ViewTest;
    use ddd_core::testing::conformance::Tick;
    use ddd_core::testing::conformance::views::{TickCount, TickHistory};
    use serde_json::json;

    #[test]
    fn given_events_then_rows() {
        let tick = |n| Tick { writer: 7, n };
        ViewTest::<TickCount>::new()
            .given("Clock", "a", [tick(1), tick(2)])
            .given("Clock", "b", [tick(5)])
            .given("Clock", "a", [tick(3)])
            .then_row(
                "Clock/a",
                json!({"stream": "Clock/a", "count": 3, "total": 6, "writer": 7}),
            )
            .then_row(
                "Clock/b",
                json!({"stream": "Clock/b", "count": 1, "total": 5, "writer": 7}),
            )
            .then(|rows| assert_eq!(rows.len(), 2));
        ViewTest::<TickHistory>::new()
            .given("Clock", "a", [tick(4), tick(2)])
            .then_row(
                "Clock/a",
                json!({"stream": "Clock/a", "len": 2, "ns": [4, 2], "version": 2}),
            );
    }

    #[test]
    #[should_panic(expected = "row `Clock/a`")]
    fn a_wrong_row_fails_with_both_rows() {
        let _ = ViewTest::<TickCount>::new()
            .given("Clock", "a", [Tick { writer: 1, n: 1 }])
            .then_row(
                "Clock/a",
                json!({"stream": "Clock/a", "count": 2, "total": 1, "writer": 1}),
            );
    }
}
