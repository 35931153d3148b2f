//! # ddd-redis
//!
//! The [`EventBus`] of ddd on Redis Streams, with [`redis`].
//!
//! ```no_run
//! use ddd_core::{ConsumerConfig, Delivery, EventBus, Subscription};
//! use ddd_redis::{RedisBus, RedisConfig};
//!
//! # async fn run() -> Result<(), ddd_core::BusError> {
//! let bus = RedisBus::connect(RedisConfig::new("redis://127.0.0.1:6379")).await?;
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
//! - **Streams**: one per *system*, the first token of a subject: `shop.ordering.OrderPlaced`
//!   is an entry of `ddd:stream:shop` with the fields `subject`, `envelope` (the JSON
//!   envelope) and `event_id`. Redis Streams have no wildcards; filters are applied by the
//!   subscription, which acknowledges what they do not match. Dead letters go to
//!   `dead-letter.<consumer>`, so they live in `ddd:stream:dead-letter`.
//! - **Consumer groups**: consumer `c` is the group `c` on every stream its filters reach,
//!   created at `$` (a new consumer starts with what is published after it). Each
//!   subscription is a member of the group with a name of its own. The filters of each
//!   consumer are recorded in the hash `ddd:consumers`, so a second subscription under the
//!   same name with other filters is refused.
//! - **Deduplication** (off by default; Redis has none of its own): with
//!   [`RedisConfig::dedup_window`], publishing runs a script that adds an entry only when
//!   the key `ddd:dedup:<event id>` could be set (it expires after the window). It costs the
//!   server about twice the work per message; without it a republished event (an outbox
//!   relay retrying after a crash) is delivered again and the consumer's inbox drops it.
//!
//! ## Semantics
//!
//! - `publish` returns once Redis executed the `XADD`s (and, with
//!   [`RedisConfig::wait_replicas`], once that many replicas have them). Redis replies after
//!   applying a write in memory; **the write is on disk before the reply only with
//!   `appendonly yes` and `appendfsync always`** (with `everysec`, up to a second of
//!   acknowledged publishes can be lost in a crash). Messages go in windows of
//!   [`RedisConfig::publish_window`] per round trip; the call fails with
//!   [`BusError::Timeout`] after [`RedisConfig::publish_timeout`].
//! - The envelope is stored as JSON, unchanged.
//! - Different consumer names are different groups (fan-out); subscriptions under one name
//!   are members of one group (competing consumers).
//! - `ack` is `XACK`. `nack` claims the entry back (`XCLAIM`, which counts the delivery)
//!   and hands it out again. An entry left pending longer than the consumer's ack wait
//!   (its member died, or dropped the delivery) is taken over by a member with
//!   `XAUTOCLAIM`; the delivery count Redis keeps is [`Delivery::attempt`](ddd_core::Delivery::attempt).
//! - After `max_deliver` failed attempts, or when an entry is reclaimed after its last
//!   attempt timed out, or when it is not a message at all, it is added to
//!   `dead-letter.<consumer>` with the reason and acknowledged.
//! - The connections reconnect by themselves; subscriptions keep reading once Redis is
//!   back.
//!
//! ## Server versions
//!
//! Tested against Redis 7.0.15. Needs 6.2+ (`XAUTOCLAIM`); works on Valkey 7.2+ and 8.
#![warn(missing_docs)]

mod config;
mod error;
mod publish;
mod subscribe;

use std::fmt;
use std::sync::Arc;

use ddd_core::{BusError, ConsumerConfig, EventBus, Message};
use redis::aio::{ConnectionManager, ConnectionManagerConfig};

pub use config::RedisConfig;
pub use subscribe::{RedisDelivery, RedisSubscription};

/// An [`EventBus`] on Redis Streams. Clones share one connection.
#[derive(Clone)]
pub struct RedisBus {
    shared: Arc<Shared>,
}

impl fmt::Debug for RedisBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisBus")
            .field("key_prefix", &self.shared.config.key_prefix)
            .finish_non_exhaustive()
    }
}

/// What every publish, subscription and delivery of one bus uses.
pub(crate) struct Shared {
    pub(crate) config: RedisConfig,
    pub(crate) client: redis::Client,
    /// For publishing and settling; subscriptions read on connections of their own, since
    /// a blocking read holds its connection.
    pub(crate) connection: ConnectionManager,
    pub(crate) publish_script: redis::Script,
}

impl RedisBus {
    /// Connects to `config.url`. Fails with [`BusError::Unavailable`] when Redis cannot be
    /// reached; once connected, the connection is made again whenever it is lost.
    pub async fn connect(config: RedisConfig) -> Result<Self, BusError> {
        let client = redis::Client::open(config.url.as_str()).map_err(|e| BusError::Other {
            message: format!("redis url {}: {e}", config.url),
            source: Some(Box::new(e)),
        })?;
        let connection = manager(&client, &config, config.publish_timeout).await?;
        Ok(Self {
            shared: Arc::new(Shared {
                publish_script: publish::script(),
                config,
                client,
                connection,
            }),
        })
    }

    /// A connection of the bus, for what the bus does not cover.
    pub fn connection(&self) -> ConnectionManager {
        self.shared.connection.clone()
    }

    /// The configuration the bus runs with.
    pub fn config(&self) -> &RedisConfig {
        &self.shared.config
    }
}

/// A connection that reconnects by itself, answering within `response_timeout`.
pub(crate) async fn manager(
    client: &redis::Client,
    config: &RedisConfig,
    response_timeout: std::time::Duration,
) -> Result<ConnectionManager, BusError> {
    let settings = ConnectionManagerConfig::new()
        .set_connection_timeout(Some(config.connect_timeout))
        .set_response_timeout(Some(response_timeout))
        .set_max_delay(std::time::Duration::from_secs(2));
    ConnectionManager::new_with_config(client.clone(), settings)
        .await
        .map_err(|e| error::redis(&format!("connect to {}", config.url), e))
}

impl EventBus for RedisBus {
    type Subscription = RedisSubscription;

    async fn publish(&self, messages: Vec<Message>) -> Result<(), BusError> {
        let entries = messages
            .iter()
            .map(publish::Entry::event)
            .collect::<Result<Vec<_>, _>>()?;
        publish::publish(&self.shared, &entries).await
    }

    async fn subscribe(&self, config: ConsumerConfig) -> Result<RedisSubscription, BusError> {
        RedisSubscription::open(Arc::clone(&self.shared), config).await
    }

    /// `PING` on the bus' connection.
    async fn ping(&self) -> Result<(), BusError> {
        let mut connection = self.shared.connection.clone();
        redis::cmd("PING")
            .query_async::<()>(&mut connection)
            .await
            .map_err(|e| error::redis("ping", e))
    }
}

/// The first token of a subject or filter: the system, which selects the stream.
pub(crate) fn system_of(subject: &str) -> &str {
    subject.split('.').next().unwrap_or(subject)
}
