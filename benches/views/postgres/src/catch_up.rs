//! Catch-up: ddd-postgres's `advance_view` against the same upserts written with sqlx.

use ddd_core::testing::conformance::views::{TickCount, TickHistory};
use ddd_core::view::{ColumnValue, RowWrite, View, ViewStore, ViewTarget};
use ddd_postgres::PostgresStore;
use ddd_postgres::sqlx::{self, AssertSqlSafe, PgConnection};

use crate::measure::{Sample, Timer, processes_cpu};
use crate::shared::{Case, Options, Planned, rounds};
use crate::{backends, connect, execute, fill};

/// `TickCount`'s indexes here: the key, and per indexed column one ascending, per sort column
/// one descending.
const COUNT_INDEXES: usize = 6;

/// The two schemas: events over `--streams` streams, and `--rows` streams of one event.
pub(crate) struct Stores {
    pub(crate) by: PostgresStore,
    pub(crate) inserts: PostgresStore,
}

impl Stores {
    pub(crate) async fn fill(options: &Options) -> Self {
        let stores = Self {
            by: connect(options, "by").await,
            inserts: connect(options, "inserts").await,
        };
        eprintln!(
            "writing {} events over {} streams",
            options.events, options.streams
        );
        fill(&stores.by, options.events, options.streams).await;
        eprintln!("writing {} events, one per stream", options.rows);
        fill(&stores.inserts, options.rows, options.rows).await;
        stores
    }

    pub(crate) async fn drop_schemas(&self) {
        for store in [&self.by, &self.inserts] {
            if let Some(schema) = store.schema() {
                execute(store.pool(), &format!("DROP SCHEMA \"{schema}\" CASCADE")).await;
            }
        }
    }
}

fn store(case: Case, stores: &Stores) -> &PostgresStore {
    if case.of_inserts() {
        &stores.inserts
    } else {
        &stores.by
    }
}

/// One case's contenders.
struct Contest {
    case: Case,
    store: PostgresStore,
    backends: Vec<u32>,
    planned: Vec<Planned>,
    events: u64,
}

pub(crate) async fn run(options: &Options, stores: &Stores) -> String {
    let mut contests = Vec::new();
    for case in Case::ALL {
        contests.push(Contest::open(case, options, stores).await);
    }
    let contest = |case: Case| {
        contests
            .iter()
            .find(|contest| contest.case == case)
            .expect("a contest per case")
    };
    let results = rounds(
        options,
        |case, ours| async move {
            if ours {
                contest(case).ours(options.batch).await
            } else {
                contest(case).floor().await
            }
        },
        |case| contest(case).same_rows(),
    )
    .await;
    results.report(
        options,
        "Ours: `advance_view` until caught up, each step one transaction of ddd-postgres (the \
         sequencer first; then lock the checkpoint, check the table, read the events, decode, \
         load the rows, fold, upsert in one statement, save the checkpoint, commit). Raw: the \
         same upserts (computed beforehand with the same fold, one `UNNEST` statement a step) \
         and checkpoint writes, one transaction per step, with sqlx on the same pool, into a \
         table made like ours (`LIKE ... INCLUDING ALL`).",
        COUNT_INDEXES,
        true,
    )
}

impl Contest {
    async fn open(case: Case, options: &Options, stores: &Stores) -> Self {
        let store = store(case, stores).clone();
        let mut contest = Self {
            case,
            backends: backends(&store).await,
            planned: case.plan(&store, options.batch).await,
            store,
            events: 0,
        };
        contest.events = contest.ours(options.batch).await.ops;
        contest
    }

    async fn ours(&self, batch: usize) -> Sample {
        match self.case {
            Case::Count | Case::Inserts => self.catch_up::<TickCount>(batch).await,
            Case::History => self.catch_up::<TickHistory>(batch).await,
        }
    }

    /// Folds every event into a fresh table of `V`, `batch` per step; the sample counts
    /// events.
    async fn catch_up<V: View>(&self, batch: usize) -> Sample {
        let reset = format!(
            "DROP TABLE IF EXISTS ddd_view_{}; DELETE FROM ddd_checkpoints WHERE projection = '{}'",
            V::SCHEMA.table,
            V::SCHEMA.checkpoint()
        );
        execute(self.store.pool(), &reset).await;
        self.store.prepare_view(&V::SCHEMA).await.expect("prepare");
        let target = ViewTarget::live(&V::SCHEMA);
        let (timer, cpu) = (Timer::start(), processes_cpu(&self.backends));
        let mut read = 0;
        loop {
            let step = self
                .store
                .advance_view::<V>(&target, batch)
                .await
                .expect("advance");
            read += step.read;
            if step.read < batch {
                return self.stop(timer, cpu, read as u64);
            }
        }
    }

    /// The same writes with sqlx, on a table made like ours, step by step.
    async fn floor(&self) -> Sample {
        let table = self.case.table();
        let raw = format!("raw_view_{table}");
        execute(
            self.store.pool(),
            &format!(
                "DROP TABLE IF EXISTS {raw}; \
                 CREATE TABLE {raw} (LIKE ddd_view_{table} INCLUDING ALL); \
                 DELETE FROM ddd_checkpoints WHERE projection = 'raw:{table}'"
            ),
        )
        .await;
        let upsert = upsert_sql(&self.store, &raw).await;
        let checkpoint = format!("raw:{table}");
        let (timer, cpu) = (Timer::start(), processes_cpu(&self.backends));
        for step in &self.planned {
            let mut transaction = self.store.pool().begin().await.expect("begin");
            upsert_step(&mut transaction, &upsert, &step.writes).await;
            sqlx::query(
                "INSERT INTO ddd_checkpoints (projection, position) VALUES ($1, $2) \
                 ON CONFLICT (projection) DO UPDATE \
                 SET position = EXCLUDED.position, updated_at = now()",
            )
            .bind(&checkpoint)
            .bind(i64::try_from(step.checkpoint).unwrap_or(0))
            .execute(&mut *transaction)
            .await
            .expect("checkpoint");
            transaction.commit().await.expect("commit");
        }
        self.stop(timer, cpu, self.events)
    }

    fn stop(&self, timer: Timer, cpu: Option<std::time::Duration>, events: u64) -> Sample {
        let mut sample = timer.stop(events);
        sample.server_cpu = match (cpu, processes_cpu(&self.backends)) {
            (Some(start), Some(end)) => Some(end.saturating_sub(start)),
            _ => None,
        };
        sample
    }

    /// Ours and raw wrote the same rows (untimed check).
    async fn same_rows(&self) {
        let table = self.case.table();
        let differ: i64 = sqlx::query_scalar(AssertSqlSafe(format!(
            "SELECT (SELECT count(*) FROM (SELECT * FROM ddd_view_{table} \
             EXCEPT SELECT * FROM raw_view_{table}) AS a) + (SELECT count(*) FROM \
             (SELECT * FROM raw_view_{table} EXCEPT SELECT * FROM ddd_view_{table}) AS b)"
        )))
        .fetch_one(self.store.pool())
        .await
        .expect("compare");
        assert_eq!(differ, 0, "{:?}: ours and raw wrote other rows", self.case);
    }
}

/// The upsert one would write by hand for `table`: every column an array, one statement per
/// step.
async fn upsert_sql(store: &PostgresStore, table: &str) -> String {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "SELECT column_name::text, udt_name::text FROM information_schema.columns \
         WHERE table_schema = current_schema() AND table_name = $1 ORDER BY ordinal_position",
    )
    .bind(table)
    .fetch_all(store.pool())
    .await
    .expect("the table's columns");
    let names: Vec<String> = columns
        .iter()
        .map(|(name, _)| format!("\"{name}\""))
        .collect();
    let arrays: Vec<String> = (1..)
        .zip(&columns)
        .map(|(n, (_, ty))| format!("${n}::{ty}[]"))
        .collect();
    let updates: Vec<String> = names[1..]
        .iter()
        .map(|name| format!("{name} = EXCLUDED.{name}"))
        .collect();
    format!(
        "INSERT INTO {table} ({}) SELECT * FROM UNNEST({}) ON CONFLICT (\"key\") DO UPDATE SET {}",
        names.join(", "),
        arrays.join(", "),
        updates.join(", ")
    )
}

async fn upsert_step(transaction: &mut PgConnection, upsert: &str, writes: &[RowWrite]) {
    let mut query = sqlx::query(AssertSqlSafe(upsert.to_owned()))
        .bind(writes.iter().map(|w| w.key.as_str()).collect::<Vec<_>>())
        .bind(writes.iter().map(|w| w.row.as_str()).collect::<Vec<_>>())
        .bind(
            writes
                .iter()
                .map(|w| w.state.as_deref())
                .collect::<Vec<_>>(),
        )
        .bind(
            writes
                .iter()
                .map(|w| i64::try_from(w.meta.version).unwrap_or(0))
                .collect::<Vec<_>>(),
        )
        .bind(writes.iter().map(|w| w.meta.created_at).collect::<Vec<_>>())
        .bind(writes.iter().map(|w| w.meta.updated_at).collect::<Vec<_>>());
    let columns = writes.first().map_or(0, |write| write.columns.len());
    for column in 0..columns {
        let values: Vec<Option<i64>> = writes
            .iter()
            .map(|write| match write.columns[column] {
                ColumnValue::Int(value) => Some(value),
                _ => None,
            })
            .collect();
        query = query.bind(values);
    }
    query.execute(transaction).await.expect("upsert");
}
