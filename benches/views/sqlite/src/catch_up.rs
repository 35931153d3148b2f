//! Catch-up: ddd-sqlite's `advance_view` against the same upserts with raw rusqlite.

use std::path::{Path, PathBuf};

use ddd_core::testing::conformance::views::{TickCount, TickHistory};
use ddd_core::view::{ColumnValue, RowWrite, View, ViewHandle, ViewRunner, ViewStore};
use ddd_sqlite::SqliteStore;
use rusqlite::Connection;
use rusqlite::types::{ToSqlOutput, ValueRef};
use tokio::runtime::Runtime;

use crate::measure::{Sample, Timer};
use crate::shared::{Case, Options, Planned, rounds};
use crate::{connect, fill, raw_connection};

/// `TickCount`'s indexes here: the key's, `count` (filter and sort) and `total` (sort) each
/// ascending and descending, `writer` (filter) once.
const COUNT_INDEXES: usize = 6;

/// The two files: events over `--streams` streams, and `--rows` streams of one event.
pub(crate) struct Files {
    pub(crate) by: PathBuf,
    pub(crate) inserts: PathBuf,
}

impl Files {
    pub(crate) async fn fill(options: &Options, dir: &Path) -> Self {
        let files = Self {
            by: dir.join("by.db"),
            inserts: dir.join("inserts.db"),
        };
        eprintln!(
            "appending {} events over {} streams",
            options.events, options.streams
        );
        fill(&connect(&files.by).await, options.events, options.streams).await;
        eprintln!("appending {} events, one per stream", options.rows);
        fill(&connect(&files.inserts).await, options.rows, options.rows).await;
        files
    }

    fn of(&self, case: Case) -> &Path {
        if case.of_inserts() {
            &self.inserts
        } else {
            &self.by
        }
    }
}

/// One case's contenders: ours' store and the raw connection on the same file.
struct Contest {
    case: Case,
    store: SqliteStore,
    raw: Connection,
    planned: Vec<Planned>,
    events: u64,
}

pub(crate) fn run(options: &Options, runtime: &Runtime, files: &Files) -> String {
    let contests: Vec<Contest> = Case::ALL
        .into_iter()
        .map(|case| runtime.block_on(Contest::open(case, options, files)))
        .collect();
    let contest = |case: Case| {
        contests
            .iter()
            .find(|contest| contest.case == case)
            .expect("a contest per case")
    };
    let results = runtime.block_on(rounds(
        options,
        |case, ours| async move {
            if ours {
                contest(case).ours(options.batch).await
            } else {
                contest(case).floor()
            }
        },
        |case| async move { contest(case).same_rows() },
    ));
    results.report(
        options,
        "Ours: `advance_view` until caught up, each step one write of ddd-sqlite (read the \
         checkpoint and the events, decode, load the rows, fold, upsert, save the checkpoint, \
         commit with an fsync). Raw: the same upserts (computed beforehand with the same fold, \
         one cached statement per row) and checkpoint writes, one transaction per step, with \
         rusqlite on a connection of its own, into a copy of ours' table and indexes in the \
         same file.",
        COUNT_INDEXES,
        false,
    )
}

impl Contest {
    async fn open(case: Case, options: &Options, files: &Files) -> Self {
        let path = files.of(case);
        let store = connect(path).await;
        let planned = case.plan(&store, options.batch).await;
        // Positions are gap-free from 1: the last is the number of events.
        let events = planned.last().map_or(0, |step| step.checkpoint);
        Self {
            case,
            raw: raw_connection(path),
            planned,
            store,
            events,
        }
    }

    async fn ours(&self, batch: usize) -> Sample {
        match self.case {
            Case::Count | Case::Inserts => self.catch_up::<TickCount>(batch).await,
            Case::History => self.catch_up::<TickHistory>(batch).await,
        }
    }

    /// Folds every event into a fresh table of `V` as a service's runner does, `batch` per
    /// step; the sample counts events.
    async fn catch_up<V: View>(&self, batch: usize) -> Sample {
        let reset = format!(
            "DROP TABLE IF EXISTS ddd_view_{}; DELETE FROM ddd_checkpoints WHERE projection = '{}'",
            V::SCHEMA.table,
            V::SCHEMA.checkpoint()
        );
        self.raw.execute_batch(&reset).expect("reset");
        self.store.prepare_view(&V::SCHEMA).await.expect("prepare");
        let handle = ViewHandle::of::<V>();
        let runner = ViewRunner::<V, _>::new(self.store.clone(), &handle).batch_size(batch);
        let timer = Timer::start();
        let applied = runner.catch_up().await.expect("catch up");
        let sample = timer.stop(self.events);
        assert_eq!(applied as u64, self.events, "every event folded");
        sample
    }

    /// The same writes with raw rusqlite, on a table made like ours, step by step.
    fn floor(&self) -> Sample {
        let table = self.case.table();
        copy_table(&self.raw, table);
        let upsert = upsert_sql(&self.raw, &format!("raw_view_{table}"));
        let checkpoint = format!("raw:{table}");
        let timer = Timer::start();
        for step in &self.planned {
            self.raw.execute_batch("BEGIN IMMEDIATE").expect("begin");
            let mut statement = self.raw.prepare_cached(&upsert).expect("upsert");
            for write in &step.writes {
                bind(&mut statement, write);
                statement.raw_execute().expect("upsert");
            }
            self.raw
                .prepare_cached(
                    "INSERT INTO ddd_checkpoints (projection, position, updated_at) \
                     VALUES (?1, ?2, 0) ON CONFLICT (projection) DO UPDATE \
                     SET position = excluded.position",
                )
                .and_then(|mut statement| {
                    statement.execute((&checkpoint, i64::try_from(step.checkpoint).unwrap_or(0)))
                })
                .expect("checkpoint");
            self.raw.execute_batch("COMMIT").expect("commit");
        }
        timer.stop(self.events)
    }

    /// Ours and raw wrote the same rows (untimed check).
    fn same_rows(&self) {
        let table = self.case.table();
        let differ: i64 = self
            .raw
            .query_row(
                &format!(
                    "SELECT (SELECT count(*) FROM (SELECT * FROM ddd_view_{table} \
                     EXCEPT SELECT * FROM raw_view_{table})) + (SELECT count(*) FROM \
                     (SELECT * FROM raw_view_{table} EXCEPT SELECT * FROM ddd_view_{table}))"
                ),
                [],
                |row| row.get(0),
            )
            .expect("compare");
        assert_eq!(differ, 0, "{:?}: ours and raw wrote other rows", self.case);
    }
}

/// `raw_view_<table>`: ours' table and indexes under other names, empty.
fn copy_table(connection: &Connection, table: &str) {
    let ours = format!("ddd_view_{table}");
    let mut statement = connection
        .prepare("SELECT sql FROM sqlite_schema WHERE tbl_name = ?1 AND sql IS NOT NULL ORDER BY type DESC")
        .expect("schema");
    let ddl: Vec<String> = statement
        .query_map([&ours], |row| row.get(0))
        .expect("schema")
        .collect::<Result<_, _>>()
        .expect("schema");
    connection
        .execute_batch(&format!("DROP TABLE IF EXISTS raw_view_{table}"))
        .expect("drop");
    for sql in ddl {
        connection
            .execute_batch(&sql.replace("ddd_view_", "raw_view_"))
            .expect("create");
    }
}

/// The upsert ours runs, written out for `table`'s columns.
fn upsert_sql(connection: &Connection, table: &str) -> String {
    let mut statement = connection
        .prepare("SELECT name FROM pragma_table_info(?1) ORDER BY cid")
        .expect("columns");
    let columns: Vec<String> = statement
        .query_map([table], |row| row.get::<_, String>(0))
        .expect("columns")
        .map(|name| format!("\"{}\"", name.expect("a column")))
        .collect();
    let values: Vec<String> = (1..=columns.len()).map(|n| format!("?{n}")).collect();
    let updates: Vec<String> = columns[1..]
        .iter()
        .map(|name| format!("{name} = excluded.{name}"))
        .collect();
    format!(
        "INSERT INTO {table} ({}) VALUES ({}) ON CONFLICT (\"key\") DO UPDATE SET {}",
        columns.join(", "),
        values.join(", "),
        updates.join(", ")
    )
}

fn bind(statement: &mut rusqlite::CachedStatement<'_>, write: &RowWrite) {
    let mut index = 0;
    let mut next = |value: &dyn rusqlite::ToSql| {
        index += 1;
        statement.raw_bind_parameter(index, value).expect("bind");
    };
    next(&write.key);
    next(&write.row);
    if let Some(state) = &write.state {
        next(state);
    }
    next(&i64::try_from(write.meta.version).unwrap_or(0));
    next(&write.meta.created_at.timestamp_micros());
    next(&write.meta.updated_at.timestamp_micros());
    for value in &write.columns {
        next(&ToSqlOutput::Borrowed(match value {
            ColumnValue::Null => ValueRef::Null,
            ColumnValue::Bool(value) => ValueRef::Integer(i64::from(*value)),
            ColumnValue::Int(value) => ValueRef::Integer(*value),
            ColumnValue::Real(value) => ValueRef::Real(*value),
            ColumnValue::Text(value) => ValueRef::Text(value.as_bytes()),
        }));
    }
}
