//! Subscribing: a consumer group per stream the filters reach, one member per
//! subscription; entries left pending are reclaimed, failed ones dead-lettered.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use ddd_core::{
    BusError, ConsumerConfig, Delivery, Message, RawEnvelope, Redelivery, Subscription,
};
use redis::AsyncCommands;
use redis::aio::ConnectionManager;
use redis::streams::{
    StreamAutoClaimOptions, StreamAutoClaimReply, StreamClaimReply, StreamId,
    StreamPendingCountReply, StreamReadOptions, StreamReadReply,
};

use crate::publish::{Entry, field};
use crate::{Shared, error, publish, system_of};

/// The reason given when an entry is reclaimed after its last attempt ran out of ack wait.
const ACK_WAIT_EXPIRED: &str = "not acknowledged within the ack wait";
/// The longest pause between attempts to read again after an error.
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// An entry read or claimed, not yet handed out.
struct Pending {
    stream: String,
    id: String,
    fields: HashMap<String, redis::Value>,
    attempt: u32,
}

/// Entries a nack claimed back for another attempt, shared by a subscription and its
/// deliveries.
type Retries = Arc<Mutex<VecDeque<Pending>>>;

/// One member of a durable consumer. Dropping it stops reading; what it held
/// unacknowledged is reclaimed by another member after the ack wait.
pub struct RedisSubscription {
    shared: Arc<Shared>,
    config: ConsumerConfig,
    streams: Vec<String>,
    member: String,
    reader: ConnectionManager,
    ready: VecDeque<Pending>,
    retries: Retries,
    next_claim: Instant,
    backoff: Duration,
}

impl fmt::Debug for RedisSubscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSubscription")
            .field("consumer", &self.config.name)
            .field("member", &self.member)
            .field("subjects", &self.config.subjects)
            .finish_non_exhaustive()
    }
}

impl RedisSubscription {
    pub(crate) async fn open(
        shared: Arc<Shared>,
        config: ConsumerConfig,
    ) -> Result<Self, BusError> {
        config.check()?;
        let streams = streams_of(&shared, &config)?;
        register(&shared, &config).await?;
        ensure_groups(&shared, &config.name, &streams).await?;
        // Reads block on the server, so they get a connection of their own.
        let read_timeout = shared.config.block + shared.config.publish_timeout;
        let reader = crate::manager(&shared.client, &shared.config, read_timeout).await?;
        Ok(Self {
            member: uuid::Uuid::now_v7().simple().to_string(),
            reader,
            streams,
            shared,
            config,
            ready: VecDeque::new(),
            retries: Arc::default(),
            next_claim: Instant::now(),
            backoff: Duration::from_millis(100),
        })
    }

    fn take_ready(&mut self) -> Option<Pending> {
        let retried = self
            .retries
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .pop_front();
        retried.or_else(|| self.ready.pop_front())
    }

    /// How often a member looks for entries whose ack wait ran out.
    fn claim_interval(&self) -> Duration {
        (self.config.ack_wait / 2).clamp(Duration::from_millis(100), Duration::from_secs(5))
    }

    /// Reads new entries, blocking on the server for a while; reclaims abandoned ones when
    /// it is time to.
    async fn fill(&mut self) -> Result<(), redis::RedisError> {
        if Instant::now() >= self.next_claim {
            self.next_claim = Instant::now() + self.claim_interval();
            for stream in self.streams.clone() {
                let claimed = self.reclaim(&stream).await?;
                self.ready.extend(claimed);
            }
            if !self.ready.is_empty() {
                return Ok(());
            }
        }
        let options = StreamReadOptions::default()
            .group(&self.config.name, &self.member)
            .count(self.shared.config.prefetch)
            .block(millis(self.shared.config.block));
        let new = vec![">"; self.streams.len()];
        let reply: Option<StreamReadReply> = self
            .reader
            .xread_options(&self.streams, &new, &options)
            .await?;
        for key in reply.map(|r| r.keys).unwrap_or_default() {
            for entry in key.ids {
                self.ready.push_back(pending(&key.key, entry, 1));
            }
        }
        Ok(())
    }

    /// Takes over entries of `stream` pending longer than the ack wait, with their delivery
    /// counts (which the claim raised).
    async fn reclaim(&mut self, stream: &str) -> Result<Vec<Pending>, redis::RedisError> {
        let options = StreamAutoClaimOptions::default().count(self.shared.config.prefetch);
        let reply: StreamAutoClaimReply = self
            .reader
            .xautoclaim_options(
                stream,
                &self.config.name,
                &self.member,
                millis(self.config.ack_wait),
                "0-0",
                options,
            )
            .await?;
        if !reply.deleted_ids.is_empty() {
            // Trimmed away while pending: nothing left to deliver.
            let _: usize = self
                .reader
                .xack(stream, &self.config.name, &reply.deleted_ids)
                .await?;
        }
        let mut claimed = Vec::with_capacity(reply.claimed.len());
        for entry in reply.claimed {
            let attempt = self.delivery_count(stream, &entry.id).await?;
            claimed.push(pending(stream, entry, attempt));
        }
        Ok(claimed)
    }

    async fn delivery_count(&mut self, stream: &str, id: &str) -> Result<u32, redis::RedisError> {
        let reply: StreamPendingCountReply = redis::cmd("XPENDING")
            .arg(stream)
            .arg(&self.config.name)
            .arg(id)
            .arg(id)
            .arg(1)
            .query_async(&mut self.reader)
            .await?;
        let times = reply.ids.first().map_or(1, |p| p.times_delivered);
        Ok(u32::try_from(times).unwrap_or(u32::MAX).max(1))
    }

    async fn on_error(&mut self, error: redis::RedisError) {
        if error::is_no_group(&error) {
            // The stream or group is gone (deleted, or Redis lost its data): make them again.
            tracing::warn!(consumer = %self.config.name, "consumer group missing; recreating it");
            let result = ensure_groups(&self.shared, &self.config.name, &self.streams).await;
            if result.is_ok() {
                return;
            }
        } else {
            tracing::debug!(consumer = %self.config.name, %error, "reading failed; retrying");
        }
        tokio::time::sleep(self.backoff).await;
        self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
    }

    /// Turns an entry into a delivery, or settles it here when the consumer must not see it
    /// (filtered out, undecodable, out of attempts).
    async fn accept(&self, entry: Pending) -> Option<RedisDelivery> {
        let subject = text(&entry.fields, field::SUBJECT).unwrap_or_default();
        let decoded = entry
            .fields
            .get(field::ENVELOPE)
            .ok_or_else(|| "the entry has no `envelope` field".to_owned())
            .and_then(|v| bytes(v).ok_or_else(|| "`envelope` is not a string".to_owned()))
            .and_then(|b| serde_json::from_slice::<RawEnvelope>(&b).map_err(|e| e.to_string()));
        let envelope = match decoded {
            Ok(envelope) if !subject.is_empty() => envelope,
            Ok(_) => {
                return self
                    .reject(&entry, "", "the entry has no `subject` field")
                    .await;
            }
            Err(e) => return self.reject(&entry, &subject, &e).await,
        };
        if !self.config.wants(&subject) {
            ack_quietly(&self.shared, &entry, &self.config.name).await;
            return None;
        }
        let delivery = RedisDelivery {
            shared: Arc::clone(&self.shared),
            consumer: self.config.name.clone(),
            member: self.member.clone(),
            max_deliver: self.config.max_deliver,
            stream: entry.stream,
            id: entry.id,
            message: Message::new(subject, envelope),
            attempt: entry.attempt,
            retries: Arc::clone(&self.retries),
        };
        delivery.admit(ACK_WAIT_EXPIRED).await
    }

    /// Dead-letters an entry that is not a message, then acks it.
    async fn reject(&self, entry: &Pending, subject: &str, error: &str) -> Option<RedisDelivery> {
        let body = entry
            .fields
            .get(field::ENVELOPE)
            .and_then(bytes)
            .unwrap_or_default();
        let event_id = text(&entry.fields, field::EVENT_ID).and_then(|id| id.parse().ok());
        let subject = if subject.is_empty() {
            &entry.stream
        } else {
            subject
        };
        let letter = Message::undecodable(
            &self.config.name,
            subject,
            &body,
            event_id,
            entry.attempt,
            &format!("does not decode: {error}"),
        );
        let dedup = format!("{}:{}", entry.stream, entry.id);
        let published = match Entry::dead_letter(&letter, &format!("{}:{dedup}", self.config.name))
        {
            Ok(dead) => publish::publish(&self.shared, &[dead]).await,
            Err(e) => Err(e),
        };
        match published {
            Ok(()) => ack_quietly(&self.shared, entry, &self.config.name).await,
            Err(e) => {
                tracing::warn!(consumer = %self.config.name, error = %e, "cannot dead-letter an undecodable entry; it comes back");
            }
        }
        None
    }
}

impl Subscription for RedisSubscription {
    type Delivery = RedisDelivery;

    /// The next delivery. A lost connection is waited out (reads resume once Redis is
    /// back), so this only returns once there is a message.
    async fn next(&mut self) -> Result<Option<RedisDelivery>, BusError> {
        loop {
            if let Some(entry) = self.take_ready() {
                if let Some(delivery) = self.accept(entry).await {
                    return Ok(Some(delivery));
                }
                continue;
            }
            match self.fill().await {
                Ok(()) => self.backoff = Duration::from_millis(100),
                Err(error) => self.on_error(error).await,
            }
        }
    }
}

fn pending(stream: &str, entry: StreamId, attempt: u32) -> Pending {
    Pending {
        stream: stream.to_owned(),
        id: entry.id,
        fields: entry.map,
        attempt,
    }
}

fn bytes(value: &redis::Value) -> Option<Vec<u8>> {
    redis::from_redis_value_ref::<Vec<u8>>(value).ok()
}

fn text(fields: &HashMap<String, redis::Value>, name: &str) -> Option<String> {
    fields
        .get(name)
        .and_then(|v| redis::from_redis_value_ref::<String>(v).ok())
}

fn millis(duration: Duration) -> usize {
    usize::try_from(duration.as_millis()).unwrap_or(usize::MAX)
}

/// The streams a consumer reads: one per system its filters name.
fn streams_of(shared: &Shared, config: &ConsumerConfig) -> Result<Vec<String>, BusError> {
    let mut systems = BTreeMap::new();
    for filter in &config.subjects {
        let system = system_of(filter);
        if system == "*" || system == ">" {
            return Err(BusError::InvalidConsumer(format!(
                "filter `{filter}` of consumer `{}` must start with a system name: streams \
                 are per system",
                config.name
            )));
        }
        systems.insert(system, ());
    }
    Ok(systems.keys().map(|s| shared.config.stream(s)).collect())
}

/// Records the consumer's filters the first time; refuses other filters under its name.
async fn register(shared: &Shared, config: &ConsumerConfig) -> Result<(), BusError> {
    let mut filters = config.subjects.clone();
    filters.sort();
    let filters = filters.join(" ");
    let key = shared.config.consumers_key();
    let mut connection = shared.connection.clone();
    let _: bool = connection
        .hset_nx(&key, &config.name, &filters)
        .await
        .map_err(|e| error::redis("register consumer", e))?;
    let recorded: String = connection
        .hget(&key, &config.name)
        .await
        .map_err(|e| error::redis("register consumer", e))?;
    if recorded != filters {
        return Err(BusError::InvalidConsumer(format!(
            "consumer `{}` exists with subjects `{recorded}`, not `{filters}`",
            config.name
        )));
    }
    Ok(())
}

/// Creates the consumer's group on each stream (at `$`, creating the stream too) unless it
/// exists.
async fn ensure_groups(shared: &Shared, group: &str, streams: &[String]) -> Result<(), BusError> {
    let mut connection = shared.connection.clone();
    for stream in streams {
        let created: Result<(), redis::RedisError> =
            connection.xgroup_create_mkstream(stream, group, "$").await;
        match created {
            Ok(()) => {}
            Err(e) if error::is_busy_group(&e) => {}
            Err(e) => return Err(error::redis("create consumer group", e)),
        }
    }
    Ok(())
}

/// Acks an entry the consumer never sees; a lost ack only means it is reclaimed later.
async fn ack_quietly(shared: &Shared, entry: &Pending, group: &str) {
    let mut connection = shared.connection.clone();
    let acked: Result<usize, _> = connection.xack(&entry.stream, group, &[&entry.id]).await;
    if let Err(e) = acked {
        tracing::debug!(error = %e, "ack not sent; the entry comes back");
    }
}

/// A message delivered by a [`RedisSubscription`]. Dropping it unsettled leaves the entry
/// pending; a member reclaims it after the ack wait.
pub struct RedisDelivery {
    shared: Arc<Shared>,
    consumer: String,
    member: String,
    max_deliver: u32,
    stream: String,
    id: String,
    message: Message,
    attempt: u32,
    retries: Retries,
}

impl fmt::Debug for RedisDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisDelivery")
            .field("consumer", &self.consumer)
            .field("entry", &self.id)
            .field("subject", &self.message.subject)
            .field("event_id", &self.message.envelope.event_id)
            .field("attempt", &self.attempt)
            .finish()
    }
}

impl RedisDelivery {
    async fn xack(&self) -> Result<(), BusError> {
        let mut connection = self.shared.connection.clone();
        let _: usize = connection
            .xack(&self.stream, &self.consumer, &[&self.id])
            .await
            .map_err(|e| error::redis("ack", e))?;
        Ok(())
    }

    /// Claims the entry back for this member (which counts the delivery) and queues it for
    /// the subscription's next `next`.
    async fn retry(self) -> Result<(), BusError> {
        let mut connection = self.shared.connection.clone();
        let reply: StreamClaimReply = connection
            .xclaim(&self.stream, &self.consumer, &self.member, 0, &[&self.id])
            .await
            .map_err(|e| error::redis("claim for redelivery", e))?;
        // Empty when the entry was acked or trimmed meanwhile: nothing to redo.
        if let Some(entry) = reply.ids.into_iter().next() {
            let again = pending(&self.stream, entry, self.attempt.saturating_add(1));
            self.retries
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push_back(again);
        }
        Ok(())
    }
}

impl Delivery for RedisDelivery {
    fn message(&self) -> &Message {
        &self.message
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    async fn ack(self) -> Result<(), BusError> {
        self.xack().await
    }

    async fn nack(self, reason: &str) -> Result<(), BusError> {
        self.nack_or_dead_letter(reason).await
    }

    async fn dead_letter(self, reason: &str) -> Result<(), BusError> {
        self.dead_letter_now(reason).await
    }
}

impl Redelivery for RedisDelivery {
    fn consumer(&self) -> &str {
        &self.consumer
    }

    fn max_deliver(&self) -> u32 {
        self.max_deliver
    }

    async fn redeliver(self) -> Result<(), BusError> {
        self.retry().await
    }

    /// Adds the dead letter, then acks the entry so it never comes back.
    async fn park(self, letter: Message) -> Result<(), BusError> {
        let entry = Entry::dead_letter(&letter, &self.consumer)?;
        publish::publish(&self.shared, &[entry]).await?;
        self.xack().await
    }
}
