//! The conformance suite: what every [`EventStore`](crate::EventStore),
//! [`EventBus`](crate::EventBus) and [`Outbox`](crate::Outbox) must do, as checks an adapter
//! runs against itself.
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread")]
//! async fn postgres_store_conforms() {
//!     ddd_core::testing::conformance::event_store::run_all(|| PostgresStore::connect(URL)).await;
//! }
//! ```
//!
//! Each check uses fresh, randomly named streams, subjects and consumers, and reads the
//! global order from the head it finds, so a shared database or broker with other data in
//! it is fine. A failed check panics with what went wrong.

pub mod account;
pub mod event_bus;
pub mod event_store;
pub mod outbox;
pub mod repository;
pub mod views;

use std::borrow::Cow;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::aggregate::ExpectedVersion;
use crate::event::{CodecError, DomainEvent, Envelope, Payload, codec};
use crate::store::{AppendRequest, StreamId};

/// The event the suite writes: a counter per stream, so gaps and duplicates show.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tick {
    /// The writer that wrote it.
    pub writer: u32,
    /// A number the writer chose (its n-th write).
    pub n: u64,
}

impl DomainEvent for Tick {
    fn event_type(&self) -> &'static str {
        "Tick"
    }

    fn schema_version(&self) -> u32 {
        1
    }

    fn event_types() -> &'static [&'static str] {
        &["Tick"]
    }

    fn encode(&self) -> Result<Payload, CodecError> {
        codec::encode_struct("Tick", self)
    }

    fn decode(event_type: &str, _: u32, payload: Payload) -> Result<Option<Self>, CodecError> {
        if event_type != "Tick" {
            return Ok(None);
        }
        codec::decode_struct(event_type, payload).map(Some)
    }
}

/// A unique name for this run of a check, so checks never see each other's data.
pub fn unique(prefix: &str) -> String {
    format!("{prefix}{}", uuid::Uuid::now_v7().simple())
}

/// An envelope for `Tick` in stream `aggregate_type/aggregate_id`, ready to append.
pub fn tick(aggregate_type: &str, aggregate_id: &str, writer: u32, n: u64) -> Envelope<Tick> {
    let event_id = uuid::Uuid::now_v7();
    Envelope {
        event_id,
        aggregate_type: Cow::Owned(aggregate_type.to_owned()),
        aggregate_id: aggregate_id.to_owned(),
        version: 0,
        position: 0,
        recorded_at: chrono::Utc::now(),
        event_type: Cow::Borrowed("Tick"),
        schema_version: 1,
        correlation_id: uuid::Uuid::now_v7(),
        causation_id: Some(event_id),
        trace: "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
            .parse()
            .ok(),
        metadata: [("writer".to_owned(), serde_json::json!(writer))]
            .into_iter()
            .collect(),
        payload: Tick { writer, n },
    }
}

/// `count` ticks of `stream`, numbered from 1, ready to append.
pub fn ticks(stream: &StreamId, count: u64) -> Vec<Envelope<Tick>> {
    (1..=count)
        .map(|n| tick(&stream.aggregate_type, &stream.aggregate_id, 0, n))
        .collect()
}

/// A request appending `events` to `stream` at `expected`, with no inbox mark.
pub fn request(
    stream: &StreamId,
    expected: ExpectedVersion,
    events: Vec<Envelope<Tick>>,
) -> AppendRequest<Tick> {
    AppendRequest {
        stream: stream.clone(),
        expected,
        events,
        inbox: None,
    }
}

/// How long a check waits for something that should happen before it fails.
pub const PATIENCE: Duration = Duration::from_secs(20);

/// How long a check waits to be sure something does not happen.
pub const QUIET: Duration = Duration::from_millis(400);
