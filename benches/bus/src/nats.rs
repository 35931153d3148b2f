//! NATS JetStream: `ddd_nats::NatsBus` vs async-nats doing the same durable publish (file
//! storage stream, publish acks awaited in confirm windows) and pull consume with explicit ack.

use std::time::{Duration, Instant};

use async_nats::jetstream::consumer::pull;
use async_nats::jetstream::consumer::{AckPolicy, DeliverPolicy};
use async_nats::jetstream::message::PublishMessage;
use async_nats::jetstream::{self, stream};
use ddd_core::{Message, RawEnvelope};
use ddd_nats::{NatsBus, NatsConfig};
use futures_util::StreamExt as _;

use crate::Settings;
use crate::measure::{self, Consumed, Receipts, Sample};

/// The adapter's defaults for what both contenders share.
const MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
const DUPLICATE_WINDOW: Duration = Duration::from_secs(120);
const PREFETCH: usize = 32;
const MAX_ACK_PENDING: i64 = 1000;

fn url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// `confirm_acks`: the adapter's default (acks confirmed in the background) or acks sent
/// and forgotten like the raw contender's; `envelope_headers`: the default (only
/// `Nats-Msg-Id`, like the raw one) or envelope fields copied into 4 more headers.
pub async fn ours(
    settings: &Settings,
    system: &str,
    confirm_acks: bool,
    envelope_headers: bool,
) -> Result<Sample, String> {
    let config = NatsConfig::new(url())
        .stream_prefix("BBENCH_")
        .publish_window(settings.window)
        .confirm_acks(confirm_acks)
        .envelope_headers(envelope_headers);
    let bus = NatsBus::connect(config)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let result = measure::through_bus(&bus, settings.messages, settings.batch, system).await;
    if let Ok(stream) = bus.stream_of(&format!("{system}.x")).await {
        let _ = bus.jetstream().delete_stream(&stream).await;
    }
    result
}

/// How the raw consumer settles a message.
#[derive(Clone, Copy)]
pub enum Ack {
    /// `+ACK`, not confirmed (what a raw client does by default).
    Plain,
    /// `+ACK` confirmed by the server, as the adapter does.
    Double,
}

pub async fn raw(settings: &Settings, system: &str, ack: Ack) -> Result<Sample, String> {
    let client = async_nats::connect(url())
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let js = jetstream::new(client);
    let name = format!("BBRAW_{system}");
    let created = js
        .create_stream(stream::Config {
            name: name.clone(),
            subjects: vec![format!("{system}.>")],
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            max_age: MAX_AGE,
            duplicate_window: DUPLICATE_WINDOW,
            num_replicas: 1,
            ..stream::Config::default()
        })
        .await
        .map_err(|e| format!("create stream: {e}"))?;
    let result = async {
        let consumer = created
            .create_consumer(pull::Config {
                durable_name: Some("bench".to_owned()),
                deliver_policy: DeliverPolicy::New,
                ack_policy: AckPolicy::Explicit,
                ack_wait: Duration::from_secs(30),
                max_deliver: -1,
                filter_subject: format!("{system}.>"),
                max_ack_pending: MAX_ACK_PENDING,
                ..pull::Config::default()
            })
            .await
            .map_err(|e| format!("create consumer: {e}"))?;
        let messages = consumer
            .stream()
            .max_messages_per_batch(PREFETCH)
            .expires(Duration::from_secs(30))
            .heartbeat(Duration::from_secs(5))
            .messages()
            .await
            .map_err(|e| format!("pull: {e}"))?;
        let batches = crate::workload::batches(settings.messages, settings.batch, system);
        measure::drive(
            settings.batch,
            consume(messages, settings.messages, ack),
            publish(&js, batches, settings.window),
        )
        .await
    }
    .await;
    let _ = js.delete_stream(&name).await;
    result
}

async fn publish(
    js: &jetstream::Context,
    batches: Vec<Vec<Message>>,
    window: usize,
) -> Result<Vec<Instant>, String> {
    measure::windowed(batches, window, |message| async move {
        let body = serde_json::to_vec(&message.envelope).map_err(|e| e.to_string())?;
        let publish = PublishMessage::build()
            .payload(body.into())
            .message_id(message.envelope.event_id.to_string());
        let ack = js
            .send_publish(message.subject, publish)
            .await
            .map_err(|e| format!("publish: {e}"))?;
        Ok(async move {
            ack.await
                .map(|_| ())
                .map_err(|e| format!("publish ack: {e}"))
        })
    })
    .await
}

async fn consume(mut messages: pull::Stream, n: usize, ack: Ack) -> Result<Consumed, String> {
    let mut receipts = Receipts::new(n);
    loop {
        let message = messages
            .next()
            .await
            .ok_or("the pull stream ended")?
            .map_err(|e| format!("pull: {e}"))?;
        let envelope: RawEnvelope =
            serde_json::from_slice(&message.payload).map_err(|e| format!("decode: {e}"))?;
        let at = Instant::now();
        match ack {
            Ack::Plain => message.ack().await,
            Ack::Double => message.double_ack().await,
        }
        .map_err(|e| format!("ack: {e}"))?;
        if receipts.record(crate::workload::sequence(&envelope), at)? {
            return Ok((receipts, Instant::now()));
        }
    }
}
