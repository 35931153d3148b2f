//! Envelopes to column values (encoded by the caller, so the writer thread only binds) and
//! rows back to envelopes.

use chrono::{DateTime, Utc};
use ddd_core::{
    CodecError, DomainEvent, Envelope, Metadata, Payload, RawEnvelope, StoreError, TraceContext,
};
use uuid::Uuid;

/// The columns every event query selects from `ddd_events AS e`, in the order [`envelope`]
/// reads them; a macro so queries stay `&'static str` for `concat!`.
macro_rules! event_columns {
    () => {
        "e.position, e.event_id, e.aggregate_type, e.aggregate_id, e.version, e.recorded_at, \
         e.event_type, e.schema_version, e.correlation_id, e.causation_id, e.traceparent, \
         e.tracestate, e.metadata, e.payload"
    };
}
pub(crate) use event_columns;

/// One event's column values.
#[derive(Debug)]
pub(crate) struct Encoded {
    pub(crate) event_id: Uuid,
    pub(crate) event_type: String,
    pub(crate) schema_version: u32,
    pub(crate) correlation_id: Uuid,
    pub(crate) causation_id: Option<Uuid>,
    pub(crate) traceparent: Option<String>,
    pub(crate) tracestate: Option<String>,
    pub(crate) metadata: String,
    pub(crate) payload: String,
}

impl Encoded {
    pub(crate) fn new<E: DomainEvent>(event: &Envelope<E>) -> Result<Self, CodecError> {
        let payload = event.payload.encode()?;
        let json = |value: &Payload| {
            serde_json::to_string(value).map_err(|source| CodecError::Serde {
                event_type: event.event_type.to_string(),
                source,
            })
        };
        Ok(Self {
            event_id: event.event_id,
            event_type: event.event_type.to_string(),
            schema_version: event.schema_version,
            correlation_id: event.correlation_id,
            causation_id: event.causation_id,
            traceparent: event.trace.as_ref().map(TraceContext::traceparent),
            tracestate: event.trace.as_ref().and_then(|trace| trace.state.clone()),
            metadata: json(&Payload::Object(
                event.metadata.clone().into_iter().collect(),
            ))?,
            payload: json(&payload)?,
        })
    }
}

/// `recorded_at` as stored (microseconds), so what an append returns equals what `load`
/// returns.
pub(crate) fn now() -> DateTime<Utc> {
    use chrono::SubsecRound as _;
    Utc::now().trunc_subsecs(6)
}

fn corrupt(what: &str, error: impl std::fmt::Display) -> StoreError {
    StoreError::permanent(format!("SQLite: stored event has a bad {what}: {error}"))
}

fn unsigned(what: &str, value: i64) -> Result<u64, StoreError> {
    u64::try_from(value).map_err(|error| corrupt(what, error))
}

pub(crate) fn uuid(what: &str, bytes: &[u8]) -> Result<Uuid, StoreError> {
    Uuid::from_slice(bytes).map_err(|error| corrupt(what, error))
}

pub(crate) fn timestamp(what: &str, micros: i64) -> Result<DateTime<Utc>, StoreError> {
    DateTime::from_timestamp_micros(micros).ok_or_else(|| corrupt(what, micros))
}

/// A row selected with [`event_columns!`] as an envelope.
pub(crate) fn envelope(row: &rusqlite::Row<'_>) -> Result<RawEnvelope, StoreError> {
    let get = |error| crate::error::store_error("reading an event", error);
    let causation: Option<Vec<u8>> = row.get(9).map_err(get)?;
    let traceparent: Option<String> = row.get(10).map_err(get)?;
    let tracestate: Option<String> = row.get(11).map_err(get)?;
    let metadata: String = row.get(12).map_err(get)?;
    let payload: String = row.get(13).map_err(get)?;
    Ok(Envelope {
        position: unsigned("position", row.get(0).map_err(get)?)?,
        event_id: uuid("event id", &row.get::<_, Vec<u8>>(1).map_err(get)?)?,
        aggregate_type: row.get::<_, String>(2).map_err(get)?.into(),
        aggregate_id: row.get(3).map_err(get)?,
        version: unsigned("version", row.get(4).map_err(get)?)?,
        recorded_at: timestamp("recorded_at", row.get(5).map_err(get)?)?,
        event_type: row.get::<_, String>(6).map_err(get)?.into(),
        schema_version: row.get(7).map_err(get)?,
        correlation_id: uuid("correlation id", &row.get::<_, Vec<u8>>(8).map_err(get)?)?,
        causation_id: causation
            .map(|bytes| uuid("causation id", &bytes))
            .transpose()?,
        trace: TraceContext::from_parts(traceparent.as_deref(), tracestate),
        metadata: serde_json::from_str::<Metadata>(&metadata)
            .map_err(|error| corrupt("metadata", error))?,
        payload: serde_json::from_str::<Payload>(&payload)
            .map_err(|error| corrupt("payload", error))?,
    })
}

/// Decodes a stored event as `E`; an event of a type `E` does not know is an error here,
/// because a stream only holds its aggregate's events.
pub(crate) fn typed<E: DomainEvent>(raw: RawEnvelope) -> Result<Envelope<E>, StoreError> {
    Ok(raw.decode_own()?)
}
