//! How the bus connects and how it lays out streams and groups.

use std::time::Duration;

/// Settings of a [`RedisBus`](crate::RedisBus). Start from [`RedisConfig::new`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RedisConfig {
    /// Redis URL: `redis://127.0.0.1:6379` (`rediss://` for TLS is not compiled in).
    pub url: String,
    /// Every key this bus uses starts with this: streams are `<prefix>stream:<system>`.
    pub key_prefix: String,
    /// The window in which a republished event id is dropped as a duplicate; `None` (the
    /// default) adds every message. Redis has no deduplication of its own, so this one runs
    /// a script per publish that sets a key per event for the window: about twice the
    /// server's work per message. Consumers deduplicate anyway (at-least-once delivery,
    /// with an inbox), so it is for consumers that cannot.
    pub dedup_window: Option<Duration>,
    /// Streams are trimmed to about this many entries on publish (`MAXLEN ~`); `None`
    /// keeps everything. Entries are trimmed whether or not every group has read them.
    pub max_len: Option<u64>,
    /// Replicas that must have a publish before it returns (`WAIT`); 0 for a single server.
    pub wait_replicas: u32,
    /// How long one `publish` call may take before it fails with
    /// [`BusError::Timeout`](ddd_core::BusError::Timeout).
    pub publish_timeout: Duration,
    /// Messages per round trip when publishing (one pipeline, or one script call with
    /// deduplication).
    pub publish_window: usize,
    /// Entries a subscription reads (and reclaims) at once.
    pub prefetch: usize,
    /// How long a subscription's read blocks on the server waiting for new entries; also
    /// the longest delay before a nacked or expired entry is seen again.
    pub block: Duration,
    /// How long connecting may take.
    pub connect_timeout: Duration,
}

impl RedisConfig {
    /// Defaults for `url`: keys `ddd:*`, no deduplication, no trimming, no
    /// replicas to wait for, publishes within 10 s in windows of 256, prefetch 32, reads
    /// blocking 1 s.
    pub fn new(url: impl Into<String>) -> Self {
        Self {
            url: url.into(),
            key_prefix: "ddd:".to_owned(),
            dedup_window: None,
            max_len: None,
            wait_replicas: 0,
            publish_timeout: Duration::from_secs(10),
            publish_window: 256,
            prefetch: 32,
            block: Duration::from_secs(1),
            connect_timeout: Duration::from_secs(5),
        }
    }

    /// Sets the key prefix.
    #[must_use]
    pub fn key_prefix(mut self, prefix: impl Into<String>) -> Self {
        self.key_prefix = prefix.into();
        self
    }

    /// Sets the deduplication window (`None` turns deduplication off); two minutes cover
    /// an outbox relay's retries.
    #[must_use]
    pub fn dedup_window(mut self, window: Option<Duration>) -> Self {
        self.dedup_window = window;
        self
    }

    /// Sets the approximate length streams are trimmed to.
    #[must_use]
    pub fn max_len(mut self, max_len: Option<u64>) -> Self {
        self.max_len = max_len;
        self
    }

    /// Sets how many replicas must have a publish before it returns.
    #[must_use]
    pub fn wait_replicas(mut self, replicas: u32) -> Self {
        self.wait_replicas = replicas;
        self
    }

    /// Sets how long a publish may take.
    #[must_use]
    pub fn publish_timeout(mut self, timeout: Duration) -> Self {
        self.publish_timeout = timeout;
        self
    }

    /// Sets the messages per round trip (at least 1).
    #[must_use]
    pub fn publish_window(mut self, window: usize) -> Self {
        self.publish_window = window.max(1);
        self
    }

    /// Sets how many entries a subscription reads at once (at least 1).
    #[must_use]
    pub fn prefetch(mut self, prefetch: usize) -> Self {
        self.prefetch = prefetch.max(1);
        self
    }

    /// Sets how long a read blocks on the server (at least 10 ms).
    #[must_use]
    pub fn block(mut self, block: Duration) -> Self {
        self.block = block.max(Duration::from_millis(10));
        self
    }

    /// Sets how long connecting may take.
    #[must_use]
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// The stream that holds the subjects of `system`.
    pub fn stream(&self, system: &str) -> String {
        format!("{}stream:{system}", self.key_prefix)
    }

    /// The key that marks `event_id` as published, for the deduplication window.
    pub(crate) fn dedup_key(&self, event_id: &str) -> String {
        format!("{}dedup:{event_id}", self.key_prefix)
    }

    /// The hash that records each consumer's filters.
    pub(crate) fn consumers_key(&self) -> String {
        format!("{}consumers", self.key_prefix)
    }
}
