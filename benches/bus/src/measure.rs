//! One run of one contender: publish every batch while one consumer receives and acks,
//! then throughput (first publish → last ack) and latency (batch publish start → receipt).

use std::future::Future;
use std::time::{Duration, Instant};

/// Longest a single run may take before it counts as failed.
pub const RUN_TIMEOUT: Duration = Duration::from_secs(90);

/// Receipt times by sequence number; duplicates (redeliveries) keep the first receipt.
pub struct Receipts {
    times: Vec<Option<Instant>>,
    seen: usize,
}

impl Receipts {
    pub fn new(n: usize) -> Self {
        Self {
            times: vec![None; n],
            seen: 0,
        }
    }

    /// Records a receipt; true once every message arrived.
    pub fn record(&mut self, seq: u64, at: Instant) -> Result<bool, String> {
        let slot = usize::try_from(seq)
            .ok()
            .and_then(|i| self.times.get_mut(i))
            .ok_or_else(|| format!("received sequence {seq}, beyond the run"))?;
        if slot.is_none() {
            *slot = Some(at);
            self.seen += 1;
        }
        Ok(self.seen == self.times.len())
    }
}

/// What the consumer side returns: receipts and when the last ack completed.
pub type Consumed = (Receipts, Instant);

/// One measured run.
#[derive(Clone, Copy, Debug)]
pub struct Sample {
    pub rate: f64,
    pub wall: Duration,
    pub p50: Duration,
    pub p99: Duration,
}

/// Runs `consume` on its own task and `publish` here; `publish` returns each batch's start.
pub async fn drive<C, P>(batch: usize, consume: C, publish: P) -> Result<Sample, String>
where
    C: Future<Output = Result<Consumed, String>> + Send + 'static,
    P: Future<Output = Result<Vec<Instant>, String>>,
{
    let consumer = tokio::spawn(consume);
    let abort = consumer.abort_handle();
    let outcome = tokio::time::timeout(RUN_TIMEOUT, async {
        let starts = publish.await?;
        let consumed = consumer
            .await
            .map_err(|e| format!("consumer task: {e}"))??;
        Ok::<_, String>((starts, consumed))
    })
    .await;
    abort.abort();
    let (starts, (receipts, end)) =
        outcome.map_err(|_| format!("run took longer than {RUN_TIMEOUT:?}"))??;
    sample(batch, &starts, &receipts, end)
}

fn sample(
    batch: usize,
    starts: &[Instant],
    receipts: &Receipts,
    end: Instant,
) -> Result<Sample, String> {
    let first = *starts.first().ok_or("nothing was published")?;
    let mut latencies = Vec::with_capacity(receipts.times.len());
    for (seq, received) in receipts.times.iter().enumerate() {
        let received = received.ok_or_else(|| format!("sequence {seq} never arrived"))?;
        let started = starts[seq / batch];
        latencies.push(received.saturating_duration_since(started));
    }
    latencies.sort_unstable();
    let wall = end.saturating_duration_since(first);
    Ok(Sample {
        rate: receipts.times.len() as f64 / wall.as_secs_f64(),
        wall,
        p50: percentile(&latencies, 0.50),
        p99: percentile(&latencies, 0.99),
    })
}

fn percentile(sorted: &[Duration], q: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((sorted.len() as f64 * q).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

/// Publishes every batch through a raw client with at most `window` publishes unconfirmed
/// at a time, recording when each batch started. `send` starts one publish and returns its
/// confirmation, which is awaited once the window is full or the batch sent.
pub async fn windowed<S, Sent, Confirm>(
    batches: Vec<Vec<ddd_core::Message>>,
    window: usize,
    mut send: S,
) -> Result<Vec<Instant>, String>
where
    S: FnMut(ddd_core::Message) -> Sent,
    Sent: Future<Output = Result<Confirm, String>>,
    Confirm: Future<Output = Result<(), String>>,
{
    let mut starts = Vec::with_capacity(batches.len());
    for batch in batches {
        starts.push(Instant::now());
        let mut pending = std::collections::VecDeque::new();
        for message in batch {
            if pending.len() >= window.max(1)
                && let Some(oldest) = pending.pop_front()
            {
                oldest.await?;
            }
            pending.push_back(send(message).await?);
        }
        for confirm in pending {
            confirm.await?;
        }
    }
    Ok(starts)
}

/// Publishes every batch through a bus, recording when each batch started.
pub async fn publish_bus<B: ddd_core::EventBus>(
    bus: &B,
    batches: Vec<Vec<ddd_core::Message>>,
) -> Result<Vec<Instant>, String> {
    let mut starts = Vec::with_capacity(batches.len());
    for batch in batches {
        starts.push(Instant::now());
        bus.publish(batch)
            .await
            .map_err(|e| format!("publish: {e}"))?;
    }
    Ok(starts)
}

/// Receives `n` deliveries from a subscription, acking each.
pub async fn consume_bus<S>(mut subscription: S, n: usize) -> Result<Consumed, String>
where
    S: ddd_core::Subscription + Send + 'static,
{
    use ddd_core::Delivery as _;
    let mut receipts = Receipts::new(n);
    loop {
        let delivery = subscription
            .next()
            .await
            .map_err(|e| format!("next: {e}"))?
            .ok_or("the subscription ended")?;
        let at = Instant::now();
        let seq = crate::workload::sequence(&delivery.message().envelope);
        delivery.ack().await.map_err(|e| format!("ack: {e}"))?;
        if receipts.record(seq, at)? {
            return Ok((receipts, Instant::now()));
        }
    }
}

/// One run through a bus: a consumer `bench` on everything of `system`, subscribed before
/// the first publish, then `messages` in batches of `batch`.
pub async fn through_bus<B>(
    bus: &B,
    messages: usize,
    batch: usize,
    system: &str,
) -> Result<Sample, String>
where
    B: ddd_core::EventBus,
    B::Subscription: Send + 'static,
{
    let subscription = bus
        .subscribe(ddd_core::ConsumerConfig::new(
            "bench",
            [format!("{system}.>")],
        ))
        .await
        .map_err(|e| format!("subscribe: {e}"))?;
    let batches = crate::workload::batches(messages, batch, system);
    drive(
        batch,
        consume_bus(subscription, messages),
        publish_bus(bus, batches),
    )
    .await
}
