//! Our contender: `ddd_core::Repository` (default `RepositoryConfig`: state cache on, a
//! snapshot every 100 events) over `ddd_postgres::PostgresStore` (default options: outbox rows
//! on) in a schema of its own.
//!
//! Per command with the aggregate cached: one round trip, the append statement (version
//! check, event row, outbox row). Not cached: the latest snapshot and the stream's tail after
//! it first (two more round trips).

use std::sync::Arc;

use ddd_core::Repository;
use ddd_postgres::PostgresStore;
use ddd_postgres::sqlx::PgPool;

use crate::domain::BankAccount;

pub type Repo = Repository<BankAccount, PostgresStore>;

/// A store in `schema` (created, with its tables, by the store on connect) whose pool holds up
/// to `pool_size` connections.
pub async fn connect(url: &str, schema: &str, pool_size: u32) -> PostgresStore {
    let separator = if url.contains('?') { '&' } else { '?' };
    PostgresStore::connect(&format!(
        "{url}{separator}schema={schema}&max_connections={pool_size}"
    ))
    .await
    .expect("ddd-postgres connects")
}

/// A repository with the default configuration.
pub fn repository(store: &PostgresStore) -> Arc<Repo> {
    Arc::new(Repository::new(store.clone()))
}

/// Opens `size` connections of the pool before the clock starts, so no contender pays for
/// connecting in its timed run; the process ids of their server backends.
pub async fn warm(pool: &PgPool, size: u32) -> Vec<u32> {
    let mut held = Vec::new();
    let mut pids = Vec::new();
    for _ in 0..size {
        let mut connection = pool.acquire().await.expect("a pooled connection");
        let pid: i32 = ddd_postgres::sqlx::query_scalar("SELECT pg_backend_pid()")
            .fetch_one(&mut *connection)
            .await
            .expect("the backend's pid");
        pids.push(pid.unsigned_abs());
        held.push(connection);
    }
    pids
}

/// BankAccount events stored in the schema's `ddd_events`.
pub async fn count_events(pool: &PgPool) -> i64 {
    ddd_postgres::sqlx::query_scalar(
        "SELECT count(*) FROM ddd_events WHERE aggregate_type = 'BankAccount'",
    )
    .fetch_one(pool)
    .await
    .expect("counting events")
}

/// Prints, per pooled connection, each prepared statement's generic and custom plan counts
/// (`pg_prepared_statements`): a statement planned afresh on every execution shows up as
/// custom plans growing with the executions.
pub async fn print_plan_stats(pool: &PgPool, size: u32) {
    let mut held = Vec::new();
    for _ in 0..size {
        let mut connection = pool.acquire().await.expect("a pooled connection");
        let rows: Vec<(String, i64, i64)> = ddd_postgres::sqlx::query_as(
            "SELECT left(regexp_replace(statement, '\\s+', ' ', 'g'), 50), generic_plans, \
             custom_plans FROM pg_prepared_statements ORDER BY generic_plans + custom_plans DESC",
        )
        .fetch_all(&mut *connection)
        .await
        .expect("plan statistics");
        for (statement, generic, custom) in rows {
            eprintln!("plans: {generic:>5} generic {custom:>5} custom  {statement}");
        }
        held.push(connection);
    }
}
