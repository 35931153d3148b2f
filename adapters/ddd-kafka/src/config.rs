//! How the bus connects and how it lays out topics and groups.

use std::time::Duration;

/// How the bus makes sure a topic exists before it is used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicCreation {
    /// With the admin API (`CreateTopics`), with [`KafkaConfig::partitions`] and
    /// [`KafkaConfig::replication`]; an existing topic is left as it is.
    Admin,
    /// By asking for the topic's metadata, which brokers with `auto.create.topics.enable`
    /// answer by creating it with their defaults (`num.partitions`). librdkafka's mock
    /// cluster has no `CreateTopics`, so the tests use this (it makes 4 partitions).
    BrokerAuto,
}

/// Settings of a [`KafkaBus`](crate::KafkaBus). Start from [`KafkaConfig::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KafkaConfig {
    /// `bootstrap.servers`: `host:port[,host:port…]`.
    pub bootstrap_servers: String,
    /// Topics are named `<prefix><system>`.
    pub topic_prefix: String,
    /// How topics come to exist.
    pub topic_creation: TopicCreation,
    /// Partitions of the topics this bus creates: the most members of one consumer that
    /// get work at once.
    pub partitions: i32,
    /// Replication factor of the topics this bus creates (3 on a real cluster, with the
    /// brokers' `min.insync.replicas` at 2).
    pub replication: i32,
    /// How long one `publish` call may wait for its delivery reports (also librdkafka's
    /// `message.timeout.ms`) before it fails with
    /// [`BusError::Timeout`](ddd_core::BusError::Timeout).
    pub publish_timeout: Duration,
    /// How many produced messages may wait for their delivery report at once.
    pub publish_window: usize,
    /// `session.timeout.ms`: how long a member that stopped heartbeating (a killed process)
    /// keeps its partitions before the group rebalances.
    pub session_timeout: Duration,
    /// How long `subscribe` waits for the group to assign partitions to the new member.
    pub join_timeout: Duration,
    /// Messages of one partition read ahead; the partition is paused beyond that and
    /// resumed at half. A resumed partition takes tens of milliseconds to deliver again,
    /// so half of this should cover that long of consuming: a small read-ahead leaves a
    /// consumer with a backlog idle for most of each pause (see docs/benchmarks/bus.md).
    pub prefetch: usize,
    /// Further librdkafka properties for every client (TLS, SASL, …).
    pub properties: Vec<(String, String)>,
}

impl KafkaConfig {
    /// Defaults for `bootstrap_servers`: topics `ddd-<system>` created with the admin API
    /// with 6 partitions and replication 1, publishes confirmed within 10 s in windows of 256, a 10 s session
    /// timeout, prefetch 1,000 per partition.
    pub fn new(bootstrap_servers: impl Into<String>) -> Self {
        Self {
            bootstrap_servers: bootstrap_servers.into(),
            topic_prefix: "ddd-".to_owned(),
            topic_creation: TopicCreation::Admin,
            partitions: 6,
            replication: 1,
            publish_timeout: Duration::from_secs(10),
            publish_window: 256,
            session_timeout: Duration::from_secs(10),
            join_timeout: Duration::from_secs(60),
            prefetch: 1000,
            properties: Vec::new(),
        }
    }

    /// Sets the prefix of topic names.
    #[must_use]
    pub fn topic_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.topic_prefix = prefix.into();
        self
    }

    /// Sets how topics come to exist.
    #[must_use]
    pub fn topic_creation(mut self, creation: TopicCreation) -> Self {
        self.topic_creation = creation;
        self
    }

    /// Sets the partitions of created topics (at least 1).
    #[must_use]
    pub fn partitions(mut self, partitions: i32) -> Self {
        self.partitions = partitions.max(1);
        self
    }

    /// Sets the replication factor of created topics (at least 1).
    #[must_use]
    pub fn replication(mut self, replication: i32) -> Self {
        self.replication = replication.max(1);
        self
    }

    /// Sets how long a publish may wait for its delivery reports.
    #[must_use]
    pub fn publish_timeout(mut self, timeout: Duration) -> Self {
        self.publish_timeout = timeout;
        self
    }

    /// Sets the confirm window (at least 1).
    #[must_use]
    pub fn publish_window(mut self, window: usize) -> Self {
        self.publish_window = window.max(1);
        self
    }

    /// Sets the group session timeout.
    #[must_use]
    pub fn session_timeout(mut self, timeout: Duration) -> Self {
        self.session_timeout = timeout;
        self
    }

    /// Sets how long `subscribe` waits for partitions.
    #[must_use]
    pub fn join_timeout(mut self, timeout: Duration) -> Self {
        self.join_timeout = timeout;
        self
    }

    /// Sets the per-partition read-ahead (at least 1).
    #[must_use]
    pub fn prefetch(mut self, prefetch: usize) -> Self {
        self.prefetch = prefetch.max(1);
        self
    }

    /// Adds a librdkafka property for every client.
    #[must_use]
    pub fn property(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.properties.push((key.into(), value.into()));
        self
    }

    /// The topic that holds the subjects of `system`.
    pub fn topic(&self, system: &str) -> String {
        format!("{}{system}", self.topic_prefix)
    }

    /// A librdkafka configuration with the servers and the extra properties.
    pub(crate) fn client(&self) -> rdkafka::ClientConfig {
        let mut client = rdkafka::ClientConfig::new();
        client.set("bootstrap.servers", &self.bootstrap_servers);
        for (key, value) in &self.properties {
            client.set(key, value);
        }
        client
    }
}

/// Milliseconds as librdkafka properties want them.
pub(crate) fn millis(duration: Duration) -> String {
    duration.as_millis().to_string()
}
