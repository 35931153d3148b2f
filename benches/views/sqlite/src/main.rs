//! Views on SQLite, WAL + `synchronous=FULL`:
//!
//! - **catch-up**: ddd-sqlite's `advance_view` folding `--events` events, `--batch` per step
//!   (one write each: read the events, load the rows they touch, fold, upsert, checkpoint),
//!   against raw rusqlite doing the same upserts and checkpoint writes, batched in the same
//!   transactions, on a table with the same columns and indexes in the same file. The raw
//!   contender's writes are computed beforehand (untimed), so it is the floor: the writes
//!   alone. Three views: `TickCount` (a row per stream counting its events, the state is the
//!   row, three indexed columns) over `--streams` streams, `TickHistory` (state kept beside
//!   the row, no index) over the same events, and `TickCount` over `--rows` streams of one
//!   event each (every write an insert);
//! - **query**: `query_view` with one filter and a sort on the `--rows`-row table, first pages
//!   and next pages through a cursor, both sorts, against the same query in SQL on a raw
//!   read-only connection, written plainly and tuned.
//!
//! The contenders take turns, the order rotating every round; after each raw run the two
//! tables are compared row by row (untimed). The markdown report goes to stdout.
//!
//! ```text
//! ddd-bench-views-sqlite [--dir DIR] [--events 100000] [--streams 10000] [--rows 100000]
//!                        [--batch 500] [--rounds 3] [--warmup 1] [--queries 2000]
//!                        [--pages 10] [--only catch-up,query]
//! ```
//!
//! The options, the cases, the fold of the raw contender's writes, the rounds and the
//! catch-up report are the PostgreSQL benchmark's (`../shared.rs`).

mod catch_up;
#[path = "../../../persistence/src/measure.rs"]
#[allow(
    dead_code,
    reason = "shared with the persistence benchmarks, which use all of it"
)]
mod measure;
mod query;
#[path = "../../shared.rs"]
mod shared;

use std::path::{Path, PathBuf};

use ddd_core::testing::conformance::{request, tick};
use ddd_core::{AppendError, ExpectedVersion, StreamId};
use ddd_sqlite::SqliteStore;
use rusqlite::Connection;

use crate::shared::Options;

fn main() {
    let options = match Options::parse("ddd-bench-views-sqlite", &["--dir"]) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let dir = options
        .extra
        .get("--dir")
        .map_or_else(std::env::temp_dir, PathBuf::from);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a multi-thread runtime");
    let load = measure::load_average();
    let files = tempfile::Builder::new()
        .prefix("ddd-bench-views-")
        .tempdir_in(&dir)
        .expect("a temporary directory");
    let version = rusqlite::version();
    println!(
        "\n### Views on SQLite {version}: WAL, `synchronous=FULL`\n\nLoad average at start: \
         {load}. Files in `{}`; a 2-thread tokio runtime.",
        dir.display()
    );
    let files = runtime.block_on(catch_up::Files::fill(&options, files.path()));
    if options.runs("catch-up") {
        print!("{}", catch_up::run(&options, &runtime, &files));
    }
    if options.runs("query") {
        print!("{}", query::run(&options, &runtime, &files));
    }
}

/// A store on `path` with its defaults.
async fn connect(path: &Path) -> SqliteStore {
    SqliteStore::connect(&format!("sqlite://{}", path.display()))
        .await
        .expect("ddd-sqlite opens")
}

/// A raw connection on `path`, set up as ddd-sqlite sets up its writer.
fn raw_connection(path: &Path) -> Connection {
    let connection = Connection::open(path).expect("opens");
    connection
        .execute_batch(
            "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 30000",
        )
        .expect("WAL, synchronous=FULL");
    connection.set_prepared_statement_cache_capacity(64);
    connection
}

/// `events` ticks, one per append, many appends to a write (untimed set-up). As the
/// PostgreSQL benchmark writes them: the stream of event `g` is `s<(g * 2654435761) %
/// streams>`, so that consecutive events rarely share one; its writer `(g * 7919) % 10`, its
/// `n` `(g * 104729) % 1000`.
async fn fill(store: &SqliteStore, events: usize, streams: usize) {
    let ticks: Vec<(StreamId, u32, u64)> = (0..events as u64)
        .map(|g| {
            let stream = format!("s{}", (g * 2_654_435_761) % streams as u64);
            let writer = u32::try_from((g * 7919) % 10).unwrap_or(0);
            (StreamId::new("Tick", stream), writer, (g * 104_729) % 1000)
        })
        .collect();
    for chunk in ticks.chunks(1000) {
        let chunk = chunk.to_vec();
        store
            .write(move |tx| {
                for (stream, writer, n) in chunk {
                    let event = tick(&stream.aggregate_type, &stream.aggregate_id, writer, n);
                    tx.append(request(&stream, ExpectedVersion::Any, vec![event]))?;
                }
                Ok::<_, AppendError>(())
            })
            .await
            .expect("appends");
    }
}
