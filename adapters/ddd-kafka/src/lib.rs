//! # ddd-kafka
//!
//! The [`EventBus`] of ddd on Apache Kafka, with [`rdkafka`] (librdkafka, built from C).
//!
//! **Tested against librdkafka's built-in mock cluster** (`rdkafka::mocking::MockCluster`),
//! not against a Kafka broker: no broker runs on the machines this was built on. The mock
//! implements the produce, idempotent-producer, fetch, consumer-group and offset-commit
//! protocol paths this crate uses; behaviour that differs between the mock and real brokers
//! (rebalance timing, log retention, ISR handling) is not covered.
//!
//! ```no_run
//! use ddd_core::{ConsumerConfig, Delivery, EventBus, Subscription};
//! use ddd_kafka::{KafkaBus, KafkaConfig};
//!
//! # async fn run() -> Result<(), ddd_core::BusError> {
//! let bus = KafkaBus::connect(KafkaConfig::new("127.0.0.1:9092").replication(3)).await?;
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
//! ## Layout on the cluster
//!
//! - **Topics**: one per *system*, the first token of a subject: `shop.ordering.OrderPlaced`
//!   goes to `ddd-shop` ([`KafkaConfig::topic_prefix`]), created with
//!   [`KafkaConfig::partitions`] partitions and [`KafkaConfig::replication`]. The subject
//!   travels in the `ddd-subject` header; filters are applied by the subscription, which
//!   skips what they do not match. Dead letters go to `dead-letter.<consumer>`, so they
//!   live in `ddd-dead-letter`.
//! - **Keys**: `<aggregate type>/<aggregate id>`, partitioned with `murmur2_random` (the
//!   Java client's partitioner): one aggregate's events share a partition and keep their
//!   order.
//! - **Consumer groups**: consumer `c` is the group `c`. A new group starts at the end of
//!   its topics (its offsets are set to the high watermarks when it is first subscribed),
//!   like a new consumer on the other buses.
//!
//! ## Semantics
//!
//! - `publish` produces with an idempotent producer (`enable.idempotence`, `acks=all`) and
//!   returns once every delivery report came back: the message is on every in-sync replica.
//!   Messages are pipelined in windows of [`KafkaConfig::publish_window`]; the call fails
//!   with [`BusError::Timeout`] after [`KafkaConfig::publish_timeout`] (also librdkafka's
//!   `message.timeout.ms`, so nothing is retried behind the caller's back after that).
//! - The envelope is the JSON value; event id, type, correlation, causation and the W3C
//!   trace context are copied into headers.
//! - Different consumer names are different groups (fan-out). Subscriptions under one name
//!   are members of one group and share its partitions (competing consumers): one
//!   aggregate's events go to one member, in order.
//! - Per partition, one delivery is in flight at a time: the next message of a partition is
//!   handed out once the previous one is settled, so per-aggregate order holds through
//!   retries. `ack` commits the next offset (manual commit, synchronously). `nack` hands the
//!   same message out again. Handing a message out records its attempt in the committed
//!   offset's metadata, so a member that takes over a partition (after a rebalance, or
//!   after a member died) knows how often the message at the committed offset was
//!   delivered: that is [`Delivery::attempt`](ddd_core::Delivery::attempt).
//! - A delivery not settled within the consumer's ack wait is handed out again. After
//!   `max_deliver` failed attempts, or when it is not a message at all, a message is
//!   produced to `dead-letter.<consumer>` with the reason and its offset committed.
//! - librdkafka reconnects by itself; a member whose session expired during an outage
//!   rejoins its group, and deliveries of partitions it lost meanwhile become stale (their
//!   `ack` is ignored; the new owner delivers them again).
//!
//! ## Broker versions
//!
//! librdkafka 2.12 speaks to Kafka 0.10+ brokers; the idempotent producer needs 0.11+,
//! offset-commit metadata is supported by every version. Tested only against the mock
//! cluster of librdkafka 2.12.1.
#![warn(missing_docs)]

mod config;
mod error;
mod publish;
mod subscribe;

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use ddd_core::{BusError, ConsumerConfig, EventBus, Message};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::producer::{FutureProducer, Producer};
use tokio::sync::Mutex;

pub use config::{KafkaConfig, TopicCreation};
pub use subscribe::{KafkaDelivery, KafkaSubscription};

/// An [`EventBus`] on Kafka. Clones share one producer.
#[derive(Clone)]
pub struct KafkaBus {
    shared: Arc<Shared>,
}

impl fmt::Debug for KafkaBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaBus")
            .field("bootstrap_servers", &self.shared.config.bootstrap_servers)
            .finish_non_exhaustive()
    }
}

/// What every publish and subscription of one bus uses.
pub(crate) struct Shared {
    pub(crate) config: KafkaConfig,
    pub(crate) producer: FutureProducer,
    admin: AdminClient<DefaultClientContext>,
    /// Topics known to exist.
    topics: Mutex<HashSet<String>>,
}

impl KafkaBus {
    /// Creates the producer and checks that the cluster answers; fails with
    /// [`BusError::Unavailable`] when it does not within the publish timeout.
    pub async fn connect(config: KafkaConfig) -> Result<Self, BusError> {
        let producer: FutureProducer = publish::producer_config(&config)
            .create()
            .map_err(|e| error::config("create the producer", &e))?;
        let admin: AdminClient<DefaultClientContext> = config
            .client()
            .create()
            .map_err(|e| error::config("create the admin client", &e))?;
        let probe = producer.clone();
        let timeout = config.publish_timeout;
        tokio::task::spawn_blocking(move || probe.client().fetch_metadata(None, timeout))
            .await
            .map_err(|e| BusError::Unavailable(format!("metadata task: {e}")))?
            .map_err(|e| error::kafka("reach the cluster", &e))?;
        Ok(Self {
            shared: Arc::new(Shared {
                config,
                producer,
                admin,
                topics: Mutex::new(HashSet::new()),
            }),
        })
    }

    /// The configuration the bus runs with.
    pub fn config(&self) -> &KafkaConfig {
        &self.shared.config
    }

    /// The producer the bus uses, for what the bus does not cover.
    pub fn producer(&self) -> &FutureProducer {
        &self.shared.producer
    }

    /// The topic that holds `subject` (creating it if needed).
    pub async fn topic_of(&self, subject: &str) -> Result<String, BusError> {
        self.shared.topic(system_of(subject)).await
    }
}

impl EventBus for KafkaBus {
    type Subscription = KafkaSubscription;

    async fn publish(&self, messages: Vec<Message>) -> Result<(), BusError> {
        publish::publish(&self.shared, &messages).await
    }

    async fn subscribe(&self, config: ConsumerConfig) -> Result<KafkaSubscription, BusError> {
        KafkaSubscription::open(Arc::clone(&self.shared), config).await
    }

    /// A metadata request to the cluster, bounded by the publish timeout.
    async fn ping(&self) -> Result<(), BusError> {
        let probe = self.shared.producer.clone();
        let timeout = self.shared.config.publish_timeout;
        tokio::task::spawn_blocking(move || probe.client().fetch_metadata(None, timeout))
            .await
            .map_err(|e| BusError::Unavailable(format!("metadata task: {e}")))?
            .map(|_| ())
            .map_err(|e| error::kafka("reach the cluster", &e))
    }
}

/// The first token of a subject or filter: the system, which selects the topic.
pub(crate) fn system_of(subject: &str) -> &str {
    subject.split('.').next().unwrap_or(subject)
}

impl Shared {
    /// The topic of `system`, created if it does not exist.
    pub(crate) async fn topic(&self, system: &str) -> Result<String, BusError> {
        let valid = !system.is_empty()
            && system
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'));
        if !valid {
            return Err(BusError::Rejected(format!(
                "system `{system}` must be ASCII letters, digits, `-` or `_` to name a topic"
            )));
        }
        let topic = self.config.topic(system);
        let mut known = self.topics.lock().await;
        if known.contains(&topic) {
            return Ok(topic);
        }
        self.create(&topic).await?;
        known.insert(topic.clone());
        Ok(topic)
    }

    async fn create(&self, topic: &str) -> Result<(), BusError> {
        match self.config.topic_creation {
            TopicCreation::Admin => self.create_with_admin(topic).await,
            TopicCreation::BrokerAuto => self.create_by_metadata(topic).await,
        }
    }

    /// Asks for the topic's metadata, which makes brokers that auto-create topics create it.
    async fn create_by_metadata(&self, topic: &str) -> Result<(), BusError> {
        let (producer, name) = (self.producer.clone(), topic.to_owned());
        let timeout = self.config.publish_timeout;
        let metadata = tokio::task::spawn_blocking(move || {
            producer.client().fetch_metadata(Some(&name), timeout)
        })
        .await
        .map_err(|e| BusError::Unavailable(format!("metadata task: {e}")))?
        .map_err(|e| error::kafka("topic metadata", &e))?;
        let exists = metadata
            .topics()
            .iter()
            .any(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty());
        if exists {
            Ok(())
        } else {
            Err(BusError::Unavailable(format!(
                "topic {topic} does not exist and the brokers did not create it"
            )))
        }
    }

    async fn create_with_admin(&self, topic: &str) -> Result<(), BusError> {
        let new = NewTopic::new(
            topic,
            self.config.partitions,
            TopicReplication::Fixed(self.config.replication),
        );
        let options = AdminOptions::new().operation_timeout(Some(self.config.publish_timeout));
        let results = self
            .admin
            .create_topics([&new], &options)
            .await
            .map_err(|e| error::kafka("create topic", &e))?;
        for result in results {
            match result {
                Ok(_) => {}
                Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => {
                    return Err(BusError::Unavailable(format!(
                        "create topic {name}: {code}"
                    )));
                }
            }
        }
        Ok(())
    }
}
