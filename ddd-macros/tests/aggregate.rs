//! What `#[derive(Aggregate)]` does: names, ids and versions kept in the state, and `handle` /
//! `apply` routed through the per-variant dispatch or through named functions.

use std::sync::atomic::{AtomicU32, Ordering};

use ddd_core::memory::InMemoryEventStore;
use ddd_core::testing::AggregateTest;
use ddd_core::{
    Aggregate, AggregateRoot, Command, DomainEvent, ExecuteError, Rejection, Repository,
};
use serde::{Deserialize, Serialize};

ddd_core::aggregate_id!(pub AccountId);

#[derive(Clone, Debug, PartialEq, Command)]
#[command(aggregate = Account)]
pub enum AccountCommand {
    Open { owner: String },
    Deposit { amount: i64 },
    Withdraw(i64),
    Close,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(aggregate = Account)]
pub enum AccountEvent {
    Opened { owner: String },
    Deposited { amount: i64 },
    Withdrawn(i64),
    Closed,
}

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(command = AccountCommand, event = AccountEvent, name = "BankAccount", snapshot_version = 3)]
pub struct Account {
    #[aggregate(id)]
    id: Option<AccountId>,
    #[aggregate(version)]
    version: u64,
    owner: Option<String>,
    balance: i64,
    closed: bool,
}

impl Account {
    fn handle_open(&self, owner: String) -> Result<AccountEvent, Rejection> {
        if self.owner.is_some() {
            return Err(Rejection::new("already open"));
        }
        Ok(AccountEvent::Opened { owner })
    }

    // Any error that converts into the aggregate's error will do.
    fn handle_deposit(&self, amount: i64) -> Result<Vec<AccountEvent>, &'static str> {
        if self.closed {
            return Err("closed");
        }
        Ok(vec![AccountEvent::Deposited { amount }])
    }

    fn handle_withdraw(&self, amount: i64) -> Result<Option<AccountEvent>, Rejection> {
        if amount > self.balance {
            return Err(Rejection::new("insufficient funds"));
        }
        Ok((amount > 0).then_some(AccountEvent::Withdrawn(amount)))
    }

    fn handle_close(&self) -> Result<[AccountEvent; 1], Rejection> {
        Ok([AccountEvent::Closed])
    }

    fn apply_opened(&mut self, owner: &str) {
        self.owner = Some(owner.to_owned());
    }

    fn apply_deposited(&mut self, amount: &i64) {
        self.balance += amount;
    }

    fn apply_withdrawn(&mut self, amount: &i64) {
        self.balance -= amount;
    }

    fn apply_closed(&mut self) {
        self.closed = true;
    }
}

#[test]
fn names_and_versions_are_the_attributes() {
    assert_eq!(Account::TYPE, "BankAccount");
    assert_eq!(Account::SNAPSHOT_VERSION, 3);
}

#[test]
fn the_id_comes_from_the_marked_field_and_is_set_on_load() {
    let id = AccountId::new();
    let root = AggregateRoot::<Account>::new(id);
    assert_eq!(root.state().id, Some(id));
}

#[test]
fn the_version_field_follows_the_applied_events() {
    let mut root = AggregateRoot::<Account>::new(AccountId::new());
    root.apply_all(&[
        AccountEvent::Opened {
            owner: "Ada".into(),
        },
        AccountEvent::Deposited { amount: 5 },
    ]);
    assert_eq!(root.state().version, 2);
    assert_eq!(root.state().balance, 5);
}

#[test]
fn commands_are_dispatched_to_their_handlers() {
    AggregateTest::<Account>::new()
        .when(AccountCommand::Open {
            owner: "Ada".into(),
        })
        .then([AccountEvent::Opened {
            owner: "Ada".into(),
        }]);
    AggregateTest::<Account>::new()
        .given([AccountEvent::Opened {
            owner: "Ada".into(),
        }])
        .when(AccountCommand::Open {
            owner: "Bob".into(),
        })
        .then_error(Rejection::new("already open"));
    AggregateTest::<Account>::new()
        .given([
            AccountEvent::Opened {
                owner: "Ada".into(),
            },
            AccountEvent::Closed,
        ])
        .when(AccountCommand::Deposit { amount: 1 })
        .then_error(Rejection::new("closed"));
}

#[test]
fn every_into_events_shape_is_accepted() {
    let opened = AccountEvent::Opened {
        owner: "Ada".into(),
    };
    AggregateTest::<Account>::new()
        .given([opened.clone(), AccountEvent::Deposited { amount: 10 }])
        .when(AccountCommand::Withdraw(4))
        .then([AccountEvent::Withdrawn(4)]);
    AggregateTest::<Account>::new()
        .given([opened.clone()])
        .when(AccountCommand::Withdraw(0))
        .then_nothing();
    AggregateTest::<Account>::new()
        .given([opened])
        .when(AccountCommand::Close)
        .then([AccountEvent::Closed]);
}

#[tokio::test]
async fn a_repository_executes_and_reloads_the_aggregate() {
    let accounts = Repository::<Account, _>::new(InMemoryEventStore::new());
    let id = AccountId::new();
    accounts
        .execute(
            &id,
            AccountCommand::Open {
                owner: "Ada".into(),
            },
        )
        .await
        .unwrap();
    accounts
        .execute(&id, AccountCommand::Deposit { amount: 30 })
        .await
        .unwrap();
    let done = accounts
        .execute(&id, AccountCommand::Withdraw(10))
        .await
        .unwrap();
    assert_eq!(done.version, 3);
    assert_eq!(done.events[0].event_type, "Withdrawn");
    assert_eq!(done.events[0].aggregate_type, "BankAccount");

    let loaded = accounts.load(&id).await.unwrap().unwrap();
    assert_eq!(loaded.state().balance, 20);
    assert_eq!(loaded.state().version, 3);
    assert_eq!(loaded.state().id, Some(id));

    let refused = accounts
        .execute(&id, AccountCommand::Withdraw(100))
        .await
        .unwrap_err();
    assert!(
        matches!(refused, ExecuteError::Rejected(reason) if reason.reason() == "insufficient funds")
    );
}

// `handle = path` and `apply = path` replace the dispatch, for aggregates that decide and
// evolve in one function each, with their own error and services types.

#[derive(Clone, Debug, PartialEq, Command)]
pub struct Increment {
    by: u32,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(name = "Incremented")]
pub struct Incremented {
    by: u32,
}

#[derive(Debug, PartialEq)]
pub enum CounterError {
    TooBig,
}

impl std::fmt::Display for CounterError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("too big")
    }
}

impl std::error::Error for CounterError {}

/// What the counter's decisions may consult.
#[derive(Debug, Default)]
pub struct Limits {
    max: u32,
    asked: AtomicU32,
}

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(
    id = String,
    command = Increment,
    event = Incremented,
    error = CounterError,
    services = Limits,
    handle = Counter::decide,
    apply = evolve,
)]
pub struct Counter {
    value: u32,
}

impl Counter {
    fn decide(&self, command: Increment, limits: &Limits) -> Result<Incremented, CounterError> {
        limits.asked.fetch_add(1, Ordering::Relaxed);
        if self.value + command.by > limits.max {
            return Err(CounterError::TooBig);
        }
        Ok(Incremented { by: command.by })
    }
}

fn evolve(counter: &mut Counter, event: &Incremented) {
    counter.value += event.by;
}

#[test]
fn named_handle_and_apply_functions_replace_the_dispatch() {
    assert_eq!(Counter::TYPE, "Counter");
    assert_eq!(Counter::SNAPSHOT_VERSION, 1);
    let limits = Limits {
        max: 10,
        asked: AtomicU32::new(0),
    };
    AggregateTest::<Counter>::with_services(limits)
        .given([Incremented { by: 4 }])
        .when(Increment { by: 5 })
        .then([Incremented { by: 5 }]);
    AggregateTest::<Counter>::with_services(Limits {
        max: 10,
        asked: AtomicU32::new(0),
    })
    .given([Incremented { by: 6 }])
    .when(Increment { by: 5 })
    .then_error(CounterError::TooBig);
}

#[tokio::test]
async fn services_reach_the_decision() {
    let counters = Repository::<Counter, _>::with_services(
        InMemoryEventStore::new(),
        Limits {
            max: 3,
            asked: AtomicU32::new(0),
        },
    );
    let id = "c-1".to_owned();
    counters.execute(&id, Increment { by: 2 }).await.unwrap();
    assert!(counters.execute(&id, Increment { by: 2 }).await.is_err());
    assert_eq!(counters.services().asked.load(Ordering::Relaxed), 2);
    assert_eq!(counters.load(&id).await.unwrap().unwrap().state().value, 2);
}

// An explicit `id = Type` next to a marked field is fine when the types agree; a unit
// struct aggregate needs no fields at all.

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = AccountId, command = Increment, event = Incremented, handle = Tally::decide, apply = Tally::evolve)]
pub struct Tally {
    #[aggregate(id)]
    id: Option<AccountId>,
}

impl Tally {
    fn decide(&self, command: Increment, (): &()) -> Result<Vec<Incremented>, Rejection> {
        Ok(vec![Incremented { by: command.by }])
    }

    fn evolve(&mut self, _: &Incremented) {}
}

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = String, command = Increment, event = Incremented, handle = Tally2::decide, apply = Tally2::evolve)]
pub struct Tally2;

impl Tally2 {
    fn decide(&self, _: Increment, (): &()) -> Result<(), Rejection> {
        Ok(())
    }

    fn evolve(&mut self, _: &Incremented) {}
}

#[test]
fn explicit_and_marked_ids_agree_and_unit_aggregates_work() {
    let id = AccountId::new();
    assert_eq!(AggregateRoot::<Tally>::new(id).state().id, Some(id));
    AggregateTest::<Tally2>::new()
        .when(Increment { by: 1 })
        .then_nothing();
    assert_eq!(Incremented { by: 1 }.event_type(), "Incremented");
    assert_eq!(Increment { by: 1 }.command_name(), "Increment");
}
