//! Prometheus metrics at `/metrics`, recorded through the `metrics` facade:
//!
//! | metric | labels |
//! |---|---|
//! | `ddd_commands_total` (counter) | `aggregate`, `command`, `outcome` (handled, rejected, invalid, conflict, not_found, failed) |
//! | `ddd_command_duration_seconds` (histogram) | `aggregate`, `command` |
//! | `ddd_events_published_total` (counter) | `subject` |
//! | `ddd_outbox_pending` (gauge), `ddd_outbox_lag_seconds` (gauge: age of the oldest unpublished event) | `context` |
//! | `ddd_outbox_relay_leader` (gauge: 1 while this replica's relay holds the lease and publishes, 0 while it stands by) | `context` |
//! | `ddd_consumer_lag_seconds` (histogram: recorded → delivered) | `consumer` |
//! | `ddd_events_handled_total` (counter) | `consumer`, `outcome` (acked, retried, dead_lettered) |
//! | `ddd_redeliveries_total`, `ddd_dead_letters_total` (counters) | `consumer` |
//!
//! The meters are decorators with the shape of what they wrap ([`MeteredBus`],
//! [`MeteredOutbox`]), so the runtime stays free of them.

use std::sync::OnceLock;
use std::time::Duration;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use chrono::Utc;
use ddd_core::event::EventId;
use ddd_core::{
    BusError, ConsumerConfig, Delivery, EventBus, Lease, Message, Outbox, RawEnvelope, StoreError,
    Subscription,
};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use uuid::Uuid;

/// Latency buckets in seconds, from a cached in-memory command to a slow broker.
const LATENCY_BUCKETS: &[f64] = &[
    0.000_5, 0.001, 0.002_5, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The process' Prometheus recorder (installed once: the facade is global).
pub fn install() -> PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .unwrap_or_else(|_| PrometheusBuilder::new());
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            // Another recorder (a test's, say) may be installed already; ours then only
            // renders what it saw, which is nothing, rather than failing the service.
            if metrics::set_global_recorder(recorder).is_err() {
                tracing::warn!("a metrics recorder was installed before; /metrics stays empty");
            }
            handle
        })
        .clone()
}

/// `GET /metrics` in the Prometheus text format.
pub fn router(handle: PrometheusHandle) -> Router {
    Router::new().route(
        "/metrics",
        get(move || {
            let handle = handle.clone();
            async move {
                handle.run_upkeep();
                (
                    [(
                        header::CONTENT_TYPE,
                        "text/plain; version=0.0.4; charset=utf-8",
                    )],
                    handle.render(),
                )
                    .into_response()
            }
        }),
    )
}

pub(crate) fn command(
    aggregate: &'static str,
    command: &'static str,
    outcome: &'static str,
    took: Duration,
) {
    metrics::counter!("ddd_commands_total", "aggregate" => aggregate, "command" => command, "outcome" => outcome)
        .increment(1);
    metrics::histogram!("ddd_command_duration_seconds", "aggregate" => aggregate, "command" => command)
        .record(took.as_secs_f64());
}

/// A bus that counts what it publishes and meters its subscriptions.
#[derive(Debug, Clone)]
pub struct MeteredBus<B> {
    inner: B,
}

impl<B> MeteredBus<B> {
    /// Meters `inner`.
    pub fn new(inner: B) -> Self {
        Self { inner }
    }

    /// The bus underneath.
    pub fn inner(&self) -> &B {
        &self.inner
    }
}

impl<B: EventBus> EventBus for MeteredBus<B> {
    type Subscription = MeteredSubscription<B::Subscription>;

    async fn publish(&self, messages: Vec<Message>) -> Result<(), BusError> {
        let subjects: Vec<String> = messages.iter().map(|m| m.subject.clone()).collect();
        self.inner.publish(messages).await?;
        for subject in subjects {
            metrics::counter!("ddd_events_published_total", "subject" => subject).increment(1);
        }
        Ok(())
    }

    async fn subscribe(&self, config: ConsumerConfig) -> Result<Self::Subscription, BusError> {
        let consumer = config.name.clone();
        let max_deliver = config.max_deliver;
        let inner = self.inner.subscribe(config).await?;
        Ok(MeteredSubscription {
            inner,
            consumer,
            max_deliver,
        })
    }

    async fn ping(&self) -> Result<(), BusError> {
        self.inner.ping().await
    }
}

/// A subscription that measures consumer lag and counts redeliveries.
#[derive(Debug)]
pub struct MeteredSubscription<S> {
    inner: S,
    consumer: String,
    max_deliver: u32,
}

impl<S: Subscription> Subscription for MeteredSubscription<S> {
    type Delivery = MeteredDelivery<S::Delivery>;

    async fn next(&mut self) -> Result<Option<Self::Delivery>, BusError> {
        let Some(delivery) = self.inner.next().await? else {
            return Ok(None);
        };
        let consumer = self.consumer.clone();
        let lag = lag_seconds(&delivery.message().envelope);
        metrics::histogram!("ddd_consumer_lag_seconds", "consumer" => consumer.clone()).record(lag);
        if delivery.attempt() > 1 {
            metrics::counter!("ddd_redeliveries_total", "consumer" => consumer.clone())
                .increment(1);
        }
        Ok(Some(MeteredDelivery {
            inner: delivery,
            consumer,
            max_deliver: self.max_deliver,
        }))
    }
}

/// A delivery that counts how it was settled.
#[derive(Debug)]
pub struct MeteredDelivery<D> {
    inner: D,
    consumer: String,
    max_deliver: u32,
}

impl<D: Delivery> MeteredDelivery<D> {
    fn handled(&self, outcome: &'static str) {
        metrics::counter!("ddd_events_handled_total", "consumer" => self.consumer.clone(), "outcome" => outcome)
            .increment(1);
    }

    fn dead_lettered(&self) {
        metrics::counter!("ddd_dead_letters_total", "consumer" => self.consumer.clone())
            .increment(1);
    }
}

impl<D: Delivery> Delivery for MeteredDelivery<D> {
    fn message(&self) -> &Message {
        self.inner.message()
    }

    fn attempt(&self) -> u32 {
        self.inner.attempt()
    }

    async fn ack(self) -> Result<(), BusError> {
        self.handled("acked");
        self.inner.ack().await
    }

    async fn nack(self, reason: &str) -> Result<(), BusError> {
        // The bus dead-letters a message whose attempts are used up.
        if self.inner.attempt() >= self.max_deliver {
            self.handled("dead_lettered");
            self.dead_lettered();
        } else {
            self.handled("retried");
        }
        self.inner.nack(reason).await
    }

    async fn dead_letter(self, reason: &str) -> Result<(), BusError> {
        self.handled("dead_lettered");
        self.dead_lettered();
        self.inner.dead_letter(reason).await
    }
}

/// An outbox that reports how much and for how long events wait to be published.
#[derive(Debug, Clone)]
pub struct MeteredOutbox<O> {
    inner: O,
    context: String,
}

impl<O> MeteredOutbox<O> {
    /// Meters `inner`, labelled with the context it belongs to.
    pub fn new(inner: O, context: impl Into<String>) -> Self {
        Self {
            inner,
            context: context.into(),
        }
    }
}

impl<O: Outbox> Outbox for MeteredOutbox<O> {
    async fn pending(&self, limit: usize) -> Result<Vec<RawEnvelope>, StoreError> {
        let pending = self.inner.pending(limit).await?;
        self.waiting(&pending);
        Ok(pending)
    }

    /// The inner outbox's own step, which may be one round trip where the default would
    /// make two.
    async fn settle_and_read(
        &self,
        published: &[EventId],
        lease: Option<Lease>,
        limit: usize,
    ) -> Result<Option<Vec<RawEnvelope>>, StoreError> {
        let read = self.inner.settle_and_read(published, lease, limit).await?;
        match &read {
            Some(pending) => self.waiting(pending),
            None => self.leading(false),
        }
        Ok(read)
    }

    async fn mark_published(&self, event_ids: &[EventId]) -> Result<(), StoreError> {
        self.inner.mark_published(event_ids).await
    }

    fn signal(&self) -> Option<ddd_core::OutboxListener> {
        self.inner.signal()
    }

    async fn claim_lease(&self, holder: Uuid, ttl: Duration) -> Result<Option<Lease>, StoreError> {
        let claimed = self.inner.claim_lease(holder, ttl).await?;
        self.leading(claimed.is_some());
        Ok(claimed)
    }

    async fn release_lease(&self, lease: Lease) -> Result<(), StoreError> {
        self.leading(false);
        self.inner.release_lease(lease).await
    }

    async fn mark_published_under(
        &self,
        event_ids: &[EventId],
        lease: Lease,
    ) -> Result<bool, StoreError> {
        let marked = self.inner.mark_published_under(event_ids, lease).await?;
        if !marked {
            self.leading(false);
        }
        Ok(marked)
    }
}

impl<O> MeteredOutbox<O> {
    /// A read of pending events: how many, and how long the oldest has waited.
    fn waiting(&self, pending: &[RawEnvelope]) {
        let oldest = pending.first().map_or(0.0, lag_seconds);
        let context = self.context.clone();
        // usize → f64 loses precision only past 2^53 pending events.
        #[allow(clippy::cast_precision_loss, reason = "a gauge of a batch's length")]
        let count = pending.len() as f64;
        metrics::gauge!("ddd_outbox_pending", "context" => context.clone()).set(count);
        metrics::gauge!("ddd_outbox_lag_seconds", "context" => context).set(oldest);
    }

    fn leading(&self, leading: bool) {
        let context = self.context.clone();
        metrics::gauge!("ddd_outbox_relay_leader", "context" => context).set(if leading {
            1.0
        } else {
            0.0
        });
    }
}

fn lag_seconds(envelope: &RawEnvelope) -> f64 {
    let lag = Utc::now().signed_duration_since(envelope.recorded_at);
    lag.to_std().map_or(0.0, |lag| lag.as_secs_f64())
}
