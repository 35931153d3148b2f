//! One step of a view in the writer's transaction: the events after its checkpoint, the rows
//! they touch, the fold, the writes and the new checkpoint, all committed together.

use chrono::{DateTime, Utc};
use ddd_core::StoreError;
use ddd_core::view::{
    Advanced, ColumnValue, RowMeta, RowWrite, StoredRow, View, ViewBatch, ViewError, ViewTarget,
};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};

use super::table::{Table, column, quote};
use crate::checkpoint;
use crate::store::{events_after, signed};
use crate::writer::WriteTx;

/// What one step did, and the event it stopped before: reported once its writes commit.
#[derive(Debug)]
pub(super) struct Step {
    pub(super) advanced: Advanced,
    pub(super) failure: Option<ViewError>,
}

impl Step {
    pub(super) fn into_result(self) -> Result<Advanced, ViewError> {
        match self.failure {
            Some(failure) => Err(failure),
            None => Ok(self.advanced),
        }
    }
}

/// Folds up to `limit` events after `target`'s checkpoint into its table and moves the
/// checkpoint, in `tx`: the writer's transaction holds the file's write lock, so another
/// runner of the view (a thread or a process) waits and then starts where this one stopped.
pub(super) fn advance<V: View>(
    tx: &WriteTx<'_>,
    target: &ViewTarget,
    limit: usize,
) -> Result<Step, StoreError> {
    let connection = tx.connection();
    let from = checkpoint::load(connection, &target.checkpoint)?;
    let batch = ViewBatch::<V>::decode(from, events_after(connection, from, limit)?);
    if batch.is_empty() {
        return Ok(Step {
            advanced: Advanced {
                checkpoint: from,
                ..Advanced::default()
            },
            failure: None,
        });
    }
    let table = Table::new(&V::SCHEMA, &target.table);
    let loaded = load(connection, &table, &batch.keys())?;
    let folded = batch.fold(&loaded)?;
    write(connection, &table, &folded.writes)?;
    checkpoint::save(tx, &target.checkpoint, folded.advanced.checkpoint)?;
    Ok(Step {
        advanced: folded.advanced,
        failure: folded.failure,
    })
}

/// The stored rows among `keys`, one cached lookup by primary key each.
fn load(
    connection: &Connection,
    table: &Table,
    keys: &[&str],
) -> Result<Vec<StoredRow>, StoreError> {
    let sql = format!(
        r#"SELECT {}, "version", "created_at", "updated_at" FROM {} WHERE "key" = ?1"#,
        quote(table.state_column()),
        table.sql
    );
    let doing = |error| table.error("loading rows", error);
    let mut statement = connection.prepare_cached(&sql).map_err(doing)?;
    let mut loaded = Vec::with_capacity(keys.len());
    for key in keys {
        let mut rows = statement.query([key]).map_err(doing)?;
        if let Some(row) = rows.next().map_err(doing)? {
            let version: i64 = row.get(1).map_err(doing)?;
            loaded.push(StoredRow {
                key: (*key).to_owned(),
                state: row.get(0).map_err(doing)?,
                meta: RowMeta {
                    version: u64::try_from(version).unwrap_or(0),
                    created_at: micros(table, key, "created_at", row.get(2).map_err(doing)?)?,
                    updated_at: micros(table, key, "updated_at", row.get(3).map_err(doing)?)?,
                },
            });
        }
    }
    Ok(loaded)
}

fn micros(table: &Table, key: &str, what: &str, value: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(value).ok_or_else(|| {
        StoreError::permanent(format!(
            "SQLite: view `{}`, row `{key}` of `{}` has a bad {what}: {value}",
            table.schema.name, table.name
        ))
    })
}

/// Inserts or replaces every row of `writes`, with one cached statement.
fn write(connection: &Connection, table: &Table, writes: &[RowWrite]) -> Result<(), StoreError> {
    let doing = |error| table.error("writing rows", error);
    let mut statement = connection
        .prepare_cached(&upsert_sql(table))
        .map_err(doing)?;
    for write in writes {
        let mut index = 0;
        let mut bind = |value: &dyn ToSql| {
            index += 1;
            statement.raw_bind_parameter(index, value)
        };
        bind(&write.key).map_err(doing)?;
        bind(&write.row).map_err(doing)?;
        if table.keeps_state() {
            bind(&write.state).map_err(doing)?;
        }
        bind(&signed(write.meta.version)).map_err(doing)?;
        bind(&write.meta.created_at.timestamp_micros()).map_err(doing)?;
        bind(&write.meta.updated_at.timestamp_micros()).map_err(doing)?;
        for value in &write.columns {
            bind(&ToSqlOutput::Borrowed(value_ref(value))).map_err(doing)?;
        }
        statement.raw_execute().map_err(doing)?;
    }
    Ok(())
}

/// `INSERT ... ON CONFLICT (key) DO UPDATE`: an update in place keeps the row's rowid, where
/// `INSERT OR REPLACE` would delete and insert it again.
fn upsert_sql(table: &Table) -> String {
    let mut columns = vec!["key", "row"];
    if table.keeps_state() {
        columns.push("state");
    }
    columns.extend(["version", "created_at", "updated_at"]);
    let columns: Vec<String> = columns
        .into_iter()
        .map(quote)
        .chain(table.schema.columns.iter().map(|c| column(c.name)))
        .collect();
    let placeholders: Vec<String> = (1..=columns.len()).map(|n| format!("?{n}")).collect();
    let updates: Vec<String> = columns
        .iter()
        .skip(1)
        .map(|name| format!("{name} = excluded.{name}"))
        .collect();
    format!(
        r#"INSERT INTO {} ({}) VALUES ({}) ON CONFLICT ("key") DO UPDATE SET {}"#,
        table.sql,
        columns.join(", "),
        placeholders.join(", "),
        updates.join(", ")
    )
}

/// `value` as SQLite keeps it: a boolean as 0 or 1.
pub(super) fn value_ref(value: &ColumnValue) -> ValueRef<'_> {
    match value {
        ColumnValue::Null => ValueRef::Null,
        ColumnValue::Bool(value) => ValueRef::Integer(i64::from(*value)),
        ColumnValue::Int(value) => ValueRef::Integer(*value),
        ColumnValue::Real(value) => ValueRef::Real(*value),
        ColumnValue::Text(value) => ValueRef::Text(value.as_bytes()),
    }
}
