//! Publishing: messages become JetStream publishes, pipelined in confirm windows.

use std::collections::{BTreeSet, VecDeque};

use async_nats::jetstream::context::{PublishAckFuture, PublishErrorKind};
use async_nats::jetstream::message::PublishMessage;
use async_nats::{HeaderMap, Subject};
use bytes::Bytes;
use ddd_core::{BusError, Message, RawEnvelope};

use crate::{Shared, error, system_of};

/// Header names the envelope's ids are copied to (the body stays the source of truth).
pub(crate) mod header {
    pub(crate) const EVENT_ID: &str = "Ddd-Event-Id";
    pub(crate) const EVENT_TYPE: &str = "Ddd-Event-Type";
    pub(crate) const CORRELATION_ID: &str = "Ddd-Correlation-Id";
    pub(crate) const CAUSATION_ID: &str = "Ddd-Causation-Id";
    pub(crate) const TRACEPARENT: &str = "traceparent";
    pub(crate) const TRACESTATE: &str = "tracestate";
}

/// One message ready to go: its subject, its encoded body and what its headers are made of.
/// The headers are built when the message is sent, so a send moves them into the publish
/// instead of cloning them (a resend after a lost stream builds them again).
pub(crate) struct Outgoing<'a> {
    subject: Subject,
    body: Bytes,
    envelope: &'a RawEnvelope,
    /// The deduplication id when it is not the event id.
    id: Option<&'a str>,
}

impl<'a> Outgoing<'a> {
    /// An event, deduplicated by its event id.
    pub(crate) fn event(message: &'a Message) -> Result<Self, BusError> {
        Self::encode(message, None)
    }

    /// A message deduplicated by `id` (dead letters use one per consumer, since several
    /// consumers may dead-letter the same event into the same stream).
    pub(crate) fn with_id(message: &'a Message, id: &'a str) -> Result<Self, BusError> {
        Self::encode(message, Some(id))
    }

    fn encode(message: &'a Message, id: Option<&'a str>) -> Result<Self, BusError> {
        let envelope = &message.envelope;
        let body = serde_json::to_vec(envelope)
            .map_err(|e| BusError::Rejected(format!("envelope does not encode: {e}")))?;
        Ok(Self {
            subject: Subject::from(message.subject.clone()),
            body: Bytes::from(body),
            envelope,
            id,
        })
    }

    /// `Nats-Msg-Id`, and the envelope's fields when `copy`.
    fn headers(&self, copy: bool) -> HeaderMap {
        let envelope = self.envelope;
        let event_id = envelope.event_id.to_string();
        let mut headers = HeaderMap::new();
        headers.insert(
            async_nats::header::NATS_MESSAGE_ID,
            self.id.unwrap_or(&event_id),
        );
        if !copy {
            return headers;
        }
        headers.insert(header::EVENT_ID, event_id);
        headers.insert(header::EVENT_TYPE, envelope.event_type.as_ref());
        headers.insert(header::CORRELATION_ID, envelope.correlation_id.to_string());
        if let Some(causation) = envelope.causation_id {
            headers.insert(header::CAUSATION_ID, causation.to_string());
        }
        if let Some(trace) = &envelope.trace {
            headers.insert(header::TRACEPARENT, trace.traceparent());
            if let Some(state) = &trace.state {
                headers.insert(header::TRACESTATE, state.as_str());
            }
        }
        headers
    }

    fn subject(&self) -> &str {
        self.subject.as_str()
    }
}

/// Publishes `messages` in order; returns once every one is acknowledged by JetStream, or
/// fails with [`BusError::Timeout`] after the publish timeout.
pub(crate) async fn publish(shared: &Shared, messages: Vec<Message>) -> Result<(), BusError> {
    let outgoing = messages
        .iter()
        .map(Outgoing::event)
        .collect::<Result<Vec<_>, _>>()?;
    publish_outgoing(shared, &outgoing).await
}

/// Publishes encoded messages in order, within the publish timeout.
pub(crate) async fn publish_outgoing(
    shared: &Shared,
    outgoing: &[Outgoing<'_>],
) -> Result<(), BusError> {
    if outgoing.is_empty() {
        return Ok(());
    }
    let timeout = shared.config.publish_timeout;
    tokio::time::timeout(timeout, send_all(shared, outgoing))
        .await
        .map_err(|_| BusError::Timeout(timeout))?
}

async fn send_all(shared: &Shared, outgoing: &[Outgoing<'_>]) -> Result<(), BusError> {
    let systems: BTreeSet<&str> = outgoing.iter().map(|m| system_of(m.subject())).collect();
    for system in &systems {
        shared.stream_for(system).await?;
    }
    match send_windowed(shared, outgoing).await {
        Err(Failure::StreamMissing) => {
            // Deleted since it was looked up: find or create it again and resend; the
            // message ids make what was stored before the deletion harmless.
            for system in &systems {
                shared.forget_stream(system).await;
                shared.stream_for(system).await?;
            }
            send_windowed(shared, outgoing)
                .await
                .map_err(Failure::into_bus)
        }
        other => other.map_err(Failure::into_bus),
    }
}

enum Failure {
    StreamMissing,
    Bus(BusError),
}

impl Failure {
    fn into_bus(self) -> BusError {
        match self {
            Self::StreamMissing => BusError::Unavailable("no stream for the subject".to_owned()),
            Self::Bus(error) => error,
        }
    }
}

/// Sends every message, keeping at most a window of them waiting for their ack.
async fn send_windowed(shared: &Shared, outgoing: &[Outgoing<'_>]) -> Result<(), Failure> {
    let mut window: VecDeque<PublishAckFuture> = VecDeque::new();
    for message in outgoing {
        if window.len() >= shared.config.publish_window
            && let Some(oldest) = window.pop_front()
        {
            confirm(shared, oldest).await?;
        }
        let publish = PublishMessage::build()
            .payload(message.body.clone())
            .headers(message.headers(shared.config.envelope_headers));
        let ack = shared
            .jetstream
            .send_publish(message.subject.clone(), publish)
            .await
            .map_err(|e| Failure::Bus(error::publish(e, shared.config.request_timeout)))?;
        window.push_back(ack);
    }
    for ack in window {
        confirm(shared, ack).await?;
    }
    Ok(())
}

async fn confirm(shared: &Shared, ack: PublishAckFuture) -> Result<(), Failure> {
    match ack.await {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == PublishErrorKind::StreamNotFound => Err(Failure::StreamMissing),
        Err(e) => Err(Failure::Bus(error::publish(
            e,
            shared.config.request_timeout,
        ))),
    }
}
