//! Test helpers: a throw-away schema per test, so tests run in parallel against one server
//! and each outbox check drains only its own outbox; and what `ddd-store-testkit`'s
//! scenarios need of the store.

mod kit;

use ddd_core::{AppendRequest, DomainEvent};
use sqlx::{ConnectOptions as _, Executor as _};

use crate::append::Prepared;
use crate::batch::explain_group;
use crate::{Config, PostgresStore};

/// The server tests use: `DATABASE_URL`, or the local default.
pub fn database_url() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A schema of its own (`ddd_test_<uuid>`), created by the first [`TestDatabase::connect`]
/// and dropped with everything in it when this value is dropped, even after a panic.
#[derive(Debug)]
pub struct TestDatabase {
    base_url: String,
    schema: String,
}

impl Default for TestDatabase {
    fn default() -> Self {
        Self::new()
    }
}

impl TestDatabase {
    /// A fresh schema name on [`database_url`]; nothing is created yet.
    pub fn new() -> Self {
        Self {
            base_url: database_url(),
            schema: format!("ddd_test_{}", uuid::Uuid::now_v7().simple()),
        }
    }

    /// The schema's name.
    pub fn schema(&self) -> &str {
        &self.schema
    }

    /// The URL of the schema, with extra `options` (`max_connections=4&outbox=false`).
    pub fn url_with(&self, options: &str) -> String {
        let separator = if self.base_url.contains('?') {
            '&'
        } else {
            '?'
        };
        let mut url = format!("{}{separator}schema={}", self.base_url, self.schema);
        if !options.is_empty() {
            url.push('&');
            url.push_str(options);
        }
        url
    }

    /// The URL of the schema.
    pub fn url(&self) -> String {
        self.url_with("")
    }

    /// A store on the schema (migrated), with a pool of at most 8 connections.
    pub async fn connect(&self) -> PostgresStore {
        self.connect_with("max_connections=8").await
    }

    /// A store on the schema with extra URL `options`.
    pub async fn connect_with(&self, options: &str) -> PostgresStore {
        let url = self.url_with(options);
        PostgresStore::connect(&url)
            .await
            .unwrap_or_else(|error| panic!("connecting to {url}: {error}; {NOT_RUNNING}"))
    }
}

/// What a test that cannot reach the server says about starting one.
const NOT_RUNNING: &str = "is PostgreSQL running there? Start it (Debian package postgresql: \
    `pg_ctlcluster <version> main start`, then `createdb test` as the postgres user) or point \
    DATABASE_URL at a server that runs";

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let (url, schema) = (self.base_url.clone(), self.schema.clone());
        // Drop runs inside the test's runtime, where blocking on another future is not
        // allowed: the cleanup gets a thread and a runtime of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|error| error.to_string())?;
            runtime.block_on(async move {
                let config = Config::from_url(&url).map_err(|error| error.to_string())?;
                let mut connection = config
                    .connect
                    .connect()
                    .await
                    .map_err(|error| error.to_string())?;
                let drop_schema =
                    format!("SET lock_timeout = '30s'; DROP SCHEMA IF EXISTS \"{schema}\" CASCADE");
                connection
                    .execute(sqlx::raw_sql(sqlx::AssertSqlSafe(drop_schema)))
                    .await
                    .map(|_| ())
                    .map_err(|error| error.to_string())
            })
        });
        if let Ok(Err(error)) = cleanup.join() {
            tracing::warn!(schema = %self.schema, %error, "test schema not dropped");
        }
    }
}

/// The statement of `EventStore::load_latest` (`$1` aggregate type, `$2` id), for tests
/// that check its plan.
pub const LOAD_LATEST: &str = crate::store::LOAD_LATEST;

/// The plan (`EXPLAIN (ANALYZE, FORMAT JSON)`) of the statement that commits `requests` as one
/// group, in the generic plan pooled connections settle on, executed in a transaction that
/// is rolled back: for tests that check what group commit reads.
///
/// # Panics
/// On a malformed request, or when the statement fails.
pub async fn explain_append_group<E: DomainEvent>(
    store: &PostgresStore,
    requests: &[AppendRequest<E>],
) -> serde_json::Value {
    let prepared: Vec<Prepared> = requests
        .iter()
        .map(|request| Prepared::new(request).expect("a well-formed request"))
        .collect();
    let members: Vec<&Prepared> = prepared.iter().collect();
    explain_group(store.pool(), &members, store.settings.outbox)
        .await
        .expect("the group statement's plan")
}
