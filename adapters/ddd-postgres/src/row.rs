//! Envelopes to column arrays (one `UNNEST` insert per append) and rows back to envelopes.

use chrono::{DateTime, Utc};
use ddd_core::{
    CodecError, DomainEvent, Envelope, Metadata, Payload, RawEnvelope, StoreError, TraceContext,
};
use sqlx::Row as _;
use sqlx::postgres::PgRow;
use uuid::Uuid;

/// The columns every event query selects, in the order [`envelope`] reads them; a macro so
/// queries stay `&'static str` for `concat!`.
macro_rules! event_columns {
    () => {
        "position, event_id, aggregate_type, aggregate_id, version, recorded_at, event_type, \
         schema_version, correlation_id, causation_id, traceparent, tracestate, metadata, payload"
    };
}
pub(crate) use event_columns;

/// An append's events as one array per column.
#[derive(Debug, Default)]
pub(crate) struct Columns {
    pub(crate) event_ids: Vec<Uuid>,
    pub(crate) event_types: Vec<String>,
    pub(crate) schema_versions: Vec<i32>,
    pub(crate) correlation_ids: Vec<Uuid>,
    pub(crate) causation_ids: Vec<Option<Uuid>>,
    pub(crate) traceparents: Vec<Option<String>>,
    pub(crate) tracestates: Vec<Option<String>>,
    pub(crate) metadata: Vec<Payload>,
    pub(crate) payloads: Vec<Payload>,
}

impl Columns {
    /// Encodes the payloads; fails on the first that does not encode.
    pub(crate) fn encode<E: DomainEvent>(events: &[Envelope<E>]) -> Result<Self, CodecError> {
        let mut columns = Self::default();
        for event in events {
            columns.payloads.push(event.payload.encode()?);
            columns.event_ids.push(event.event_id);
            columns.event_types.push(event.event_type.to_string());
            columns
                .schema_versions
                .push(i32::try_from(event.schema_version).unwrap_or(i32::MAX));
            columns.correlation_ids.push(event.correlation_id);
            columns.causation_ids.push(event.causation_id);
            columns
                .traceparents
                .push(event.trace.as_ref().map(TraceContext::traceparent));
            columns
                .tracestates
                .push(event.trace.as_ref().and_then(|trace| trace.state.clone()));
            columns.metadata.push(Payload::Object(
                event.metadata.clone().into_iter().collect(),
            ));
        }
        Ok(columns)
    }
}

impl Columns {
    /// Appends another append's columns, for a group statement.
    pub(crate) fn extend_from(&mut self, other: &Self) {
        self.event_ids.extend_from_slice(&other.event_ids);
        self.event_types.extend_from_slice(&other.event_types);
        self.schema_versions
            .extend_from_slice(&other.schema_versions);
        self.correlation_ids
            .extend_from_slice(&other.correlation_ids);
        self.causation_ids.extend_from_slice(&other.causation_ids);
        self.traceparents.extend_from_slice(&other.traceparents);
        self.tracestates.extend_from_slice(&other.tracestates);
        self.metadata.extend_from_slice(&other.metadata);
        self.payloads.extend_from_slice(&other.payloads);
    }
}

/// `recorded_at` as stored: PostgreSQL keeps microseconds, so the envelope an append returns
/// must not carry more than the one `load` returns.
pub(crate) fn now() -> DateTime<Utc> {
    use chrono::SubsecRound as _;
    Utc::now().trunc_subsecs(6)
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::permanent(format!(
        "PostgreSQL: stored event has a bad {what}: {error}"
    ))
}

fn unsigned(what: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|error| corrupt(what, error))
}

/// A row selected with [`event_columns!`] as an envelope.
pub(crate) fn envelope(row: &PgRow) -> Result<RawEnvelope, StoreError> {
    let get_error = |error: sqlx::Error| crate::error::store_error("reading an event", error);
    let position: Option<i64> = row.try_get(0).map_err(get_error)?;
    let traceparent: Option<String> = row.try_get(10).map_err(get_error)?;
    let tracestate: Option<String> = row.try_get(11).map_err(get_error)?;
    let metadata: Payload = row.try_get(12).map_err(get_error)?;
    let metadata: Metadata =
        serde_json::from_value(metadata).map_err(|error| corrupt("metadata", error))?;
    let schema_version: i32 = row.try_get(7).map_err(get_error)?;
    Ok(Envelope {
        position: unsigned("position", position.unwrap_or(0))?,
        event_id: row.try_get(1).map_err(get_error)?,
        aggregate_type: row.try_get::<String, _>(2).map_err(get_error)?.into(),
        aggregate_id: row.try_get(3).map_err(get_error)?,
        version: unsigned("version", row.try_get(4).map_err(get_error)?)?,
        recorded_at: row.try_get(5).map_err(get_error)?,
        event_type: row.try_get::<String, _>(6).map_err(get_error)?.into(),
        schema_version: u32::try_from(schema_version)
            .map_err(|error| corrupt("schema version", error))?,
        correlation_id: row.try_get(8).map_err(get_error)?,
        causation_id: row.try_get(9).map_err(get_error)?,
        trace: TraceContext::from_parts(traceparent.as_deref(), tracestate),
        metadata,
        payload: row.try_get(13).map_err(get_error)?,
    })
}

/// Decodes a stored event as `E`; an event of a type `E` does not know is an error here,
/// because a stream only holds its aggregate's events.
pub(crate) fn typed<E: DomainEvent>(raw: RawEnvelope) -> Result<Envelope<E>, StoreError> {
    Ok(raw.decode_own()?)
}
