//! # ddd-sqlite
//!
//! The embedded SQLite adapter of ddd, the default store of a service: one file, no server.
//! [`SqliteStore`] is an [`EventStore`](ddd_core::EventStore), an
//! [`Outbox`](ddd_core::Outbox), an [`Inbox`](ddd_core::Inbox), a
//! [`CheckpointStore`](ddd_core::CheckpointStore) and a
//! [`ViewStore`](ddd_core::view::ViewStore) (a table per view, each step's rows committed with
//! its checkpoint); [`SqlProjectionRunner`] keeps read models whose rows and checkpoint commit
//! together.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = ddd_sqlite::SqliteStore::connect("sqlite://data/orders.db").await?;
//! # Ok(()) }
//! ```
//!
//! What it guarantees (the README has the schema and every URL option):
//! - WAL with `synchronous=FULL` by default: a committed append survives a power loss.
//! - One write connection. A writer thread commits whatever is queued in one transaction
//!   (group commit): many concurrent commands share one fsync. Each write runs in its own
//!   savepoint, so one append's conflict does not fail the others; answers come after the
//!   commit. A write that finds nothing written or queued commits on its caller's thread.
//! - Global positions are the writer's rowids: gap-free, in commit order; readers (WAL
//!   snapshots) never see an event commit behind them.
//! - Re-appending the same event ids stores nothing twice; the outbox rows and inbox mark of
//!   an append commit with its events.
//! - Migrations ship with the crate and run on open.
//!
//! The SQLite driver is rusqlite rather than sqlx: on the same group-committed workload it
//! appended and loaded faster (`scripts/bench-sqlite-driver.sh`; the figures are in
//! docs/benchmarks/sqlite-driver.md).
#![warn(missing_docs)]

mod checkpoint;
mod config;
mod error;
mod inbox;
mod migrate;
mod outbox;
mod reader;
mod row;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod views;
mod writer;

pub use checkpoint::{SqlProjection, SqlProjectionRunner};
pub use config::{Config, Synchronous};
pub use error::{ConfigError, ConnectError};
pub use store::SqliteStore;
pub use writer::{WriteTx, WriterStats};

/// rusqlite, as this crate uses it, for the application's own SQL in
/// [`SqliteStore::write`] and [`SqliteStore::read`].
pub use rusqlite;
