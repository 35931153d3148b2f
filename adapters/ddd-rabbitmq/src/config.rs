//! How the bus connects and how it lays out exchanges and queues.

use std::time::Duration;

/// Settings of a [`RabbitMqBus`](crate::RabbitMqBus). Start from [`RabbitMqConfig::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RabbitMqConfig {
    /// AMQP URL: `amqp://guest:guest@127.0.0.1:5672/%2f` (`amqps://` for TLS).
    pub url: String,
    /// The connection name the broker shows in its management UI.
    pub connection_name: String,
    /// The durable topic exchange every event is published to.
    pub exchange: String,
    /// Consumer `c` reads the quorum queue `<prefix>c`; its dead letters are also kept in
    /// `<prefix>dead-letter.c`.
    pub queue_prefix: String,
    /// Queues unused for this long are deleted by the broker (`x-expires`); `None` keeps
    /// them until deleted by hand. A consumer offline for longer loses its queue.
    pub queue_expires: Option<Duration>,
    /// How long one `publish` call may wait for the broker's confirms (and for a connection)
    /// before it fails with [`BusError::Timeout`](ddd_core::BusError::Timeout).
    pub publish_timeout: Duration,
    /// How many publishes may wait for their confirm at once (the confirm window).
    pub publish_window: usize,
    /// Deliveries a subscription may hold unacknowledged (`basic.qos` prefetch).
    pub prefetch: u16,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// The shortest pause between two attempts to connect, so a broker that is down is not
    /// hammered by every publish.
    pub reconnect_interval: Duration,
    /// Whether a message no queue is bound for fails the publish ([`BusError::Rejected`]).
    /// Off by default: like the other buses, publishing an event nobody subscribes to (yet)
    /// succeeds, which an outbox relay needs (a refusal would hold back every later event
    /// of the context). Turn it on to catch routing mistakes where every subject must have
    /// a consumer.
    ///
    /// [`BusError::Rejected`]: ddd_core::BusError::Rejected
    pub refuse_unroutable: bool,
}

impl RabbitMqConfig {
    /// Defaults for `url`: exchange `ddd.events`, queues `ddd.<consumer>`, publishes
    /// confirmed within 10 s in windows of 256, prefetch 32.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            connection_name: "ddd".to_owned(),
            exchange: "ddd.events".to_owned(),
            queue_prefix: "ddd.".to_owned(),
            queue_expires: None,
            publish_timeout: Duration::from_secs(10),
            publish_window: 256,
            prefetch: 32,
            connect_timeout: Duration::from_secs(5),
            reconnect_interval: Duration::from_millis(250),
            refuse_unroutable: false,
        }
    }

    /// Sets whether unroutable messages fail the publish.
    #[must_use]
    pub fn refuse_unroutable(mut self, refuse: bool) -> Self {
        self.refuse_unroutable = refuse;
        self
    }

    /// Sets the connection name.
    #[must_use]
    pub fn connection_name(mut self, name: impl Into<String>) -> Self {
        self.connection_name = name.into();
        self
    }

    /// Sets the exchange events are published to.
    #[must_use]
    pub fn exchange(mut self, exchange: impl Into<String>) -> Self {
        self.exchange = exchange.into();
        self
    }

    /// Sets the prefix of queue names.
    #[must_use]
    pub fn queue_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.queue_prefix = prefix.into();
        self
    }

    /// Sets how long an unused queue lives.
    #[must_use]
    pub fn queue_expires(mut self, expires: Option<Duration>) -> Self {
        self.queue_expires = expires;
        self
    }

    /// Sets how long a publish may wait for its confirms.
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

    /// Sets the prefetch of subscriptions (at least 1).
    #[must_use]
    pub fn prefetch(mut self, prefetch: u16) -> Self {
        self.prefetch = prefetch.max(1);
        self
    }

    /// Sets how long connecting may take.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the shortest pause between two connection attempts.
    #[must_use]
    pub fn reconnect_interval(mut self, interval: Duration) -> Self {
        self.reconnect_interval = interval;
        self
    }

    /// The queue of consumer `name`.
    pub fn queue(&self, name: &str) -> String {
        format!("{}{name}", self.queue_prefix)
    }

    /// The queue that keeps consumer `name`'s dead letters.
    pub fn dead_letter_queue(&self, name: &str) -> String {
        format!(
            "{}{}",
            self.queue_prefix,
            ddd_core::bus::dead_letter_subject(name)
        )
    }
}
