//! The outbox relay killed with SIGKILL at random points, 100 times, while events keep being
//! appended (and some appends refused or rolled back): every committed event is published
//! at least once, in per-aggregate order, nothing uncommitted is published, and a read model
//! fed by the published events equals a fold of the store from scratch.
//!
//! The relay runs in a child process (this test binary, re-run with an environment variable)
//! and publishes into a table-backed bus: one autocommitted INSERT per message, in the test's
//! schema, so what was published survives the kill and the parent can read it. Publishing
//! and marking are separate transactions, exactly as with a real broker, so a kill between
//! them republishes the batch: the at-least-once case.

#[path = "support/child.rs"]
mod child;
#[path = "support/events.rs"]
mod events;
#[path = "support/rng.rs"]
mod rng;

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ddd_core::memory::InProcessSubscription;
use ddd_core::{
    Aggregate as _, AppendError, AppendRequest, BusError, ConsumerConfig, DomainEvent as _,
    Envelope, EventBus, EventId, EventStore, ExpectedVersion, Message, RawEnvelope, Relay, Routing,
    StreamId,
};
use ddd_postgres::PostgresStore;
use ddd_postgres::sqlx::PgPool;
use ddd_postgres::testing::TestDatabase;

use ddd_core::testing::conformance::account::{Account, AccountEvent};

const CHILD_URL: &str = "DDD_RELAY_CHILD_URL";
const CHILD_BATCH: &str = "DDD_RELAY_CHILD_BATCH";
const KILLS: u32 = 100;
const ACCOUNTS: u64 = 8;

/// A publish-only bus that appends each message to a table, one statement per message.
struct TableBus {
    pool: PgPool,
}

impl EventBus for TableBus {
    type Subscription = InProcessSubscription;

    async fn publish(&self, messages: Vec<Message>) -> Result<(), BusError> {
        for message in messages {
            let envelope = &message.envelope;
            sqlx::query(
                "INSERT INTO relay_published \
                     (event_id, aggregate_id, version, subject, event_type, payload) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(envelope.event_id)
            .bind(&envelope.aggregate_id)
            .bind(i64::try_from(envelope.version).expect("version"))
            .bind(&message.subject)
            .bind(envelope.event_type.as_ref())
            .bind(&envelope.payload)
            .execute(&self.pool)
            .await
            .map_err(|error| BusError::Unavailable(error.to_string()))?;
        }
        Ok(())
    }

    async fn subscribe(&self, _: ConsumerConfig) -> Result<InProcessSubscription, BusError> {
        Err(BusError::Rejected("the table bus only publishes".into()))
    }
}

fn routing() -> Routing {
    Routing::new("bank", "accounts")
}

/// The relay process: connects, says so, relays until killed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of relay_killed_at_random_points_publishes_every_committed_event"]
async fn relay_child_process() {
    let Ok(url) = std::env::var(CHILD_URL) else {
        return;
    };
    let batch = std::env::var(CHILD_BATCH)
        .ok()
        .and_then(|b| b.parse().ok())
        .unwrap_or(8);
    let store = PostgresStore::connect(&url).await.expect("child connects");
    let bus = TableBus {
        pool: store.pool().clone(),
    };
    child::ready();
    let relay = Relay::new(store, bus, routing()).batch_size(batch);
    let _ = relay
        .run(Duration::from_millis(1), std::future::pending())
        .await;
}

fn deposit(account: u64, amount: i64) -> Envelope<AccountEvent> {
    let id = uuid::Uuid::now_v7();
    Envelope {
        event_id: id,
        aggregate_type: "Account".into(),
        aggregate_id: format!("account-{account}"),
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
    }
}

/// Appends deposits until `stop`; every few appends one is refused (a stale expectation) or
/// rolled back (the application's transaction aborts). Returns the ids never committed.
async fn write(store: PostgresStore, stop: Arc<AtomicBool>, seed: u64) -> HashSet<EventId> {
    let mut rng = rng::Rng::new(seed);
    let mut uncommitted = HashSet::new();
    let mut n: u64 = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let account = rng.below(ACCOUNTS);
        let event = deposit(account, i64::try_from(rng.below(100) + 1).expect("amount"));
        let stream = StreamId::new("Account", event.aggregate_id.clone());
        let id = event.event_id;
        let expected = if n.is_multiple_of(5) {
            ExpectedVersion::Exact(0)
        } else {
            ExpectedVersion::Any
        };
        let request = AppendRequest {
            stream,
            expected,
            events: vec![event],
            inbox: None,
        };
        if n.is_multiple_of(7) {
            let mut transaction = store.pool().begin().await.expect("begin");
            match store.append_in(&mut transaction, request).await {
                Ok(_) | Err(AppendError::Conflict { .. }) => {}
                Err(other) => panic!("append in a transaction: {other}"),
            }
            transaction.rollback().await.expect("rollback");
            uncommitted.insert(id);
        } else {
            match store.append(request).await {
                Ok(_) => {}
                Err(AppendError::Conflict { .. }) if expected != ExpectedVersion::Any => {
                    uncommitted.insert(id);
                }
                Err(other) => panic!("append: {other}"),
            }
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    uncommitted
}

/// Starts the relay in a child process and kills it with SIGKILL at a random moment after it
/// is up.
async fn run_and_kill(url: &str, batch: u64, lifetime: Duration) {
    let env = [
        (CHILD_URL, url.to_owned()),
        (CHILD_BATCH, batch.to_string()),
    ];
    child::run_and_kill("relay_child_process", &env, lifetime).await;
}

struct Published {
    event_id: EventId,
    aggregate_id: String,
    version: u64,
    event: AccountEvent,
}

async fn published(pool: &PgPool) -> Vec<Published> {
    let rows: Vec<(EventId, String, i64, String, serde_json::Value)> = sqlx::query_as(
        "SELECT event_id, aggregate_id, version, event_type, payload \
         FROM relay_published ORDER BY seq",
    )
    .fetch_all(pool)
    .await
    .expect("published");
    rows.into_iter()
        .map(
            |(event_id, aggregate_id, version, event_type, payload)| Published {
                event_id,
                aggregate_id,
                version: u64::try_from(version).expect("version"),
                event: AccountEvent::decode(&event_type, 1, payload)
                    .expect("decode")
                    .expect("an account event"),
            },
        )
        .collect()
}

/// A consumer of the published events: skips ids it has seen (its inbox), folds the rest.
fn consume(published: &[Published]) -> HashMap<String, Account> {
    let mut inbox = HashSet::new();
    let mut model: HashMap<String, Account> = HashMap::new();
    for message in published {
        if !inbox.insert(message.event_id) {
            continue;
        }
        model
            .entry(message.aggregate_id.clone())
            .or_default()
            .apply(&message.event);
    }
    model
}

fn fold_from_scratch(stored: &[RawEnvelope]) -> HashMap<String, Account> {
    let mut model: HashMap<String, Account> = HashMap::new();
    for raw in stored {
        let event = raw
            .clone()
            .decode::<AccountEvent>()
            .expect("decode")
            .expect("known");
        model
            .entry(raw.aggregate_id.clone())
            .or_default()
            .apply(&event.payload);
    }
    model
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relay_killed_at_random_points_publishes_every_committed_event() {
    let database = TestDatabase::new();
    let store = database.connect().await;
    sqlx::query(
        "CREATE TABLE relay_published (seq BIGSERIAL PRIMARY KEY, event_id UUID NOT NULL, \
         aggregate_id TEXT NOT NULL, version BIGINT NOT NULL, subject TEXT NOT NULL, \
         event_type TEXT NOT NULL, payload JSONB NOT NULL)",
    )
    .execute(store.pool())
    .await
    .expect("create the bus table");
    let seed = rng::seed();
    eprintln!("seed {seed} (DDD_TEST_SEED to replay)");
    let mut rng = rng::Rng::new(seed);
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(write(store.clone(), Arc::clone(&stop), seed ^ 1));

    for _ in 0..KILLS {
        let lifetime = Duration::from_millis(rng.below(40));
        run_and_kill(&database.url(), rng.below(16) + 1, lifetime).await;
    }
    stop.store(true, Ordering::SeqCst);
    let uncommitted = writer.await.expect("writer");
    let bus = TableBus {
        pool: store.pool().clone(),
    };
    Relay::new(store.clone(), bus, routing())
        .drain()
        .await
        .expect("the last relay drains the outbox");

    let stored = events::everything(&store).await;
    let published = published(store.pool()).await;
    let stored_ids: HashSet<EventId> = stored.iter().map(|e| e.event_id).collect();
    let published_ids: HashSet<EventId> = published.iter().map(|p| p.event_id).collect();
    eprintln!(
        "{} events committed, {} refused or rolled back, {} messages published ({} duplicates) \
         over {KILLS} kills",
        stored.len(),
        uncommitted.len(),
        published.len(),
        published.len() - published_ids.len()
    );
    assert!(
        stored.len() > 100,
        "the writer kept writing during the kills"
    );
    assert_eq!(
        published_ids, stored_ids,
        "every committed event published, nothing else"
    );
    assert!(
        uncommitted.is_disjoint(&published_ids),
        "an uncommitted event was published"
    );
    let mut next_version: HashMap<&str, u64> = HashMap::new();
    let mut first_seen = HashSet::new();
    for message in &published {
        if first_seen.insert(message.event_id) {
            let expected = next_version.entry(&message.aggregate_id).or_insert(1);
            assert_eq!(
                message.version, *expected,
                "{}: per-aggregate order",
                message.aggregate_id
            );
            *expected += 1;
        }
    }
    assert_eq!(
        consume(&published),
        fold_from_scratch(&stored),
        "read model = fold"
    );
}
