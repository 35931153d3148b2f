//! Subscribing: a quorum queue per consumer name, a channel per subscription; deliveries
//! settle with acks, requeueing nacks, and dead letters.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use ddd_core::{
    BusError, ConsumerConfig, Delivery, Message, RawEnvelope, Redelivery, Subscription,
};
use futures_util::StreamExt;
use lapin::options::{
    BasicAckOptions, BasicConsumeOptions, BasicNackOptions, BasicQosOptions, QueueBindOptions,
    QueueDeclareOptions,
};
use lapin::types::{AMQPValue, FieldTable};
use lapin::{Acker, Channel, Consumer};

use crate::{Shared, error, publish};

/// The reason given when a delivery comes back after its last attempt was abandoned.
const ABANDONED: &str = "not acknowledged: its consumer went away during the last attempt";
/// The header in which quorum queues count earlier deliveries.
const DELIVERY_COUNT: &str = "x-delivery-count";
/// The longest pause between attempts to consume again after the connection was lost.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One member of a durable consumer: a channel consuming from the consumer's queue.
/// Dropping it closes the channel; the broker requeues what it held unacknowledged.
pub struct RabbitMqSubscription {
    shared: Arc<Shared>,
    config: ConsumerConfig,
    current: Option<Consuming>,
    backoff: Duration,
}

struct Consuming {
    channel: Channel,
    consumer: Consumer,
}

impl fmt::Debug for RabbitMqSubscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RabbitMqSubscription")
            .field("consumer", &self.config.name)
            .field("subjects", &self.config.subjects)
            .finish_non_exhaustive()
    }
}

impl RabbitMqSubscription {
    pub(crate) async fn open(
        shared: Arc<Shared>,
        config: ConsumerConfig,
    ) -> Result<Self, BusError> {
        config.check()?;
        let consuming = start(&shared, &config).await?;
        Ok(Self {
            shared,
            config,
            current: Some(consuming),
            backoff: Duration::from_millis(100),
        })
    }

    /// Consumes again after the channel or connection was lost, for as long as it takes;
    /// fails only when the broker refuses the consumer's queue itself.
    async fn restart(&mut self) -> Result<(), BusError> {
        loop {
            match start(&self.shared, &self.config).await {
                Ok(consuming) => {
                    self.current = Some(consuming);
                    self.backoff = Duration::from_millis(100);
                    return Ok(());
                }
                Err(e @ BusError::InvalidConsumer(_)) => return Err(e),
                Err(e) => {
                    tracing::debug!(consumer = %self.config.name, error = %e, "cannot consume yet; retrying");
                    tokio::time::sleep(self.backoff).await;
                    self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                }
            }
        }
    }

    /// Turns a delivery into a [`RabbitMqDelivery`], or settles it here when the consumer
    /// must not see it (filtered out, undecodable, out of attempts).
    async fn accept(&self, raw: lapin::message::Delivery) -> Option<RabbitMqDelivery> {
        let subject = raw.routing_key.to_string();
        let attempt = attempt(&raw);
        let acker = raw.acker.clone();
        if !self.config.wants(&subject) {
            // A `#` binding also matches what `>` does not (zero tokens).
            settle_quietly(&acker).await;
            return None;
        }
        let envelope = match serde_json::from_slice::<RawEnvelope>(&raw.data) {
            Ok(envelope) => envelope,
            Err(e) => {
                self.reject_undecodable(&raw, &subject, attempt, &e).await;
                return None;
            }
        };
        let delivery = RabbitMqDelivery {
            shared: Arc::clone(&self.shared),
            consumer: self.config.name.clone(),
            max_deliver: self.config.max_deliver,
            message: Message::new(subject, envelope),
            attempt,
            acker,
            settled: false,
        };
        delivery.admit(ABANDONED).await
    }

    async fn reject_undecodable(
        &self,
        raw: &lapin::message::Delivery,
        subject: &str,
        attempt: u32,
        error: &serde_json::Error,
    ) {
        let event_id = raw
            .properties
            .message_id()
            .as_ref()
            .and_then(|id| id.as_str().parse().ok());
        let letter = Message::undecodable(
            &self.config.name,
            subject,
            &raw.data,
            event_id,
            attempt,
            &format!("does not decode: {error}"),
        );
        match publish::publish(&self.shared, vec![letter]).await {
            Ok(()) => settle_quietly(&raw.acker).await,
            Err(e) => {
                tracing::warn!(consumer = %self.config.name, error = %e, "cannot dead-letter an undecodable message; it comes back");
                // Requeued, so it is tried again rather than held until the channel closes.
                let _ = raw.acker.nack(requeue()).await;
            }
        }
    }
}

impl Subscription for RabbitMqSubscription {
    type Delivery = RabbitMqDelivery;

    /// The next delivery. A lost connection is waited out (the subscription consumes again
    /// once the broker is back), so this returns an error only when the consumer's queue
    /// cannot be declared as configured.
    async fn next(&mut self) -> Result<Option<RabbitMqDelivery>, BusError> {
        loop {
            let Some(consuming) = self.current.as_mut() else {
                self.restart().await?;
                continue;
            };
            match consuming.consumer.next().await {
                Some(Ok(raw)) => {
                    if let Some(delivery) = self.accept(raw).await {
                        return Ok(Some(delivery));
                    }
                }
                Some(Err(e)) => {
                    tracing::debug!(consumer = %self.config.name, error = %e, "consuming stopped; consuming again");
                    self.current = None;
                }
                None => self.current = None,
            }
        }
    }
}

impl Drop for RabbitMqSubscription {
    fn drop(&mut self) {
        // Closing the channel hands what it held back to the queue at once.
        let current = self.current.take();
        if let (Some(consuming), Ok(runtime)) = (current, tokio::runtime::Handle::try_current()) {
            runtime.spawn(async move {
                let _ = consuming
                    .channel
                    .close(200, "subscription dropped".into())
                    .await;
            });
        }
    }
}

/// Declares the consumer's queues and bindings on a new channel and starts consuming.
async fn start(shared: &Shared, config: &ConsumerConfig) -> Result<Consuming, BusError> {
    let link = shared.link().await?;
    let channel = link
        .connection
        .create_channel()
        .await
        .map_err(|e| error::unavailable("open channel", e))?;
    let queue = shared.config.queue(&config.name);
    declare_queue(shared, &channel, &queue).await?;
    for filter in &config.subjects {
        bind(shared, &channel, &queue, &binding_key(filter)).await?;
    }
    // Dead letters always have a queue to go to, even when nobody consumes them yet.
    let parking = shared.config.dead_letter_queue(&config.name);
    declare_queue(shared, &channel, &parking).await?;
    bind(
        shared,
        &channel,
        &parking,
        &ddd_core::bus::dead_letter_subject(&config.name),
    )
    .await?;
    channel
        .basic_qos(shared.config.prefetch, BasicQosOptions::default())
        .await
        .map_err(|e| error::unavailable("set prefetch", e))?;
    let consumer = channel
        .basic_consume(
            queue.as_str().into(),
            "".into(),
            BasicConsumeOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| error::unavailable("consume", e))?;
    Ok(Consuming { channel, consumer })
}

async fn declare_queue(shared: &Shared, channel: &Channel, queue: &str) -> Result<(), BusError> {
    let mut arguments = FieldTable::default();
    arguments.insert(
        "x-queue-type".into(),
        AMQPValue::LongString("quorum".into()),
    );
    if let Some(expires) = shared.config.queue_expires {
        let millis = i64::try_from(expires.as_millis())
            .unwrap_or(i64::MAX)
            .max(1);
        arguments.insert("x-expires".into(), AMQPValue::LongLongInt(millis));
    }
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
        .map(drop)
        .map_err(|e| error::declare(&format!("declare queue {queue}"), &e))
}

async fn bind(shared: &Shared, channel: &Channel, queue: &str, key: &str) -> Result<(), BusError> {
    channel
        .queue_bind(
            queue.into(),
            shared.config.exchange.as_str().into(),
            key.into(),
            QueueBindOptions::default(),
            FieldTable::default(),
        )
        .await
        .map_err(|e| error::declare(&format!("bind {queue} to {key}"), &e))
}

/// The AMQP binding key of a NATS-style filter: `*` is the same, a final `>` is `#` (which
/// also matches zero tokens; the subscription drops those).
fn binding_key(filter: &str) -> String {
    match filter.strip_suffix('>') {
        Some(head) => format!("{head}#"),
        None => filter.to_owned(),
    }
}

/// Which delivery of the message this is: quorum queues count the earlier ones.
fn attempt(raw: &lapin::message::Delivery) -> u32 {
    let earlier = raw
        .properties
        .headers()
        .as_ref()
        .and_then(|headers| headers.inner().get(DELIVERY_COUNT))
        .and_then(count);
    match earlier {
        Some(earlier) => u32::try_from(earlier).unwrap_or(u32::MAX).saturating_add(1),
        None if raw.redelivered => 2,
        None => 1,
    }
}

fn count(value: &AMQPValue) -> Option<u64> {
    match value {
        AMQPValue::ShortShortUInt(n) => Some(u64::from(*n)),
        AMQPValue::ShortUInt(n) => Some(u64::from(*n)),
        AMQPValue::LongUInt(n) => Some(u64::from(*n)),
        AMQPValue::ShortShortInt(n) => u64::try_from(*n).ok(),
        AMQPValue::ShortInt(n) => u64::try_from(*n).ok(),
        AMQPValue::LongInt(n) => u64::try_from(*n).ok(),
        AMQPValue::LongLongInt(n) => u64::try_from(*n).ok(),
        _ => None,
    }
}

fn requeue() -> BasicNackOptions {
    BasicNackOptions {
        multiple: false,
        requeue: true,
    }
}

/// Acks a message the consumer never sees; a lost ack only means it comes back.
async fn settle_quietly(acker: &Acker) {
    if let Err(e) = acker.ack(BasicAckOptions::default()).await {
        tracing::debug!(error = %e, "ack not sent; the message comes back");
    }
}

/// A message delivered by a [`RabbitMqSubscription`]. Dropping it unsettled requeues it.
pub struct RabbitMqDelivery {
    shared: Arc<Shared>,
    consumer: String,
    max_deliver: u32,
    message: Message,
    attempt: u32,
    acker: Acker,
    settled: bool,
}

impl fmt::Debug for RabbitMqDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RabbitMqDelivery")
            .field("consumer", &self.consumer)
            .field("subject", &self.message.subject)
            .field("event_id", &self.message.envelope.event_id)
            .field("attempt", &self.attempt)
            .finish()
    }
}

/// An ack or nack the broker will not get: the channel closed, so the message is requeued
/// anyway and comes again.
fn lost(what: &str, sent: Result<bool, lapin::Error>) -> Result<(), BusError> {
    match sent {
        Ok(true) => Ok(()),
        Ok(false) => Err(BusError::Unavailable(format!(
            "{what} not sent: the channel closed and the message is delivered again"
        ))),
        Err(e) => Err(error::unavailable(what, e)),
    }
}

impl Delivery for RabbitMqDelivery {
    fn message(&self) -> &Message {
        &self.message
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    async fn ack(mut self) -> Result<(), BusError> {
        self.settled = true;
        lost("ack", self.acker.ack(BasicAckOptions::default()).await)
    }

    async fn nack(self, reason: &str) -> Result<(), BusError> {
        self.nack_or_dead_letter(reason).await
    }

    async fn dead_letter(self, reason: &str) -> Result<(), BusError> {
        self.dead_letter_now(reason).await
    }
}

impl Redelivery for RabbitMqDelivery {
    fn consumer(&self) -> &str {
        &self.consumer
    }

    fn max_deliver(&self) -> u32 {
        self.max_deliver
    }

    async fn redeliver(mut self) -> Result<(), BusError> {
        self.settled = true;
        lost("nack", self.acker.nack(requeue()).await)
    }

    /// Publishes the dead letter, then acks the delivery so it never comes back.
    /// When the dead letter cannot be published, the delivery is requeued (by `Drop`).
    async fn park(mut self, letter: Message) -> Result<(), BusError> {
        publish::publish(&self.shared, vec![letter]).await?;
        self.settled = true;
        lost("ack", self.acker.ack(BasicAckOptions::default()).await)
    }
}

impl Drop for RabbitMqDelivery {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        // Requeued now rather than when the channel closes, as a failed attempt.
        let acker = self.acker.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                let _ = acker.nack(requeue()).await;
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_become_binding_keys() {
        assert_eq!(binding_key("shop.>"), "shop.#");
        assert_eq!(binding_key("shop.*.OrderPlaced"), "shop.*.OrderPlaced");
        assert_eq!(binding_key("dead-letter.billing"), "dead-letter.billing");
    }

    #[test]
    fn delivery_counts_of_any_integer_type_are_read() {
        assert_eq!(count(&AMQPValue::LongLongInt(2)), Some(2));
        assert_eq!(count(&AMQPValue::LongInt(-1)), None);
        assert_eq!(count(&AMQPValue::LongString("2".into())), None);
    }
}
