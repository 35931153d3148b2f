//! The outbox relay killed with SIGKILL at random points, 100 times, while events keep being
//! appended (and some appends refused or rolled back): every committed event is published
//! at least once, in per-aggregate order, nothing uncommitted is published, and a read model
//! fed by the published events equals a fold of the store from scratch.
//!
//! The relay runs in a child process (the store's test binary, re-run on its ignored test
//! [`CHILD_TEST`]) and publishes into a file of its own: one
//! line per message, so what was published survives the kill and the parent can read it.
//! Publishing and marking are separate steps, exactly as with a real broker, so a kill
//! between them republishes the batch: the at-least-once case.
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
//! #[ignore = "the child process of relay_killed_at_random_points"]
//! async fn relay_child_process() {
//!     relay_crash::child::<MyStore>().await;
//! }
//!
//! #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
//! async fn relay_killed_at_random_points() {
//!     relay_crash::relay_killed_at_random_points(&store, &url).await;
//! }
//! ```

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ddd_core::testing::conformance::account::{Account, AccountEvent};
use ddd_core::{
    Aggregate as _, AppendError, AppendRequest, EventId, ExpectedVersion, Message, RawEnvelope,
    Relay, Routing, StreamId,
};

use crate::file_bus::{self, FileBus};
use crate::rng::{self, Rng};
use crate::{TestStore, child, deposit, everything};

/// The name the store's ignored test that runs [`child()`] must have.
pub const CHILD_TEST: &str = "relay_child_process";
const CHILD_URL: &str = "DDD_RELAY_CHILD_URL";
const CHILD_BUS: &str = "DDD_RELAY_CHILD_BUS";
const CHILD_BATCH: &str = "DDD_RELAY_CHILD_BATCH";
const CHILD_HOLDER: &str = "DDD_RELAY_CHILD_HOLDER";
const KILLS: u32 = 100;
const ACCOUNTS: u64 = 8;

pub(crate) fn routing() -> Routing {
    Routing::new("bank", "accounts")
}

/// The relay process: opens the store and the bus, says so, relays until killed. Returns at
/// once in a run that is not a child.
pub async fn child<S: TestStore>() {
    let (Some(url), Some(bus)) = (
        child::var::<String>(CHILD_URL),
        child::var::<PathBuf>(CHILD_BUS),
    ) else {
        return;
    };
    let batch = child::var(CHILD_BATCH).unwrap_or(8);
    let holder = child::var(CHILD_HOLDER).unwrap_or_else(uuid::Uuid::new_v4);
    let store = S::open(&url).await;
    let bus = FileBus::open(&bus);
    child::up();
    let relay = Relay::new(store, bus, routing())
        .batch_size(batch)
        .lease_holder(holder);
    let _ = relay
        .run(Duration::from_millis(1), std::future::pending())
        .await;
}

/// Appends deposits until `stop`; every few appends one is refused (a stale expectation) or
/// rolled back (the write it is part of fails). Returns the ids never committed.
pub(crate) async fn write<S: TestStore>(
    store: S,
    stop: Arc<AtomicBool>,
    seed: u64,
) -> HashSet<EventId> {
    let mut rng = Rng::new(seed);
    let mut uncommitted = HashSet::new();
    let mut n: u64 = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let amount = i64::try_from(rng.below(100) + 1).expect("amount");
        let event = deposit(rng.below(ACCOUNTS), amount);
        let id = event.event_id;
        let expected = if n.is_multiple_of(5) {
            ExpectedVersion::Exact(0)
        } else {
            ExpectedVersion::Any
        };
        let request = AppendRequest {
            stream: StreamId::new("Account", event.aggregate_id.clone()),
            expected,
            events: vec![event],
            inbox: None,
        };
        if n.is_multiple_of(7) {
            store.append_rolled_back(request).await;
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

/// What the relays published, file after file, each in its order.
fn published(files: &[PathBuf]) -> Vec<Message> {
    files
        .iter()
        .flat_map(file_bus::read)
        .map(|published| published.message)
        .collect()
}

fn account_event(raw: &RawEnvelope) -> AccountEvent {
    raw.clone()
        .decode::<AccountEvent>()
        .expect("decode")
        .expect("an account event")
        .payload
}

/// A consumer of the published events: skips ids it has seen (its inbox), folds the rest.
fn consume(published: &[Message]) -> HashMap<String, Account> {
    let mut inbox = HashSet::new();
    let mut model: HashMap<String, Account> = HashMap::new();
    for message in published {
        let envelope = &message.envelope;
        if inbox.insert(envelope.event_id) {
            model
                .entry(envelope.aggregate_id.clone())
                .or_default()
                .apply(&account_event(envelope));
        }
    }
    model
}

fn fold_from_scratch(stored: &[RawEnvelope]) -> HashMap<String, Account> {
    let mut model: HashMap<String, Account> = HashMap::new();
    for raw in stored {
        model
            .entry(raw.aggregate_id.clone())
            .or_default()
            .apply(&account_event(raw));
    }
    model
}

/// The scenario, on `store` (reachable at `url` by the children).
pub async fn relay_killed_at_random_points<S: TestStore>(store: &S, url: &str) {
    let dir = tempfile::tempdir().expect("a directory for the bus files");
    let bus_files: Vec<PathBuf> = (0..=KILLS)
        .map(|relay| dir.path().join(format!("relay-{relay}.jsonl")))
        .collect();
    let seed = rng::seed();
    eprintln!("seed {seed} (DDD_TEST_SEED to replay)");
    let mut rng = Rng::new(seed);
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(write(store.clone(), Arc::clone(&stop), seed ^ 1));
    // One relay after another, each the restart of the one killed before it: with its
    // predecessor's holder id it resumes the lease at once instead of waiting for it to
    // expire, so every relay gets to publish (and to be killed mid-batch).
    let holder = uuid::Uuid::new_v4().to_string();

    for bus in &bus_files[..bus_files.len() - 1] {
        let lifetime = Duration::from_millis(rng.below(40));
        let env = [
            (CHILD_URL, url.to_owned()),
            (CHILD_BUS, bus.display().to_string()),
            (CHILD_BATCH, (rng.below(16) + 1).to_string()),
            (CHILD_HOLDER, holder.clone()),
        ];
        child::run_and_kill(CHILD_TEST, &env, lifetime).await;
    }
    stop.store(true, Ordering::SeqCst);
    let uncommitted = writer.await.expect("writer");
    let last = bus_files.last().expect("a file for the last relay");
    Relay::new(store.clone(), FileBus::open(last), routing())
        .drain()
        .await
        .expect("the last relay drains the outbox");

    let stored = everything(store).await;
    let published = published(&bus_files);
    let stored_ids: HashSet<EventId> = stored.iter().map(|e| e.event_id).collect();
    let published_ids: HashSet<EventId> = published.iter().map(|m| m.envelope.event_id).collect();
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
    assert_in_order(&published);
    assert_eq!(
        consume(&published),
        fold_from_scratch(&stored),
        "read model = fold"
    );
}

/// The first copy of each event comes in per-aggregate version order.
pub(crate) fn assert_in_order(published: &[Message]) {
    let mut next_version: HashMap<&str, u64> = HashMap::new();
    let mut first_seen = HashSet::new();
    for message in published {
        let envelope = &message.envelope;
        if first_seen.insert(envelope.event_id) {
            let expected = next_version.entry(&envelope.aggregate_id).or_insert(1);
            assert_eq!(
                envelope.version, *expected,
                "{}: per-aggregate order",
                envelope.aggregate_id
            );
            *expected += 1;
        }
    }
}
