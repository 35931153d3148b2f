//! Publishing: records keyed by aggregate, produced idempotently with `acks=all`, pipelined
//! in confirm windows.

use std::collections::{BTreeSet, VecDeque};

use ddd_core::{BusError, Message};
use rdkafka::ClientConfig;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{DeliveryFuture, FutureRecord};

use crate::config::{KafkaConfig, millis};
use crate::{Shared, error, system_of};

/// Header names. The subject is needed to route (topics are per system); the rest are
/// copies of envelope fields for tools that look there.
pub(crate) mod header {
    pub(crate) const SUBJECT: &str = "ddd-subject";
    pub(crate) const EVENT_ID: &str = "ddd-event-id";
    pub(crate) const EVENT_TYPE: &str = "ddd-event-type";
    pub(crate) const CORRELATION_ID: &str = "ddd-correlation-id";
    pub(crate) const CAUSATION_ID: &str = "ddd-causation-id";
    pub(crate) const TRACEPARENT: &str = "traceparent";
    pub(crate) const TRACESTATE: &str = "tracestate";
}

/// The producer's settings: idempotent, every in-sync replica acknowledges, nothing retried
/// after the publish timeout.
pub(crate) fn producer_config(config: &KafkaConfig) -> ClientConfig {
    let mut client = config.client();
    client
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", millis(config.publish_timeout))
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "5");
    client
}

/// One record ready to go.
pub(crate) struct Record {
    subject: String,
    key: String,
    payload: Vec<u8>,
    headers: OwnedHeaders,
    timestamp: i64,
}

impl Record {
    pub(crate) fn new(message: &Message) -> Result<Self, BusError> {
        let envelope = &message.envelope;
        let payload = serde_json::to_vec(envelope)
            .map_err(|e| BusError::Rejected(format!("envelope does not encode: {e}")))?;
        let mut pairs = vec![
            (header::SUBJECT, message.subject.clone()),
            (header::EVENT_ID, envelope.event_id.to_string()),
            (header::EVENT_TYPE, envelope.event_type.to_string()),
            (header::CORRELATION_ID, envelope.correlation_id.to_string()),
        ];
        if let Some(causation) = envelope.causation_id {
            pairs.push((header::CAUSATION_ID, causation.to_string()));
        }
        if let Some(trace) = &envelope.trace {
            pairs.push((header::TRACEPARENT, trace.traceparent()));
            if let Some(state) = &trace.state {
                pairs.push((header::TRACESTATE, state.clone()));
            }
        }
        let headers =
            pairs
                .iter()
                .fold(OwnedHeaders::new_with_capacity(pairs.len()), |h, (k, v)| {
                    h.insert(Header {
                        key: k,
                        value: Some(v.as_bytes()),
                    })
                });
        Ok(Self {
            subject: message.subject.clone(),
            key: format!("{}/{}", envelope.aggregate_type, envelope.aggregate_id),
            payload,
            headers,
            timestamp: envelope.recorded_at.timestamp_millis(),
        })
    }
}

/// Produces `messages` in order; returns once every delivery report is in.
pub(crate) async fn publish(shared: &Shared, messages: &[Message]) -> Result<(), BusError> {
    if messages.is_empty() {
        return Ok(());
    }
    let records = messages
        .iter()
        .map(Record::new)
        .collect::<Result<Vec<_>, _>>()?;
    let timeout = shared.config.publish_timeout;
    tokio::time::timeout(timeout, send(shared, &records))
        .await
        .map_err(|_| BusError::Timeout(timeout))?
}

async fn send(shared: &Shared, records: &[Record]) -> Result<(), BusError> {
    let systems: BTreeSet<&str> = records.iter().map(|r| system_of(&r.subject)).collect();
    let mut topics = std::collections::HashMap::new();
    for system in systems {
        topics.insert(system, shared.topic(system).await?);
    }
    let mut window: VecDeque<DeliveryFuture> = VecDeque::new();
    for record in records {
        let topic = &topics[system_of(&record.subject)];
        loop {
            if window.len() >= shared.config.publish_window
                && let Some(oldest) = window.pop_front()
            {
                confirm(oldest).await?;
            }
            let produced = FutureRecord::to(topic)
                .key(&record.key)
                .payload(&record.payload)
                .headers(record.headers.clone())
                .timestamp(record.timestamp);
            match shared.producer.send_result(produced) {
                Ok(delivery) => {
                    window.push_back(delivery);
                    break;
                }
                // librdkafka's own queue is full: wait for a report, then try again.
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), _))
                    if !window.is_empty() =>
                {
                    if let Some(oldest) = window.pop_front() {
                        confirm(oldest).await?;
                    }
                }
                Err((e, _)) => return Err(error::kafka("produce", &e)),
            }
        }
    }
    for delivery in window {
        confirm(delivery).await?;
    }
    Ok(())
}

async fn confirm(delivery: DeliveryFuture) -> Result<(), BusError> {
    match delivery.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((e, _))) => Err(error::kafka("delivery report", &e)),
        Err(_) => Err(BusError::Unavailable(
            "the producer went away before the delivery report".to_owned(),
        )),
    }
}
