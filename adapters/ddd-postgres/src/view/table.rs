//! A view's table: its names, its DDL, and the statements that read and write its rows.
//!
//! Identifiers come from the view's [`ViewSchema`] (code, not requests), are checked to be
//! plain lower-case names that fit PostgreSQL's 63 bytes (a longer one would be truncated
//! silently, and two views could meet in one table), and are quoted in every statement.

use chrono::{DateTime, Utc};
use ddd_core::StoreError;
use ddd_core::view::{ColumnType, ColumnValue, RowMeta, RowWrite, StoredRow, ViewSchema};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgConnection, Row as _};

use crate::error::store_error;

/// Before every view's table, so views meet neither the store's tables nor the application's.
const PREFIX: &str = "ddd_view_";

/// PostgreSQL's longest identifier (`NAMEDATALEN - 1`).
const MAX_IDENTIFIER: usize = 63;

/// The columns every view table has, before the indexed ones, in the order the upsert binds
/// them.
const FIXED: &str = r#""key", "row", "state", "version", "created_at", "updated_at""#;

/// One table of a view (the live one or a rebuild's), with its names checked.
#[derive(Debug)]
pub(crate) struct Table {
    pub(crate) schema: &'static ViewSchema,
    /// Unquoted: `ddd_view_order_summary`.
    name: String,
}

/// How PostgreSQL keeps a [`ColumnType`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Bool,
    Int,
    Real,
    Text,
}

/// A query parameter or a row's value in the SQL type of its column.
#[derive(Debug)]
pub(crate) enum Typed {
    Bool(Option<bool>),
    Int(Option<i64>),
    Real(Option<f64>),
    Text(Option<String>),
}

/// An indexed column's values for one upsert, one array per column.
enum Values {
    Bool(Vec<Option<bool>>),
    Int(Vec<Option<i64>>),
    Real(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
}

pub(crate) type Query<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

impl Table {
    /// The table `table` (a [`ViewTarget`](ddd_core::view::ViewTarget)'s) of `schema`.
    ///
    /// # Errors
    /// A table or column name that is not a plain lower-case identifier, or that makes a
    /// table or index name longer than PostgreSQL keeps.
    pub(crate) fn new(schema: &'static ViewSchema, table: &str) -> Result<Self, StoreError> {
        let table = Self {
            schema,
            name: format!("{PREFIX}{table}"),
        };
        let names = std::iter::once(table.name.clone())
            .chain(std::iter::once(table.primary_key()))
            .chain(table.indexed().map(|(index, _)| index));
        for name in names {
            if !plain(&name) || name.len() > MAX_IDENTIFIER {
                return Err(StoreError::permanent(format!(
                    "view `{}`: `{name}` is not a table or index name PostgreSQL keeps as it is \
                     (lower-case letters, digits and `_`, at most {MAX_IDENTIFIER} bytes): \
                     shorten the view's table or column names",
                    schema.name
                )));
            }
        }
        Ok(table)
    }

    /// The quoted table name.
    pub(crate) fn quoted(&self) -> String {
        quote(&self.name)
    }

    /// The name of its primary key (and of the key's index).
    fn primary_key(&self) -> String {
        format!("{}_pkey", self.name)
    }

    /// Its indexes besides the key: the index's name and what it is ordered by.
    ///
    /// Each `@filter` or `@sort` column has one on the column, then the key: a filtered page
    /// is one range of it in key order, an ascending page one range in the sort's order. A
    /// `@sort` column has a second one descending, then the key ascending: ties go by key
    /// either way, so a descending page read backwards from the first index would need its
    /// ties sorted again (a sort of every row of each tied value before the first row comes
    /// out). NULL sorts first ascending, last descending, as in
    /// [`ColumnValue::total_cmp`](ddd_core::view::ColumnValue::total_cmp).
    fn indexed(&self) -> impl Iterator<Item = (String, String)> + '_ {
        self.schema.columns.iter().flat_map(|column| {
            let name = column_name(column.name);
            let ascending = (column.filter || column.sort).then(|| {
                (
                    format!("{}_c_{}", self.name, column.name),
                    format!(r#"{name} ASC NULLS FIRST, "key""#),
                )
            });
            let descending = column.sort.then(|| {
                (
                    format!("{}_d_{}", self.name, column.name),
                    format!(r#"{name} DESC NULLS LAST, "key""#),
                )
            });
            ascending.into_iter().chain(descending)
        })
    }

    /// What the table's comment says about the schema it was made for: the view, where the
    /// fold's state is kept and each indexed column's SQL type. A build whose view says
    /// otherwise must not fold into it (the rows were made by another fold).
    pub(crate) fn fingerprint(&self) -> String {
        let state = if self.schema.state_is_row {
            "the row"
        } else {
            "its own column"
        };
        let columns: Vec<String> = self
            .schema
            .columns
            .iter()
            .map(|column| format!("{} {}", column_name(column.name), sql_type(column.ty)))
            .collect();
        format!(
            "ddd view {}: state in {state}; columns: {}",
            self.schema.name,
            if columns.is_empty() {
                "(none)".to_owned()
            } else {
                columns.join(", ")
            }
        )
    }

    /// Creates the table, its indexes and its comment.
    pub(crate) async fn create(&self, transaction: &mut PgConnection) -> Result<(), StoreError> {
        let columns: String = self
            .schema
            .columns
            .iter()
            .map(|column| {
                let collate = if sql_type(column.ty) == "text" {
                    r#" COLLATE "C""#
                } else {
                    ""
                };
                format!(
                    ",\n    {} {}{collate}",
                    column_name(column.name),
                    sql_type(column.ty)
                )
            })
            .collect();
        // Keys and text columns compare by bytes (`C`), the order of `ColumnValue::total_cmp`.
        let create = format!(
            r#"CREATE TABLE {table} (
    "key"        TEXT COLLATE "C" NOT NULL,
    "row"        TEXT NOT NULL,
    "state"      TEXT,
    "version"    BIGINT NOT NULL,
    "created_at" TIMESTAMPTZ NOT NULL,
    "updated_at" TIMESTAMPTZ NOT NULL{columns},
    CONSTRAINT {pkey} PRIMARY KEY ("key")
);
COMMENT ON TABLE {table} IS {comment}"#,
            table = self.quoted(),
            pkey = quote(&self.primary_key()),
            comment = literal(&self.fingerprint()),
        );
        execute(transaction, create, "creating a view's table").await?;
        self.create_indexes(transaction).await
    }

    /// Creates the indexes that are missing (one dropped by hand, one of a column that was
    /// neither `@filter` nor `@sort` when the table was made). Those there are left alone:
    /// even `IF NOT EXISTS` would wait for the table's writers first.
    pub(crate) async fn create_indexes(
        &self,
        transaction: &mut PgConnection,
    ) -> Result<(), StoreError> {
        let existing: Vec<String> = sqlx::query_scalar(
            "SELECT indexname::text FROM pg_indexes \
             WHERE schemaname = current_schema() AND tablename = $1",
        )
        .bind(&self.name)
        .fetch_all(&mut *transaction)
        .await
        .map_err(|error| store_error("reading a view's indexes", error))?;
        for (index, on) in self.indexed() {
            if existing.contains(&index) {
                continue;
            }
            let create = format!("CREATE INDEX {} ON {} ({on})", quote(&index), self.quoted());
            execute(transaction, create, "creating a view's index").await?;
        }
        Ok(())
    }

    /// Drops the table, its rows and its indexes.
    pub(crate) async fn drop_if_exists(
        &self,
        transaction: &mut PgConnection,
    ) -> Result<(), StoreError> {
        let drop = format!("DROP TABLE IF EXISTS {}", self.quoted());
        execute(transaction, drop, "dropping a view's table").await
    }

    /// Renames this table and its indexes to `live`'s names, in the transaction that
    /// dropped `live`.
    pub(crate) async fn rename_to(
        &self,
        transaction: &mut PgConnection,
        live: &Self,
    ) -> Result<(), StoreError> {
        let mut renames = vec![
            format!("ALTER TABLE {} RENAME TO {}", self.quoted(), live.quoted()),
            format!(
                "ALTER INDEX {} RENAME TO {}",
                quote(&self.primary_key()),
                quote(&live.primary_key())
            ),
        ];
        for ((from, _), (to, _)) in self.indexed().zip(live.indexed()) {
            renames.push(format!(
                "ALTER INDEX {} RENAME TO {}",
                quote(&from),
                quote(&to)
            ));
        }
        execute(
            transaction,
            renames.join(";\n"),
            "swapping a rebuilt view in",
        )
        .await
    }

    /// The stored rows of `keys`.
    pub(crate) async fn load(
        &self,
        transaction: &mut PgConnection,
        keys: &[&str],
    ) -> Result<Vec<StoredRow>, StoreError> {
        let select = format!(
            r#"SELECT "key", coalesce("state", "row"), "version", "created_at", "updated_at"
               FROM {} WHERE "key" = ANY($1)"#,
            self.quoted()
        );
        // Planned for its keys every time: a plan cached while the table was young reads
        // every row (a sequential scan that was cheapest at a few hundred rows) long after
        // the table has grown, until an ANALYZE invalidates it.
        let rows = sqlx::query(AssertSqlSafe(select))
            .bind(keys)
            .persistent(false)
            .fetch_all(transaction)
            .await
            .map_err(|error| store_error("loading a view's rows", error))?;
        rows.iter()
            .map(|row| stored(row).map_err(|error| store_error("reading a view's row", error)))
            .collect()
    }

    /// Inserts or replaces `writes` in one statement.
    pub(crate) async fn write(
        &self,
        transaction: &mut PgConnection,
        writes: Vec<RowWrite>,
    ) -> Result<(), StoreError> {
        if writes.is_empty() {
            return Ok(());
        }
        let query = self.bind_writes(sqlx::query(AssertSqlSafe(self.upsert())), writes)?;
        query
            .execute(transaction)
            .await
            .map_err(|error| store_error("writing a view's rows", error))?;
        Ok(())
    }

    /// `INSERT ... SELECT FROM UNNEST(one array per column) ON CONFLICT DO UPDATE`: a batch's
    /// rows in one round trip and one plan, however many.
    fn upsert(&self) -> String {
        let columns = self.schema.columns;
        let names: String = columns
            .iter()
            .map(|column| format!(", {}", column_name(column.name)))
            .collect();
        let arrays: String = (7..)
            .zip(columns)
            .map(|(n, column)| format!(", ${n}::{}[]", sql_type(column.ty)))
            .collect();
        let updates: String = ["row", "state", "version", "created_at", "updated_at"]
            .iter()
            .map(|name| quote(name))
            .chain(columns.iter().map(|column| column_name(column.name)))
            .map(|name| format!("{name} = EXCLUDED.{name}"))
            .collect::<Vec<_>>()
            .join(", ");
        format!(
            "INSERT INTO {} ({FIXED}{names}) \
             SELECT * FROM UNNEST($1::text[], $2::text[], $3::text[], $4::int8[], \
                 $5::timestamptz[], $6::timestamptz[]{arrays}) \
             ON CONFLICT (\"key\") DO UPDATE SET {updates}",
            self.quoted()
        )
    }

    fn bind_writes<'q>(
        &self,
        query: Query<'q>,
        writes: Vec<RowWrite>,
    ) -> Result<Query<'q>, StoreError> {
        let count = writes.len();
        let mut keys = Vec::with_capacity(count);
        let mut rows = Vec::with_capacity(count);
        let mut states = Vec::with_capacity(count);
        let mut versions = Vec::with_capacity(count);
        let mut created = Vec::with_capacity(count);
        let mut updated = Vec::with_capacity(count);
        let mut columns: Vec<Values> = self
            .schema
            .columns
            .iter()
            .map(|column| Values::new(column.ty, count))
            .collect();
        for write in writes {
            if write.columns.len() != columns.len() {
                return Err(StoreError::permanent(format!(
                    "view `{}`: row `{}` has {} column values, the schema {}",
                    self.schema.name,
                    write.key,
                    write.columns.len(),
                    columns.len()
                )));
            }
            for ((values, column), value) in columns
                .iter_mut()
                .zip(self.schema.columns)
                .zip(write.columns)
            {
                values
                    .push(typed(self.schema, column.name, column.ty, value)?)
                    .map_err(|value| {
                        StoreError::permanent(format!(
                            "view `{}`: column `{}` got {value:?}",
                            self.schema.name, column.name
                        ))
                    })?;
            }
            versions.push(i64::try_from(write.meta.version).unwrap_or(i64::MAX));
            created.push(write.meta.created_at);
            updated.push(write.meta.updated_at);
            keys.push(write.key);
            rows.push(write.row);
            states.push(write.state);
        }
        let query = query
            .bind(keys)
            .bind(rows)
            .bind(states)
            .bind(versions)
            .bind(created)
            .bind(updated);
        Ok(columns
            .into_iter()
            .fold(query, |query, values| values.bind(query)))
    }
}

impl Values {
    fn new(ty: ColumnType, capacity: usize) -> Self {
        match Kind::of(ty) {
            Kind::Bool => Self::Bool(Vec::with_capacity(capacity)),
            Kind::Int => Self::Int(Vec::with_capacity(capacity)),
            Kind::Real => Self::Real(Vec::with_capacity(capacity)),
            Kind::Text => Self::Text(Vec::with_capacity(capacity)),
        }
    }

    /// Adds a value; one of another kind is given back.
    fn push(&mut self, value: Typed) -> Result<(), Typed> {
        match (self, value) {
            (Self::Bool(values), Typed::Bool(value)) => values.push(value),
            (Self::Int(values), Typed::Int(value)) => values.push(value),
            (Self::Real(values), Typed::Real(value)) => values.push(value),
            (Self::Text(values), Typed::Text(value)) => values.push(value),
            (_, value) => return Err(value),
        }
        Ok(())
    }

    fn bind(self, query: Query<'_>) -> Query<'_> {
        match self {
            Self::Bool(values) => query.bind(values),
            Self::Int(values) => query.bind(values),
            Self::Real(values) => query.bind(values),
            Self::Text(values) => query.bind(values),
        }
    }
}

impl Typed {
    /// Binds the value as the next parameter.
    pub(crate) fn bind(self, query: Query<'_>) -> Query<'_> {
        match self {
            Self::Bool(value) => query.bind(value),
            Self::Int(value) => query.bind(value),
            Self::Real(value) => query.bind(value),
            Self::Text(value) => query.bind(value),
        }
    }
}

/// `value` as column `name` of type `ty` holds it.
///
/// # Errors
/// A value of another kind than the column's (a bug in the view's `columns`).
pub(crate) fn typed(
    schema: &ViewSchema,
    name: &str,
    ty: ColumnType,
    value: ColumnValue,
) -> Result<Typed, StoreError> {
    let typed = match (Kind::of(ty), value) {
        (Kind::Bool, ColumnValue::Null) => Typed::Bool(None),
        (Kind::Int, ColumnValue::Null) => Typed::Int(None),
        (Kind::Real, ColumnValue::Null) => Typed::Real(None),
        (Kind::Text, ColumnValue::Null) => Typed::Text(None),
        (Kind::Bool, ColumnValue::Bool(value)) => Typed::Bool(Some(value)),
        (Kind::Int, ColumnValue::Int(value)) => Typed::Int(Some(value)),
        (Kind::Real, ColumnValue::Real(value)) => Typed::Real(Some(value)),
        (Kind::Text, ColumnValue::Text(value)) => Typed::Text(Some(value)),
        (_, value) => {
            return Err(StoreError::permanent(format!(
                "view `{}`: column `{name}` ({ty:?}) cannot hold {value:?}",
                schema.name
            )));
        }
    };
    Ok(typed)
}

/// The value of an indexed column of type `ty` at `index` of `row`.
pub(crate) fn column_value(
    row: &PgRow,
    index: usize,
    ty: ColumnType,
) -> Result<ColumnValue, sqlx::Error> {
    let value = match Kind::of(ty) {
        Kind::Bool => row
            .try_get::<Option<bool>, _>(index)?
            .map(ColumnValue::Bool),
        Kind::Int => row.try_get::<Option<i64>, _>(index)?.map(ColumnValue::Int),
        Kind::Real => row.try_get::<Option<f64>, _>(index)?.map(ColumnValue::Real),
        Kind::Text => row
            .try_get::<Option<String>, _>(index)?
            .map(ColumnValue::Text),
    };
    Ok(value.unwrap_or(ColumnValue::Null))
}

fn stored(row: &PgRow) -> Result<StoredRow, sqlx::Error> {
    let version: i64 = row.try_get(2)?;
    Ok(StoredRow {
        key: row.try_get(0)?,
        state: row.try_get(1)?,
        meta: RowMeta {
            version: u64::try_from(version).unwrap_or(0),
            created_at: row.try_get::<DateTime<Utc>, _>(3)?,
            updated_at: row.try_get::<DateTime<Utc>, _>(4)?,
        },
    })
}

impl Kind {
    fn of(ty: ColumnType) -> Self {
        match ty {
            ColumnType::Bool => Self::Bool,
            // A timestamp as microseconds since the epoch: it sorts as a number.
            ColumnType::Integer { .. } | ColumnType::Timestamp => Self::Int,
            ColumnType::Real => Self::Real,
            ColumnType::Text | ColumnType::Uuid | ColumnType::Enum(_) | ColumnType::Date => {
                Self::Text
            }
        }
    }
}

/// The SQL type of a column of type `ty`.
pub(crate) fn sql_type(ty: ColumnType) -> &'static str {
    match Kind::of(ty) {
        Kind::Bool => "boolean",
        Kind::Int => "bigint",
        Kind::Real => "double precision",
        Kind::Text => "text",
    }
}

/// The quoted column of the field `name`: `c_` before it keeps the fields apart from the
/// columns every view has (`key`, `version`).
pub(crate) fn column_name(name: &str) -> String {
    quote(&format!("c_{name}"))
}

fn quote(identifier: &str) -> String {
    format!("\"{identifier}\"")
}

/// `text` as an SQL string literal (`standard_conforming_strings` is on: only quotes double).
fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

fn plain(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_lowercase() || c == '_')
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

async fn execute(
    transaction: &mut PgConnection,
    sql: String,
    doing: &str,
) -> Result<(), StoreError> {
    sqlx::raw_sql(AssertSqlSafe(sql))
        .execute(transaction)
        .await
        .map_err(|error| store_error(doing, error))?;
    Ok(())
}
