//! Persistence on SQLite, WAL + `synchronous=FULL`, one event per command:
//!
//! - raw rusqlite: one `INSERT` per transaction (autocommit) into a table shaped like
//!   ddd-sqlite's `ddd_events` (same columns, same unique keys): the single-commit fsync rate;
//! - ours, `store.append`: one event per append, one caller at a time;
//! - ours, `Repository`: one deposit per command, one caller at a time;
//! - ours, `Repository` with `--committers` concurrent callers (group commit);
//! - raw rusqlite with `--committers` threads, each its own connection (informative: SQLite's
//!   write lock takes them one commit at a time).
//!
//! Each run writes for `--seconds` to a fresh file in `--dir` (default: the temp directory;
//! it must be a real disk: a tmpfs makes fsync free). A warm-up round, then `--rounds`
//! rounds; the contenders' order rotates every round. The markdown report goes to stdout.
//!
//! ```text
//! ddd-bench-persistence-sqlite [--seconds 2] [--committers 16] [--rounds 5] [--warmup 1] [--dir DIR]
//! ```

#[path = "../../src/domain.rs"]
#[allow(dead_code, reason = "shared with the PostgreSQL benchmark, which uses all of it")]
mod domain;
#[path = "../../src/measure.rs"]
#[allow(dead_code, reason = "shared with the PostgreSQL benchmark, which uses all of it")]
mod measure;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ddd_core::{AppendRequest, Envelope, EventStore as _, ExpectedVersion, Repository, StreamId};
use ddd_sqlite::SqliteStore;
use rusqlite::{Connection, params};
use tokio::runtime::Runtime;
use uuid::Uuid;

use crate::domain::{BankAccount, BankAccountEvent, deposit_one, open};
use crate::measure::{Sample, Series, Timer, load_average, thousands};

#[derive(Clone, Debug)]
struct Args {
    seconds: f64,
    committers: usize,
    rounds: usize,
    warmup: usize,
    dir: PathBuf,
}

const USAGE: &str = "usage: ddd-bench-persistence-sqlite [--seconds S] [--committers N] [--rounds N] [--warmup N] [--dir DIR]";

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        seconds: 2.0,
        committers: 16,
        rounds: 5,
        warmup: 1,
        dir: std::env::temp_dir(),
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let bad = |e: &dyn std::fmt::Display| format!("{flag}: {e}");
        match flag.as_str() {
            "--seconds" => args.seconds = value()?.parse::<f64>().map_err(|e| bad(&e))?.max(0.1),
            "--committers" => {
                args.committers = value()?.parse::<usize>().map_err(|e| bad(&e))?.max(1);
            }
            "--rounds" => args.rounds = value()?.parse::<usize>().map_err(|e| bad(&e))?.max(1),
            "--warmup" => args.warmup = value()?.parse::<usize>().map_err(|e| bad(&e))?,
            "--dir" => args.dir = PathBuf::from(value()?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(args)
}

/// ddd-sqlite's `ddd_events`, under another name, for the raw contender.
const RAW_SCHEMA: &str = "
CREATE TABLE raw_events (
    position       INTEGER PRIMARY KEY,
    event_id       BLOB NOT NULL,
    aggregate_type TEXT NOT NULL,
    aggregate_id   TEXT NOT NULL,
    version        INTEGER NOT NULL CHECK (version > 0),
    recorded_at    INTEGER NOT NULL,
    event_type     TEXT NOT NULL,
    schema_version INTEGER NOT NULL,
    correlation_id BLOB NOT NULL,
    causation_id   BLOB,
    traceparent    TEXT,
    tracestate     TEXT,
    metadata       TEXT NOT NULL,
    payload        TEXT NOT NULL,
    CONSTRAINT raw_events_event_id_key UNIQUE (event_id),
    CONSTRAINT raw_events_stream_version_key UNIQUE (aggregate_type, aggregate_id, version)
);";

const RAW_INSERT: &str = "INSERT INTO raw_events (event_id, aggregate_type, aggregate_id, \
     version, recorded_at, event_type, schema_version, correlation_id, causation_id, \
     traceparent, tracestate, metadata, payload) \
     VALUES (?1, 'BankAccount', ?2, ?3, ?4, ?5, 1, ?1, NULL, NULL, NULL, '{}', ?6)";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Contender {
    Raw,
    Append,
    Repository,
    RepositoryMany,
    RawMany,
}

impl Contender {
    const ALL: [Self; 5] = [
        Self::Raw,
        Self::Append,
        Self::Repository,
        Self::RepositoryMany,
        Self::RawMany,
    ];

    fn label(self, committers: usize) -> String {
        match self {
            Self::Raw => "raw rusqlite: `INSERT` + commit, 1 committer".into(),
            Self::Append => "**ours**: `SqliteStore::append`, 1 event, 1 committer".into(),
            Self::Repository => "**ours**: `Repository::execute`, 1 committer".into(),
            Self::RepositoryMany => {
                format!("**ours**: `Repository::execute`, {committers} concurrent committers")
            }
            Self::RawMany => format!(
                "raw rusqlite: `INSERT` + commit, {committers} threads, a connection each (informative)"
            ),
        }
    }
}

fn main() {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("a multi-thread runtime");
    let load = load_average();
    let mut series = vec![Series::default(); Contender::ALL.len()];
    let mut groups = Vec::new();
    for round in 0..args.warmup + args.rounds {
        let mut order: Vec<usize> = (0..Contender::ALL.len()).collect();
        order.rotate_left(round % Contender::ALL.len());
        for index in order {
            let contender = Contender::ALL[index];
            let dir = tempfile::Builder::new()
                .prefix("ddd-bench-sqlite-")
                .tempdir_in(&args.dir)
                .expect("a temporary directory");
            let (sample, group) = run(contender, &args, &runtime, dir.path());
            eprintln!(
                "round {round}{}: {}: {} commits in {:.2}s = {}/s",
                if round < args.warmup { " (warm-up)" } else { "" },
                contender.label(args.committers),
                sample.ops,
                sample.wall.as_secs_f64(),
                thousands(sample.rate()),
            );
            if round >= args.warmup {
                series[index].push(sample);
                if let Some(group) = group {
                    groups.push(group);
                }
            }
        }
    }
    print!("{}", report(&args, &load, &series, &groups));
}

/// One run on a fresh file; the writer's mean group size for the concurrent repository run.
fn run(contender: Contender, args: &Args, runtime: &Runtime, dir: &Path) -> (Sample, Option<f64>) {
    let duration = Duration::from_secs_f64(args.seconds);
    match contender {
        Contender::Raw => (raw(&dir.join("raw.db"), duration), None),
        Contender::RawMany => (raw_many(&dir.join("raw.db"), duration, args.committers), None),
        Contender::Append => runtime.block_on(async {
            let store = connect(dir).await;
            (append(&store, duration).await, None)
        }),
        Contender::Repository => runtime.block_on(async {
            let store = connect(dir).await;
            (repository(&store, duration, 1).await, None)
        }),
        Contender::RepositoryMany => runtime.block_on(async {
            let store = connect(dir).await;
            let before = store.writer_stats();
            let sample = repository(&store, duration, args.committers).await;
            let after = store.writer_stats();
            let group = (after.writes - before.writes) as f64
                / (after.transactions - before.transactions).max(1) as f64;
            (sample, Some(group))
        }),
    }
}

async fn connect(dir: &Path) -> SqliteStore {
    let path = dir.join("ours.db");
    SqliteStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("ddd-sqlite opens")
}

fn raw_connection(path: &Path) -> Connection {
    let connection = Connection::open(path).expect("opens");
    connection.busy_timeout(Duration::from_secs(30)).expect("busy_timeout");
    let mode: String = connection
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .expect("WAL");
    assert_eq!(mode, "wal");
    connection.pragma_update(None, "synchronous", "FULL").expect("synchronous=FULL");
    connection
}

/// One event per transaction until `duration` is up, on stream `stream`; how many committed.
fn raw_commits(connection: &Connection, stream: &str, deadline: Instant) -> u64 {
    let mut insert = connection.prepare_cached(RAW_INSERT).expect("prepares");
    let mut version = 0_i64;
    while Instant::now() < deadline {
        version += 1;
        let event = BankAccountEvent::CustomerDepositedMoney {
            amount: 1.0,
            balance: version as f64,
        };
        let payload = serde_json::to_string(&event).expect("serializes");
        let recorded_at = chrono::Utc::now().timestamp_micros();
        insert
            .execute(params![
                &Uuid::now_v7().as_bytes()[..],
                stream,
                version,
                recorded_at,
                event.name(),
                payload
            ])
            .expect("inserts");
    }
    version as u64
}

fn raw(path: &Path, duration: Duration) -> Sample {
    let connection = raw_connection(path);
    connection.execute_batch(RAW_SCHEMA).expect("schema");
    let timer = Timer::start();
    let commits = raw_commits(&connection, "raw", Instant::now() + duration);
    let sample = timer.stop(commits);
    let stored: i64 = connection
        .query_row("SELECT count(*) FROM raw_events", [], |row| row.get(0))
        .expect("counts");
    assert_eq!(stored as u64, commits);
    sample
}

fn raw_many(path: &Path, duration: Duration, committers: usize) -> Sample {
    raw_connection(path).execute_batch(RAW_SCHEMA).expect("schema");
    let connections: Vec<Connection> = (0..committers).map(|_| raw_connection(path)).collect();
    let timer = Timer::start();
    let deadline = Instant::now() + duration;
    let commits: u64 = std::thread::scope(|scope| {
        let threads: Vec<_> = connections
            .iter()
            .enumerate()
            .map(|(n, connection)| {
                scope.spawn(move || raw_commits(connection, &format!("raw-{n}"), deadline))
            })
            .collect();
        threads.into_iter().map(|t| t.join().expect("a committer finished")).sum()
    });
    timer.stop(commits)
}

/// `store.append` of one event at a time to one stream.
async fn append(store: &SqliteStore, duration: Duration) -> Sample {
    let id = Uuid::now_v7();
    let stream = StreamId::new(<BankAccount as ddd_core::Aggregate>::TYPE, id.to_string());
    let deadline = Instant::now() + duration;
    let timer = Timer::start();
    let mut version = 0_u64;
    while Instant::now() < deadline {
        let event = if version == 0 {
            BankAccountEvent::AccountOpened {
                account_id: id.to_string(),
            }
        } else {
            BankAccountEvent::CustomerDepositedMoney {
                amount: 1.0,
                balance: version as f64,
            }
        };
        let event_id = Uuid::now_v7();
        let request = AppendRequest {
            stream: stream.clone(),
            expected: match version {
                0 => ExpectedVersion::NoStream,
                v => ExpectedVersion::Exact(v),
            },
            events: vec![Envelope {
                event_id,
                aggregate_type: Cow::Borrowed(<BankAccount as ddd_core::Aggregate>::TYPE),
                aggregate_id: stream.aggregate_id.clone(),
                version: version + 1,
                position: 0,
                recorded_at: chrono::Utc::now(),
                event_type: Cow::Borrowed(event.name()),
                schema_version: 1,
                correlation_id: event_id,
                causation_id: None,
                trace: None,
                metadata: Default::default(),
                payload: event,
            }],
            inbox: None,
        };
        version = store.append(request).await.expect("appends").version;
    }
    let sample = timer.stop(version);
    let stored = store
        .load::<BankAccountEvent>(&stream, 0)
        .await
        .expect("loads")
        .len();
    assert_eq!(stored as u64, version);
    sample
}

/// `committers` tasks, each depositing into an account of its own through one repository.
async fn repository(store: &SqliteStore, duration: Duration, committers: usize) -> Sample {
    let repository = Arc::new(Repository::<BankAccount, _>::new(store.clone()));
    let ids: Vec<Uuid> = (0..committers).map(|_| Uuid::now_v7()).collect();
    let deadline = Instant::now() + duration;
    let timer = Timer::start();
    let tasks: Vec<_> = ids
        .iter()
        .map(|&id| {
            let repository = Arc::clone(&repository);
            tokio::spawn(async move {
                repository.execute(&id, open(&id)).await.expect("opens");
                let mut commands = 1_u64;
                while Instant::now() < deadline {
                    repository.execute(&id, deposit_one()).await.expect("deposits");
                    commands += 1;
                }
                commands
            })
        })
        .collect();
    let mut commands = Vec::new();
    for task in tasks {
        commands.push(task.await.expect("a committer finished"));
    }
    let sample = timer.stop(commands.iter().sum());
    let check = Repository::<BankAccount, _>::new(store.clone());
    for (id, count) in ids.iter().zip(commands) {
        let root = check.load(id).await.expect("loads").expect("exists");
        assert_eq!(
            (root.version(), root.state().0.balance),
            (count, (count - 1) as f64)
        );
    }
    sample
}

fn report(args: &Args, load: &str, series: &[Series], groups: &[f64]) -> String {
    let of = |contender: Contender| {
        &series[Contender::ALL
            .iter()
            .position(|c| *c == contender)
            .expect("listed")]
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "\n### SQLite append: WAL, `synchronous=FULL`, 1 event per command\n\nLoad average at start: {load}. Files in `{}`. Each run writes for {} s to a fresh file; {} warm-up round(s), then {} rounds, contenders interleaved. Ours is ddd-sqlite with its defaults (outbox rows on, group commit by its writer thread) and `Repository` with the default config (cache on, snapshot every 100 events). The raw contender inserts one row per transaction (autocommit) into a table with the same columns and unique keys as `ddd_events`, with a prepared statement, and serializes the payload per row as ours does.\n",
        args.dir.display(),
        args.seconds,
        args.warmup,
        args.rounds,
    );
    out.push_str("| contender | commits/s (wall, median) | min | max | CPU µs/commit |\n|---|---:|---:|---:|---:|\n");
    for contender in Contender::ALL {
        out.push_str(&of(contender).row(&contender.label(args.committers), false));
    }
    let _ = writeln!(
        out,
        "\nWith {} concurrent committers ours committed {:.1} writes per transaction (median over rounds; `SqliteStore::writer_stats`).\n",
        args.committers,
        measure::median(groups),
    );
    out.push_str("| ratio | of medians (wall) | per-round range | target |\n|---|---:|---:|---|\n");
    let raw = of(Contender::Raw);
    out.push_str(&of(Contender::Append).ratio_row(raw, "ours `append` / raw, 1 committer", Some(0.8)));
    out.push_str(&of(Contender::Repository).ratio_row(raw, "ours `Repository` / raw, 1 committer", Some(0.8)));
    out.push_str(&of(Contender::RepositoryMany).ratio_row(
        raw,
        &format!("ours `Repository`, {} committers / raw, 1 committer", args.committers),
        Some(1.0),
    ));
    out.push_str(&of(Contender::RawMany).ratio_row(
        raw,
        &format!("raw, {} threads / raw, 1 committer", args.committers),
        None,
    ));
    out
}
