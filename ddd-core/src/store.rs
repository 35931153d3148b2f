//! The event store port: streams with optimistic concurrency, a global order for
//! subscribers, snapshots.

use std::borrow::Cow;
use std::fmt;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::aggregate::{ExpectedVersion, Version};
use crate::event::{CodecError, DomainEvent, Envelope, EventId, Payload, Position, RawEnvelope};

/// Names one aggregate's stream.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct StreamId {
    /// The aggregate type's stable name.
    pub aggregate_type: Cow<'static, str>,
    /// The aggregate's id in its `Display` form.
    pub aggregate_id: String,
}

impl StreamId {
    /// A stream id from its parts.
    pub fn new(
        aggregate_type: impl Into<Cow<'static, str>>,
        aggregate_id: impl Into<String>,
    ) -> Self {
        Self {
            aggregate_type: aggregate_type.into(),
            aggregate_id: aggregate_id.into(),
        }
    }

    /// Whether an envelope belongs to this stream.
    pub fn holds<E>(&self, envelope: &Envelope<E>) -> bool {
        envelope.aggregate_type == self.aggregate_type && envelope.aggregate_id == self.aggregate_id
    }
}

impl fmt::Display for StreamId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.aggregate_type, self.aggregate_id)
    }
}

/// Marks an event of another context as processed by a consumer, in the same atomic append
/// as the events its handling produced, so a redelivered event has no second effect.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct InboxMark {
    /// The durable consumer (policy) name.
    pub consumer: String,
    /// The id of the event it handled.
    pub event_id: EventId,
}

/// One atomic append to one stream.
#[derive(Debug)]
pub struct AppendRequest<E> {
    /// The stream.
    pub stream: StreamId,
    /// The version the stream must be at.
    pub expected: ExpectedVersion,
    /// The events; the store assigns their `version`, `position` and `recorded_at`.
    pub events: Vec<Envelope<E>>,
    /// Recorded with the events, when a policy's handling caused them.
    pub inbox: Option<InboxMark>,
}

/// What an append stored.
#[derive(Debug)]
pub struct Appended<E> {
    /// The stored events with their versions and positions. For an idempotent re-append these
    /// are the copies stored the first time.
    pub events: Vec<Envelope<E>>,
    /// The stream's version after the append.
    pub version: Version,
    /// Whether the events were already stored (a retry after a lost reply) and nothing new
    /// was written.
    pub already_stored: bool,
}

/// Why an append was refused.
#[derive(Debug, thiserror::Error)]
pub enum AppendError {
    /// Another writer got there first.
    #[error("concurrency conflict on {stream}: expected {expected}, stream is at version {actual}")]
    Conflict {
        /// The stream.
        stream: StreamId,
        /// What the writer expected.
        expected: ExpectedVersion,
        /// The stream's version when the append was tried.
        actual: Version,
    },
    /// The inbox mark was recorded before: this event was already handled by this consumer.
    #[error("event {} was already processed by `{}`", .0.event_id, .0.consumer)]
    AlreadyProcessed(InboxMark),
    /// The batch itself is wrong: events of another stream, or ids of which only some are
    /// stored already (a re-append must repeat the whole batch).
    #[error("invalid append to {stream}: {reason}")]
    InvalidBatch {
        /// The stream.
        stream: StreamId,
        /// What is wrong.
        reason: String,
    },
    /// An event could not be encoded.
    #[error(transparent)]
    Codec(#[from] CodecError),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A failure of the store itself (connection, IO, corruption), as opposed to a refused append.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct StoreError {
    message: String,
    retryable: bool,
    #[source]
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl StoreError {
    /// An error that retrying cannot fix.
    pub fn permanent(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: false,
            source: None,
        }
    }

    /// An error that may pass (a dropped connection, a timeout).
    pub fn transient(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
            retryable: true,
            source: None,
        }
    }

    /// Attaches the underlying error.
    #[must_use]
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// Whether trying again may succeed.
    pub fn is_retryable(&self) -> bool {
        self.retryable
    }
}

impl From<CodecError> for StoreError {
    fn from(error: CodecError) -> Self {
        Self::permanent(error.to_string()).with_source(error)
    }
}

/// An aggregate's state saved at a version, so loading replays only the events after it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    /// The version of the last event folded into the state.
    pub version: Version,
    /// The aggregate's `SNAPSHOT_VERSION` when it was taken.
    pub schema_version: u32,
    /// The encoded state.
    pub state: Payload,
    /// When it was taken.
    pub taken_at: DateTime<Utc>,
}

/// Stores events in streams, one per aggregate, and in one global order.
///
/// Every implementation passes `ddd_core::testing::conformance::event_store`.
///
/// Guarantees:
/// - `append` is atomic: all events of a request are stored, with the inbox mark, or none.
/// - With an expectation other than [`ExpectedVersion::Any`], an append to a stream that moved
///   fails with [`AppendError::Conflict`], whatever the versions.
/// - Re-appending events whose ids are all stored already succeeds, stores nothing new and
///   returns the first copies (a retry after a lost reply).
/// - `read_all` returns events in global position order and never skips one: an event that
///   commits later than a reader passed its position is impossible. Positions are assigned
///   at append or, by stores that must not serialize writers to keep this promise, later but
///   before `read_all` returns the event (`position` is 0 until then).
pub trait EventStore: Send + Sync + 'static {
    /// Appends events to one stream.
    fn append<E: DomainEvent>(
        &self,
        request: AppendRequest<E>,
    ) -> impl Future<Output = Result<Appended<E>, AppendError>> + Send;

    /// The events of a stream with versions greater than `after`, in order.
    fn load<E: DomainEvent>(
        &self,
        stream: &StreamId,
        after: Version,
    ) -> impl Future<Output = Result<Vec<Envelope<E>>, StoreError>> + Send;

    /// Up to `limit` events of all streams with positions greater than `after`, in order.
    fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RawEnvelope>, StoreError>> + Send;

    /// Saves a snapshot, replacing older ones of the stream.
    fn save_snapshot(
        &self,
        stream: &StreamId,
        snapshot: Snapshot,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The latest snapshot of a stream.
    fn load_snapshot(
        &self,
        stream: &StreamId,
    ) -> impl Future<Output = Result<Option<Snapshot>, StoreError>> + Send;

    /// Whether `consumer` already processed `event_id` (see [`InboxMark`]).
    fn is_processed(
        &self,
        consumer: &str,
        event_id: EventId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The latest snapshot of a stream and the events after it (every event when there is
    /// none), in version order: what loading an aggregate needs. The default makes the two
    /// reads; a store that can answers in one round trip, which is most of a cold command's
    /// latency.
    fn load_latest<E: DomainEvent>(
        &self,
        stream: &StreamId,
    ) -> impl Future<Output = Result<(Option<Snapshot>, Vec<Envelope<E>>), StoreError>> + Send {
        async move {
            let snapshot = self.load_snapshot(stream).await?;
            let after = snapshot.as_ref().map_or(0, |snapshot| snapshot.version);
            let events = self.load(stream, after).await?;
            Ok((snapshot, events))
        }
    }

    /// Whether the store answers now, for readiness probes. The default asks it for a
    /// snapshot nobody has, which goes to the database like any read.
    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        async {
            let probe = StreamId::new("$health", "ping");
            self.load_snapshot(&probe).await.map(|_| ())
        }
    }
}

impl<S: EventStore + ?Sized> EventStore for Arc<S> {
    fn append<E: DomainEvent>(
        &self,
        request: AppendRequest<E>,
    ) -> impl Future<Output = Result<Appended<E>, AppendError>> + Send {
        (**self).append(request)
    }

    fn load<E: DomainEvent>(
        &self,
        stream: &StreamId,
        after: Version,
    ) -> impl Future<Output = Result<Vec<Envelope<E>>, StoreError>> + Send {
        (**self).load(stream, after)
    }

    fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> impl Future<Output = Result<Vec<RawEnvelope>, StoreError>> + Send {
        (**self).read_all(after, limit)
    }

    fn save_snapshot(
        &self,
        stream: &StreamId,
        snapshot: Snapshot,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).save_snapshot(stream, snapshot)
    }

    fn load_snapshot(
        &self,
        stream: &StreamId,
    ) -> impl Future<Output = Result<Option<Snapshot>, StoreError>> + Send {
        (**self).load_snapshot(stream)
    }

    fn is_processed(
        &self,
        consumer: &str,
        event_id: EventId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send {
        (**self).is_processed(consumer, event_id)
    }

    fn load_latest<E: DomainEvent>(
        &self,
        stream: &StreamId,
    ) -> impl Future<Output = Result<(Option<Snapshot>, Vec<Envelope<E>>), StoreError>> + Send {
        (**self).load_latest(stream)
    }

    fn ping(&self) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).ping()
    }
}

pub mod options;

/// The checks every store makes before writing, shared so backends agree on them.
pub mod checks {
    use super::{AppendError, AppendRequest, StreamId};

    /// Every event of the request belongs to its stream and ids are unique within it.
    pub fn batch_is_well_formed<E>(request: &AppendRequest<E>) -> Result<(), AppendError> {
        let invalid = |reason: String| AppendError::InvalidBatch {
            stream: request.stream.clone(),
            reason,
        };
        if let Some(stray) = request.events.iter().find(|e| !request.stream.holds(e)) {
            return Err(invalid(format!(
                "event {} belongs to {}",
                stray.event_id,
                StreamId::new(stray.aggregate_type.clone(), stray.aggregate_id.clone())
            )));
        }
        for (index, event) in request.events.iter().enumerate() {
            if request.events[..index]
                .iter()
                .any(|earlier| earlier.event_id == event.event_id)
            {
                return Err(invalid(format!(
                    "event id {} appears twice",
                    event.event_id
                )));
            }
        }
        Ok(())
    }

    /// Decides what an append whose ids are `found` of `total` already stored means.
    pub fn classify_duplicates(
        stream: &StreamId,
        found: usize,
        total: usize,
    ) -> Result<bool, AppendError> {
        match found {
            0 => Ok(false),
            n if n == total => Ok(true),
            n => Err(AppendError::InvalidBatch {
                stream: stream.clone(),
                reason: format!(
                    "{n} of {total} event ids are stored already; a retry must repeat the original batch"
                ),
            }),
        }
    }
}
