//! How the bus connects and how it lays out streams and consumers.

use std::time::Duration;

/// Settings of a [`NatsBus`](crate::NatsBus). Start from [`NatsConfig::new`] and adjust.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NatsConfig {
    /// Server URL(s), comma-separated: `nats://127.0.0.1:4222`.
    pub url: String,
    /// The connection name the server shows in its monitoring.
    pub connection_name: String,
    /// Streams this bus creates are named `<prefix><system>`.
    pub stream_prefix: String,
    /// Replicas of the streams this bus creates (1 on a single server, 3 in a cluster).
    pub replicas: usize,
    /// How long a stream keeps messages (`Limits` retention); zero keeps them forever.
    pub max_age: Duration,
    /// The window in which a republished event id is dropped as a duplicate.
    pub duplicate_window: Duration,
    /// How long one `publish` call may wait for the server's acks before it fails with
    /// [`BusError::Timeout`](ddd_core::BusError::Timeout).
    pub publish_timeout: Duration,
    /// How many publishes may wait for their ack at once (the confirm window): a batch is
    /// pipelined in windows of this size.
    pub publish_window: usize,
    /// How long a JetStream API request (stream or consumer lookup, double ack) may take.
    pub request_timeout: Duration,
    /// Messages a subscription pulls per request; they count against the ack wait while
    /// they wait in the client, so keep it near what one member handles in an ack wait.
    pub prefetch: usize,
    /// Deliveries a consumer may have unacknowledged across all its members.
    pub max_ack_pending: i64,
    /// How many acks of one subscription may wait for the server's confirmation at once.
    /// `Delivery::ack` sends the ack and returns; the confirmations are awaited in the
    /// background, and an ack made while this many are outstanding waits for the oldest.
    /// Zero makes every `ack` wait for its own confirmation (one round trip per message).
    /// See [`NatsSubscription::flush_acks`](crate::NatsSubscription::flush_acks).
    pub ack_window: usize,
    /// Whether acks are confirmed by the server at all (default: yes). Off, an ack is sent
    /// and forgotten like any raw client's: one message less per delivery, and a lost ack
    /// is a redelivery that a consumer deduplicating with an inbox drops anyway; but
    /// [`NatsSubscription::flush_acks`](crate::NatsSubscription::flush_acks) then knows
    /// nothing.
    pub confirm_acks: bool,
    /// Whether the event id, type, correlation, causation and trace context are copied
    /// into message headers, for tools that read headers (default: no). The body carries
    /// them either way, so by default a message has only its `Nats-Msg-Id` header: the
    /// copies cost their encoding on publish, their storage, and their parsing on every
    /// delivery, a large share of the throughput on a busy machine (see
    /// docs/benchmarks/bus.md).
    pub envelope_headers: bool,
}

impl NatsConfig {
    /// Defaults for `url`: streams `DDD_<system>` kept 7 days, one replica, a 2 minute
    /// deduplication window, publishes confirmed within 10 s in windows of 256, prefetch 32,
    /// up to 256 ack confirmations outstanding per subscription.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            connection_name: "ddd".to_owned(),
            stream_prefix: "DDD_".to_owned(),
            replicas: 1,
            max_age: Duration::from_secs(7 * 24 * 3600),
            duplicate_window: Duration::from_secs(120),
            publish_timeout: Duration::from_secs(10),
            publish_window: 256,
            request_timeout: Duration::from_secs(5),
            prefetch: 32,
            max_ack_pending: 1000,
            ack_window: 256,
            confirm_acks: true,
            envelope_headers: false,
        }
    }

    /// Sets the connection name.
    #[must_use]
    pub fn connection_name(mut self, name: impl Into<String>) -> Self {
        self.connection_name = name.into();
        self
    }

    /// Sets the prefix of stream names.
    #[must_use]
    pub fn stream_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.stream_prefix = prefix.into();
        self
    }

    /// Sets the replicas of created streams.
    #[must_use]
    pub fn replicas(mut self, replicas: usize) -> Self {
        self.replicas = replicas.max(1);
        self
    }

    /// Sets how long streams keep messages.
    #[must_use]
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = max_age;
        self
    }

    /// Sets the deduplication window.
    #[must_use]
    pub fn duplicate_window(mut self, window: Duration) -> Self {
        self.duplicate_window = window;
        self
    }

    /// Sets how long a publish may wait for its acks.
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

    /// Sets the JetStream API request timeout.
    #[must_use]
    pub fn request_timeout(mut self, timeout: Duration) -> Self {
        self.request_timeout = timeout;
        self
    }

    /// Sets how many messages a subscription pulls at once (at least 1).
    #[must_use]
    pub fn prefetch(mut self, prefetch: usize) -> Self {
        self.prefetch = prefetch.max(1);
        self
    }

    /// Sets how many ack confirmations a subscription may await in the background (0: each
    /// `ack` awaits its own).
    #[must_use]
    pub fn ack_window(mut self, window: usize) -> Self {
        self.ack_window = window;
        self
    }

    /// Sets whether the server confirms acks.
    #[must_use]
    pub fn confirm_acks(mut self, confirm: bool) -> Self {
        self.confirm_acks = confirm;
        self
    }

    /// Sets whether envelope fields are copied into headers.
    #[must_use]
    pub fn envelope_headers(mut self, copy: bool) -> Self {
        self.envelope_headers = copy;
        self
    }

    /// Sets the unacknowledged deliveries a consumer may have (at least 1).
    #[must_use]
    pub fn max_ack_pending(mut self, max: i64) -> Self {
        self.max_ack_pending = max.max(1);
        self
    }
}
