//! Loading an aggregate of 2,000 `MoneyDeposited` events written as v1 (each upcast to v2 on
//! decode) against one of 2,000 written as v2, through `Repository::load` with an empty cache
//! (a fresh repository per load, as after a restart) on SQLite; and, as the upper bound of
//! the overhead, decoding the same encoded events alone (no store, no apply). Both streams
//! start with `Opened`. The in-memory store is left out: it hands events back typed when they
//! are read as the type they were written with, so only the v1 stream would be decoded.
//! Rounds alternate the two streams so that drift in the machine's load falls on both; the
//! report is the median per load and their ratio.
//!
//! `ddd-bench-upcast [--events N] [--rounds R] [--loads L]`

use std::time::{Duration, Instant};

use bank_account::{Account, AccountEvent, AccountId};
use ddd_core::{
    AppendRequest, DomainEvent, Envelope, EventStore, ExpectedVersion, RawEnvelope, Repository,
    StreamId,
};
use serde::{Deserialize, Serialize};

/// `MoneyDeposited` as the build before v2 wrote it.
#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
#[event(name = "MoneyDeposited", version = 1)]
struct DepositedV1 {
    amount: i64,
}

struct Args {
    events: usize,
    rounds: usize,
    loads: usize,
}

fn args() -> Args {
    let mut args = Args {
        events: 2_000,
        rounds: 15,
        loads: 20,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let value = given
            .next()
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| usage(&flag));
        match flag.as_str() {
            "--events" => args.events = value,
            "--rounds" => args.rounds = value,
            "--loads" => args.loads = value,
            _ => usage(&flag),
        }
    }
    args
}

fn usage(flag: &str) -> ! {
    eprintln!(
        "bad argument `{flag}`; usage: ddd-bench-upcast [--events N] [--rounds R] [--loads L]"
    );
    std::process::exit(2)
}

/// An event of the account's stream, as a build at the event's version records it.
fn envelope<E: DomainEvent>(id: AccountId, payload: E) -> Envelope<E> {
    Envelope {
        event_id: uuid::Uuid::now_v7(),
        aggregate_type: "Account".into(),
        aggregate_id: id.to_string(),
        version: 0,
        position: 0,
        recorded_at: chrono::Utc::now(),
        event_type: payload.event_type().into(),
        schema_version: payload.schema_version(),
        correlation_id: uuid::Uuid::now_v7(),
        causation_id: None,
        trace: None,
        metadata: Default::default(),
        payload,
    }
}

async fn append<S: EventStore, E: DomainEvent>(store: &S, id: AccountId, events: Vec<Envelope<E>>) {
    store
        .append(AppendRequest {
            stream: StreamId::new("Account", id.to_string()),
            expected: ExpectedVersion::Any,
            events,
            inbox: None,
        })
        .await
        .expect("the stream is stored");
}

/// An opened account with `events` deposits, written as v1 (`amount`) or as v2 (`cents`).
async fn account<S: EventStore>(store: &S, events: usize, schema_version: u32) -> AccountId {
    let id = AccountId::new();
    let opened = AccountEvent::Opened {
        owner: "Ada".into(),
        currency: "EUR".into(),
    };
    append(store, id, vec![envelope(id, opened)]).await;
    if schema_version == 1 {
        let deposits = (0..events)
            .map(|_| envelope(id, DepositedV1 { amount: 5 }))
            .collect();
        append(store, id, deposits).await;
    } else {
        let deposits = (0..events)
            .map(|_| envelope(id, AccountEvent::Deposited { cents: 5 }))
            .collect();
        append(store, id, deposits).await;
    }
    id
}

/// The median time of one load over `rounds` rounds of `loads` loads.
async fn load<S: EventStore + Clone>(store: &S, id: AccountId, loads: usize) -> Duration {
    let started = Instant::now();
    for _ in 0..loads {
        let repository = Repository::<Account, S>::new(store.clone());
        let root = repository
            .load(&id)
            .await
            .expect("it loads")
            .expect("it exists");
        assert!(root.state().is_open());
        std::hint::black_box(root);
    }
    started.elapsed() / u32::try_from(loads).unwrap_or(u32::MAX)
}

/// The events of one stream, encoded as a store returns them.
fn encoded(events: usize, schema_version: u32) -> Vec<RawEnvelope> {
    let id = AccountId::new();
    (0..events)
        .map(|_| {
            if schema_version == 1 {
                envelope(id, DepositedV1 { amount: 5 }).to_raw()
            } else {
                envelope(id, AccountEvent::Deposited { cents: 5 }).to_raw()
            }
            .expect("it encodes")
        })
        .collect()
}

/// The time of decoding every event of `stream` once, median over the rounds.
fn decode(stream: &[RawEnvelope], loads: usize) -> Duration {
    let started = Instant::now();
    for _ in 0..loads {
        for raw in stream {
            let event = raw
                .clone()
                .decode_own::<AccountEvent>()
                .expect("it decodes");
            std::hint::black_box(event);
        }
    }
    started.elapsed() / u32::try_from(loads).unwrap_or(u32::MAX)
}

fn decode_only(args: &Args) {
    let (old, current) = (encoded(args.events, 1), encoded(args.events, 2));
    decode(&old, args.loads);
    decode(&current, args.loads);
    let (mut upcast, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..args.rounds {
        upcast.push(decode(&old, args.loads));
        plain.push(decode(&current, args.loads));
    }
    row("decoding only", args.events, median(plain), median(upcast));
}

fn row(name: &str, events: usize, plain: Duration, upcast: Duration) {
    println!(
        "| {name} | {events} | {:.2} | {:.2} | {:.2}x |",
        plain.as_secs_f64() * 1e3,
        upcast.as_secs_f64() * 1e3,
        upcast.as_secs_f64() / plain.as_secs_f64()
    );
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

async fn compare<S: EventStore + Clone>(name: &str, store: S, args: &Args) {
    let old = account(&store, args.events, 1).await;
    let current = account(&store, args.events, 2).await;
    // Both decode to the same state: the upcast is right before it is timed.
    let state = |id| {
        let store = store.clone();
        async move {
            let repository = Repository::<Account, S>::new(store);
            let root = repository
                .load(&id)
                .await
                .expect("it loads")
                .expect("it exists");
            root.state().balance().cents
        }
    };
    assert_eq!(state(old).await, state(current).await);
    // One warm-up round each.
    load(&store, old, args.loads).await;
    load(&store, current, args.loads).await;
    let (mut upcast, mut plain) = (Vec::new(), Vec::new());
    for _ in 0..args.rounds {
        upcast.push(load(&store, old, args.loads).await);
        plain.push(load(&store, current, args.loads).await);
    }
    row(name, args.events, median(plain), median(upcast));
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let args = args();
    println!(
        "| path | events | current v2 (ms per load) | v1, one upcast step (ms per load) | ratio |"
    );
    println!("|---|--:|--:|--:|--:|");
    decode_only(&args);
    let dir = tempfile::tempdir().expect("a directory");
    let sqlite = ddd_sqlite::SqliteStore::open(dir.path().join("bench.db"))
        .await
        .expect("SQLite opens");
    compare("`Repository::load` on SQLite (a file)", sqlite, &args).await;
}
