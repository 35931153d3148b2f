//! Read models whose rows and checkpoint commit in one transaction: catch-up from the start,
//! a failing event, a rebuild, two runners at once.

use std::collections::HashMap;

use ddd_core::{
    AppendRequest, CatchUpError, CheckpointStore, Envelope, EventStore, ExpectedVersion,
    ProjectionError, StreamId,
};
use ddd_postgres::sqlx::PgConnection;
use ddd_postgres::testing::TestDatabase;
use ddd_postgres::{PostgresStore, SqlProjection, SqlProjectionRunner};

use ddd_core::testing::conformance::account::AccountEvent;

/// Balances per account in a table; a deposit of 13 is a poison event it cannot apply.
struct Balances;

impl SqlProjection for Balances {
    type Event = AccountEvent;
    const NAME: &'static str = "balances";

    async fn apply(
        &self,
        transaction: &mut PgConnection,
        event: &Envelope<AccountEvent>,
    ) -> Result<(), ProjectionError> {
        let amount = match event.payload {
            AccountEvent::Deposited { amount: 13 } => {
                return Err(ProjectionError("13 is unlucky".into()));
            }
            AccountEvent::Deposited { amount } => amount,
            AccountEvent::Withdrawn { amount } => -amount,
        };
        sqlx::query(
            "INSERT INTO balances (account, balance, events) VALUES ($1, $2, 1) \
             ON CONFLICT (account) DO UPDATE SET balance = balances.balance + $2, \
             events = balances.events + 1",
        )
        .bind(&event.aggregate_id)
        .bind(amount)
        .execute(transaction)
        .await
        .map_err(|error| ProjectionError(error.to_string()))?;
        Ok(())
    }

    async fn reset(&self, transaction: &mut PgConnection) -> Result<(), ProjectionError> {
        sqlx::query("DELETE FROM balances")
            .execute(transaction)
            .await
            .map_err(|error| ProjectionError(error.to_string()))?;
        Ok(())
    }
}

async fn setup() -> (TestDatabase, PostgresStore) {
    let database = TestDatabase::new();
    let store = database.connect().await;
    sqlx::query(
        "CREATE TABLE balances (account TEXT PRIMARY KEY, balance BIGINT NOT NULL, \
         events BIGINT NOT NULL)",
    )
    .execute(store.pool())
    .await
    .expect("read model table");
    (database, store)
}

async fn deposit(store: &PostgresStore, account: u64, amount: i64) -> u64 {
    let id = uuid::Uuid::now_v7();
    let aggregate_id = format!("account-{account}");
    let envelope = Envelope {
        event_id: id,
        aggregate_type: "Account".into(),
        aggregate_id: aggregate_id.clone(),
        version: 0,
        position: 0,
        recorded_at: chrono::Utc::now(),
        event_type: "Deposited".into(),
        schema_version: 1,
        correlation_id: id,
        causation_id: None,
        trace: None,
        metadata: ddd_core::Metadata::new(),
        payload: AccountEvent::Deposited { amount },
    };
    store
        .append(AppendRequest {
            stream: StreamId::new("Account", aggregate_id),
            expected: ExpectedVersion::Any,
            events: vec![envelope],
            inbox: None,
        })
        .await
        .expect("append")
        .version
}

/// (balance, events) per account from a fold of every stored deposit.
async fn fold(store: &PostgresStore) -> HashMap<String, (i64, i64)> {
    let mut model = HashMap::new();
    let mut after = 0;
    loop {
        let page = store.read_all(after, 500).await.expect("read_all");
        let Some(last) = page.last() else {
            return model;
        };
        after = last.position;
        for raw in page {
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
    }
}

async fn read_model(store: &PostgresStore) -> HashMap<String, (i64, i64)> {
    let rows: Vec<(String, i64, i64)> =
        sqlx::query_as("SELECT account, balance, events FROM balances")
            .fetch_all(store.pool())
            .await
            .expect("read model");
    rows.into_iter()
        .map(|(account, balance, events)| (account, (balance, events)))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_from_the_start_then_only_what_is_new() {
    let (_database, store) = setup().await;
    for n in 0..200 {
        deposit(&store, n % 5, 1 + i64::try_from(n % 7).expect("small")).await;
    }
    let runner = SqlProjectionRunner::new(store.clone(), Balances).batch_size(32);
    assert_eq!(runner.catch_up().await.expect("catch up"), 200);
    assert_eq!(read_model(&store).await, fold(&store).await);
    for n in 0..50 {
        deposit(&store, n % 5, 2).await;
    }
    assert_eq!(
        runner.catch_up().await.expect("catch up"),
        50,
        "only the new events"
    );
    assert_eq!(runner.catch_up().await.expect("catch up"), 0);
    assert_eq!(read_model(&store).await, fold(&store).await);
    assert_eq!(
        CheckpointStore::load(&store, "balances")
            .await
            .expect("checkpoint"),
        250
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_event_keeps_what_came_before_it_and_nothing_twice() {
    let (_database, store) = setup().await;
    for _ in 0..10 {
        deposit(&store, 1, 5).await;
    }
    deposit(&store, 1, 13).await;
    for _ in 0..5 {
        deposit(&store, 1, 5).await;
    }
    let runner = SqlProjectionRunner::new(store.clone(), Balances).batch_size(100);
    for attempt in 0..2 {
        match runner.catch_up().await {
            Err(CatchUpError::Event { position: 11, .. }) => {}
            other => panic!("attempt {attempt}: the 11th event fails: {other:?}"),
        }
        let model = read_model(&store).await;
        assert_eq!(
            model["account-1"],
            (50, 10),
            "attempt {attempt}: the 10 before it, once"
        );
        assert_eq!(
            CheckpointStore::load(&store, "balances")
                .await
                .expect("checkpoint"),
            10
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_replays_everything_into_an_emptied_model() {
    let (_database, store) = setup().await;
    for n in 0..60 {
        deposit(&store, n % 3, 3).await;
    }
    let runner = SqlProjectionRunner::new(store.clone(), Balances).batch_size(16);
    runner.catch_up().await.expect("catch up");
    sqlx::query("UPDATE balances SET balance = -1")
        .execute(store.pool())
        .await
        .expect("damage the read model");
    assert_eq!(runner.rebuild().await.expect("rebuild"), 60);
    assert_eq!(read_model(&store).await, fold(&store).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runners_at_once_apply_each_event_once() {
    let (_database, store) = setup().await;
    for n in 0..300 {
        deposit(&store, n % 4, 1).await;
    }
    let run = |store: PostgresStore| async move {
        let runner = SqlProjectionRunner::new(store, Balances).batch_size(10);
        // The loser of a race for a batch is told the checkpoint moved; it tries again.
        loop {
            match runner.catch_up().await {
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
    assert_eq!(read_model(&store).await, fold(&store).await);
    let total: i64 = read_model(&store)
        .await
        .values()
        .map(|(_, events)| events)
        .sum();
    assert_eq!(total, 300);
}
