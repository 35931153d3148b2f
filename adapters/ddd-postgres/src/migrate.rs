//! The migrations shipped with the crate, applied on connect.
//!
//! Each runs in the same transaction as its record in `ddd_migrations`, under an advisory
//! lock per schema, so services starting together apply each migration once and a failed one
//! leaves nothing behind.

use sqlx::{Connection as _, PgConnection};

use crate::error::ConnectError;

/// One numbered migration.
#[derive(Debug)]
pub(crate) struct Migration {
    pub(crate) version: i32,
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
        name: "partial_position_index",
        sql: include_str!("../migrations/0003_partial_position_index.sql"),
    },
    Migration {
        version: 4,
        name: "relay_lease",
        sql: include_str!("../migrations/0004_relay_lease.sql"),
    },
    Migration {
        version: 5,
        name: "outbox_position",
        sql: include_str!("../migrations/0005_outbox_position.sql"),
    },
    Migration {
        version: 6,
        name: "outbox_settle",
        sql: include_str!("../migrations/0006_outbox_settle.sql"),
    },
    Migration {
        version: 7,
        name: "plans_by_key",
        sql: include_str!("../migrations/0007_plans_by_key.sql"),
    },
];

/// Applies the migrations `connection`'s database lacks; creates `schema` first if named.
pub(crate) async fn run(
    connection: &mut PgConnection,
    schema: Option<&str>,
) -> Result<(), ConnectError> {
    let failed = |version, name, source| ConnectError::Migration {
        version,
        name,
        source,
    };
    let mut tx = connection
        .begin()
        .await
        .map_err(|source| failed(0, "lock", source))?;
    sqlx::query("SELECT pg_advisory_xact_lock(hashtext('ddd-migrations:' || $1))")
        .bind(schema.unwrap_or(""))
        .execute(&mut *tx)
        .await
        .map_err(|source| failed(0, "lock", source))?;
    if let Some(schema) = schema {
        // `schema` is a plain identifier: Config checked it.
        let create = format!("CREATE SCHEMA IF NOT EXISTS \"{schema}\"");
        sqlx::raw_sql(sqlx::AssertSqlSafe(create))
            .execute(&mut *tx)
            .await
            .map_err(|source| failed(0, "schema", source))?;
    }
    sqlx::raw_sql(
        "CREATE TABLE IF NOT EXISTS ddd_migrations (
            version    INTEGER PRIMARY KEY,
            name       TEXT NOT NULL,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .execute(&mut *tx)
    .await
    .map_err(|source| failed(0, "migrations table", source))?;
    let applied: Vec<(i32, String)> =
        sqlx::query_as("SELECT version, name FROM ddd_migrations ORDER BY version")
            .fetch_all(&mut *tx)
            .await
            .map_err(|source| failed(0, "migrations table", source))?;
    for migration in MIGRATIONS {
        match applied
            .iter()
            .find(|(version, _)| *version == migration.version)
        {
            Some((_, name)) if name == migration.name => continue,
            Some((version, name)) => {
                return Err(ConnectError::MigrationMismatch {
                    version: *version,
                    found: name.clone(),
                    expected: migration.name,
                });
            }
            None => apply(&mut tx, migration).await?,
        }
    }
    tx.commit()
        .await
        .map_err(|source| failed(0, "commit", source))
}

async fn apply(connection: &mut PgConnection, migration: &Migration) -> Result<(), ConnectError> {
    let failed = |source| ConnectError::Migration {
        version: migration.version,
        name: migration.name,
        source,
    };
    sqlx::raw_sql(migration.sql)
        .execute(&mut *connection)
        .await
        .map_err(failed)?;
    sqlx::query("INSERT INTO ddd_migrations (version, name) VALUES ($1, $2)")
        .bind(migration.version)
        .bind(migration.name)
        .execute(&mut *connection)
        .await
        .map_err(failed)?;
    tracing::info!(
        version = migration.version,
        name = migration.name,
        "applied migration"
    );
    Ok(())
}
