//! Configuration by URL: `postgres://user:password@host:port/database?schema=orders`.
//!
//! The connection options are sqlx's (`sslmode`, `application_name`, `options`, …); this
//! crate adds its own, listed in [`Config::from_url`]. Any other option is an error rather than
//! a silent no-op, so a typo does not go unnoticed.

use std::str::FromStr;
use std::time::Duration;

use ddd_core::store::options::{at_least, duration, flag, invalid};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};

use crate::error::ConfigError;

/// The options of the connection itself, passed through to sqlx.
const SQLX_OPTIONS: &[&str] = &[
    "sslmode",
    "ssl-mode",
    "sslrootcert",
    "ssl-root-cert",
    "ssl-ca",
    "sslcert",
    "ssl-cert",
    "sslkey",
    "ssl-key",
    "statement-cache-capacity",
    "host",
    "hostaddr",
    "port",
    "dbname",
    "user",
    "password",
    "application_name",
    "options",
];

/// The options this crate reads.
const OWN_OPTIONS: &[&str] = &[
    "schema",
    "max_connections",
    "min_connections",
    "acquire_timeout",
    "connect_timeout",
    "connect_retry",
    "outbox",
    "migrate",
    "sequencer_batch",
    "append_concurrency",
    "append_stall_after",
];

/// A pooled connection idle this long is pinged before it is used again.
const IDLE_BEFORE_PING: Duration = Duration::from_secs(30);

/// How to reach the database and how to use it.
#[derive(Clone, Debug)]
pub struct Config {
    pub(crate) connect: PgConnectOptions,
    pub(crate) schema: Option<String>,
    pub(crate) max_connections: u32,
    pub(crate) min_connections: u32,
    pub(crate) acquire_timeout: Duration,
    pub(crate) connect_timeout: Duration,
    pub(crate) connect_retry: Duration,
    pub(crate) outbox: bool,
    pub(crate) migrate: bool,
    pub(crate) sequencer_batch: i32,
    /// `None`: half the pool.
    pub(crate) append_concurrency: Option<u32>,
    pub(crate) append_stall_after: Duration,
}

impl Config {
    /// Parses a `postgres://` (or `postgresql://`) URL.
    ///
    /// Besides sqlx's connection options it reads:
    /// - `schema=NAME`: the schema holding the tables (created on connect); default: the
    ///   server's `search_path` (usually `public`).
    /// - `max_connections=N` (default 10), `min_connections=N` (default 0).
    /// - `acquire_timeout=DURATION`: how long a query waits for a free connection (default 30s).
    /// - `connect_timeout=DURATION`: one connection attempt (default 5s).
    /// - `connect_retry=DURATION`: how long `connect` keeps retrying an unreachable server
    ///   before giving up (default 30s; `0` tries once).
    /// - `outbox=true|false`: record every appended event in the outbox (default true).
    /// - `migrate=true|false`: run the migrations on connect (default true).
    /// - `sequencer_batch=N`: the most events one sequencer step positions (default 10000).
    /// - `append_concurrency=N`: the most append statements the store runs at once (default
    ///   half of `max_connections`, at least 1). Appends that arrive while all are busy are
    ///   committed together, in one statement and one transaction (group commit), each with
    ///   its own checks and answer; `0` runs every append in a statement of its own.
    /// - `append_stall_after=DURATION`: how long an append statement counts against
    ///   `append_concurrency` (default 100ms). One still running after that (waiting for
    ///   another transaction's lock on a stream's next version, or on a slow disk) lets the
    ///   queued appends start a statement of their own.
    ///
    /// Durations are `500ms`, `5s`, `2m`, or plain seconds.
    pub fn from_url(url: &str) -> Result<Self, ConfigError> {
        let parsed = url::Url::parse(url).map_err(|error| ConfigError::Malformed {
            url: redact(url),
            reason: error.to_string(),
        })?;
        if !matches!(parsed.scheme(), "postgres" | "postgresql") {
            return Err(ConfigError::Scheme {
                found: parsed.scheme().to_owned(),
                expected: "postgres:// or postgresql://",
            });
        }
        let mut config = Self::defaults(PgConnectOptions::new_without_pgpass());
        let mut passed = parsed.clone();
        passed.set_query(None);
        {
            let mut passed_query = passed.query_pairs_mut();
            for (key, value) in parsed.query_pairs() {
                if OWN_OPTIONS.contains(&key.as_ref()) {
                    config.set(&key, &value)?;
                } else if SQLX_OPTIONS.contains(&key.as_ref()) || key.starts_with("options[") {
                    passed_query.append_pair(&key, &value);
                } else {
                    return Err(ConfigError::UnknownOption {
                        name: key.into_owned(),
                        known: known_options(),
                    });
                }
            }
        }
        let passed = passed.as_str().trim_end_matches('?');
        config.connect =
            PgConnectOptions::from_str(passed).map_err(|error| ConfigError::Malformed {
                url: redact(url),
                reason: error.to_string(),
            })?;
        config.apply_schema();
        Ok(config)
    }

    fn defaults(connect: PgConnectOptions) -> Self {
        Self {
            connect,
            schema: None,
            max_connections: 10,
            min_connections: 0,
            acquire_timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(5),
            connect_retry: Duration::from_secs(30),
            outbox: true,
            migrate: true,
            sequencer_batch: 10_000,
            append_concurrency: None,
            append_stall_after: Duration::from_millis(100),
        }
    }

    fn set(&mut self, key: &str, value: &str) -> Result<(), ConfigError> {
        match key {
            "schema" => self.schema = Some(schema_name(value)?),
            "max_connections" => self.max_connections = at_least(key, value, 1)?,
            "min_connections" => self.min_connections = at_least(key, value, 0)?,
            "acquire_timeout" => self.acquire_timeout = duration(key, value)?,
            "connect_timeout" => self.connect_timeout = duration(key, value)?,
            "connect_retry" => self.connect_retry = duration(key, value)?,
            "outbox" => self.outbox = flag(key, value)?,
            "migrate" => self.migrate = flag(key, value)?,
            "sequencer_batch" => self.sequencer_batch = at_least(key, value, 1)?,
            "append_concurrency" => self.append_concurrency = Some(at_least(key, value, 0)?),
            "append_stall_after" => self.append_stall_after = duration(key, value)?,
            _ => unreachable!("every name of OWN_OPTIONS is matched"),
        }
        Ok(())
    }

    fn apply_schema(&mut self) {
        if let Some(schema) = &self.schema {
            self.connect = self
                .connect
                .clone()
                .options([("search_path", format!("\"{schema}\""))]);
        }
    }

    /// Uses `schema` for the tables (see `schema=` in [`Config::from_url`]).
    pub fn schema(mut self, schema: &str) -> Result<Self, ConfigError> {
        self.schema = Some(schema_name(schema)?);
        self.apply_schema();
        Ok(self)
    }

    /// Sets how long `connect` retries an unreachable server.
    #[must_use]
    pub fn connect_retry(mut self, retry: Duration) -> Self {
        self.connect_retry = retry;
        self
    }

    /// Sets the largest number of pooled connections.
    #[must_use]
    pub fn max_connections(mut self, max: u32) -> Self {
        self.max_connections = max.max(1);
        self
    }

    /// Turns the outbox on or off.
    #[must_use]
    pub fn outbox(mut self, on: bool) -> Self {
        self.outbox = on;
        self
    }

    /// The schema holding the tables, if one was named.
    pub fn schema_name(&self) -> Option<&str> {
        self.schema.as_deref()
    }

    /// `host:port` (or the socket path), for messages.
    pub fn target(&self) -> String {
        format!("{}:{}", self.connect.get_host(), self.connect.get_port())
    }

    /// Append statements run at once before appends are grouped: by default half the pool,
    /// which keeps the server busy with several groups while leaving connections for loads
    /// and the application. Measured on 2 cores with 16 connections and 16 writers: 2 at once
    /// made groups large but left the server idle between them; 16 never grouped.
    pub(crate) fn append_concurrency(&self) -> usize {
        let concurrency = self
            .append_concurrency
            .unwrap_or_else(|| (self.max_connections / 2).max(1));
        usize::try_from(concurrency).unwrap_or(usize::MAX)
    }

    pub(crate) fn pool_options(&self) -> PgPoolOptions {
        PgPoolOptions::new()
            .max_connections(self.max_connections)
            .min_connections(self.min_connections.min(self.max_connections))
            .acquire_timeout(self.acquire_timeout)
            // sqlx pings every connection it hands out: a second round trip per statement.
            // Only a connection idle long enough to have been dropped by a firewall or a
            // server restart is checked; a dead one is replaced rather than reported.
            .test_before_acquire(false)
            .before_acquire(|connection, meta| {
                Box::pin(async move {
                    if meta.idle_for < IDLE_BEFORE_PING {
                        return Ok(true);
                    }
                    Ok(sqlx::Connection::ping(connection).await.is_ok())
                })
            })
    }
}

fn known_options() -> String {
    let mut all: Vec<&str> = OWN_OPTIONS.iter().chain(SQLX_OPTIONS).copied().collect();
    all.sort_unstable();
    all.join(", ")
}

/// The URL with its password replaced, for error messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.into()
        }
        _ => url.to_owned(),
    }
}

/// Schema names are interpolated into SQL (`search_path`, `CREATE SCHEMA`), so only plain
/// identifiers are accepted.
fn schema_name(value: &str) -> Result<String, ConfigError> {
    let plain = !value.is_empty()
        && value.len() <= 63
        && value.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && value
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if plain {
        Ok(value.to_owned())
    } else {
        Err(invalid(
            "schema",
            value,
            "a schema name is 1 to 63 of a-z, 0-9 and _, not starting with a digit",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_options_are_read_and_the_rest_passed_to_sqlx() {
        let config = Config::from_url(
            "postgres://app:secret@db.internal:6543/orders?schema=billing&max_connections=20\
             &connect_retry=500ms&outbox=false&application_name=svc",
        )
        .unwrap();
        assert_eq!(config.schema_name(), Some("billing"));
        assert_eq!(config.max_connections, 20);
        assert_eq!(config.connect_retry, Duration::from_millis(500));
        assert!(!config.outbox);
        assert_eq!(config.target(), "db.internal:6543");
        assert_eq!(config.connect.get_database(), Some("orders"));
    }

    #[test]
    fn bad_urls_are_typed_errors() {
        let cases = [
            ("mysql://localhost/x", "scheme"),
            ("not a url", "malformed"),
            ("postgres://localhost/x?shema=a", "unknown option `shema`"),
            ("postgres://localhost/x?schema=Robert'); DROP", "schema"),
            ("postgres://localhost/x?max_connections=0", "too small"),
            ("postgres://localhost/x?connect_retry=5h", "unit"),
            ("postgres://localhost/x?outbox=maybe", "true or false"),
            ("postgres://localhost:99999/x", "malformed"),
        ];
        for (url, expected) in cases {
            let error = Config::from_url(url).unwrap_err().to_string();
            assert!(
                error.contains(expected),
                "{url}: `{error}` lacks `{expected}`"
            );
        }
    }

    #[test]
    fn passwords_do_not_appear_in_errors() {
        let error = Config::from_url("postgres://u:hunter2@localhost/x?bogus=1")
            .unwrap_err()
            .to_string();
        assert!(!error.contains("hunter2"), "{error}");
    }
}
