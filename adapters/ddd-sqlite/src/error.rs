//! Errors of opening, and how SQLite errors become ddd-core's [`StoreError`].

use std::path::PathBuf;
use std::time::Duration;

use ddd_core::StoreError;
use rusqlite::ErrorCode;

pub use ddd_core::store::options::ConfigError;

/// Why [`SqliteStore::connect`](crate::SqliteStore::connect) failed.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The URL or an option is wrong.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The file cannot be opened (missing directory, permissions, not a database).
    #[error("cannot open SQLite database {path}: {source}")]
    Open {
        /// The file.
        path: PathBuf,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// Another process kept the database locked for as long as `connect_retry` allows.
    #[error("SQLite database {path} stayed locked for {waited:?} ({attempts} attempts): {source}")]
    Locked {
        /// The file.
        path: PathBuf,
        /// Attempts made.
        attempts: u32,
        /// Time spent trying.
        waited: Duration,
        /// The last failure.
        #[source]
        source: rusqlite::Error,
    },
    /// The file system does not support WAL (a network file system, usually).
    #[error("SQLite database {path} cannot use WAL (journal mode is `{found}`)")]
    NoWal {
        /// The file.
        path: PathBuf,
        /// The journal mode SQLite kept.
        found: String,
    },
    /// A migration failed; the schema was left as before it.
    #[error("migration {version} ({name}) failed: {source}")]
    Migration {
        /// The migration's number.
        version: i64,
        /// Its name.
        name: &'static str,
        /// What SQLite said.
        #[source]
        source: rusqlite::Error,
    },
    /// The file holds a migration of the same number but another name.
    #[error("migration {version} in the database is `{found}`, this build expects `{expected}`")]
    MigrationMismatch {
        /// The migration's number.
        version: i64,
        /// The name recorded in the database.
        found: String,
        /// The name this build has.
        expected: &'static str,
    },
    /// The writer thread could not be started.
    #[error("cannot start the SQLite writer thread: {0}")]
    Thread(#[source] std::io::Error),
}

/// Whether an error may pass by itself: another process holds a lock, the disk is full or
/// an IO error (the transaction was not committed; retrying later may work).
pub(crate) fn is_transient(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(
            ErrorCode::DatabaseBusy
                | ErrorCode::DatabaseLocked
                | ErrorCode::SystemIoFailure
                | ErrorCode::DiskFull
                | ErrorCode::OutOfMemory
        )
    )
}

/// An SQLite error as ddd-core's store error, transient or permanent.
pub(crate) fn store_error(doing: &str, error: rusqlite::Error) -> StoreError {
    let message = format!("SQLite, {doing}: {error}");
    let store_error = if is_transient(&error) {
        StoreError::transient(message)
    } else {
        StoreError::permanent(message)
    };
    store_error.with_source(error)
}
