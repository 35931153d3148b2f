//! Read models whose rows and checkpoint commit in one transaction: catch-up from the start,
//! a failing event, a rebuild, two runners at once.

use std::collections::HashMap;

use ddd_core::{
    AppendRequest, CatchUpError, CheckpointStore, Envelope, EventStore, ExpectedVersion,
    ProjectionError, StoreError, StreamId,
};
use ddd_sqlite::rusqlite::params;
use ddd_sqlite::testing::TestFile;
use ddd_sqlite::{SqlProjection, SqlProjectionRunner, SqliteStore, WriteTx};

use ddd_core::testing::conformance::account::AccountEvent;

/// Balances per account in a table; a deposit of 13 is a poison event it cannot apply.
struct Balances;

impl SqlProjection for Balances {
    type Event = AccountEvent;
    const NAME: &'static str = "balances";

    fn apply(
        &self,
        tx: &WriteTx<'_>,
        event: &Envelope<AccountEvent>,
    ) -> Result<(), ProjectionError> {
        let amount = match event.payload {
            AccountEvent::Deposited { amount: 13 } => {
                return Err(ProjectionError("13 is unlucky".into()));
            }
            AccountEvent::Deposited { amount } => amount,
            AccountEvent::Withdrawn { amount } => -amount,
        };
        tx.connection()
            .execute(
                "INSERT INTO balances (account, balance, events) VALUES (?1, ?2, 1) \
                 ON CONFLICT (account) DO UPDATE SET balance = balance + ?2, events = events + 1",
                params![event.aggregate_id, amount],
            )
            .map_err(|error| ProjectionError(error.to_string()))?;
        Ok(())
    }

    fn reset(&self, tx: &WriteTx<'_>) -> Result<(), ProjectionError> {
        tx.connection()
            .execute("DELETE FROM balances", [])
            .map_err(|error| ProjectionError(error.to_string()))?;
        Ok(())
    }
}

async fn setup() -> (TestFile, SqliteStore) {
    let file = TestFile::new();
    let store = file.connect().await;
    store
        .write(|tx| {
            tx.connection()
                .execute_batch(
                    "CREATE TABLE balances (account TEXT PRIMARY KEY, balance INTEGER NOT NULL, \
                     events INTEGER NOT NULL)",
                )
                .map_err(|error| StoreError::permanent(error.to_string()))
        })
        .await
        .expect("read model table");
    (file, store)
}

async fn deposit(store: &SqliteStore, account: u64, amount: i64) {
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
        .expect("append");
}

async fn fold(store: &SqliteStore) -> HashMap<String, (i64, i64)> {
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

async fn read_model(store: &SqliteStore) -> HashMap<String, (i64, i64)> {
    store
        .read(|connection| {
            let mut statement = connection
                .prepare("SELECT account, balance, events FROM balances")
                .map_err(|error| StoreError::permanent(error.to_string()))?;
            let rows = statement
                .query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))
                .map_err(|error| StoreError::permanent(error.to_string()))?;
            rows.collect::<Result<_, _>>()
                .map_err(|error| StoreError::permanent(error.to_string()))
        })
        .await
        .expect("read model")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_from_the_start_then_only_what_is_new() {
    let (_file, store) = setup().await;
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
    let (_file, store) = setup().await;
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
    let (_file, store) = setup().await;
    for n in 0..60 {
        deposit(&store, n % 3, 3).await;
    }
    let runner = SqlProjectionRunner::new(store.clone(), Balances).batch_size(16);
    runner.catch_up().await.expect("catch up");
    store
        .write(|tx| {
            tx.connection()
                .execute("UPDATE balances SET balance = -1", [])
                .map_err(|error| StoreError::permanent(error.to_string()))
        })
        .await
        .expect("damage the read model");
    assert_eq!(runner.rebuild().await.expect("rebuild"), 60);
    assert_eq!(read_model(&store).await, fold(&store).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runners_at_once_apply_each_event_once() {
    let (_file, store) = setup().await;
    for n in 0..300 {
        deposit(&store, n % 4, 1).await;
    }
    let run = |store: SqliteStore| async move {
        let runner = SqlProjectionRunner::new(store, Balances).batch_size(10);
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
