//! A view's table in the file: its name, its columns and indexes, and the check that a table
//! made earlier still has the columns the view keeps.

use ddd_core::StoreError;
use ddd_core::view::{Column, ColumnType, ViewSchema};
use rusqlite::Connection;

use crate::error::store_error;

/// Prefix of every view's table, so views never collide with the store's tables or the
/// application's.
const PREFIX: &str = "ddd_view_";

/// `name` as an SQL identifier: quoted, inner quotes doubled. The names come from generated
/// code, but a view written by hand may name its table anything.
pub(super) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// The SQL name of an indexed column: its field, prefixed so it never collides with the
/// runtime's columns (`key`, `row`, `version`...).
pub(super) fn column(name: &str) -> String {
    quote(&format!("c_{name}"))
}

/// How SQLite declares a column of `ty`: numbers sort as numbers, the rest as text by bytes
/// (the default `BINARY` collation), the order [`ColumnValue::total_cmp`] defines.
///
/// [`ColumnValue::total_cmp`]: ddd_core::view::ColumnValue::total_cmp
fn declared(ty: ColumnType) -> &'static str {
    match ty {
        ColumnType::Bool | ColumnType::Integer { .. } | ColumnType::Timestamp => "INTEGER",
        ColumnType::Real => "REAL",
        ColumnType::Text | ColumnType::Uuid | ColumnType::Enum(_) | ColumnType::Date => "TEXT",
    }
}

/// An index a view wants: its key columns, in order, each ascending or descending.
#[derive(Debug, PartialEq, Eq)]
struct Index {
    /// The name it gets when created on table `name`, before any suffix.
    base: String,
    columns: Vec<(String, bool)>,
}

/// One view's table (the live one or a rebuild's) and the SQL names its statements use.
#[derive(Debug)]
pub(super) struct Table {
    pub(super) schema: &'static ViewSchema,
    /// The table's name in the file (`ddd_view_order_summary`), unquoted.
    pub(super) name: String,
    /// The same, quoted for SQL.
    pub(super) sql: String,
}

impl Table {
    /// The table of `schema` a target names (`order_summary`, `order_summary__rebuild`).
    pub(super) fn new(schema: &'static ViewSchema, table: &str) -> Self {
        let name = format!("{PREFIX}{table}");
        Self {
            schema,
            sql: quote(&name),
            name,
        }
    }

    /// The live table of `schema`.
    pub(super) fn live(schema: &'static ViewSchema) -> Self {
        Self::new(schema, schema.table)
    }

    /// Whether the table keeps the fold's state beside the row: only when the state is
    /// more than the row, so a table says by its columns which of the two it holds.
    pub(super) fn keeps_state(&self) -> bool {
        !self.schema.state_is_row
    }

    /// The column the fold's state is read from.
    pub(super) fn state_column(&self) -> &'static str {
        if self.keeps_state() { "state" } else { "row" }
    }

    /// Every column and its declared type, in the order of the table.
    fn layout(&self) -> Vec<(String, &'static str)> {
        let mut layout = vec![("key".to_owned(), "TEXT"), ("row".to_owned(), "TEXT")];
        if self.keeps_state() {
            layout.push(("state".to_owned(), "TEXT"));
        }
        for name in ["version", "created_at", "updated_at"] {
            layout.push((name.to_owned(), "INTEGER"));
        }
        for column in self.schema.columns {
            layout.push((format!("c_{}", column.name), declared(column.ty)));
        }
        layout
    }

    /// The indexes queries need: by each filter column then key (a filter's rows come in
    /// key order), and by each sort column then key both ways, because ties go by key
    /// ascending whichever way the sort goes, and one index scanned backwards would give
    /// them descending. A sort index carries the filter columns after the key, so a sorted
    /// query with filters can walk it and check the filters without reading the rows (see
    /// `query`).
    fn indexes(&self) -> Vec<Index> {
        let name = |column: &Column| format!("c_{}", column.name);
        let mut indexes = Vec::new();
        for column in self.schema.columns {
            if column.filter && !column.sort {
                indexes.push(Index {
                    base: format!("{}__{}", self.name, name(column)),
                    columns: vec![(name(column), false), ("key".to_owned(), false)],
                });
            }
            if !column.sort {
                continue;
            }
            let filters = self
                .schema
                .columns
                .iter()
                .filter(|other| other.filter && other.name != column.name)
                .map(|other| (name(other), false));
            for (desc, suffix) in [(false, ""), (true, "_desc")] {
                let mut columns = vec![(name(column), desc), ("key".to_owned(), false)];
                columns.extend(filters.clone());
                indexes.push(Index {
                    base: format!("{}__{}{suffix}", self.name, name(column)),
                    columns,
                });
            }
        }
        indexes
    }

    fn create_sql(&self) -> String {
        let columns: Vec<String> = self
            .layout()
            .into_iter()
            .map(|(name, ty)| match name.as_str() {
                "key" => format!("{} {ty} NOT NULL PRIMARY KEY", quote(&name)),
                "row" | "state" | "version" | "created_at" | "updated_at" => {
                    format!("{} {ty} NOT NULL", quote(&name))
                }
                _ => format!("{} {ty}", quote(&name)),
            })
            .collect();
        format!(
            "CREATE TABLE IF NOT EXISTS {} ({})",
            self.sql,
            columns.join(", ")
        )
    }

    /// Creates the table and its indexes when missing; refuses a table made for other
    /// columns (the view's schema changed: a rebuild makes the new table beside it).
    pub(super) fn prepare(&self, connection: &Connection) -> Result<(), StoreError> {
        let found = self.found_layout(connection)?;
        if found.is_empty() {
            connection
                .execute(&self.create_sql(), [])
                .map_err(|error| self.error("creating the table", error))?;
        } else {
            self.check_layout(&found)?;
        }
        for index in self.indexes() {
            self.ensure_index(connection, &index)?;
        }
        Ok(())
    }

    /// The columns and declared types of the table in the file; empty when it is missing.
    fn found_layout(&self, connection: &Connection) -> Result<Vec<(String, String)>, StoreError> {
        let doing = |error| self.error("reading the table's columns", error);
        let mut statement = connection
            .prepare_cached("SELECT name, type FROM pragma_table_info(?1) ORDER BY cid")
            .map_err(doing)?;
        let rows = statement
            .query_map([&self.name], |row| Ok((row.get(0)?, row.get(1)?)))
            .map_err(doing)?;
        rows.collect::<Result<_, _>>().map_err(doing)
    }

    fn check_layout(&self, found: &[(String, String)]) -> Result<(), StoreError> {
        let wanted = self.layout();
        let same = found.len() == wanted.len()
            && found
                .iter()
                .zip(&wanted)
                .all(|((name, ty), (want, want_ty))| {
                    name == want && ty.eq_ignore_ascii_case(want_ty)
                });
        if same {
            return Ok(());
        }
        let list = |columns: Vec<String>| columns.join(", ");
        Err(StoreError::permanent(format!(
            "SQLite: view `{}`: table `{}` has the columns ({}), the view now keeps ({}); \
             its schema changed since the table was made: rebuild the view (`rebuild_view`) \
             to fold it again into a table of the new columns",
            self.schema.name,
            self.name,
            list(
                found
                    .iter()
                    .map(|(name, ty)| format!("{name} {ty}"))
                    .collect()
            ),
            list(
                wanted
                    .iter()
                    .map(|(name, ty)| format!("{name} {ty}"))
                    .collect()
            ),
        )))
    }

    /// Creates `index` unless the table has one on the same columns already. A rebuilt
    /// table keeps the names its indexes had before the swap, so a new index takes the
    /// first free name.
    fn ensure_index(&self, connection: &Connection, index: &Index) -> Result<(), StoreError> {
        if self.index_columns(connection)?.contains(&index.columns) {
            return Ok(());
        }
        let name = free_name(connection, &index.base)
            .map_err(|error| self.error("naming an index", error))?;
        let columns: Vec<String> = index
            .columns
            .iter()
            .map(|(column, desc)| {
                let order = if *desc { " DESC" } else { "" };
                format!("{}{order}", quote(column))
            })
            .collect();
        let sql = format!(
            "CREATE INDEX {} ON {} ({})",
            quote(&name),
            self.sql,
            columns.join(", ")
        );
        connection
            .execute(&sql, [])
            .map(|_| ())
            .map_err(|error| self.error("creating an index", error))
    }

    /// The key columns of every index of the table.
    fn index_columns(
        &self,
        connection: &Connection,
    ) -> Result<Vec<Vec<(String, bool)>>, StoreError> {
        let doing = |error| self.error("reading the table's indexes", error);
        let mut statement = connection
            .prepare_cached(
                "SELECT i.name, c.name, c.desc FROM pragma_index_list(?1) AS i, \
                 pragma_index_xinfo(i.name) AS c WHERE c.key = 1 ORDER BY i.name, c.seqno",
            )
            .map_err(doing)?;
        let mut rows = statement.query([&self.name]).map_err(doing)?;
        let mut indexes: Vec<(String, Vec<(String, bool)>)> = Vec::new();
        while let Some(row) = rows.next().map_err(doing)? {
            let index: String = row.get(0).map_err(doing)?;
            let column: Option<String> = row.get(1).map_err(doing)?;
            let desc: bool = row.get(2).map_err(doing)?;
            let entry = (column.unwrap_or_default(), desc);
            match indexes.last_mut() {
                Some((name, columns)) if *name == index => columns.push(entry),
                _ => indexes.push((index, vec![entry])),
            }
        }
        Ok(indexes.into_iter().map(|(_, columns)| columns).collect())
    }

    /// Drops the table if it exists (a rebuild's, before it starts again or after it failed).
    pub(super) fn drop(&self, connection: &Connection) -> Result<(), StoreError> {
        connection
            .execute(&format!("DROP TABLE IF EXISTS {}", self.sql), [])
            .map(|_| ())
            .map_err(|error| self.error("dropping the table", error))
    }

    /// Replaces `live` with this table: drops it and renames this one in its place, with
    /// its indexes (they keep their names, which [`Table::prepare`] accepts).
    pub(super) fn replace(&self, connection: &Connection, live: &Self) -> Result<(), StoreError> {
        live.drop(connection)?;
        connection
            .execute(
                &format!("ALTER TABLE {} RENAME TO {}", self.sql, live.sql),
                [],
            )
            .map(|_| ())
            .map_err(|error| self.error("renaming the rebuilt table", error))
    }

    /// Whether the table exists (a query before `prepare_view` finds no rows, not an error).
    pub(super) fn exists(&self, connection: &Connection) -> Result<bool, StoreError> {
        connection
            .prepare_cached("SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = ?1")
            .and_then(|mut statement| statement.exists([&self.name]))
            .map_err(|error| self.error("looking the table up", error))
    }

    /// An SQLite error, saying which view's table and what was being done.
    pub(super) fn error(&self, doing: &str, error: rusqlite::Error) -> StoreError {
        store_error(
            &format!(
                "view `{}`, table `{}`, {doing}",
                self.schema.name, self.name
            ),
            error,
        )
    }
}

/// `base`, or `base_2`, `base_3`... whichever no object of the file is named yet.
fn free_name(connection: &Connection, base: &str) -> Result<String, rusqlite::Error> {
    let mut statement =
        connection.prepare_cached("SELECT 1 FROM sqlite_schema WHERE name = ?1 COLLATE NOCASE")?;
    let mut name = base.to_owned();
    let mut suffix = 1;
    while statement.exists([&name])? {
        suffix += 1;
        name = format!("{base}_{suffix}");
    }
    Ok(name)
}
