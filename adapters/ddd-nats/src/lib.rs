//! # ddd-nats
//!
//! The [`EventBus`] of ddd on NATS JetStream, with [`async-nats`](async_nats).
//!
//! ```no_run
//! use ddd_core::{ConsumerConfig, Delivery, EventBus, Subscription};
//! use ddd_nats::{NatsBus, NatsConfig};
//!
//! # async fn run() -> Result<(), ddd_core::BusError> {
//! let bus = NatsBus::connect(NatsConfig::new("nats://127.0.0.1:4222")).await?;
//! let mut billing = bus
//!     .subscribe(ConsumerConfig::new("billing", ["shop.ordering.>"]))
//!     .await?;
//! while let Some(delivery) = billing.next().await? {
//!     // handle delivery.message(), deduplicating by event id with an inbox
//!     delivery.ack().await?;
//! }
//! # Ok(())
//! # }
//! ```
//!
//! ## Layout on the server
//!
//! - **Streams**: one per *system*, the first token of a subject. Publishing on
//!   `shop.ordering.OrderPlaced` uses the stream that captures `shop.>`: an existing one
//!   (found by subject, so operators may provision it with their own name, replicas and
//!   limits) or one this bus creates, `DDD_shop`, with file storage, `Limits` retention for
//!   [`NatsConfig::max_age`] and a [`NatsConfig::duplicate_window`]. Dead letters go to
//!   `dead-letter.<consumer>`, so they live in the `dead-letter` system's stream.
//! - **Consumers**: a durable pull consumer named after [`ConsumerConfig::name`] on each
//!   stream its filters reach, created with `DeliverPolicy::New` (a new consumer starts with
//!   what is published after it), explicit acks and the consumer's ack wait. A single filter
//!   on a stream is applied by the server; several are applied by the subscription, which
//!   acknowledges what they do not match (NATS 2.9 has one filter per consumer). Every
//!   filter must start with a literal system token (`shop.>`, not `*.ordering.>`).
//!
//! ## Semantics
//!
//! - `publish` returns once JetStream acknowledged every message, that is stored it in the
//!   stream's file store (on each replica of an R3 stream). Messages are pipelined in
//!   windows of [`NatsConfig::publish_window`]; the whole call fails with
//!   [`BusError::Timeout`] after [`NatsConfig::publish_timeout`], for instance while the
//!   server is down. The event id travels as `Nats-Msg-Id`, so a retry within the
//!   duplicate window is stored once.
//! - The envelope travels as the JSON body, unchanged; with
//!   [`NatsConfig::envelope_headers`], the event id, type, correlation, causation and W3C
//!   trace context are also copied into headers for tools that look there.
//! - Different consumer names are different JetStream consumers (fan-out); subscriptions
//!   under one name pull from the same consumer (competing consumers). A delivery not
//!   acknowledged within the ack wait is redelivered by the server; `nack` asks for it at
//!   once. The delivery count the server keeps is [`Delivery::attempt`](ddd_core::Delivery::attempt).
//! - `ack` sends the ack and returns; the server's confirmation is awaited in the
//!   background, at most [`NatsConfig::ack_window`] per subscription (0: each `ack` awaits
//!   its own). An ack the server never records is a lost ack like any other: the message
//!   comes again after the ack wait, so deduplicate by event id with an inbox.
//!   [`NatsSubscription::flush_acks`] waits for the outstanding confirmations and says
//!   whether all came, before a shutdown for instance.
//! - After `max_deliver` failed attempts, or when a delivery comes back after its last
//!   attempt timed out, or when its body is not a message at all, the message is published
//!   to `dead-letter.<consumer>` with the reason and then terminated on the consumer.
//! - The client reconnects by itself; subscriptions keep pulling once it is back.
//!
//! ## Server versions
//!
//! Tested against nats-server 2.9.10. The crate enables none of async-nats'
//! `server_2_10`+ features, so it uses only the JetStream API of 2.9 and works unchanged on
//! 2.10, 2.11 and 2.12. File storage writes through to the OS on every message; for an
//! `fsync` per message set `sync_interval: always` in the server's `jetstream` block
//! (2.10+) or run streams with three replicas.
#![warn(missing_docs)]

mod acks;
mod config;
mod error;
mod publish;
mod subscribe;

use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;

use async_nats::jetstream::{self, stream};
use ddd_core::{BusError, ConsumerConfig, EventBus, Message};
use tokio::sync::Mutex;

pub use config::NatsConfig;
pub use subscribe::{NatsDelivery, NatsSubscription};

/// An [`EventBus`] on NATS JetStream. Clones share one connection.
#[derive(Clone)]
pub struct NatsBus {
    shared: Arc<Shared>,
}

impl fmt::Debug for NatsBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NatsBus")
            .field("url", &self.shared.config.url)
            .finish_non_exhaustive()
    }
}

/// What every publish, subscription and delivery of one bus uses.
pub(crate) struct Shared {
    pub(crate) client: async_nats::Client,
    pub(crate) jetstream: jetstream::Context,
    pub(crate) config: NatsConfig,
    /// System token → the name of the stream that captures `<system>.>`.
    streams: Mutex<HashMap<String, String>>,
}

impl NatsBus {
    /// Connects to `config.url`. Fails with [`BusError::Unavailable`] when no server answers;
    /// once connected, the client reconnects by itself for as long as the bus lives.
    pub async fn connect(config: NatsConfig) -> Result<Self, BusError> {
        let client = async_nats::ConnectOptions::new()
            .name(&config.connection_name)
            .connection_timeout(config.request_timeout)
            .max_reconnects(None)
            .connect(config.url.as_str())
            .await
            .map_err(|e| error::unavailable(&format!("connect to {}", config.url), e))?;
        Ok(Self::with_client(client, config))
    }

    /// A bus on a client connected beforehand (`config.url` is then only for display).
    pub fn with_client(client: async_nats::Client, config: NatsConfig) -> Self {
        let jetstream = jetstream::ContextBuilder::new()
            .timeout(config.request_timeout)
            .max_ack_inflight(config.publish_window.saturating_mul(4))
            .backpressure_on_inflight(true)
            .build(client.clone());
        Self {
            shared: Arc::new(Shared {
                client,
                jetstream,
                config,
                streams: Mutex::new(HashMap::new()),
            }),
        }
    }

    /// The underlying client, for what the bus does not cover.
    pub fn client(&self) -> &async_nats::Client {
        &self.shared.client
    }

    /// The JetStream context the bus uses.
    pub fn jetstream(&self) -> &jetstream::Context {
        &self.shared.jetstream
    }

    /// The name of the stream that holds `subject` (creating it if needed).
    pub async fn stream_of(&self, subject: &str) -> Result<String, BusError> {
        self.shared.stream_for(system_of(subject)).await
    }
}

impl EventBus for NatsBus {
    type Subscription = NatsSubscription;

    async fn publish(&self, messages: Vec<Message>) -> Result<(), BusError> {
        publish::publish(&self.shared, messages).await
    }

    async fn subscribe(&self, config: ConsumerConfig) -> Result<NatsSubscription, BusError> {
        NatsSubscription::open(Arc::clone(&self.shared), config).await
    }

    /// A round trip to the server (the client's flush waits for its PONG).
    async fn ping(&self) -> Result<(), BusError> {
        let flush = self.shared.client.flush();
        match tokio::time::timeout(self.shared.config.request_timeout, flush).await {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(error::unavailable("ping", e)),
            Err(_) => Err(BusError::Timeout(self.shared.config.request_timeout)),
        }
    }
}

/// The first token of a subject or filter: the system, which selects the stream.
pub(crate) fn system_of(subject: &str) -> &str {
    subject.split('.').next().unwrap_or(subject)
}

impl Shared {
    /// The stream capturing `<system>.>`: found by subject, or created.
    pub(crate) async fn stream_for(&self, system: &str) -> Result<String, BusError> {
        let mut streams = self.streams.lock().await;
        if let Some(name) = streams.get(system) {
            return Ok(name.clone());
        }
        let name = self.find_or_create(system).await?;
        streams.insert(system.to_owned(), name.clone());
        Ok(name)
    }

    /// Drops what is known about `system`'s stream, after the server said it is gone.
    pub(crate) async fn forget_stream(&self, system: &str) {
        self.streams.lock().await.remove(system);
    }

    async fn find_or_create(&self, system: &str) -> Result<String, BusError> {
        let capture = format!("{system}.>");
        if let Some(name) = self.find(&capture).await? {
            return Ok(name);
        }
        let config = self.stream_config(system)?;
        match self.jetstream.create_stream(config).await {
            Ok(created) => Ok(created.cached_info().config.name.clone()),
            // Another process created it (or one overlapping) meanwhile: use that one.
            Err(create_error) => self.find(&capture).await?.ok_or_else(|| {
                BusError::Rejected(format!(
                    "cannot create a stream for `{capture}`: {create_error}"
                ))
            }),
        }
    }

    async fn find(&self, capture: &str) -> Result<Option<String>, BusError> {
        use jetstream::context::GetStreamByNameErrorKind as Kind;
        match self.jetstream.stream_by_subject(capture).await {
            Ok(name) => Ok(Some(name)),
            Err(e) if e.kind() == Kind::NotFound => Ok(None),
            Err(e) if e.kind() == Kind::InvalidSubject => Err(BusError::Rejected(format!(
                "`{capture}` is not a valid NATS subject"
            ))),
            Err(e) => Err(error::unavailable("look up stream", e)),
        }
    }

    fn stream_config(&self, system: &str) -> Result<stream::Config, BusError> {
        let valid = !system.is_empty()
            && system
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
        if !valid {
            return Err(BusError::Rejected(format!(
                "system `{system}` must be ASCII letters, digits, `-` or `_` to name a stream"
            )));
        }
        Ok(stream::Config {
            name: format!("{}{system}", self.config.stream_prefix),
            subjects: vec![format!("{system}.>")],
            storage: stream::StorageType::File,
            retention: stream::RetentionPolicy::Limits,
            max_age: self.config.max_age,
            duplicate_window: self.config.duplicate_window,
            num_replicas: self.config.replicas,
            description: Some("ddd event bus".to_owned()),
            ..stream::Config::default()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_system_is_the_first_token() {
        assert_eq!(system_of("shop.ordering.OrderPlaced"), "shop");
        assert_eq!(system_of("dead-letter.billing"), "dead-letter");
        assert_eq!(system_of("shop"), "shop");
    }
}
