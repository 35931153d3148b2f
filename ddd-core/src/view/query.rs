//! What a view query may ask, read from its parameters with an error naming the parameter,
//! and the one order every store pages by.

use std::cmp::Ordering;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate};

use super::{Column, ColumnType, ColumnValue, ViewSchema};

/// The default page size.
pub const DEFAULT_LIMIT: usize = ddd_names::http::VIEW_PAGE_DEFAULT;
/// The largest page a query may ask for.
pub const MAX_LIMIT: usize = ddd_names::http::VIEW_PAGE_MAX;

/// An equality filter on a `@filter` column.
#[derive(Clone, Debug, PartialEq)]
pub struct Filter {
    /// The column's index in the schema.
    pub column: usize,
    /// The value rows must have.
    pub value: ColumnValue,
}

/// Which way a sort goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Smallest first (`sort=field`).
    Ascending,
    /// Largest first (`sort=-field`).
    Descending,
}

/// A sort on a `@sort` column; ties, and queries without a sort, go by key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sort {
    /// The column's index in the schema.
    pub column: usize,
    /// Which way.
    pub direction: Direction,
}

/// Where the previous page ended: the last row's sort value and key. Opaque to clients.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    /// The sort it was made for (`-placed_at`), so a cursor cannot page another order.
    #[serde(rename = "s", default, skip_serializing_if = "Option::is_none")]
    pub sort: Option<String>,
    /// The last row's value of the sort column.
    #[serde(rename = "v", default, skip_serializing_if = "Option::is_none")]
    pub value: Option<ColumnValue>,
    /// The last row's key.
    #[serde(rename = "k")]
    pub key: String,
}

impl Cursor {
    /// The cursor as a client passes it back in `after`.
    pub fn encode(&self) -> String {
        let json = serde_json::to_vec(self).unwrap_or_default();
        URL_SAFE_NO_PAD.encode(json)
    }

    /// A cursor from `after`; `None` when it is not one this crate made.
    pub fn decode(text: &str) -> Option<Self> {
        let json = URL_SAFE_NO_PAD.decode(text.trim()).ok()?;
        serde_json::from_slice(&json).ok()
    }
}

/// One page of a view query.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ViewQuery {
    /// Rows must match every filter.
    pub filters: Vec<Filter>,
    /// The order; by key without one.
    pub sort: Option<Sort>,
    /// At most this many rows.
    pub limit: usize,
    /// Rows after this one in the order.
    pub after: Option<Cursor>,
}

/// A query parameter that is not one the view takes, or a value it cannot read.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{parameter}: {message}")]
pub struct QueryError {
    /// The parameter, as the client wrote it.
    pub parameter: String,
    /// What is wrong with it.
    pub message: String,
}

impl QueryError {
    fn new(parameter: &str, message: impl Into<String>) -> Self {
        Self {
            parameter: parameter.to_owned(),
            message: message.into(),
        }
    }
}

/// A row a query found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewRecord {
    /// Its key.
    pub key: String,
    /// The served row, JSON.
    pub row: String,
}

/// A page of rows and, when more follow, the cursor of the next page.
#[derive(Clone, Debug, PartialEq, Default)]
pub struct ViewPage {
    /// The rows, in the query's order.
    pub rows: Vec<ViewRecord>,
    /// Pass as `after` for the next page.
    pub next: Option<Cursor>,
}

impl ViewPage {
    /// The page of `query` from `fetched`: up to `limit + 1` rows in order, each with its
    /// value of the sort column (the extra row only tells that more follow).
    pub fn new(
        schema: &ViewSchema,
        query: &ViewQuery,
        mut fetched: Vec<(ViewRecord, Option<ColumnValue>)>,
    ) -> Self {
        let more = fetched.len() > query.limit;
        fetched.truncate(query.limit);
        let next = if more {
            fetched.last().map(|(record, value)| Cursor {
                sort: query.sort_parameter(schema),
                value: value.clone(),
                key: record.key.clone(),
            })
        } else {
            None
        };
        Self {
            rows: fetched.into_iter().map(|(record, _)| record).collect(),
            next,
        }
    }
}

impl ViewQuery {
    /// The query that `parameters` (a URL's query pairs) ask of `schema`; `reserved` names
    /// parameters the caller reads itself.
    ///
    /// # Errors
    /// The first parameter that is not a `@filter` field, `sort`, `limit` or `after`, or
    /// whose value does not read.
    pub fn parse(
        schema: &ViewSchema,
        parameters: &[(String, String)],
        reserved: &[&str],
    ) -> Result<Self, QueryError> {
        let mut query = Self {
            limit: DEFAULT_LIMIT,
            ..Self::default()
        };
        let mut seen: Vec<&str> = Vec::new();
        let mut after = None;
        for (name, value) in parameters {
            if reserved.contains(&name.as_str()) {
                continue;
            }
            if seen.contains(&name.as_str()) {
                return Err(QueryError::new(name, "given more than once"));
            }
            seen.push(name);
            match name.as_str() {
                "sort" => query.sort = Some(sort(schema, value)?),
                "limit" => query.limit = limit(value)?,
                "after" => after = Some(value),
                _ => query.filters.push(filter(schema, name, value)?),
            }
        }
        if let Some(text) = after {
            let cursor = Cursor::decode(text)
                .ok_or_else(|| QueryError::new("after", "not a cursor this view returned"))?;
            if cursor.sort != query.sort_parameter(schema) {
                return Err(QueryError::new(
                    "after",
                    "the cursor pages another sort; pass the same `sort` as the page it came from",
                ));
            }
            let fits = match (query.sort, &cursor.value) {
                (None, None) => true,
                (Some(sort), Some(value)) => holds(schema.columns[sort.column].ty, value),
                _ => false,
            };
            if !fits {
                return Err(QueryError::new("after", "not a cursor this view returned"));
            }
            query.after = Some(cursor);
        }
        Ok(query)
    }

    /// The `sort` parameter this query's order is written as.
    pub fn sort_parameter(&self, schema: &ViewSchema) -> Option<String> {
        self.sort.map(|sort| {
            let name = schema.columns[sort.column].name;
            match sort.direction {
                Direction::Ascending => name.to_owned(),
                Direction::Descending => format!("-{name}"),
            }
        })
    }

    /// Whether a row with these column values and key comes after the cursor and passes
    /// the filters: the rule SQL stores write as `WHERE`.
    pub fn admits(&self, columns: &[ColumnValue], key: &str) -> bool {
        let filtered = self
            .filters
            .iter()
            .all(|filter| columns[filter.column].total_cmp(&filter.value) == Ordering::Equal);
        filtered
            && self.after.as_ref().is_none_or(|cursor| {
                self.order(columns, key, cursor.value.as_ref(), &cursor.key) == Ordering::Greater
            })
    }

    /// How a row compares with another (`other_value`, `other_key`) in this query's order.
    pub fn order(
        &self,
        columns: &[ColumnValue],
        key: &str,
        other_value: Option<&ColumnValue>,
        other_key: &str,
    ) -> Ordering {
        let by_key = key.as_bytes().cmp(other_key.as_bytes());
        let Some(sort) = self.sort else {
            return by_key;
        };
        let null = ColumnValue::Null;
        let by_value = columns[sort.column].total_cmp(other_value.unwrap_or(&null));
        let by_value = match sort.direction {
            Direction::Ascending => by_value,
            Direction::Descending => by_value.reverse(),
        };
        by_value.then(by_key)
    }
}

/// The page `query` selects from `rows` (key, served row, column values): how the in-memory
/// store queries, and the reference the SQL stores are tested against.
pub fn select<'a>(
    schema: &ViewSchema,
    query: &ViewQuery,
    rows: impl Iterator<Item = (&'a str, &'a str, &'a [ColumnValue])>,
) -> ViewPage {
    let mut found: Vec<(&str, &str, &[ColumnValue])> = rows
        .filter(|(key, _, columns)| query.admits(columns, key))
        .collect();
    found.sort_by(|a, b| {
        let b_value = query.sort.map(|sort| &b.2[sort.column]);
        query.order(a.2, a.0, b_value, b.0)
    });
    found.truncate(query.limit.saturating_add(1));
    let fetched = found
        .into_iter()
        .map(|(key, row, columns)| {
            let value = query.sort.map(|sort| columns[sort.column].clone());
            (
                ViewRecord {
                    key: key.to_owned(),
                    row: row.to_owned(),
                },
                value,
            )
        })
        .collect();
    ViewPage::new(schema, query, fetched)
}

/// Whether a column of `ty` can hold `value` (a cursor's value read back from a client).
fn holds(ty: ColumnType, value: &ColumnValue) -> bool {
    match value {
        ColumnValue::Null => true,
        ColumnValue::Bool(_) => ty == ColumnType::Bool,
        ColumnValue::Int(_) => matches!(ty, ColumnType::Integer { .. } | ColumnType::Timestamp),
        ColumnValue::Real(_) => ty == ColumnType::Real,
        ColumnValue::Text(_) => matches!(
            ty,
            ColumnType::Text | ColumnType::Uuid | ColumnType::Enum(_) | ColumnType::Date
        ),
    }
}

fn sort(schema: &ViewSchema, value: &str) -> Result<Sort, QueryError> {
    let (name, direction) = match value.strip_prefix('-') {
        Some(name) => (name, Direction::Descending),
        None => (value, Direction::Ascending),
    };
    match schema.column(name) {
        Some((column, found)) if found.sort => Ok(Sort { column, direction }),
        _ => Err(QueryError::new(
            "sort",
            format!(
                "`{name}` is not a sort of {}; sorts: {}",
                schema.name,
                listed(schema, |column| column.sort)
            ),
        )),
    }
}

fn limit(value: &str) -> Result<usize, QueryError> {
    value
        .parse::<usize>()
        .ok()
        .filter(|limit| (1..=MAX_LIMIT).contains(limit))
        .ok_or_else(|| {
            QueryError::new(
                "limit",
                format!("expected a whole number from 1 to {MAX_LIMIT}, not `{value}`"),
            )
        })
}

fn filter(schema: &ViewSchema, name: &str, value: &str) -> Result<Filter, QueryError> {
    let column = match schema.column(name) {
        Some((column, found)) if found.filter => column,
        _ => {
            return Err(QueryError::new(
                name,
                format!(
                    "not a parameter of {}: it takes `sort`, `limit`, `after` and the \
                     filters {}",
                    schema.name,
                    listed(schema, |column| column.filter)
                ),
            ));
        }
    };
    let value = parse_value(schema.columns[column].ty, value)
        .map_err(|expected| QueryError::new(name, format!("expected {expected}, not `{value}`")))?;
    Ok(Filter { column, value })
}

/// A query parameter's or a path key's value as `ty` holds it; the error says what was
/// expected.
pub(crate) fn parse_value(ty: ColumnType, text: &str) -> Result<ColumnValue, String> {
    match ty {
        ColumnType::Bool => match text {
            "true" => Ok(ColumnValue::Bool(true)),
            "false" => Ok(ColumnValue::Bool(false)),
            _ => Err("`true` or `false`".to_owned()),
        },
        ColumnType::Integer { min, max } => text
            .parse::<i64>()
            .ok()
            .filter(|value| (min..=max).contains(value))
            .map(ColumnValue::Int)
            .ok_or_else(|| format!("a whole number from {min} to {max}")),
        ColumnType::Real => text
            .parse::<f64>()
            .ok()
            .filter(|value| value.is_finite())
            .map(ColumnValue::Real)
            .ok_or_else(|| "a number".to_owned()),
        ColumnType::Text => Ok(ColumnValue::Text(text.to_owned())),
        ColumnType::Uuid => uuid::Uuid::parse_str(text)
            .map(|id| ColumnValue::Text(id.hyphenated().to_string()))
            .map_err(|_| "a UUID".to_owned()),
        ColumnType::Enum(variants) => variants
            .iter()
            .find(|variant| **variant == text)
            .map(|variant| ColumnValue::Text((*variant).to_owned()))
            .ok_or_else(|| format!("one of {}", variants.join(", "))),
        ColumnType::Timestamp => DateTime::parse_from_rfc3339(text)
            .map(|at| ColumnValue::Int(at.timestamp_micros()))
            .map_err(|_| "an RFC 3339 time (`2026-01-31T12:00:00Z`)".to_owned()),
        ColumnType::Date => NaiveDate::parse_from_str(text, "%Y-%m-%d")
            .map(|date| ColumnValue::Text(date.to_string()))
            .map_err(|_| "a date (`2026-01-31`)".to_owned()),
    }
}

fn listed(schema: &ViewSchema, wanted: impl Fn(&Column) -> bool) -> String {
    let names: Vec<String> = schema
        .columns
        .iter()
        .filter(|column| wanted(column))
        .map(|column| format!("`{}`", column.name))
        .collect();
    if names.is_empty() {
        "(none)".to_owned()
    } else {
        names.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::Column;

    const SCHEMA: ViewSchema = ViewSchema {
        name: "Prices",
        table: "prices",
        key: "id",
        key_type: ColumnType::Uuid,
        columns: &[Column {
            name: "price",
            ty: ColumnType::Real,
            filter: false,
            sort: true,
        }],
        state_is_row: true,
    };

    fn parse(pairs: &[(&str, &str)]) -> Result<ViewQuery, QueryError> {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        ViewQuery::parse(&SCHEMA, &pairs, &[])
    }

    #[test]
    fn a_real_cursor_reads_back_to_the_same_bits() {
        let value = 7.0_f64 / 3.0 - 1.0;
        let cursor = Cursor {
            sort: Some("price".to_owned()),
            value: Some(ColumnValue::Real(value)),
            key: "k".to_owned(),
        };
        let query = parse(&[("sort", "price"), ("after", &cursor.encode())]).expect("a query");
        let Some(ColumnValue::Real(read)) = query.after.and_then(|c| c.value) else {
            panic!("a real cursor");
        };
        assert_eq!(read.to_bits(), value.to_bits());
    }

    #[test]
    fn a_cursor_whose_value_the_column_cannot_hold_is_refused() {
        let forged = Cursor {
            sort: Some("price".to_owned()),
            value: Some(ColumnValue::Text("cheap".to_owned())),
            key: "k".to_owned(),
        };
        let error = parse(&[("sort", "price"), ("after", &forged.encode())]).expect_err("refused");
        assert_eq!(error.parameter, "after");
    }
}
