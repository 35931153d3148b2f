//! Errors of connecting, and how database errors become ddd-core's [`StoreError`].

use std::time::Duration;

use ddd_core::StoreError;

/// The names of the constraints whose violations mean something to the store. Errors are
/// recognised by SQLSTATE and constraint name, never by message text.
pub(crate) mod constraint {
    /// Two appends gave a stream the same version: a concurrency conflict.
    pub(crate) const STREAM_VERSION: &str = "ddd_events_stream_version_key";
    /// An event id was stored before: an idempotent retry.
    pub(crate) const EVENT_ID: &str = "ddd_events_event_id_key";
    /// A consumer's inbox already holds the event.
    pub(crate) const INBOX: &str = "ddd_inbox_pkey";
}

pub use ddd_core::store::options::ConfigError;

/// Why [`PostgresStore::connect`](crate::PostgresStore::connect) failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL or an option is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The server did not answer, or not in time, for as long as `connect_retry` allows.
    #[error(
        "PostgreSQL at {target} is unreachable after {attempts} attempts over {waited:?}: {source}"
    )]
    Unreachable {
        /// `host:port`.
        target: String,
        /// Connection attempts made.
        attempts: u32,
        /// Time spent trying.
        waited: Duration,
        /// The last failure.
        #[source]
        source: sqlx::Error,
    },
    /// The server answered and refused (authentication, unknown database, TLS): retrying
    /// would not help.
    #[error("PostgreSQL at {target} refused the connection: {source}")]
    Refused {
        /// `host:port`.
        target: String,
        /// What the server said.
        #[source]
        source: sqlx::Error,
    },
    /// A migration failed; the schema was left as before it.
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        /// The migration's number.
        version: i32,
        /// Its name.
        name: &'static str,
        /// What the server said.
        #[source]
        source: sqlx::Error,
    },
    /// The database holds a migration of the same number but another name: it was set up
    /// by a different program or version.
    #[error("migration {version} in the database is `{found}`, this build expects `{expected}`")]
    MigrationMismatch {
        /// The migration's number.
        version: i32,
        /// The name recorded in the database.
        found: String,
        /// The name this build has.
        expected: &'static str,
    },
}

/// The constraint a unique violation (SQLSTATE 23505) broke.
pub(crate) fn unique_violation(error: &sqlx::Error) -> Option<&str> {
    match error {
        sqlx::Error::Database(db) if db.code().as_deref() == Some("23505") => db.constraint(),
        _ => None,
    }
}

/// Whether the statement named a table that does not exist (SQLSTATE 42P01).
pub(crate) fn undefined_table(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.code().as_deref() == Some("42P01"))
}

/// Whether an error may pass by itself: a lost connection, a server shutting down or
/// starting up, a serialization failure or deadlock, a timeout.
pub(crate) fn is_transient(error: &sqlx::Error) -> bool {
    match error {
        sqlx::Error::Io(_)
        | sqlx::Error::PoolTimedOut
        | sqlx::Error::WorkerCrashed
        | sqlx::Error::Protocol(_) => true,
        sqlx::Error::Database(db) => db.code().is_some_and(|code| {
            // 08: connection exception, 40001/40P01: serialization failure/deadlock,
            // 53: insufficient resources, 57P0x: admin/crash shutdown, cannot connect now.
            code.starts_with("08")
                || code.starts_with("53")
                || matches!(
                    code.as_ref(),
                    "40001" | "40P01" | "57P01" | "57P02" | "57P03"
                )
        }),
        _ => false,
    }
}

/// A database error as ddd-core's store error, transient or permanent.
pub(crate) fn store_error(doing: &str, error: sqlx::Error) -> StoreError {
    let message = format!("PostgreSQL, {doing}: {error}");
    let store_error = if is_transient(&error) {
        StoreError::transient(message)
    } else {
        StoreError::permanent(message)
    };
    store_error.with_source(error)
}
