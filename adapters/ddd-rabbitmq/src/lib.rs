//! # ddd-rabbitmq
//!
//! The [`EventBus`] of ddd on RabbitMQ, with [`lapin`].
//!
//! ```no_run
//! use ddd_core::{ConsumerConfig, Delivery, EventBus, Subscription};
//! use ddd_rabbitmq::{RabbitMqBus, RabbitMqConfig};
//!
//! # async fn run() -> Result<(), ddd_core::BusError> {
//! let url = "amqp://guest:guest@127.0.0.1:5672/%2f";
//! let bus = RabbitMqBus::connect(RabbitMqConfig::new(url)).await?;
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
//! ## Layout on the broker
//!
//! - One durable **topic exchange**, `ddd.events` ([`RabbitMqConfig::exchange`]); an event's
//!   routing key is its subject.
//! - Consumer `c` reads the durable **quorum queue** `ddd.c`, bound with one binding key per
//!   filter (`*` stays `*`, a final `>` becomes `#`). Quorum queues count deliveries
//!   (`x-delivery-count`), which is how a redelivery knows its attempt.
//! - Its dead letters are published on `dead-letter.c` like any event, and the durable
//!   quorum queue `ddd.dead-letter.c` is bound to that subject so that they are kept even
//!   when nobody consumes them (an operator's parking lot; purge it when handled).
//!
//! ## Semantics
//!
//! - `publish` sends persistent messages (`delivery_mode` 2) with `mandatory` on a channel
//!   in confirm mode, pipelined in windows of [`RabbitMqConfig::publish_window`], and returns
//!   once every one is confirmed: stored in every queue it was routed to (for quorum
//!   queues, on a majority of replicas, fsynced). A message no queue is bound for is
//!   returned by the broker: nobody subscribes to it, and like on the other buses the
//!   publish succeeds, unless [`RabbitMqConfig::refuse_unroutable`] makes it fail with
//!   [`BusError::Rejected`] (to catch routing mistakes). The whole
//!   call fails with [`BusError::Timeout`] after [`RabbitMqConfig::publish_timeout`].
//! - The envelope is the JSON body, unchanged; `message_id` is the event id,
//!   `correlation_id` the correlation id, `type` the event type; causation and the W3C
//!   trace context travel as headers.
//! - Different consumer names are different queues (fan-out); subscriptions under one name
//!   consume from the same queue (competing consumers), each on its own channel with a
//!   prefetch of [`RabbitMqConfig::prefetch`].
//! - `nack` requeues at once; a delivery dropped unsettled is requeued too; a subscription
//!   that goes away (dropped, process killed, connection lost) has its unacknowledged
//!   deliveries requeued by the broker. After `max_deliver` failed attempts, or when a
//!   delivery comes back after its last attempt was abandoned, or when its body is not a
//!   message, it is published to `dead-letter.<consumer>` with the reason and acked.
//! - RabbitMQ has no per-message ack timeout: [`ConsumerConfig::ack_wait`] is not applied.
//!   A handler that hangs keeps its delivery until its channel closes, or until the
//!   broker's `consumer_timeout` (30 minutes by default) closes it.
//! - The bus reconnects on the next publish after a connection loss; subscriptions
//!   reconnect by themselves and consume again.
//!
//! ## Broker versions
//!
//! Tested against RabbitMQ 3.10.8 (Erlang 25). Quorum queues need 3.8+; `x-delivery-count`
//! on redeliveries of quorum queues is set by 3.8 and later.
#![warn(missing_docs)]

mod config;
mod error;
mod publish;
mod subscribe;

use std::fmt;
use std::sync::Arc;
use std::time::Instant;

use ddd_core::{BusError, ConsumerConfig, EventBus, Message};
use lapin::options::{ConfirmSelectOptions, ExchangeDeclareOptions};
use lapin::types::FieldTable;
use lapin::{Channel, Connection, ConnectionProperties, ExchangeKind};
use tokio::sync::Mutex;

pub use config::RabbitMqConfig;
pub use subscribe::{RabbitMqDelivery, RabbitMqSubscription};

/// An [`EventBus`] on RabbitMQ. Clones share one connection.
#[derive(Clone)]
pub struct RabbitMqBus {
    shared: Arc<Shared>,
}

impl fmt::Debug for RabbitMqBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RabbitMqBus")
            .field("exchange", &self.shared.config.exchange)
            .finish_non_exhaustive()
    }
}

/// The connection every publish and subscription of one bus uses, made again when lost.
pub(crate) struct Shared {
    pub(crate) config: RabbitMqConfig,
    link: Mutex<LinkState>,
}

#[derive(Default)]
struct LinkState {
    current: Option<Link>,
    last_attempt: Option<Instant>,
}

/// A live connection and its publishing channel (in confirm mode).
#[derive(Clone)]
pub(crate) struct Link {
    pub(crate) connection: Arc<Connection>,
    pub(crate) publisher: Channel,
}

impl Link {
    fn usable(&self) -> bool {
        self.connection.status().connected() && self.publisher.status().connected()
    }
}

impl RabbitMqBus {
    /// Connects to `config.url` and declares the exchange. Fails with
    /// [`BusError::Unavailable`] when the broker cannot be reached.
    pub async fn connect(config: RabbitMqConfig) -> Result<Self, BusError> {
        let bus = Self {
            shared: Arc::new(Shared {
                config,
                link: Mutex::new(LinkState::default()),
            }),
        };
        bus.shared.link().await?;
        Ok(bus)
    }

    /// A channel on the bus' connection, for what the bus does not cover (tests publish raw
    /// bytes with it).
    pub async fn channel(&self) -> Result<Channel, BusError> {
        let link = self.shared.link().await?;
        link.connection
            .create_channel()
            .await
            .map_err(|e| error::unavailable("open channel", e))
    }

    /// The configuration the bus runs with.
    pub fn config(&self) -> &RabbitMqConfig {
        &self.shared.config
    }
}

impl EventBus for RabbitMqBus {
    type Subscription = RabbitMqSubscription;

    async fn publish(&self, messages: Vec<Message>) -> Result<(), BusError> {
        publish::publish(&self.shared, messages).await
    }

    async fn subscribe(&self, config: ConsumerConfig) -> Result<RabbitMqSubscription, BusError> {
        RabbitMqSubscription::open(Arc::clone(&self.shared), config).await
    }

    /// Whether the connection is up, connecting again if it was lost.
    async fn ping(&self) -> Result<(), BusError> {
        self.shared.link().await.map(|_| ())
    }
}

impl Shared {
    /// The live connection, connecting again if it was lost (at most once per
    /// `reconnect_interval`, so a broker that is down is not hammered).
    pub(crate) async fn link(&self) -> Result<Link, BusError> {
        let mut state = self.link.lock().await;
        if let Some(link) = state.current.as_ref().filter(|link| link.usable()) {
            return Ok(link.clone());
        }
        state.current = None;
        if let Some(last) = state.last_attempt {
            let since = last.elapsed();
            if since < self.config.reconnect_interval {
                return Err(BusError::Unavailable(format!(
                    "the broker was unreachable {since:?} ago"
                )));
            }
        }
        state.last_attempt = Some(Instant::now());
        let link = self.open().await?;
        state.current = Some(link.clone());
        Ok(link)
    }

    /// Forgets `broken`, so the next use connects again.
    pub(crate) async fn forget(&self, broken: &Link) {
        let mut state = self.link.lock().await;
        if state
            .current
            .as_ref()
            .is_some_and(|link| Arc::ptr_eq(&link.connection, &broken.connection))
        {
            state.current = None;
        }
    }

    async fn open(&self) -> Result<Link, BusError> {
        let config = &self.config;
        let properties = ConnectionProperties::default()
            .with_connection_name(config.connection_name.clone().into());
        let connection = tokio::time::timeout(
            config.connect_timeout,
            Connection::connect(&config.url, properties),
        )
        .await
        .map_err(|_| BusError::Timeout(config.connect_timeout))?
        .map_err(|e| error::unavailable("connect", e))?;
        let publisher = connection
            .create_channel()
            .await
            .map_err(|e| error::unavailable("open channel", e))?;
        publisher
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .map_err(|e| error::unavailable("confirm mode", e))?;
        publisher
            .exchange_declare(
                config.exchange.as_str().into(),
                ExchangeKind::Topic,
                ExchangeDeclareOptions {
                    durable: true,
                    ..ExchangeDeclareOptions::default()
                },
                FieldTable::default(),
            )
            .await
            .map_err(|e| error::declare("declare the exchange", &e))?;
        Ok(Link {
            connection: Arc::new(connection),
            publisher,
        })
    }
}

impl Drop for Shared {
    fn drop(&mut self) {
        // Lapin keeps a connection open until it is closed; close it politely if we can.
        let link = self.link.get_mut().current.take();
        if let (Some(link), Ok(runtime)) = (link, tokio::runtime::Handle::try_current()) {
            runtime.spawn(async move {
                let _ = link.connection.close(200, "bus dropped".into()).await;
            });
        }
    }
}
