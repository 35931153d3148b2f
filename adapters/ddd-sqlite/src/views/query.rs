//! A page of a view query: the order [`select`](ddd_core::view::select) defines, read as
//! index range scans.
//!
//! The rows after a cursor are the rest of its tie (same value, greater keys), then the
//! values beyond it, and for a descending sort the rows without a value last (SQLite sorts
//! NULL first, as [`ColumnValue::total_cmp`] does). Each part is one statement that seeks in
//! an index `(column, key)`; one statement with `OR` would have to scan the tie from its start
//! or sort, and `c > NULL` matches nothing.

use ddd_core::StoreError;
use ddd_core::view::{ColumnType, ColumnValue, Direction, ViewPage, ViewQuery, ViewRecord};
use rusqlite::types::{ToSqlOutput, ValueRef};
use rusqlite::{Connection, ToSql};

use super::rows::value_ref;
use super::table::{Table, column};

/// One part of the page's order.
struct Part<'q> {
    conditions: Vec<Condition<'q>>,
    order: Order,
}

/// A condition beside the query's filters.
enum Condition<'q> {
    /// The key after the cursor's.
    KeyAfter(&'q str),
    /// The sort column equal to the cursor's value.
    Equals(&'q ColumnValue),
    /// The sort column past the cursor's value, the sort's way.
    Beyond(Direction, &'q ColumnValue),
    /// The sort column NULL.
    Null,
    /// The sort column not NULL.
    NotNull,
}

enum Order {
    Key,
    Value(Direction),
}

/// The parts a page reads, in order, until it has its rows.
fn parts(query: &ViewQuery) -> Vec<Part<'_>> {
    let part = |conditions, order| Part { conditions, order };
    let (Some(sort), Some(cursor)) = (query.sort, &query.after) else {
        let after = query.after.as_ref().map(|cursor| cursor.key.as_str());
        return match query.sort {
            Some(sort) => vec![part(Vec::new(), Order::Value(sort.direction))],
            None => vec![part(
                after.map(Condition::KeyAfter).into_iter().collect(),
                Order::Key,
            )],
        };
    };
    let key = Condition::KeyAfter(&cursor.key);
    let direction = sort.direction;
    match (&cursor.value, direction) {
        (None | Some(ColumnValue::Null), Direction::Ascending) => vec![
            part(vec![Condition::Null, key], Order::Key),
            part(vec![Condition::NotNull], Order::Value(direction)),
        ],
        (None | Some(ColumnValue::Null), Direction::Descending) => {
            vec![part(vec![Condition::Null, key], Order::Key)]
        }
        (Some(value), Direction::Ascending) => vec![
            part(vec![Condition::Equals(value), key], Order::Key),
            part(
                vec![Condition::Beyond(direction, value)],
                Order::Value(direction),
            ),
        ],
        (Some(value), Direction::Descending) => vec![
            part(vec![Condition::Equals(value), key], Order::Key),
            part(
                vec![Condition::Beyond(direction, value)],
                Order::Value(direction),
            ),
            part(vec![Condition::Null], Order::Key),
        ],
    }
}

/// The page `query` asks of `table`; no rows when the table was never prepared.
pub(super) fn page(
    connection: &Connection,
    table: &Table,
    query: &ViewQuery,
) -> Result<ViewPage, StoreError> {
    match fetch(connection, table, query) {
        Ok(fetched) => Ok(ViewPage::new(table.schema, query, fetched)),
        Err(error) => match table.exists(connection)? {
            true => Err(error),
            false => Ok(ViewPage::default()),
        },
    }
}

/// Up to `limit + 1` rows in the query's order, each with its sort value.
fn fetch(
    connection: &Connection,
    table: &Table,
    query: &ViewQuery,
) -> Result<Vec<(ViewRecord, Option<ColumnValue>)>, StoreError> {
    let parts = parts(query);
    // Several statements read one snapshot, or a commit between them could move a row
    // from one part to the next.
    let _snapshot = match parts.len() {
        1 => None,
        _ => Some(
            connection
                .unchecked_transaction()
                .map_err(|error| table.error("starting a read", error))?,
        ),
    };
    let walk = walks_sort_index(connection, table, query)?;
    let wanted = query.limit.saturating_add(1);
    let mut fetched = Vec::with_capacity(wanted.min(64));
    for part in &parts {
        if fetched.len() >= wanted {
            break;
        }
        let sql = part_sql(table, query, part, walk);
        let limit = wanted - fetched.len();
        read_part(connection, table, query, (&sql, part), limit, &mut fetched)?;
    }
    Ok(fetched)
}

/// Reads the rows of one part (its SQL and conditions) into `fetched`.
fn read_part(
    connection: &Connection,
    table: &Table,
    query: &ViewQuery,
    (sql, part): (&str, &Part<'_>),
    limit: usize,
    fetched: &mut Vec<(ViewRecord, Option<ColumnValue>)>,
) -> Result<(), StoreError> {
    let doing = |error| table.error("querying", error);
    let mut statement = connection.prepare_cached(sql).map_err(doing)?;
    let sort_type = query.sort.map(|sort| table.schema.columns[sort.column].ty);
    let mut rows = statement
        .query(rusqlite::params_from_iter(parameters(query, part, limit)))
        .map_err(doing)?;
    while let Some(row) = rows.next().map_err(doing)? {
        let record = ViewRecord {
            key: row.get(0).map_err(doing)?,
            row: row.get(1).map_err(doing)?,
        };
        let value = match sort_type {
            Some(ty) => Some(value(ty, row.get_ref(2).map_err(doing)?).map_err(doing)?),
            None => None,
        };
        fetched.push((record, value));
    }
    Ok(())
}

/// A parameter of a part's statement.
enum Parameter<'q> {
    Value(&'q ColumnValue),
    Key(&'q str),
    Limit(i64),
}

impl ToSql for Parameter<'_> {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(match self {
            Self::Value(value) => value_ref(value),
            Self::Key(key) => ValueRef::Text(key.as_bytes()),
            Self::Limit(limit) => ValueRef::Integer(*limit),
        }))
    }
}

/// The parameters of [`part_sql`]'s text, in its order: the filters, the part's conditions,
/// the limit.
fn parameters<'q>(query: &'q ViewQuery, part: &Part<'q>, limit: usize) -> Vec<Parameter<'q>> {
    let conditions = part
        .conditions
        .iter()
        .filter_map(|condition| match condition {
            Condition::KeyAfter(key) => Some(Parameter::Key(key)),
            Condition::Equals(value) | Condition::Beyond(_, value) => Some(Parameter::Value(value)),
            Condition::Null | Condition::NotNull => None,
        });
    let limit = Parameter::Limit(i64::try_from(limit).unwrap_or(i64::MAX));
    filter_parameters(query)
        .chain(conditions)
        .chain([limit])
        .collect()
}

/// The parameters of [`filter_clauses`].
fn filter_parameters(query: &ViewQuery) -> impl Iterator<Item = Parameter<'_>> {
    query
        .filters
        .iter()
        .filter(|filter| filter.value != ColumnValue::Null)
        .map(|filter| Parameter::Value(&filter.value))
}

/// The query's filters as SQL; with `walk`, written `+c = ?` so SQLite cannot use the
/// filter's own index and walks the sort column's instead, checking the filters from its
/// trailing columns.
fn filter_clauses(table: &Table, query: &ViewQuery, walk: bool) -> Vec<String> {
    let unindexed = if walk { "+" } else { "" };
    query
        .filters
        .iter()
        .map(|filter| {
            let name = column(table.schema.columns[filter.column].name);
            match filter.value {
                ColumnValue::Null => format!("{unindexed}{name} IS NULL"),
                _ => format!("{unindexed}{name} = ?"),
            }
        })
        .collect()
}

/// Filters matching at least this many rows make a sorted query walk the sort column's
/// index.
const WALK_AT: i64 = 1000;

/// Whether a sorted query with filters walks the sort column's index in order, checking the
/// filters on the way, rather than finding the rows the filters match and sorting them all
/// to serve one page. SQLite takes the second way whenever a filter has an index, which at
/// 100,000 rows and a filter matching a tenth of them costs milliseconds a page. The walk
/// reaches a page after about `limit × rows / matches` entries, so it wins when the filters
/// match many rows and loses when they match few; a count of the matches, stopped at
/// [`WALK_AT`] (on the filter's index, at most that many entries), tells which.
fn walks_sort_index(
    connection: &Connection,
    table: &Table,
    query: &ViewQuery,
) -> Result<bool, StoreError> {
    if query.sort.is_none() || query.filters.is_empty() {
        return Ok(false);
    }
    let sql = format!(
        "SELECT count(*) FROM (SELECT 1 FROM {} WHERE {} LIMIT {WALK_AT})",
        table.sql,
        filter_clauses(table, query, false).join(" AND ")
    );
    let matches: i64 = connection
        .prepare_cached(&sql)
        .and_then(|mut statement| {
            statement.query_row(
                rusqlite::params_from_iter(filter_parameters(query)),
                |row| row.get(0),
            )
        })
        .map_err(|error| table.error("counting a query's matches", error))?;
    Ok(matches >= WALK_AT)
}

/// `SELECT key, row[, sort column] ... LIMIT +?`, the same text for every query of one
/// shape, so each connection prepares it once (`+?`: a parameter bound straight to LIMIT
/// would have SQLite prepare it again on every run, see `store::EVENTS_AFTER`).
fn part_sql(table: &Table, query: &ViewQuery, part: &Part<'_>, walk: bool) -> String {
    let sort = query
        .sort
        .map(|sort| column(table.schema.columns[sort.column].name));
    let mut clauses = filter_clauses(table, query, walk);
    let sorted = sort.as_deref().unwrap_or(r#""key""#);
    clauses.extend(part.conditions.iter().map(|condition| match condition {
        Condition::KeyAfter(_) => r#""key" > ?"#.to_owned(),
        Condition::Equals(_) => format!("{sorted} = ?"),
        Condition::Beyond(Direction::Ascending, _) => format!("{sorted} > ?"),
        Condition::Beyond(Direction::Descending, _) => format!("{sorted} < ?"),
        Condition::Null => format!("{sorted} IS NULL"),
        Condition::NotNull => format!("{sorted} IS NOT NULL"),
    }));
    let filter = match clauses.is_empty() {
        true => String::new(),
        false => format!(" WHERE {}", clauses.join(" AND ")),
    };
    let order = match part.order {
        Order::Key => r#""key""#.to_owned(),
        Order::Value(Direction::Ascending) => format!(r#"{sorted} ASC, "key""#),
        Order::Value(Direction::Descending) => format!(r#"{sorted} DESC, "key""#),
    };
    let selected = sort.map(|sort| format!(", {sort}")).unwrap_or_default();
    format!(
        r#"SELECT "key", "row"{selected} FROM {}{filter} ORDER BY {order} LIMIT +?"#,
        table.sql
    )
}

/// A sort column's value as the query layer holds it (a boolean as such, not 0 or 1), for
/// the cursor.
fn value(ty: ColumnType, found: ValueRef<'_>) -> Result<ColumnValue, rusqlite::Error> {
    Ok(match (found, ty) {
        (ValueRef::Null, _) => ColumnValue::Null,
        (ValueRef::Integer(value), ColumnType::Bool) => ColumnValue::Bool(value != 0),
        (ValueRef::Integer(value), _) => ColumnValue::Int(value),
        (ValueRef::Real(value), _) => ColumnValue::Real(value),
        (ValueRef::Text(_) | ValueRef::Blob(_), _) => ColumnValue::Text(found.as_str()?.to_owned()),
    })
}
