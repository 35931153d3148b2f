//! Views: read models kept in the store's own database, a row per key, each event counted
//! exactly once.
//!
//! A [`View`] says which row an event belongs to and how it changes that row; a
//! [`ViewStore`] (every store adapter, and the in-memory store) keeps the rows in a table of
//! their own and moves the view's checkpoint in the transaction that writes them, so a
//! redelivered batch, a restart or a second replica never applies an event twice. The fold
//! itself ([`ViewBatch`]) and the query rules ([`ViewQuery`]) live here, once, so every store
//! behaves alike; the stores only move rows and checkpoints.

mod fold;
mod mirror;
mod query;
mod runner;
mod token;

use std::future::Future;

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::event::{DomainEvent, Envelope, EventId, Position};
use crate::store::StoreError;

pub use fold::{Folded, RowWrite, StoredRow, ViewBatch};
pub use mirror::{EventMirror, copy_stream, is_copy};
pub use query::{
    Cursor, DEFAULT_LIMIT, Direction, Filter, MAX_LIMIT, QueryError, Sort, ViewPage, ViewQuery,
    ViewRecord, select,
};

/// Every row of the live table of `schema`, in key order, read a page of [`MAX_LIMIT`] at a
/// time: what a test looks at when it checks a view whole.
///
/// # Errors
/// The store's, as `query_view` returns it (a view not prepared yet, a store down).
pub async fn all_rows<S: ViewStore>(
    store: &S,
    schema: &'static ViewSchema,
) -> Result<Vec<ViewRecord>, StoreError> {
    let mut rows = Vec::new();
    let mut query = ViewQuery {
        limit: MAX_LIMIT,
        ..ViewQuery::default()
    };
    loop {
        let page = store.query_view(schema, &query).await?;
        rows.extend(page.rows);
        match page.next {
            Some(next) => query.after = Some(next),
            None => return Ok(rows),
        }
    }
}
pub use runner::{ViewHandle, ViewRunner, ViewStatus, WaitError};
pub use token::{ConsistencyToken, TokenError};

/// How a store keeps an indexed column, and how a query parameter is read into it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ColumnType {
    /// `true` or `false`.
    Bool,
    /// A whole number within `min..=max` (the field's Rust type).
    Integer {
        /// The smallest value the field holds.
        min: i64,
        /// The largest value the field holds.
        max: i64,
    },
    /// A floating-point number.
    Real,
    /// Any text.
    Text,
    /// A UUID in its hyphenated form (ids, `Uuid` fields).
    Uuid,
    /// One of an enum's variants.
    Enum(&'static [&'static str]),
    /// A point in time, kept as microseconds since the epoch so it sorts as a number.
    Timestamp,
    /// A calendar date (`2026-12-07`), kept as text so it sorts by date.
    Date,
}

/// A column a view keeps beside its rows so queries can filter or sort on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Column {
    /// The row's field: the name a query parameter uses.
    pub name: &'static str,
    /// Its kind.
    pub ty: ColumnType,
    /// `@filter`: equality filters allowed.
    pub filter: bool,
    /// `@sort`: `sort=name` and `sort=-name` allowed.
    pub sort: bool,
}

/// What a store needs to know to keep a view: its name, its key and its indexed columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ViewSchema {
    /// The view's name (`OrderSummary`); its checkpoint is `view:<name>`.
    pub name: &'static str,
    /// The table, in snake case (`order_summary`); stores prefix it.
    pub table: &'static str,
    /// The key's name in a served row (`id` for a view of an aggregate).
    pub key: &'static str,
    /// The key's kind, for `GET /<views>/{key}`.
    pub key_type: ColumnType,
    /// The indexed columns, in the order [`View::columns`] returns their values.
    pub columns: &'static [Column],
    /// Whether the state the fold keeps is the served row itself (a view fed by events) or
    /// more (the aggregate's whole state, for a view computed from it).
    pub state_is_row: bool,
}

impl ViewSchema {
    /// The checkpoint name of the live table.
    pub fn checkpoint(&self) -> String {
        format!("view:{}", self.name)
    }

    /// The key `text` names, as rows hold it (a UUID hyphenated); the error says what a
    /// key of this view looks like.
    ///
    /// # Errors
    /// Text that is not a key of this view's kind.
    pub fn parse_key(&self, text: &str) -> Result<String, String> {
        match query::parse_value(self.key_type, text)? {
            ColumnValue::Text(key) => Ok(key),
            ColumnValue::Int(key) => Ok(key.to_string()),
            ColumnValue::Bool(key) => Ok(key.to_string()),
            ColumnValue::Real(key) => Ok(key.to_string()),
            ColumnValue::Null => Ok(String::new()),
        }
    }

    /// The column named `name`.
    pub fn column(&self, name: &str) -> Option<(usize, &'static Column)> {
        self.columns
            .iter()
            .enumerate()
            .find(|(_, column)| column.name == name)
    }
}

/// A value of an indexed column.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum ColumnValue {
    /// No value (an absent option).
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer, a timestamp in microseconds.
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text, a UUID, an enum variant, a date.
    Text(String),
}

impl ColumnValue {
    /// The column value of a timestamp.
    pub fn timestamp(at: DateTime<Utc>) -> Self {
        Self::Int(at.timestamp_micros())
    }

    /// The column value of any text-like field (`Uuid`, an id, an enum's variant name).
    pub fn text(value: impl ToString) -> Self {
        Self::Text(value.to_string())
    }

    /// The column value of an enum's variant: its name, as serde writes a unit variant.
    pub fn variant<T: Serialize>(value: &T) -> Self {
        variant_name(value).map_or(Self::Null, Self::Text)
    }

    fn rank(&self) -> u8 {
        match self {
            Self::Null => 0,
            Self::Bool(_) => 1,
            Self::Int(_) => 2,
            Self::Real(_) => 3,
            Self::Text(_) => 4,
        }
    }

    /// The order stores sort by: numbers by value, text by bytes (as SQLite's and
    /// PostgreSQL's `C` collation), nothing first.
    pub fn total_cmp(&self, other: &Self) -> std::cmp::Ordering {
        match (self, other) {
            (Self::Bool(a), Self::Bool(b)) => a.cmp(b),
            (Self::Int(a), Self::Int(b)) => a.cmp(b),
            (Self::Real(a), Self::Real(b)) => a.total_cmp(b),
            (Self::Text(a), Self::Text(b)) => a.as_bytes().cmp(b.as_bytes()),
            _ => self.rank().cmp(&other.rank()),
        }
    }
}

/// The name of an enum's unit variant as serde writes it (`Placed`): how a row keyed by an
/// enum, and an indexed enum column, hold it. `None` for a value that is no unit variant.
pub fn variant_name<T: Serialize>(value: &T) -> Option<String> {
    match serde_json::to_value(value) {
        Ok(serde_json::Value::String(name)) => Some(name),
        _ => None,
    }
}

/// What the runtime keeps about every row, whatever the view: how many events shaped it and
/// when the first and the last were recorded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RowMeta {
    /// How many events the row has folded.
    pub version: u64,
    /// When its first event was recorded.
    pub created_at: DateTime<Utc>,
    /// When its last event was recorded.
    pub updated_at: DateTime<Utc>,
}

/// A read model: a row per key, folded from events.
///
/// `ddd generate` writes one per `view` of the model; write one by hand for anything else.
/// The fold must be deterministic (no clock, no randomness): a rebuild replays the same
/// events and must reach the same rows.
pub trait View: Send + Sync + 'static {
    /// The events it reads; others are skipped.
    type Event: DomainEvent;
    /// What the fold keeps per row (the aggregate's state for a view computed from it).
    type State: Serialize + DeserializeOwned + Default + Send;
    /// What is served: a JSON object with the key, the fields and what the view shows of
    /// the row's [`RowMeta`].
    type Row: Serialize + Send;

    /// The table, key and indexed columns.
    const SCHEMA: ViewSchema;

    /// The key of the row `event` changes, or `None` when the view ignores it.
    fn key(event: &Envelope<Self::Event>) -> Option<String>;

    /// Folds `event` into the row's state (a fresh row starts at `State::default()`).
    ///
    /// # Errors
    /// The reason, for a [`ViewError::Event`], when the event cannot be applied: the view
    /// stops before it, the rest of the service keeps serving.
    fn apply(state: &mut Self::State, event: &Envelope<Self::Event>) -> Result<(), String>;

    /// The served row.
    fn row(key: &str, state: &Self::State, meta: &RowMeta) -> Self::Row;

    /// The values of [`ViewSchema::columns`], in their order.
    fn columns(row: &Self::Row) -> Vec<ColumnValue>;
}

/// Where a fold writes: the live table or the one a rebuild fills before it is swapped in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ViewTarget {
    /// The table, without the store's prefix.
    pub table: String,
    /// The checkpoint.
    pub checkpoint: String,
}

impl ViewTarget {
    /// The table queries read.
    pub fn live(schema: &ViewSchema) -> Self {
        Self {
            table: schema.table.to_owned(),
            checkpoint: schema.checkpoint(),
        }
    }

    /// The table a rebuild fills while the live one keeps serving.
    pub fn rebuild(schema: &ViewSchema) -> Self {
        Self {
            table: format!("{}__rebuild", schema.table),
            checkpoint: format!("{}#rebuild", schema.checkpoint()),
        }
    }
}

/// How far one step of a view got.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub struct Advanced {
    /// Events of the store read past the checkpoint (the view's and others).
    pub read: usize,
    /// Events the view folded.
    pub applied: usize,
    /// The checkpoint after the step.
    pub checkpoint: Position,
}

/// Where a view stands against the store.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Progress {
    /// The last position the view folded.
    pub checkpoint: Position,
    /// The last position of the store.
    pub head: Position,
    /// When the oldest event the view has not folded was recorded.
    pub oldest_pending: Option<DateTime<Utc>>,
}

impl Progress {
    /// Events recorded but not yet in the view.
    pub fn lag_events(&self) -> u64 {
        self.head.saturating_sub(self.checkpoint)
    }

    /// How long the oldest event not yet in the view has waited, at `now`.
    pub fn lag_seconds(&self, now: DateTime<Utc>) -> f64 {
        self.oldest_pending.map_or(0.0, |at| {
            let waited = now.signed_duration_since(at);
            (waited.num_microseconds().unwrap_or(i64::MAX) as f64 / 1e6).max(0.0)
        })
    }
}

/// Why a view did not advance.
#[derive(Debug, thiserror::Error)]
pub enum ViewError {
    /// The store failed; nothing of the step was kept.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// An event did not decode or apply. The events before it are kept, with the checkpoint
    /// just before it.
    #[error("view `{view}` stopped at position {position}: {reason}")]
    Event {
        /// The view.
        view: &'static str,
        /// The failing event's position.
        position: Position,
        /// What went wrong.
        reason: String,
    },
}

/// A store that keeps views: every store adapter implements it beside
/// [`EventStore`](crate::EventStore), and proves it with
/// `testing::conformance::views`.
pub trait ViewStore: Send + Sync + 'static {
    /// Creates the view's table and indexes when they are missing.
    fn prepare_view(
        &self,
        schema: &'static ViewSchema,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Folds up to `limit` events after `target`'s checkpoint into its table and moves the
    /// checkpoint past them, in one transaction that holds the checkpoint (a second runner of
    /// the same view waits, then continues where this one stopped).
    ///
    /// The fold is [`ViewBatch`]: decode, load the rows the batch touches, fold, write.
    fn advance_view<V: View>(
        &self,
        target: &ViewTarget,
        limit: usize,
    ) -> impl Future<Output = Result<Advanced, ViewError>> + Send;

    /// Fills a fresh table from the first event, then swaps it in for the live one in one
    /// transaction that also catches it up to the live checkpoint's holder; queries see the
    /// old rows until the swap and the new ones after, never a half-built table.
    fn rebuild_view<V: View>(
        &self,
        batch: usize,
    ) -> impl Future<Output = Result<Advanced, ViewError>> + Send;

    /// The live table's checkpoint against the store's head.
    fn view_progress(
        &self,
        schema: &'static ViewSchema,
    ) -> impl Future<Output = Result<Progress, StoreError>> + Send;

    /// One page of rows (see [`ViewQuery`] for the rules every store follows).
    fn query_view(
        &self,
        schema: &'static ViewSchema,
        query: &ViewQuery,
    ) -> impl Future<Output = Result<ViewPage, StoreError>> + Send;

    /// The row with `key`.
    fn view_row(
        &self,
        schema: &'static ViewSchema,
        key: &str,
    ) -> impl Future<Output = Result<Option<ViewRecord>, StoreError>> + Send;

    /// The global position of an event, once the store has given it one.
    fn event_position(
        &self,
        event_id: EventId,
    ) -> impl Future<Output = Result<Option<Position>, StoreError>> + Send;
}

impl<T: ViewStore> ViewStore for std::sync::Arc<T> {
    fn prepare_view(
        &self,
        schema: &'static ViewSchema,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).prepare_view(schema)
    }

    fn advance_view<V: View>(
        &self,
        target: &ViewTarget,
        limit: usize,
    ) -> impl Future<Output = Result<Advanced, ViewError>> + Send {
        (**self).advance_view::<V>(target, limit)
    }

    fn rebuild_view<V: View>(
        &self,
        batch: usize,
    ) -> impl Future<Output = Result<Advanced, ViewError>> + Send {
        (**self).rebuild_view::<V>(batch)
    }

    fn view_progress(
        &self,
        schema: &'static ViewSchema,
    ) -> impl Future<Output = Result<Progress, StoreError>> + Send {
        (**self).view_progress(schema)
    }

    fn query_view(
        &self,
        schema: &'static ViewSchema,
        query: &ViewQuery,
    ) -> impl Future<Output = Result<ViewPage, StoreError>> + Send {
        (**self).query_view(schema, query)
    }

    fn view_row(
        &self,
        schema: &'static ViewSchema,
        key: &str,
    ) -> impl Future<Output = Result<Option<ViewRecord>, StoreError>> + Send {
        (**self).view_row(schema, key)
    }

    fn event_position(
        &self,
        event_id: EventId,
    ) -> impl Future<Output = Result<Option<Position>, StoreError>> + Send {
        (**self).event_position(event_id)
    }
}
