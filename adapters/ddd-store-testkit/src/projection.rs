//! Read models whose rows and checkpoint commit in one transaction: catch-up from the start,
//! a failing event, a rebuild, two runners at once.
//!
//! The read model is balances per account, `(balance, events)`, in a table of the store, kept
//! by the store's SQL projection runner under the checkpoint [`NAME`]; its fold of one event
//! is [`change`], where a deposit of 13 is a poison event it cannot apply.

use std::collections::HashMap;
use std::future::Future;

use ddd_core::projection::{Transactional, TransactionalRunner};
use ddd_core::testing::conformance::account::AccountEvent;
use ddd_core::{
    AppendRequest, CatchUpError, CheckpointStore, Envelope, EventStore, ExpectedVersion,
    ProjectionError, StreamId,
};

use crate::deposit;

/// The projection's name, and its checkpoint's.
pub const NAME: &str = "balances";

/// Balances per account as `account -> (balance, events)`.
pub type Balances = HashMap<String, (i64, i64)>;

/// The balances read model kept by a store's SQL projection runner: the store's
/// [`Transactional`] runs [`SqlBalances::Balances`], its projection of the table.
pub trait SqlBalances: Clone {
    /// The store's projection of the balances table, named [`NAME`], folding with [`change`].
    type Balances: Default + Send + Sync + 'static;

    /// Creates the read model's table, empty.
    fn create_balances(&self) -> impl Future<Output = ()> + Send;

    /// The read model's rows.
    fn balances(&self) -> impl Future<Output = Balances> + Send;

    /// Sets every balance to -1 behind the projection's back.
    fn damage_balances(&self) -> impl Future<Output = ()> + Send;
}

/// What `event` adds to its account's balance; a deposit of 13 fails.
pub fn change(event: &Envelope<AccountEvent>) -> Result<i64, ProjectionError> {
    match event.payload {
        AccountEvent::Deposited { amount: 13 } => Err(ProjectionError("13 is unlucky".into())),
        AccountEvent::Deposited { amount } => Ok(amount),
        AccountEvent::Withdrawn { amount } => Ok(-amount),
    }
}

/// A runner of the store's balances projection, `batch_size` events per transaction.
fn runner<S>(store: &S, batch_size: usize) -> TransactionalRunner<S, S::Balances>
where
    S: SqlBalances + Transactional<S::Balances>,
{
    TransactionalRunner::new(store.clone(), S::Balances::default()).batch_size(batch_size)
}

async fn store_deposit(store: &impl EventStore, account: u64, amount: i64) {
    let envelope = deposit(account, amount);
    store
        .append(AppendRequest {
            stream: StreamId::new("Account", envelope.aggregate_id.clone()),
            expected: ExpectedVersion::Any,
            events: vec![envelope],
            inbox: None,
        })
        .await
        .expect("append");
}

/// `(balance, events)` per account from a fold of every stored deposit.
async fn fold(store: &impl EventStore) -> Balances {
    let mut model = HashMap::new();
    for raw in crate::everything(store).await {
        let event = raw
            .decode::<AccountEvent>()
            .expect("decode")
            .expect("known");
        if let AccountEvent::Deposited { amount } = event.payload {
            let entry = model.entry(event.aggregate_id).or_insert((0, 0));
            entry.0 += amount;
            entry.1 += 1;
        }
    }
    model
}

async fn checkpoint(store: &impl CheckpointStore) -> u64 {
    store.load(NAME).await.expect("checkpoint")
}

/// Catch-up from the start, then only what is new.
pub async fn catch_up_from_the_start_then_only_what_is_new<S>(store: &S)
where
    S: SqlBalances + Transactional<S::Balances>,
{
    store.create_balances().await;
    for n in 0..200 {
        store_deposit(store, n % 5, 1 + i64::try_from(n % 7).expect("small")).await;
    }
    assert_eq!(runner(store, 32).catch_up().await.expect("catch up"), 200);
    assert_eq!(store.balances().await, fold(store).await);
    for n in 0..50 {
        store_deposit(store, n % 5, 2).await;
    }
    assert_eq!(
        runner(store, 32).catch_up().await.expect("catch up"),
        50,
        "only the new events"
    );
    assert_eq!(runner(store, 32).catch_up().await.expect("catch up"), 0);
    assert_eq!(store.balances().await, fold(store).await);
    assert_eq!(checkpoint(store).await, 250);
}

/// The 11th event fails: the 10 before it are kept, once, with the checkpoint after them.
pub async fn a_failing_event_keeps_what_came_before_it_and_nothing_twice<S>(store: &S)
where
    S: SqlBalances + Transactional<S::Balances>,
{
    store.create_balances().await;
    for _ in 0..10 {
        store_deposit(store, 1, 5).await;
    }
    store_deposit(store, 1, 13).await;
    for _ in 0..5 {
        store_deposit(store, 1, 5).await;
    }
    for attempt in 0..2 {
        match runner(store, 100).catch_up().await {
            Err(CatchUpError::Event { position: 11, .. }) => {}
            other => panic!("attempt {attempt}: the 11th event fails: {other:?}"),
        }
        let model = store.balances().await;
        assert_eq!(
            model["account-1"],
            (50, 10),
            "attempt {attempt}: the 10 before it, once"
        );
        assert_eq!(checkpoint(store).await, 10);
    }
}

/// A rebuild replays everything into an emptied read model.
pub async fn rebuild_replays_everything_into_an_emptied_model<S>(store: &S)
where
    S: SqlBalances + Transactional<S::Balances>,
{
    store.create_balances().await;
    for n in 0..60 {
        store_deposit(store, n % 3, 3).await;
    }
    runner(store, 16).catch_up().await.expect("catch up");
    store.damage_balances().await;
    assert_eq!(runner(store, 16).rebuild().await.expect("rebuild"), 60);
    assert_eq!(store.balances().await, fold(store).await);
}

/// Two runners at once apply each event once.
pub async fn two_runners_at_once_apply_each_event_once<S>(store: &S)
where
    S: SqlBalances + Transactional<S::Balances>,
{
    store.create_balances().await;
    for n in 0..300 {
        store_deposit(store, n % 4, 1).await;
    }
    let run = |store: S| async move {
        // The loser of a race for a batch is told the checkpoint moved; it tries again.
        loop {
            match runner(&store, 10).catch_up().await {
                Ok(_) => return,
                Err(CatchUpError::Store(error)) if error.is_retryable() => {}
                Err(other) => panic!("{other}"),
            }
        }
    };
    let (first, second) = tokio::join!(
        tokio::spawn(run(store.clone())),
        tokio::spawn(run(store.clone()))
    );
    first.expect("runner");
    second.expect("runner");
    assert_eq!(store.balances().await, fold(store).await);
    let total: i64 = store
        .balances()
        .await
        .values()
        .map(|(_, events)| events)
        .sum();
    assert_eq!(total, 300);
}
