//! Persistence on SQLite, WAL + `synchronous=FULL`, one event per command:
//!
//! - raw rusqlite: one `INSERT` per transaction (autocommit) into a table shaped like
//!   ddd-sqlite's `ddd_events` (same columns, same unique keys): the single-commit fsync rate;
//! - ours, `store.append`: one event per append, one caller at a time;
//! - ours, `Repository`: one deposit per command, one caller at a time;
//! - ours, `Repository` with `--committers` concurrent callers (group commit);
//! - raw rusqlite with `--committers` threads, each its own connection (informative, only with
//!   `--only …,raw-many`: SQLite's write lock takes them one commit at a time).
//!
//! The disk's fsync latency drifts by a factor of 3 within seconds on a shared machine, so
//! the contenders take turns in short slices: each round every contender gets a fresh file in
//! `--dir` (default: the temp directory; it must be a real disk: a tmpfs makes fsync free)
//! and writes to it for `--seconds` in all, in `--slices` turns, the order rotating every
//! turn. A warm-up round, then `--rounds` rounds. The markdown report goes to stdout.
//!
//! ```text
//! ddd-bench-persistence-sqlite [--seconds 2] [--slices 8] [--committers 16] [--rounds 5]
//!                              [--warmup 1] [--dir DIR]
//!                              [--only raw,append,repository,repository-many,raw-many]
//! ```

#[path = "../../src/domain.rs"]
#[allow(
    dead_code,
    reason = "shared with the PostgreSQL benchmark, which uses all of it"
)]
mod domain;
#[path = "../../src/measure.rs"]
#[allow(
    dead_code,
    reason = "shared with the PostgreSQL benchmark, which uses all of it"
)]
mod measure;

use std::borrow::Cow;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ddd_core::{AppendRequest, Envelope, EventStore as _, ExpectedVersion, Repository, StreamId};
use ddd_sqlite::{SqliteStore, WriterStats};
use rusqlite::{Connection, params};
use tokio::runtime::Runtime;
use uuid::Uuid;

use crate::domain::{BankAccount, BankAccountEvent, deposit_one, open};
use crate::measure::{Sample, Series, Timer, load_average, thousands};

#[derive(Clone, Debug)]
struct Args {
    /// Profiling: run only these contenders (`raw`, `append`, `repository`,
    /// `repository-many`, `raw-many`); the report then lacks the others.
    only: Option<Vec<String>>,
    seconds: f64,
    slices: usize,
    committers: usize,
    rounds: usize,
    warmup: usize,
    dir: PathBuf,
}

const USAGE: &str = "usage: ddd-bench-persistence-sqlite [--seconds S] [--slices N] [--committers N] [--rounds N] [--warmup N] [--dir DIR] [--only raw,append,repository,repository-many,raw-many]";

impl Args {
    /// Whether `contender` runs: the ones `--only` names, by default all but `raw-many`
    /// (its committers wait in SQLite's busy handler well past their turn, so it takes several
    /// times its share of the time).
    fn runs(&self, contender: Contender) -> bool {
        match &self.only {
            Some(only) => only.iter().any(|key| key == contender.key()),
            None => contender != Contender::RawMany,
        }
    }
}

fn parse_args() -> Result<Args, String> {
    let mut args = Args {
        only: None,
        seconds: 2.0,
        slices: 8,
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
            "--slices" => args.slices = value()?.parse::<usize>().map_err(|e| bad(&e))?.max(1),
            "--committers" => {
                args.committers = value()?.parse::<usize>().map_err(|e| bad(&e))?.max(1);
            }
            "--rounds" => args.rounds = value()?.parse::<usize>().map_err(|e| bad(&e))?.max(1),
            "--warmup" => args.warmup = value()?.parse::<usize>().map_err(|e| bad(&e))?,
            "--dir" => args.dir = PathBuf::from(value()?),
            "--only" => {
                args.only = Some(value()?.split(',').map(|s| s.trim().to_owned()).collect());
            }
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

    fn key(self) -> &'static str {
        match self {
            Self::Raw => "raw",
            Self::Append => "append",
            Self::Repository => "repository",
            Self::RepositoryMany => "repository-many",
            Self::RawMany => "raw-many",
        }
    }

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
        let dir = tempfile::Builder::new()
            .prefix("ddd-bench-sqlite-")
            .tempdir_in(&args.dir)
            .expect("a temporary directory");
        let mut states: Vec<State> = Contender::ALL
            .iter()
            .map(|&contender| {
                let committers = if args.runs(contender) {
                    args.committers
                } else {
                    1
                };
                State::open(contender, committers, &runtime, dir.path())
            })
            .collect();
        let slice = Duration::from_secs_f64(args.seconds / args.slices as f64);
        for n in 0..args.slices {
            let mut order: Vec<usize> = (0..states.len()).collect();
            order.rotate_left((round + n) % states.len());
            for index in order {
                if args.runs(Contender::ALL[index]) {
                    states[index].run(slice, &runtime);
                }
            }
        }
        for (index, state) in states.into_iter().enumerate() {
            if !args.runs(Contender::ALL[index]) {
                continue;
            }
            let (sample, group) = state.finish(&runtime);
            eprintln!(
                "round {round}{}: {}: {} commits in {:.2}s = {}/s",
                if round < args.warmup {
                    " (warm-up)"
                } else {
                    ""
                },
                Contender::ALL[index].label(args.committers),
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

/// A contender's store and progress over the slices of one round, and what it did so far.
struct State {
    total: Sample,
    work: Work,
}

enum Work {
    Raw {
        connection: Connection,
        version: i64,
    },
    RawMany {
        /// A connection per committer, and its stream's version.
        committers: Vec<(Connection, i64)>,
    },
    Append {
        store: SqliteStore,
        stream: StreamId,
        version: u64,
    },
    Repository {
        store: SqliteStore,
        repository: Arc<Repository<BankAccount, SqliteStore>>,
        /// Each committer's account and its commands so far.
        accounts: Vec<(Uuid, u64)>,
        /// The writer's counts once the accounts were opened.
        opened: WriterStats,
    },
}

impl State {
    /// Opens the contender's own fresh file in `dir` (untimed).
    fn open(contender: Contender, committers: usize, runtime: &Runtime, dir: &Path) -> Self {
        let file = |name: &str| dir.join(format!("{name}.db"));
        let work = match contender {
            Contender::Raw => {
                let connection = raw_connection(&file("raw"));
                connection.execute_batch(RAW_SCHEMA).expect("schema");
                Work::Raw {
                    connection,
                    version: 0,
                }
            }
            Contender::RawMany => {
                let path = file("raw-many");
                raw_connection(&path)
                    .execute_batch(RAW_SCHEMA)
                    .expect("schema");
                Work::RawMany {
                    committers: (0..committers)
                        .map(|_| (raw_connection(&path), 0))
                        .collect(),
                }
            }
            Contender::Append => {
                let id = Uuid::now_v7();
                Work::Append {
                    store: runtime.block_on(connect(&file("append"))),
                    stream: StreamId::new(
                        <BankAccount as ddd_core::Aggregate>::TYPE,
                        id.to_string(),
                    ),
                    version: 0,
                }
            }
            Contender::Repository | Contender::RepositoryMany => {
                let committers = if contender == Contender::Repository {
                    1
                } else {
                    committers
                };
                let name = if committers == 1 {
                    "repository"
                } else {
                    "repository-many"
                };
                runtime.block_on(async {
                    let store = connect(&file(name)).await;
                    let repository = Arc::new(Repository::new(store.clone()));
                    let mut accounts = Vec::new();
                    for _ in 0..committers {
                        let id = Uuid::now_v7();
                        repository.execute(&id, open(&id)).await.expect("opens");
                        accounts.push((id, 1));
                    }
                    Work::Repository {
                        opened: store.writer_stats(),
                        store,
                        repository,
                        accounts,
                    }
                })
            }
        };
        Self {
            total: Sample {
                ops: 0,
                wall: Duration::ZERO,
                cpu: Some(Duration::ZERO),
                server_cpu: None,
            },
            work,
        }
    }

    /// Commits for `slice`, adding to the round's total.
    fn run(&mut self, slice: Duration, runtime: &Runtime) {
        let timer = Timer::start();
        let deadline = Instant::now() + slice;
        let ops = match &mut self.work {
            Work::Raw {
                connection,
                version,
            } => raw_commits(connection, "raw", version, deadline),
            Work::RawMany { committers } => std::thread::scope(|scope| {
                let threads: Vec<_> = committers
                    .iter_mut()
                    .enumerate()
                    .map(|(n, (connection, version))| {
                        scope.spawn(move || {
                            raw_commits(connection, &format!("raw-{n}"), version, deadline)
                        })
                    })
                    .collect();
                threads
                    .into_iter()
                    .map(|thread| thread.join().expect("a committer finished"))
                    .sum()
            }),
            Work::Append {
                store,
                stream,
                version,
            } => runtime.block_on(append(store, stream, version, deadline)),
            Work::Repository {
                repository,
                accounts,
                ..
            } => runtime.block_on(execute(repository, accounts, deadline)),
        };
        let sample = timer.stop(ops);
        self.total.ops += sample.ops;
        self.total.wall += sample.wall;
        self.total.cpu = self.total.cpu.zip(sample.cpu).map(|(a, b)| a + b);
    }

    /// Checks what was stored (untimed); the round's sample, and for the concurrent
    /// repository the writer's mean group size.
    fn finish(self, runtime: &Runtime) -> (Sample, Option<f64>) {
        let ops = self.total.ops;
        match self.work {
            Work::Raw { connection, .. } => assert_eq!(raw_count(&connection), ops),
            Work::RawMany { committers } => assert_eq!(raw_count(&committers[0].0), ops),
            Work::Append { store, stream, .. } => runtime.block_on(async {
                let stored = store
                    .load::<BankAccountEvent>(&stream, 0)
                    .await
                    .expect("loads")
                    .len();
                assert_eq!(stored as u64, ops);
            }),
            Work::Repository {
                store,
                accounts,
                opened,
                ..
            } => {
                runtime.block_on(async {
                    let check = Repository::<BankAccount, _>::new(store.clone());
                    for (id, count) in &accounts {
                        let root = check.load(id).await.expect("loads").expect("exists");
                        assert_eq!(
                            (root.version(), root.state().0.balance),
                            (*count, (*count - 1) as f64)
                        );
                    }
                });
                let stats = store.writer_stats();
                let group = (accounts.len() > 1).then(|| {
                    (stats.writes - opened.writes) as f64
                        / (stats.transactions - opened.transactions).max(1) as f64
                });
                return (self.total, group);
            }
        }
        (self.total, None)
    }
}

/// Ours with its defaults, or with the URL options in `OURS_OPTIONS` (`outbox=false`).
async fn connect(path: &Path) -> SqliteStore {
    let options = std::env::var("OURS_OPTIONS").map_or_else(|_| String::new(), |o| format!("?{o}"));
    SqliteStore::connect(&format!("sqlite://{}{options}", path.display()))
        .await
        .expect("ddd-sqlite opens")
}

fn raw_connection(path: &Path) -> Connection {
    let connection = Connection::open(path).expect("opens");
    connection
        .busy_timeout(Duration::from_secs(30))
        .expect("busy_timeout");
    let mode: String = connection
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .expect("WAL");
    assert_eq!(mode, "wal");
    connection
        .pragma_update(None, "synchronous", "FULL")
        .expect("synchronous=FULL");
    connection
}

fn raw_count(connection: &Connection) -> u64 {
    let stored: i64 = connection
        .query_row("SELECT count(*) FROM raw_events", [], |row| row.get(0))
        .expect("counts");
    stored.unsigned_abs()
}

/// One event per transaction on `stream` until `deadline`; how many committed.
fn raw_commits(connection: &Connection, stream: &str, version: &mut i64, deadline: Instant) -> u64 {
    let mut insert = connection.prepare_cached(RAW_INSERT).expect("prepares");
    let mut commits = 0;
    while Instant::now() < deadline {
        *version += 1;
        let event = BankAccountEvent::CustomerDepositedMoney {
            amount: 1.0,
            balance: *version as f64,
        };
        let payload = serde_json::to_string(&event).expect("serializes");
        let recorded_at = chrono::Utc::now().timestamp_micros();
        insert
            .execute(params![
                &Uuid::now_v7().as_bytes()[..],
                stream,
                *version,
                recorded_at,
                event.name(),
                payload
            ])
            .expect("inserts");
        commits += 1;
    }
    commits
}

/// `store.append` of one event at a time to `stream` until `deadline`; how many.
async fn append(
    store: &SqliteStore,
    stream: &StreamId,
    version: &mut u64,
    deadline: Instant,
) -> u64 {
    let mut appends = 0;
    while Instant::now() < deadline {
        let event = if *version == 0 {
            BankAccountEvent::AccountOpened {
                account_id: stream.aggregate_id.clone(),
            }
        } else {
            BankAccountEvent::CustomerDepositedMoney {
                amount: 1.0,
                balance: *version as f64,
            }
        };
        let event_id = Uuid::now_v7();
        let request = AppendRequest {
            stream: stream.clone(),
            expected: match *version {
                0 => ExpectedVersion::NoStream,
                v => ExpectedVersion::Exact(v),
            },
            events: vec![Envelope {
                event_id,
                aggregate_type: Cow::Borrowed(<BankAccount as ddd_core::Aggregate>::TYPE),
                aggregate_id: stream.aggregate_id.clone(),
                version: *version + 1,
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
        *version = store.append(request).await.expect("appends").version;
        appends += 1;
    }
    appends
}

/// A task per account, each depositing into its own account until `deadline`; how many
/// commands in all.
async fn execute(
    repository: &Arc<Repository<BankAccount, SqliteStore>>,
    accounts: &mut [(Uuid, u64)],
    deadline: Instant,
) -> u64 {
    let tasks: Vec<_> = accounts
        .iter()
        .map(|&(id, _)| {
            let repository = Arc::clone(repository);
            tokio::spawn(async move {
                let mut commands = 0_u64;
                while Instant::now() < deadline {
                    repository
                        .execute(&id, deposit_one())
                        .await
                        .expect("deposits");
                    commands += 1;
                }
                commands
            })
        })
        .collect();
    let mut total = 0;
    for (task, (_, count)) in tasks.into_iter().zip(accounts.iter_mut()) {
        let commands = task.await.expect("a committer finished");
        *count += commands;
        total += commands;
    }
    total
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
        "\n### SQLite append: WAL, `synchronous=FULL`, 1 event per command\n\nLoad average at start: {load}. Files in `{}`. Each round every contender writes to a fresh file of its own for {} s in all, in {} turns, the contenders' order rotating every turn (the disk's fsync latency drifts within seconds); {} warm-up round(s), then {} rounds. Ours is ddd-sqlite with its defaults (outbox rows on, group commit by its writer thread) and `Repository` with the default config (cache on, snapshot every 100 events). The raw contender inserts one row per transaction (autocommit) into a table with the same columns and unique keys as `ddd_events`, with a prepared statement, and serializes the payload per row as ours does.\n",
        args.dir.display(),
        args.seconds,
        args.slices,
        args.warmup,
        args.rounds,
    );
    out.push_str("| contender | commits/s (wall, median) | min | max | CPU µs/commit |\n|---|---:|---:|---:|---:|\n");
    for contender in Contender::ALL.into_iter().filter(|c| args.runs(*c)) {
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
    out.push_str(&of(Contender::Append).ratio_row(
        raw,
        "ours `append` / raw, 1 committer",
        Some(0.8),
    ));
    out.push_str(&of(Contender::Repository).ratio_row(
        raw,
        "ours `Repository` / raw, 1 committer",
        Some(0.8),
    ));
    out.push_str(&of(Contender::RepositoryMany).ratio_row(
        raw,
        &format!(
            "ours `Repository`, {} committers / raw, 1 committer",
            args.committers
        ),
        Some(1.0),
    ));
    if args.runs(Contender::RawMany) {
        out.push_str(&of(Contender::RawMany).ratio_row(
            raw,
            &format!("raw, {} threads / raw, 1 committer", args.committers),
            None,
        ));
    }
    out
}
