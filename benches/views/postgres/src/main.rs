//! Views on PostgreSQL:
//!
//! - **catch-up**: ddd-postgres's `advance_view` folding `--events` events, `--batch` per step
//!   (one transaction each: lock the checkpoint, read the events, load the rows they touch,
//!   fold, upsert, save the checkpoint), against sqlx doing the same upserts (one `UNNEST`
//!   statement per step, as ours) and checkpoint writes, batched in the same transactions, on
//!   a table made like ours (`LIKE ... INCLUDING ALL`: the same columns and indexes) in the
//!   same schema. The raw contender's writes are computed beforehand (untimed), so it is the
//!   floor: the writes alone. Three views: `TickCount` (a row per stream counting its events,
//!   the state is the row, three indexed columns) over `--streams` streams, `TickHistory`
//!   (state kept beside the row, no index) over the same events, and `TickCount` over
//!   `--rows` streams of one event each (every write an insert);
//! - **query**: `query_view` with one filter and a sort on the `--rows`-row table, first pages
//!   and next pages through a cursor, against the same query written by hand with sqlx on
//!   the same pool.
//!
//! The events are written by SQL (untimed set-up: the rows an append writes, then the
//! sequencer and `VACUUM ANALYZE`). The contenders take turns, the order rotating every round; after
//! each round the two tables are compared row by row (untimed). Every run creates schemas
//! `vbench_<pid>_*` and drops them (kept with `KEEP_SCHEMAS` set). The markdown report goes
//! to stdout, progress to stderr.
//!
//! ```text
//! ddd-bench-views-postgres [--url URL] [--events 100000] [--streams 10000] [--rows 100000]
//!                          [--batch 500] [--rounds 3] [--warmup 1] [--queries 2000]
//!                          [--pages 10] [--only catch-up,query]
//! ```

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

use ddd_postgres::PostgresStore;
use ddd_postgres::sqlx::{self, AssertSqlSafe, PgPool};

use crate::shared::Options;

/// Connections of each store's pool: a step holds one for its transaction and takes another
/// for the sequencer; the rest are spare.
const POOL: u32 = 4;

/// The server: `--url`, else `DATABASE_URL`, else the local default.
fn url(options: &Options) -> String {
    options.extra.get("--url").cloned().unwrap_or_else(|| {
        std::env::var("DATABASE_URL")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
    })
}

fn main() {
    let options = match Options::parse("ddd-bench-views-postgres", &["--url"]) {
        Ok(options) => options,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a multi-thread runtime");
    let load = measure::load_average();
    let stores = runtime.block_on(catch_up::Stores::fill(&options));
    let version: String = runtime
        .block_on(sqlx::query_scalar("SHOW server_version").fetch_one(stores.by.pool()))
        .expect("the server's version");
    println!(
        "\n### Views on PostgreSQL {version}\n\nLoad average at start: {load}. Pools of {POOL} \
         connections; a 2-thread tokio runtime."
    );
    if options.runs("catch-up") {
        print!("{}", runtime.block_on(catch_up::run(&options, &stores)));
    }
    if options.runs("query") {
        print!("{}", runtime.block_on(query::run(&options, &stores)));
    }
    if std::env::var_os("KEEP_SCHEMAS").is_none() {
        runtime.block_on(stores.drop_schemas());
    }
}

/// A store in a schema of its own, `vbench_<pid>_<tag>`, made by the store's migrations.
async fn connect(options: &Options, tag: &str) -> PostgresStore {
    let schema = format!("vbench_{}_{tag}", std::process::id());
    let url = url(options);
    let separator = if url.contains('?') { '&' } else { '?' };
    let url =
        format!("{url}{separator}schema={schema}&max_connections={POOL}&application_name={schema}");
    PostgresStore::connect(&url)
        .await
        .expect("ddd-postgres connects")
}

/// `events` ticks appended by SQL, as an append writes them (one event per append, each a
/// stream's next version), the stream of event `g` being `s<(g * 2654435761) % streams>` so
/// that consecutive events rarely share one; the writer and `n` are spread the same way.
/// Then the sequencer gives them positions in that order, and `VACUUM ANALYZE`.
async fn fill(store: &PostgresStore, events: usize, streams: usize) {
    let insert = format!(
        "INSERT INTO ddd_events (event_id, aggregate_type, aggregate_id, version, recorded_at, \
             event_type, schema_version, correlation_id, metadata, payload) \
         SELECT gen_random_uuid(), 'Tick', 's' || s, \
             row_number() OVER (PARTITION BY s ORDER BY g), \
             now(), 'Tick', 1, gen_random_uuid(), '{{}}', \
             jsonb_build_object('writer', (g * 7919) % 10, 'n', (g * 104729) % 1000) \
         FROM (SELECT g, (g * 2654435761) % {streams} AS s \
               FROM generate_series(0::bigint, {events} - 1) AS g) AS t \
         ORDER BY g"
    );
    execute(store.pool(), &insert).await;
    while store.sequence().await.expect("sequence") > 0 {}
    // As autovacuum leaves a store in use: the sequencer's updates left a dead entry per
    // event in the index of unsequenced events, which every sequencer run would walk.
    execute(store.pool(), "VACUUM ANALYZE ddd_events").await;
}

async fn execute(pool: &PgPool, sql: &str) {
    sqlx::raw_sql(AssertSqlSafe(sql.to_owned()))
        .execute(pool)
        .await
        .unwrap_or_else(|error| panic!("{sql}: {error}"));
}

/// The process ids of the server backends of `store`'s pool, whose CPU time the report
/// shows. Every connection the pool may open is opened first, so no contender pays for
/// connecting in its timed run.
async fn backends(store: &PostgresStore) -> Vec<u32> {
    let mut held = Vec::new();
    for _ in 0..POOL {
        held.push(store.pool().acquire().await.expect("a pooled connection"));
    }
    let pids: Vec<i32> =
        sqlx::query_scalar("SELECT pid FROM pg_stat_activity WHERE application_name = $1")
            .bind(store.schema())
            .fetch_all(&mut *held[0])
            .await
            .expect("the pool's backends");
    pids.into_iter().map(i32::unsigned_abs).collect()
}
