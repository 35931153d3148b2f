//! # ddd-postgres
//!
//! The PostgreSQL adapter of ddd: an [`EventStore`](ddd_core::EventStore), an
//! [`Outbox`](ddd_core::Outbox), an [`Inbox`](ddd_core::Inbox), a
//! [`CheckpointStore`](ddd_core::CheckpointStore) and a
//! [`ViewStore`](ddd_core::view::ViewStore) in one [`PostgresStore`], plus
//! [`SqlProjectionRunner`] for read models whose rows and checkpoint commit together.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let store = ddd_postgres::PostgresStore::connect(
//!     "postgres://app@db:5432/orders?schema=orders&max_connections=20",
//! )
//! .await?;
//! # Ok(()) }
//! ```
//!
//! What it guarantees (the README has the schema and every URL option):
//! - An append is one statement in READ COMMITTED: writers of different streams never
//!   conflict or wait for each other; writers of one stream meet at a unique index and the
//!   loser gets [`AppendError::Conflict`](ddd_core::AppendError::Conflict), recognised by
//!   SQLSTATE and constraint name, never by message text.
//! - Re-appending the same event ids (a retry after a lost reply) stores nothing twice.
//! - `read_all` never skips an event that committed late: positions are given after commit,
//!   in one serialized step at a time, so the global order only grows at its end.
//! - The outbox rows and inbox mark of an append commit with its events.
//! - A view's rows and its checkpoint commit in one transaction that holds the checkpoint:
//!   replicas take turns, and each event is folded once.
//! - Migrations ship with the crate and run on connect; an unreachable server is retried.
#![warn(missing_docs)]

mod append;
mod batch;
mod checkpoint;
mod config;
mod error;
mod inbox;
mod migrate;
mod outbox;
mod row;
mod store;
#[cfg(feature = "testing")]
pub mod testing;
mod view;

pub use checkpoint::{SqlProjection, SqlProjectionRunner};
pub use config::Config;
pub use error::{ConfigError, ConnectError};
pub use store::PostgresStore;

/// sqlx, as this crate uses it, for the application's own queries on [`PostgresStore::pool`].
pub use sqlx;
