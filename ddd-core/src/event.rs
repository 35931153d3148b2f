//! Domain events and the envelope every recorded event travels in.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use uuid::Uuid;

/// Identifies one recorded event everywhere: in the store, on the bus, in inboxes.
pub type EventId = Uuid;

/// Position of an event in the store's global, gap-free order. The first event is at 1.
pub type Position = u64;

/// Position of an event in its aggregate's stream. The first event has version 1; an
/// aggregate with no events is at version 0.
pub type Version = u64;

/// An event's payload once encoded: what stores persist and buses carry.
pub type Payload = serde_json::Value;

/// An envelope whose payload is still encoded.
pub type RawEnvelope = Envelope<Payload>;

/// A fact that happened in the domain.
///
/// Each event has a stable type name (stored, so renaming the Rust type must not change it)
/// and a schema version (bumped when its payload changes shape; older payloads are upcast on
/// decode). `#[derive(DomainEvent)]` writes this impl for enums (one type per variant) and
/// structs.
pub trait DomainEvent: Clone + fmt::Debug + Send + Sync + 'static {
    /// The stable type name of this event.
    fn event_type(&self) -> &'static str;

    /// The current schema version of this event's type.
    fn schema_version(&self) -> u32;

    /// Every type name this event type can be, for subscriptions and diagnostics.
    fn event_types() -> &'static [&'static str];

    /// The payload to store: the event's fields, without its type name.
    fn encode(&self) -> Result<Payload, CodecError>;

    /// Rebuilds an event from a stored type name, schema version and payload.
    /// `Ok(None)` means the type name is not one of this event type's, which lets a
    /// subscriber that reads a mixed stream skip what it does not know.
    fn decode(
        event_type: &str,
        schema_version: u32,
        payload: Payload,
    ) -> Result<Option<Self>, CodecError>;
}

/// Why an event could not be encoded or decoded.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    /// serde rejected the payload.
    #[error("event `{event_type}`: {source}")]
    Serde {
        /// The event's type name.
        event_type: String,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
    /// The payload was written by a newer schema than this code knows.
    #[error(
        "event `{event_type}` has schema version {found}, newer than the {known} this build knows"
    )]
    FutureVersion {
        /// The event's type name.
        event_type: String,
        /// The stored version.
        found: u32,
        /// The newest version this build knows.
        known: u32,
    },
    /// An upcaster refused the payload.
    #[error("event `{event_type}` v{from}: {message}")]
    Upcast {
        /// The event's type name.
        event_type: String,
        /// The stored version the upcast started from.
        from: u32,
        /// Why it failed.
        message: String,
    },
    /// The stored type name is unknown to this event type.
    #[error("unknown event type `{0}`")]
    UnknownType(String),
}

/// Tracing context in W3C Trace Context form (`traceparent` / `tracestate`), so traces cross
/// the store and the bus.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct TraceContext {
    /// 16-byte trace id.
    pub trace_id: u128,
    /// 8-byte id of the span that recorded the event.
    pub span_id: u64,
    /// Trace flags (bit 0: sampled).
    pub flags: u8,
    /// Vendor-specific `tracestate`, passed through untouched.
    pub state: Option<String>,
}

impl TraceContext {
    /// The `traceparent` header value: `00-<trace id>-<span id>-<flags>`.
    pub fn traceparent(&self) -> String {
        format!(
            "00-{:032x}-{:016x}-{:02x}",
            self.trace_id, self.span_id, self.flags
        )
    }

    /// The context of a `traceparent` and `tracestate` pair as a store keeps them; `None`
    /// without a well-formed `traceparent`.
    pub fn from_parts(traceparent: Option<&str>, tracestate: Option<String>) -> Option<Self> {
        let mut trace = Self::from_traceparent(traceparent?)?;
        trace.state = tracestate;
        Some(trace)
    }

    /// Parses a `traceparent` header value; `None` unless it is well-formed version 00 with
    /// non-zero ids, as the W3C spec asks.
    pub fn from_traceparent(value: &str) -> Option<Self> {
        let mut parts = value.trim().split('-');
        let (version, trace, span, flags) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        let well_formed = version == "00"
            && parts.next().is_none()
            && trace.len() == 32
            && span.len() == 16
            && flags.len() == 2;
        if !well_formed {
            return None;
        }
        let trace_id = u128::from_str_radix(trace, 16).ok()?;
        let span_id = u64::from_str_radix(span, 16).ok()?;
        let flags = u8::from_str_radix(flags, 16).ok()?;
        (trace_id != 0 && span_id != 0).then_some(Self {
            trace_id,
            span_id,
            flags,
            state: None,
        })
    }
}

impl fmt::Display for TraceContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.traceparent())
    }
}

impl FromStr for TraceContext {
    type Err = InvalidTraceparent;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::from_traceparent(s).ok_or_else(|| InvalidTraceparent(s.to_owned()))
    }
}

/// A `traceparent` value that is not W3C version 00.
#[derive(Debug, thiserror::Error)]
#[error("invalid traceparent `{0}`")]
pub struct InvalidTraceparent(String);

#[derive(Serialize, Deserialize)]
struct TraceContextRepr<'a> {
    traceparent: Cow<'a, str>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    tracestate: Option<Cow<'a, str>>,
}

impl Serialize for TraceContext {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        TraceContextRepr {
            traceparent: Cow::Owned(self.traceparent()),
            tracestate: self.state.as_deref().map(Cow::Borrowed),
        }
        .serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for TraceContext {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let repr = TraceContextRepr::deserialize(deserializer)?;
        let mut context = Self::from_traceparent(&repr.traceparent).ok_or_else(|| {
            serde::de::Error::custom(format!("invalid traceparent `{}`", repr.traceparent))
        })?;
        context.state = repr.tracestate.map(Cow::into_owned);
        Ok(context)
    }
}

/// Free-form metadata beside the typed envelope fields (tenant, user, feature flags…).
pub type Metadata = BTreeMap<String, serde_json::Value>;

/// Everything about a recorded event except its payload.
///
/// Stores fill in `version`, `position` and `recorded_at` when they append; everything else
/// comes from the command that caused the event.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Envelope<E> {
    /// Unique id (UUID v7, so ids sort by creation time).
    pub event_id: EventId,
    /// The aggregate type's stable name.
    pub aggregate_type: Cow<'static, str>,
    /// The aggregate's id, in its `Display` form.
    pub aggregate_id: String,
    /// Position in the aggregate's stream, from 1.
    pub version: Version,
    /// Position in the store's global order, from 1; 0 before the store assigned one.
    pub position: Position,
    /// When the store recorded the event.
    pub recorded_at: DateTime<Utc>,
    /// The event's stable type name.
    pub event_type: Cow<'static, str>,
    /// The schema version the payload was written with.
    pub schema_version: u32,
    /// Ties together everything one request started, across contexts.
    pub correlation_id: Uuid,
    /// The command or event that directly caused this event.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<Uuid>,
    /// The distributed trace this event belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceContext>,
    /// Free-form metadata.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub metadata: Metadata,
    /// The event itself.
    pub payload: E,
}

impl<E> Envelope<E> {
    /// Replaces the payload, keeping everything else.
    pub fn map<F>(self, f: impl FnOnce(E) -> F) -> Envelope<F> {
        match self.try_map(|payload| Ok::<_, std::convert::Infallible>(f(payload))) {
            Ok(envelope) => envelope,
        }
    }

    /// Fallible [`Envelope::map`].
    pub fn try_map<F, Err>(self, f: impl FnOnce(E) -> Result<F, Err>) -> Result<Envelope<F>, Err> {
        let Self {
            event_id,
            aggregate_type,
            aggregate_id,
            version,
            position,
            recorded_at,
            event_type,
            schema_version,
            correlation_id,
            causation_id,
            trace,
            metadata,
            payload,
        } = self;
        Ok(Envelope {
            payload: f(payload)?,
            event_id,
            aggregate_type,
            aggregate_id,
            version,
            position,
            recorded_at,
            event_type,
            schema_version,
            correlation_id,
            causation_id,
            trace,
            metadata,
        })
    }
}

impl<E: DomainEvent> Envelope<E> {
    /// Encodes the payload for a store or bus.
    pub fn to_raw(&self) -> Result<RawEnvelope, CodecError> {
        let payload = self.payload.encode()?;
        Ok(Envelope {
            event_id: self.event_id,
            aggregate_type: self.aggregate_type.clone(),
            aggregate_id: self.aggregate_id.clone(),
            version: self.version,
            position: self.position,
            recorded_at: self.recorded_at,
            event_type: self.event_type.clone(),
            schema_version: self.schema_version,
            correlation_id: self.correlation_id,
            causation_id: self.causation_id,
            trace: self.trace.clone(),
            metadata: self.metadata.clone(),
            payload,
        })
    }
}

impl RawEnvelope {
    /// Decodes the payload as `E`; `Ok(None)` when the event type is not one of `E`'s.
    pub fn decode<E: DomainEvent>(self) -> Result<Option<Envelope<E>>, CodecError> {
        let event_type = self.event_type.clone();
        let stored_version = self.schema_version;
        let decoded = self.try_map(|payload| E::decode(&event_type, stored_version, payload))?;
        Ok(decoded.transpose().map(|mut envelope| {
            // Upcast on decode: the envelope now holds the current schema.
            envelope.schema_version = envelope.payload.schema_version();
            envelope
        }))
    }

    /// Decodes the payload as `E`, where an event type `E` does not know is an error: a
    /// stream holds only its aggregate's events.
    pub fn decode_own<E: DomainEvent>(self) -> Result<Envelope<E>, CodecError> {
        let event_type = self.event_type.to_string();
        self.decode::<E>()?
            .ok_or(CodecError::UnknownType(event_type))
    }
}

impl<E> Envelope<Option<E>> {
    /// `Some(envelope)` when the payload is present.
    pub fn transpose(self) -> Option<Envelope<E>> {
        self.try_map(|payload| payload.ok_or(())).ok()
    }
}

/// Helpers for encoding events the way `#[derive(DomainEvent)]` does; public so hand-written
/// impls can share them.
pub mod codec {
    use super::{CodecError, Payload};
    use serde::Serialize;
    use serde::de::DeserializeOwned;

    /// Encodes an enum in serde's default (externally tagged) form and strips the tag: the
    /// variant's fields become the payload (`null` for a unit variant).
    pub fn encode_variant<T: Serialize>(
        event_type: &str,
        event: &T,
    ) -> Result<Payload, CodecError> {
        let value = serde_json::to_value(event).map_err(|source| CodecError::Serde {
            event_type: event_type.to_owned(),
            source,
        })?;
        Ok(match value {
            Payload::Object(map) if map.len() == 1 => map
                .into_iter()
                .next()
                .map_or(Payload::Null, |(_, inner)| inner),
            Payload::String(_) => Payload::Null,
            other => other,
        })
    }

    /// Rebuilds an enum variant from its payload by putting serde's tag back.
    pub fn decode_variant<T: DeserializeOwned>(
        event_type: &str,
        serde_variant: &str,
        payload: Payload,
    ) -> Result<T, CodecError> {
        let serde_error = |source| CodecError::Serde {
            event_type: event_type.to_owned(),
            source,
        };
        // A unit variant is a bare string in serde's form; a newtype variant holding `None`
        // also encodes to `null`, so fall back to the tagged form for it.
        if payload.is_null()
            && let Ok(unit) = serde_json::from_value(Payload::String(serde_variant.to_owned()))
        {
            return Ok(unit);
        }
        let mut tagged = serde_json::Map::with_capacity(1);
        tagged.insert(serde_variant.to_owned(), payload);
        serde_json::from_value(Payload::Object(tagged)).map_err(serde_error)
    }

    /// Encodes a struct event: all of it is the payload.
    pub fn encode_struct<T: Serialize>(event_type: &str, event: &T) -> Result<Payload, CodecError> {
        serde_json::to_value(event).map_err(|source| CodecError::Serde {
            event_type: event_type.to_owned(),
            source,
        })
    }

    /// Decodes a struct event from its payload.
    pub fn decode_struct<T: DeserializeOwned>(
        event_type: &str,
        payload: Payload,
    ) -> Result<T, CodecError> {
        serde_json::from_value(payload).map_err(|source| CodecError::Serde {
            event_type: event_type.to_owned(),
            source,
        })
    }
}

/// Encodes any serializable value; used for snapshots.
pub(crate) fn to_payload<T: Serialize>(value: &T, what: &str) -> Result<Payload, CodecError> {
    codec::encode_struct(what, value)
}

/// Decodes any deserializable value; used for snapshots.
pub(crate) fn from_payload<T: DeserializeOwned>(
    payload: Payload,
    what: &str,
) -> Result<T, CodecError> {
    codec::decode_struct(what, payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stored_trace_needs_a_well_formed_traceparent() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let trace = TraceContext::from_parts(Some(header), Some("vendor=1".into())).unwrap();
        assert_eq!(trace.traceparent(), header);
        assert_eq!(trace.state.as_deref(), Some("vendor=1"));
        assert!(TraceContext::from_parts(None, Some("vendor=1".into())).is_none());
        assert!(TraceContext::from_parts(Some("00-bad"), None).is_none());
    }

    #[test]
    fn traceparent_round_trips_and_rejects_malformed_values() {
        let header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
        let context: TraceContext = header.parse().unwrap();
        assert_eq!(context.traceparent(), header);
        assert_eq!(context.flags, 1);
        for bad in [
            "",
            "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            "00-00000000000000000000000000000000-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",
            "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",
            "00-xyz92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        ] {
            assert!(TraceContext::from_traceparent(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn trace_context_serializes_as_w3c_headers() {
        let mut context: TraceContext = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00"
            .parse()
            .unwrap();
        context.state = Some("vendor=1".into());
        let json = serde_json::to_value(&context).unwrap();
        assert_eq!(
            json,
            serde_json::json!({
                "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00",
                "tracestate": "vendor=1"
            })
        );
        assert_eq!(
            serde_json::from_value::<TraceContext>(json).unwrap(),
            context
        );
    }

    #[derive(Serialize, serde::Deserialize, Debug, PartialEq)]
    enum Sample {
        Unit,
        Named { amount: i64 },
        Tuple(String),
    }

    #[test]
    fn variant_codec_strips_and_restores_the_tag() {
        for (event, payload) in [
            (Sample::Unit, serde_json::json!(null)),
            (
                Sample::Named { amount: 5 },
                serde_json::json!({"amount": 5}),
            ),
            (Sample::Tuple("x".into()), serde_json::json!("x")),
        ] {
            let encoded = codec::encode_variant("t", &event).unwrap();
            assert_eq!(encoded, payload);
            let variant = match event {
                Sample::Unit => "Unit",
                Sample::Named { .. } => "Named",
                Sample::Tuple(_) => "Tuple",
            };
            let decoded: Sample = codec::decode_variant("t", variant, encoded).unwrap();
            assert_eq!(decoded, event);
        }
    }

    #[test]
    fn a_payload_of_the_wrong_shape_is_a_codec_error_naming_the_type() {
        let err =
            codec::decode_variant::<Sample>("Named", "Named", serde_json::json!({"amount": "x"}))
                .unwrap_err();
        assert!(err.to_string().starts_with("event `Named`"), "{err}");
    }
}
