//! The migrations shipped with the crate, applied on open, each in the transaction that
//! records it in `ddd_migrations`. `BEGIN IMMEDIATE` takes the write lock first, so two
//! processes opening one file apply each migration once.

use rusqlite::Connection;

use crate::error::ConnectError;

/// One numbered migration.
#[derive(Debug)]
pub(crate) struct Migration {
    pub(crate) version: i64,
    pub(crate) name: &'static str,
    pub(crate) sql: &'static str,
}

/// Every migration, in order.
pub(crate) const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "event_store",
        sql: include_str!("../migrations/0001_event_store.sql"),
    },
    Migration {
        version: 2,
        name: "outbox_inbox_checkpoints",
        sql: include_str!("../migrations/0002_outbox_inbox_checkpoints.sql"),
    },
    Migration {
        version: 3,
        name: "relay_lease",
        sql: include_str!("../migrations/0003_relay_lease.sql"),
    },
];

/// Applies the migrations the file lacks.
pub(crate) fn run(connection: &Connection) -> Result<(), ConnectError> {
    let failed = |version, name, source| ConnectError::Migration {
        version,
        name,
        source,
    };
    connection
        .execute_batch(
            "BEGIN IMMEDIATE;
             CREATE TABLE IF NOT EXISTS ddd_migrations (
                 version    INTEGER PRIMARY KEY,
                 name       TEXT NOT NULL,
                 applied_at INTEGER NOT NULL
             );",
        )
        .map_err(|source| failed(0, "migrations table", source))?;
    let outcome = apply_missing(connection);
    let end = if outcome.is_ok() {
        "COMMIT"
    } else {
        "ROLLBACK"
    };
    let ended = connection
        .execute_batch(end)
        .map_err(|source| failed(0, "commit", source));
    outcome.and(ended)
}

fn apply_missing(connection: &Connection) -> Result<(), ConnectError> {
    let applied = applied(connection).map_err(|source| ConnectError::Migration {
        version: 0,
        name: "migrations table",
        source,
    })?;
    for migration in MIGRATIONS {
        match applied
            .iter()
            .find(|(version, _)| *version == migration.version)
        {
            Some((_, name)) if name == migration.name => {}
            Some((version, name)) => {
                return Err(ConnectError::MigrationMismatch {
                    version: *version,
                    found: name.clone(),
                    expected: migration.name,
                });
            }
            None => apply(connection, migration)?,
        }
    }
    Ok(())
}

fn applied(connection: &Connection) -> Result<Vec<(i64, String)>, rusqlite::Error> {
    let mut statement =
        connection.prepare("SELECT version, name FROM ddd_migrations ORDER BY version")?;
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

fn apply(connection: &Connection, migration: &Migration) -> Result<(), ConnectError> {
    let failed = |source| ConnectError::Migration {
        version: migration.version,
        name: migration.name,
        source,
    };
    connection.execute_batch(migration.sql).map_err(failed)?;
    connection
        .execute(
            "INSERT INTO ddd_migrations (version, name, applied_at) VALUES (?1, ?2, ?3)",
            (
                migration.version,
                migration.name,
                chrono::Utc::now().timestamp_micros(),
            ),
        )
        .map_err(failed)?;
    tracing::info!(
        version = migration.version,
        name = migration.name,
        "applied migration"
    );
    Ok(())
}
