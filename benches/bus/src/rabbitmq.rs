//! RabbitMQ: `ddd_rabbitmq::RabbitMqBus` vs lapin doing the same durable publish (persistent,
//! mandatory, confirms awaited in windows, durable quorum queue bound to a durable topic
//! exchange) and `basic.consume` with manual ack (prefetch 32).

use std::time::Instant;

use ddd_core::{Message, RawEnvelope};
use ddd_rabbitmq::{RabbitMqBus, RabbitMqConfig};
use futures_util::StreamExt as _;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicPublishOptions, BasicQosOptions,
    ConfirmSelectOptions, ExchangeDeclareOptions, ExchangeDeleteOptions, QueueBindOptions,
    QueueDeclareOptions, QueueDeleteOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{
    BasicProperties, Channel, Confirmation, Connection, ConnectionProperties, Consumer,
    ExchangeKind, PublisherConfirm,
};

use crate::Settings;
use crate::measure::{self, Consumed, Receipts, Sample};

/// The adapter's default prefetch.
const PREFETCH: u16 = 32;

fn url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

pub async fn ours(settings: &Settings, system: &str) -> Result<Sample, String> {
    let config = RabbitMqConfig::new(url())
        .exchange(format!("bbench.{system}"))
        .queue_prefix(format!("bbench.{system}."))
        .publish_window(settings.window);
    let bus = RabbitMqBus::connect(config.clone())
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let result = measure::through_bus(&bus, settings.messages, settings.batch, system).await;
    if let Ok(channel) = bus.channel().await {
        for queue in [config.queue("bench"), config.dead_letter_queue("bench")] {
            let _ = channel
                .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
                .await;
        }
        let _ = channel
            .exchange_delete(
                config.exchange.as_str().into(),
                ExchangeDeleteOptions::default(),
            )
            .await;
    }
    result
}

pub async fn raw(settings: &Settings, system: &str) -> Result<Sample, String> {
    let connection = Connection::connect(&url(), ConnectionProperties::default())
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let exchange = format!("bbraw.{system}");
    let queue = format!("bbraw.{system}.bench");
    let result = async {
        let publisher = connection
            .create_channel()
            .await
            .map_err(|e| e.to_string())?;
        publisher
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| e.to_string())?;
        publisher
            .exchange_declare(
                exchange.as_str().into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| format!("declare exchange: {e}"))?;
        let (channel, consumer) = start_consumer(&connection, &exchange, &queue, system).await?;
        let batches = crate::workload::batches(settings.messages, settings.batch, system);
        let sample = measure::drive(
            settings.batch,
            consume(consumer, settings.messages),
            publish(&publisher, &exchange, batches, settings.window),
        )
        .await;
        drop(channel);
        sample
    }
    .await;
    if let Ok(channel) = connection.create_channel().await {
        let _ = channel
            .queue_delete(queue.as_str().into(), QueueDeleteOptions::default())
            .await;
        let _ = channel
            .exchange_delete(exchange.as_str().into(), ExchangeDeleteOptions::default())
            .await;
    }
    let _ = connection.close(200, "done".into()).await;
    result
}

async fn start_consumer(
    connection: &Connection,
    exchange: &str,
    queue: &str,
    system: &str,
) -> Result<(Channel, Consumer), String> {
    let channel = connection
        .create_channel()
        .await
        .map_err(|e| e.to_string())?;
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    channel
        .queue_declare(
            queue.into(),
            QueueDeclareOptions {
                durable: true,
                ..QueueDeclareOptions::default()
            },
            arguments,
        )
        .await
        .map_err(|e| format!("declare queue: {e}"))?;
    channel
        .queue_bind(
            queue.into(),
            exchange.into(),
            format!("{system}.#").as_str().into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| format!("bind: {e}"))?;
    channel
        .basic_qos(PREFETCH, BasicQosOptions::default())
        .await
        .map_err(|e| format!("qos: {e}"))?;
    let consumer = channel
        .basic_consume(
            queue.into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| format!("consume: {e}"))?;
    Ok((channel, consumer))
}

async fn publish(
    channel: &Channel,
    exchange: &str,
    batches: Vec<Vec<Message>>,
    window: usize,
) -> Result<Vec<Instant>, String> {
    measure::windowed(batches, window, |message| async move {
        let body = serde_json::to_vec(&message.envelope).map_err(|e| e.to_string())?;
        let properties = BasicProperties::default()
            .with_content_type("application/json".into())
            .with_delivery_mode(2)
            .with_message_id(message.envelope.event_id.to_string().into());
        let confirm = channel
            .basic_publish(
                exchange.into(),
                message.subject.as_str().into(),
                BasicPublishOptions {
                    mandatory: true,
                    immediate: false,
                },
                &body,
                properties,
            )
            .await
            .map_err(|e| format!("publish: {e}"))?;
        Ok(confirmed(confirm))
    })
    .await
}

async fn confirmed(confirm: PublisherConfirm) -> Result<(), String> {
    match confirm.await.map_err(|e| format!("confirm: {e}"))? {
        Confirmation::Ack(None) => Ok(()),
        other => Err(format!("not confirmed: {other:?}")),
    }
}

async fn consume(mut consumer: Consumer, n: usize) -> Result<Consumed, String> {
    let mut receipts = Receipts::new(n);
    loop {
        let delivery = consumer
            .next()
            .await
            .ok_or("the consumer ended")?
            .map_err(|e| format!("consume: {e}"))?;
        let envelope: RawEnvelope =
            serde_json::from_slice(&delivery.data).map_err(|e| format!("decode: {e}"))?;
        let at = Instant::now();
        delivery
            .acker
            .ack(BasicAckOptions::default())
            .await
            .map_err(|e| format!("ack: {e}"))?;
        if receipts.record(crate::workload::sequence(&envelope), at)? {
            return Ok((receipts, Instant::now()));
        }
    }
}
