//! Subscribing: a durable pull consumer per stream the filters reach, merged into one
//! subscription; deliveries settle with acks, naks and terms.

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use async_nats::jetstream::consumer::pull::{self, MessagesErrorKind};
use async_nats::jetstream::consumer::{AckPolicy, Consumer, DeliverPolicy};
use async_nats::jetstream::message::AckKind;
use async_nats::jetstream::stream::ConsumerErrorKind;
use async_nats::jetstream::{self};
use ddd_core::{
    BusError, ConsumerConfig, Delivery, Message, RawEnvelope, Redelivery, Subscription,
};
use futures_util::StreamExt;
use futures_util::stream::SelectAll;

use crate::acks::Acks;
use crate::publish::{Outgoing, publish_outgoing};
use crate::{Shared, error, system_of};

/// The reason given when a delivery comes back after its last attempt ran out of ack wait.
const ACK_WAIT_EXPIRED: &str = "not acknowledged within the ack wait";
/// How long a pull request waits on the server before the client renews it.
const PULL_EXPIRES: Duration = Duration::from_secs(30);
/// How often the server says it still holds a waiting pull request. Two missed in a row
/// renew the pull: the longest a lost pull request delays delivery.
const PULL_HEARTBEAT: Duration = Duration::from_secs(3);
/// The longest pause between attempts to get the consumer back after an error.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// One member of a durable consumer. Dropping it stops pulling; what it held unacknowledged
/// comes back to the other members after the ack wait.
pub struct NatsSubscription {
    shared: Arc<Shared>,
    config: ConsumerConfig,
    /// What its deliveries share: the consumer's name and limits, the ack confirmations.
    member: Arc<Member>,
    messages: SelectAll<pull::Stream>,
    backoff: Duration,
}

/// What a subscription's deliveries need to settle themselves.
struct Member {
    shared: Arc<Shared>,
    consumer: String,
    max_deliver: u32,
    acks: AckMode,
}

/// How a delivery's `ack` is confirmed.
enum AckMode {
    /// In the background, within a window (the default). Boxed: the other modes are empty.
    Background(Box<Acks>),
    /// In `ack` itself (`ack_window` 0).
    InPlace,
    /// Not at all (`confirm_acks` off).
    Unconfirmed,
}

impl fmt::Debug for NatsSubscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsSubscription")
            .field("consumer", &self.config.name)
            .field("subjects", &self.config.subjects)
            .finish_non_exhaustive()
    }
}

impl NatsSubscription {
    pub(crate) async fn open(
        shared: Arc<Shared>,
        config: ConsumerConfig,
    ) -> Result<Self, BusError> {
        config.check()?;
        let acks = match (shared.config.confirm_acks, shared.config.ack_window) {
            (false, _) => AckMode::Unconfirmed,
            (true, 0) => AckMode::InPlace,
            (true, window) => {
                AckMode::Background(Box::new(Acks::start(&shared, &config.name, window).await?))
            }
        };
        let messages = pull_all(&shared, &config).await?;
        let member = Arc::new(Member {
            shared: Arc::clone(&shared),
            consumer: config.name.clone(),
            max_deliver: config.max_deliver,
            acks,
        });
        Ok(Self {
            shared,
            config,
            member,
            messages,
            backoff: Duration::from_millis(100),
        })
    }

    /// Gets the consumers back after the server lost them or the pull streams ended; keeps
    /// trying, since a subscription has nothing better to do than wait for its broker.
    async fn reopen(&mut self) {
        loop {
            match pull_all(&self.shared, &self.config).await {
                Ok(messages) => {
                    // The backoff stays until a message arrives: a pull that keeps failing
                    // is retried ever more slowly.
                    self.messages = messages;
                    return;
                }
                Err(e) => {
                    tracing::warn!(consumer = %self.config.name, error = %e, "cannot reopen the consumer; retrying");
                    self.pause().await;
                }
            }
        }
    }

    /// Waits until the server confirmed (or did not confirm in time) every ack this
    /// subscription's deliveries sent, and fails with [`BusError::Unavailable`] when some were
    /// not confirmed since the last call: their messages may be delivered again. Call it
    /// before shutting down to know the acks made it; a consumer with an inbox needs not.
    pub async fn flush_acks(&self) -> Result<(), BusError> {
        match &self.member.acks {
            AckMode::Background(acks) => acks.flush().await,
            AckMode::InPlace | AckMode::Unconfirmed => Ok(()),
        }
    }

    async fn pause(&mut self) {
        tokio::time::sleep(self.backoff).await;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }

    /// Turns a pulled message into a delivery, or settles it here when the consumer must not
    /// see it (filtered out, undecodable, out of attempts).
    async fn accept(&self, raw: jetstream::Message) -> Option<NatsDelivery> {
        let Ok(info) = raw.info() else {
            tracing::warn!(subject = %raw.subject, "a pulled message without JetStream metadata; skipped");
            return None;
        };
        let attempt = u32::try_from(info.delivered).unwrap_or(u32::MAX).max(1);
        if !self.config.wants(raw.subject.as_str()) {
            settle_quietly(&raw, AckKind::Ack).await;
            return None;
        }
        let envelope = match serde_json::from_slice::<RawEnvelope>(&raw.payload) {
            Ok(envelope) => envelope,
            Err(e) => {
                let sequence = (info.stream, info.stream_sequence);
                self.reject_undecodable(&raw, attempt, sequence, &e).await;
                return None;
            }
        };
        let delivery = NatsDelivery {
            member: Arc::clone(&self.member),
            message: Message::new(raw.subject.to_string(), envelope),
            attempt,
            raw,
        };
        delivery.admit(ACK_WAIT_EXPIRED).await
    }

    async fn reject_undecodable(
        &self,
        raw: &jetstream::Message,
        attempt: u32,
        (stream, sequence): (&str, u64),
        error: &serde_json::Error,
    ) {
        let subject = raw.subject.as_str();
        let event_id = raw
            .headers
            .as_ref()
            .and_then(|h| {
                // `Nats-Msg-Id` is the event id of an event published without envelope
                // headers (a dead letter's does not parse as one).
                h.get(crate::publish::header::EVENT_ID)
                    .or_else(|| h.get(async_nats::header::NATS_MESSAGE_ID))
            })
            .and_then(|id| id.as_str().parse().ok());
        let reason = format!("does not decode: {error}");
        let letter = Message::undecodable(
            &self.config.name,
            subject,
            &raw.payload,
            event_id,
            attempt,
            &reason,
        );
        let id = format!("dead-letter:{}:{stream}:{sequence}", self.config.name);
        let published = match Outgoing::with_id(&letter, &id) {
            Ok(outgoing) => publish_outgoing(&self.shared, &[outgoing]).await,
            Err(e) => Err(e),
        };
        match published {
            Ok(()) => settle_quietly(raw, AckKind::Term).await,
            Err(e) => {
                tracing::warn!(consumer = %self.config.name, error = %e, "cannot dead-letter an undecodable message; it comes back");
            }
        }
    }

    /// Every error of a pull stream renews it. The stream counts the messages it asked the
    /// server for and asks again only when few are left, so a pull request the server did
    /// not take (one refused, one that never arrived, one it dropped) leaves the stream
    /// waiting for messages that never come, until its own 35 s safety net. A missed
    /// heartbeat is how that shows: the server heartbeats every pull request it holds.
    async fn on_error(&mut self, error: pull::MessagesError) {
        match error.kind() {
            MessagesErrorKind::ConsumerDeleted
            | MessagesErrorKind::PushBasedConsumer
            | MessagesErrorKind::RequestLimitExceeded => {
                tracing::warn!(consumer = %self.config.name, %error, "consumer lost; recreating it");
            }
            MessagesErrorKind::MissingHeartbeat => {
                tracing::info!(consumer = %self.config.name, %error, "the server holds no pull request of ours; pulling again");
            }
            MessagesErrorKind::Pull
            | MessagesErrorKind::NoResponders
            | MessagesErrorKind::Other => {
                tracing::debug!(consumer = %self.config.name, %error, "pull failed; retrying");
                self.pause().await;
            }
        }
        self.reopen().await;
    }
}

impl Subscription for NatsSubscription {
    type Delivery = NatsDelivery;

    /// The next delivery. Errors of the connection are waited out (the client reconnects),
    /// so this only returns once there is a message.
    async fn next(&mut self) -> Result<Option<NatsDelivery>, BusError> {
        loop {
            match self.messages.next().await {
                Some(Ok(raw)) => {
                    self.backoff = Duration::from_millis(100);
                    if let Some(delivery) = self.accept(raw).await {
                        return Ok(Some(delivery));
                    }
                }
                Some(Err(error)) => self.on_error(error).await,
                None => self.reopen().await,
            }
        }
    }
}

/// Settles a message the consumer never sees; a lost settlement only means it comes back.
async fn settle_quietly(raw: &jetstream::Message, kind: AckKind) {
    if let Err(e) = raw.ack_with(kind).await {
        tracing::debug!(error = %e, "settlement not sent; the message comes back");
    }
}

/// Creates or joins the consumer on every stream the filters reach and pulls from all.
async fn pull_all(
    shared: &Shared,
    config: &ConsumerConfig,
) -> Result<SelectAll<pull::Stream>, BusError> {
    let mut all = SelectAll::new();
    for (system, filters) in filters_by_system(config)? {
        let stream = shared.stream_for(system).await?;
        let consumer = ensure_consumer(shared, config, &stream, &filters).await?;
        let messages = consumer
            .stream()
            .max_messages_per_batch(shared.config.prefetch)
            .expires(PULL_EXPIRES)
            .heartbeat(PULL_HEARTBEAT)
            .messages()
            .await
            .map_err(|e| error::unavailable("pull", e))?;
        all.push(messages);
    }
    Ok(all)
}

/// The filters grouped by the system (stream) they select from.
fn filters_by_system(config: &ConsumerConfig) -> Result<BTreeMap<&str, Vec<&str>>, BusError> {
    let mut by_system: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for filter in &config.subjects {
        let system = system_of(filter);
        if system == "*" || system == ">" {
            return Err(BusError::InvalidConsumer(format!(
                "filter `{filter}` of consumer `{}` must start with a system name: NATS \
                 streams are per system",
                config.name
            )));
        }
        by_system.entry(system).or_default().push(filter);
    }
    Ok(by_system)
}

/// Joins the durable consumer, creating it the first time; refuses one that exists with
/// other filters.
async fn ensure_consumer(
    shared: &Shared,
    config: &ConsumerConfig,
    stream: &str,
    filters: &[&str],
) -> Result<Consumer<pull::Config>, BusError> {
    let description = format!("ddd consumer of {}", filters.join(" "));
    let existing = shared
        .jetstream
        .get_consumer_from_stream::<pull::Config, _, _>(&config.name, stream)
        .await;
    let consumer = match existing {
        Ok(consumer) => consumer,
        Err(e) if is_not_found(&e) => {
            create_consumer(shared, config, stream, filters, &description).await?
        }
        Err(e) => return Err(error::unavailable("look up consumer", e)),
    };
    let found = consumer.cached_info().config.description.as_deref();
    if found != Some(description.as_str()) {
        return Err(BusError::InvalidConsumer(format!(
            "consumer `{}` exists on stream {stream} as {found:?}, not as `{description}`",
            config.name
        )));
    }
    Ok(consumer)
}

fn is_not_found(error: &jetstream::stream::ConsumerError) -> bool {
    matches!(error.kind(), ConsumerErrorKind::JetStream(e) if e.code() == 404)
}

async fn create_consumer(
    shared: &Shared,
    config: &ConsumerConfig,
    stream: &str,
    filters: &[&str],
    description: &str,
) -> Result<Consumer<pull::Config>, BusError> {
    // One filter is the server's job; several are ours (one filter per consumer on 2.9).
    let filter_subject = match filters {
        [only] => (*only).to_owned(),
        _ => String::new(),
    };
    let consumer = pull::Config {
        durable_name: Some(config.name.clone()),
        description: Some(description.to_owned()),
        deliver_policy: DeliverPolicy::New,
        ack_policy: AckPolicy::Explicit,
        ack_wait: config.ack_wait,
        // Unlimited on the server: the subscription counts attempts and dead-letters.
        max_deliver: -1,
        filter_subject,
        max_ack_pending: shared.config.max_ack_pending,
        ..pull::Config::default()
    };
    shared
        .jetstream
        .create_consumer_on_stream(consumer, stream)
        .await
        .map_err(|e| match e.kind() {
            ConsumerErrorKind::JetStream(_) => BusError::InvalidConsumer(format!(
                "cannot create consumer `{}` on stream {stream}: {e}",
                config.name
            )),
            _ => error::unavailable("create consumer", e),
        })
}

/// A message delivered by a [`NatsSubscription`]. Dropping it unsettled leaves it to the
/// server, which delivers it again after the ack wait.
pub struct NatsDelivery {
    member: Arc<Member>,
    message: Message,
    attempt: u32,
    raw: jetstream::Message,
}

impl fmt::Debug for NatsDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsDelivery")
            .field("consumer", &self.member.consumer)
            .field("subject", &self.message.subject)
            .field("event_id", &self.message.envelope.event_id)
            .field("attempt", &self.attempt)
            .finish()
    }
}

impl Delivery for NatsDelivery {
    fn message(&self) -> &Message {
        &self.message
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    /// Sends the ack and returns once it is on its way; the server's confirmation is awaited
    /// in the background ([`NatsConfig::ack_window`](crate::NatsConfig::ack_window); with a
    /// window of 0, here).
    async fn ack(self) -> Result<(), BusError> {
        match &self.member.acks {
            AckMode::Background(acks) => acks.ack(&self.raw).await,
            AckMode::InPlace => self
                .raw
                .double_ack()
                .await
                .map_err(|e| error::settle("ack", &e)),
            AckMode::Unconfirmed => self
                .raw
                .ack()
                .await
                .map_err(|e| error::unavailable("ack not sent", e)),
        }
    }

    async fn nack(self, reason: &str) -> Result<(), BusError> {
        self.nack_or_dead_letter(reason).await
    }

    async fn dead_letter(self, reason: &str) -> Result<(), BusError> {
        self.dead_letter_now(reason).await
    }
}

impl Redelivery for NatsDelivery {
    fn consumer(&self) -> &str {
        &self.member.consumer
    }

    fn max_deliver(&self) -> u32 {
        self.member.max_deliver
    }

    async fn redeliver(self) -> Result<(), BusError> {
        self.raw
            .ack_with(AckKind::Nak(None))
            .await
            .map_err(|e| error::settle("nak", &e))
    }

    /// Publishes the dead letter, then terminates the delivery so it never comes back.
    async fn park(self, letter: Message) -> Result<(), BusError> {
        let member = self.member;
        let id = format!(
            "dead-letter:{}:{}",
            member.consumer, letter.envelope.event_id
        );
        publish_outgoing(&member.shared, &[Outgoing::with_id(&letter, &id)?]).await?;
        self.raw
            .double_ack_with(AckKind::Term)
            .await
            .map_err(|e| error::settle("term", &e))
    }
}
