//! Publishing: persistent, mandatory messages on a confirm-mode channel, pipelined in
//! confirm windows.

use std::collections::VecDeque;

use ddd_core::{BusError, Message};
use lapin::options::BasicPublishOptions;
use lapin::types::{AMQPValue, FieldTable};
use lapin::{BasicProperties, Confirmation, PublisherConfirm};

use crate::{Link, Shared, error};

/// Header names for what has no AMQP property of its own (the body stays the source of
/// truth).
pub(crate) mod header {
    pub(crate) const CAUSATION_ID: &str = "ddd-causation-id";
    pub(crate) const TRACEPARENT: &str = "traceparent";
    pub(crate) const TRACESTATE: &str = "tracestate";
}

/// `delivery_mode` of a message the broker writes to disk.
const PERSISTENT: u8 = 2;

/// One message ready to go.
pub(crate) struct Outgoing {
    subject: String,
    properties: BasicProperties,
    body: Vec<u8>,
}

impl Outgoing {
    pub(crate) fn new(message: &Message) -> Result<Self, BusError> {
        let envelope = &message.envelope;
        let body = serde_json::to_vec(envelope)
            .map_err(|e| BusError::Rejected(format!("envelope does not encode: {e}")))?;
        let mut headers = FieldTable::default();
        let mut put = |key: &str, value: String| {
            headers.insert(key.into(), AMQPValue::LongString(value.into()));
        };
        if let Some(causation) = envelope.causation_id {
            put(header::CAUSATION_ID, causation.to_string());
        }
        if let Some(trace) = &envelope.trace {
            put(header::TRACEPARENT, trace.traceparent());
            if let Some(state) = &trace.state {
                put(header::TRACESTATE, state.clone());
            }
        }
        let properties = BasicProperties::default()
            .with_content_type("application/json".into())
            .with_delivery_mode(PERSISTENT)
            .with_message_id(envelope.event_id.to_string().into())
            .with_correlation_id(envelope.correlation_id.to_string().into())
            .with_type(envelope.event_type.as_ref().into())
            .with_timestamp(u64::try_from(envelope.recorded_at.timestamp()).unwrap_or(0))
            .with_headers(headers);
        Ok(Self {
            subject: message.subject.clone(),
            properties,
            body,
        })
    }
}

/// Publishes `messages` in order; returns once the broker confirmed every one.
pub(crate) async fn publish(shared: &Shared, messages: Vec<Message>) -> Result<(), BusError> {
    if messages.is_empty() {
        return Ok(());
    }
    let outgoing = messages
        .iter()
        .map(Outgoing::new)
        .collect::<Result<Vec<_>, _>>()?;
    let timeout = shared.config.publish_timeout;
    tokio::time::timeout(timeout, send(shared, &outgoing))
        .await
        .map_err(|_| BusError::Timeout(timeout))?
}

/// Sends on the current connection; when that connection turns out to be dead (the broker
/// restarted since it was last used), sends once more on a new one. Whatever was confirmed
/// before is sent again: consumers deduplicate by event id.
async fn send(shared: &Shared, outgoing: &[Outgoing]) -> Result<(), BusError> {
    let mut retried = false;
    loop {
        let link = shared.link().await?;
        match send_windowed(shared, &link, outgoing).await {
            Ok(()) => return Ok(()),
            Err(Failure::Bus(error)) => return Err(error),
            Err(Failure::Link(error)) => {
                shared.forget(&link).await;
                if retried {
                    return Err(error::unavailable("publish", error));
                }
                retried = true;
            }
        }
    }
}

enum Failure {
    /// The connection or channel broke.
    Link(lapin::Error),
    /// The broker answered, and the answer is an error.
    Bus(BusError),
}

async fn send_windowed(shared: &Shared, link: &Link, outgoing: &[Outgoing]) -> Result<(), Failure> {
    let mut window: VecDeque<(PublisherConfirm, &str)> = VecDeque::new();
    for message in outgoing {
        if window.len() >= shared.config.publish_window
            && let Some((oldest, subject)) = window.pop_front()
        {
            confirm(shared, oldest, subject).await?;
        }
        let confirm = link
            .publisher
            .basic_publish(
                shared.config.exchange.as_str().into(),
                message.subject.as_str().into(),
                BasicPublishOptions {
                    mandatory: true,
                    immediate: false,
                },
                &message.body,
                message.properties.clone(),
            )
            .await
            .map_err(Failure::Link)?;
        window.push_back((confirm, &message.subject));
    }
    for (pending, subject) in window {
        confirm(shared, pending, subject).await?;
    }
    Ok(())
}

async fn confirm(shared: &Shared, pending: PublisherConfirm, subject: &str) -> Result<(), Failure> {
    match pending.await.map_err(Failure::Link)? {
        Confirmation::Ack(None) => Ok(()),
        Confirmation::Ack(Some(_returned)) if shared.config.refuse_unroutable => {
            Err(Failure::Bus(error::unroutable(subject)))
        }
        Confirmation::Ack(Some(_returned)) => {
            tracing::debug!(
                subject,
                "no queue is bound for the subject: nobody subscribes to it"
            );
            Ok(())
        }
        Confirmation::Nack(_) => Err(Failure::Bus(error::nacked(subject))),
        Confirmation::NotRequested => Err(Failure::Bus(BusError::Other {
            message: "the publishing channel is not in confirm mode".to_owned(),
            source: None,
        })),
    }
}
