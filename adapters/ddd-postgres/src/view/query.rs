//! A [`ViewQuery`] as SQL: each filter an equality, the sort an `ORDER BY` its column's index
//! delivers, the cursor a keyset condition on that index, so a page costs the same at any
//! depth.
//!
//! The order is [`ViewQuery::order`]'s: the sort column (NULL first ascending, last
//! descending), then the key by bytes. A cursor whose value is NULL, or a descending cursor
//! before the NULLs, would need an `OR` that no index range serves; such a page is read as
//! two ranges instead, the second only when the first falls short.

use ddd_core::StoreError;
use ddd_core::view::{
    Column, ColumnValue, Direction, Sort, ViewPage, ViewQuery, ViewRecord, ViewSchema,
};
use sqlx::postgres::PgRow;
use sqlx::{AssertSqlSafe, PgPool, Row as _};

use super::table::{Table, Typed, column_name, column_value, typed};
use crate::error::store_error;
use crate::store::limit_param;

/// A stretch of a query's order that one statement reads.
#[derive(Clone, Copy, Debug)]
enum Range<'a> {
    /// No sort: rows by key, after a key.
    Keys { after: Option<&'a str> },
    /// Every row in the sort's order: a first page.
    Sorted,
    /// Rows with a value, after (value, key) in the sort's order.
    Values {
        after: Option<(&'a ColumnValue, &'a str)>,
    },
    /// Rows without a value (tied: by key), after a key.
    Nulls { after: Option<&'a str> },
}

/// A statement being written: its conditions and their parameters.
#[derive(Default)]
struct Where {
    conditions: Vec<String>,
    params: Vec<Typed>,
}

/// One page of `query` from `table`; no table yet is no rows.
pub(crate) async fn page(
    pool: &PgPool,
    table: &Table,
    query: &ViewQuery,
) -> Result<ViewPage, StoreError> {
    let wanted = query.limit.saturating_add(1);
    let mut fetched = Vec::new();
    for range in ranges(query) {
        let (sql, params) = statement(table, query, range, wanted - fetched.len())?;
        let statement = params
            .into_iter()
            .fold(sqlx::query(AssertSqlSafe(sql)), |statement, param| {
                param.bind(statement)
            });
        let rows = match statement.fetch_all(pool).await {
            Ok(rows) => rows,
            Err(error) if crate::error::undefined_table(&error) => return Ok(ViewPage::default()),
            Err(error) => return Err(store_error("querying a view", error)),
        };
        for row in &rows {
            fetched.push(record(table.schema, query.sort, row)?);
        }
        if fetched.len() >= wanted {
            break;
        }
    }
    Ok(ViewPage::new(table.schema, query, fetched))
}

/// The stretches of the order a page after `query`'s cursor reads, in order.
fn ranges(query: &ViewQuery) -> Vec<Range<'_>> {
    let Some(sort) = query.sort else {
        let after = query.after.as_ref().map(|cursor| cursor.key.as_str());
        return vec![Range::Keys { after }];
    };
    let Some(cursor) = &query.after else {
        return vec![Range::Sorted];
    };
    let key = cursor.key.as_str();
    let value = cursor
        .value
        .as_ref()
        .filter(|value| !matches!(value, ColumnValue::Null));
    match (sort.direction, value) {
        // NULL comes first: the rest of the NULLs, then every value.
        (Direction::Ascending, None) => vec![
            Range::Nulls { after: Some(key) },
            Range::Values { after: None },
        ],
        (Direction::Ascending, Some(value)) => vec![Range::Values {
            after: Some((value, key)),
        }],
        // NULL comes last: the rest of the values, then every NULL.
        (Direction::Descending, Some(value)) => vec![
            Range::Values {
                after: Some((value, key)),
            },
            Range::Nulls { after: None },
        ],
        (Direction::Descending, None) => vec![Range::Nulls { after: Some(key) }],
    }
}

/// The statement reading up to `limit` rows of `range`, and its parameters.
fn statement(
    table: &Table,
    query: &ViewQuery,
    range: Range<'_>,
    limit: usize,
) -> Result<(String, Vec<Typed>), StoreError> {
    let schema = table.schema;
    let mut sql = Where::default();
    for filter in &query.filters {
        let column = column(schema, filter.column)?;
        let name = column_name(column.name);
        match &filter.value {
            ColumnValue::Null => sql.conditions.push(format!("{name} IS NULL")),
            value => {
                let param = sql.param(typed(schema, column.name, column.ty, value.clone())?);
                sql.conditions.push(format!("{name} = {param}"));
            }
        }
    }
    let sorted = match query.sort {
        Some(sort) => Some((sort, column(schema, sort.column)?)),
        None => None,
    };
    let order = match (range, sorted) {
        (Range::Keys { .. } | Range::Nulls { .. }, _) | (_, None) => r#""key""#.to_owned(),
        (Range::Sorted | Range::Values { .. }, Some((sort, column))) => {
            let nulls = match sort.direction {
                Direction::Ascending => "ASC NULLS FIRST",
                Direction::Descending => "DESC NULLS LAST",
            };
            format!(r#"{} {nulls}, "key""#, column_name(column.name))
        }
    };
    sql.range(schema, range, sorted)?;
    let selected = sorted.map_or_else(String::new, |(_, column)| {
        format!(", {}", column_name(column.name))
    });
    let limit_param = sql.param(Typed::Int(Some(i64::from(limit_param(limit)))));
    let conditions = if sql.conditions.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", sql.conditions.join(" AND "))
    };
    let select = format!(
        r#"SELECT "key", "row"{selected} FROM {}{conditions} ORDER BY {order} LIMIT {limit_param}"#,
        table.quoted()
    );
    Ok((select, sql.params))
}

impl Where {
    /// Adds a parameter; its placeholder.
    fn param(&mut self, value: Typed) -> String {
        self.params.push(value);
        format!("${}", self.params.len())
    }

    /// The conditions that keep a statement to `range` of the order `sorted` (the sort and
    /// its column).
    fn range(
        &mut self,
        schema: &ViewSchema,
        range: Range<'_>,
        sorted: Option<(Sort, &Column)>,
    ) -> Result<(), StoreError> {
        match (range, sorted) {
            (Range::Keys { after }, _) => self.after_key(after),
            (Range::Nulls { after }, Some((_, column))) => {
                self.conditions
                    .push(format!("{} IS NULL", column_name(column.name)));
                self.after_key(after);
            }
            (Range::Values { after }, Some((sort, column))) => {
                let name = column_name(column.name);
                // A bound on the value leaves NULL out by itself.
                let Some((value, key)) = after else {
                    self.conditions.push(format!("{name} IS NOT NULL"));
                    return Ok(());
                };
                let value = self.param(typed(schema, column.name, column.ty, value.clone())?);
                let key = self.param(Typed::Text(Some(key.to_owned())));
                // Either way one range of an index of the column: ascending a row
                // comparison; descending (the index on the value descending, then the key
                // ascending) the bound on the value, then the ties after the key.
                self.conditions.push(match sort.direction {
                    Direction::Ascending => format!(r#"({name}, "key") > ({value}, {key})"#),
                    Direction::Descending => {
                        format!(r#"{name} <= {value} AND ({name} < {value} OR "key" > {key})"#)
                    }
                });
            }
            // `ranges` makes these of sorted queries only.
            (Range::Sorted, _) | (Range::Nulls { .. } | Range::Values { .. }, None) => {}
        }
        Ok(())
    }

    fn after_key(&mut self, after: Option<&str>) {
        if let Some(key) = after {
            let key = self.param(Typed::Text(Some(key.to_owned())));
            self.conditions.push(format!(r#""key" > {key}"#));
        }
    }
}

fn column(schema: &ViewSchema, index: usize) -> Result<&'static Column, StoreError> {
    schema.columns.get(index).ok_or_else(|| {
        StoreError::permanent(format!(
            "view `{}` has no column {index}: a query of another view",
            schema.name
        ))
    })
}

fn record(
    schema: &ViewSchema,
    sort: Option<Sort>,
    row: &PgRow,
) -> Result<(ViewRecord, Option<ColumnValue>), StoreError> {
    let read = |error| store_error("reading a view's row", error);
    let value = match sort {
        Some(sort) => Some(column_value(row, 2, column(schema, sort.column)?.ty).map_err(read)?),
        None => None,
    };
    let record = ViewRecord {
        key: row.try_get(0).map_err(read)?,
        row: row.try_get(1).map_err(read)?,
    };
    Ok((record, value))
}
