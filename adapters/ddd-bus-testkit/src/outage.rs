//! The broker stopped for 10 s during a steady publish.

use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ddd_core::testing::conformance::unique;
use ddd_core::{ConsumerConfig, Delivery, EventBus, EventId, Subscription};

use crate::broker::{Broker, Outage as Stopped};
use crate::events;

/// How long the broker stays down.
pub const OUTAGE: Duration = Duration::from_secs(10);
/// Publishing before the outage, and at least this long after the broker is back.
const STEADY: Duration = Duration::from_secs(2);
/// The pause between two publishes of the steady stream.
const PACE: Duration = Duration::from_millis(20);
/// How long the consumer may take to drain the backlog once the broker is back.
const DRAIN: Duration = Duration::from_secs(45);

/// Something that takes the broker away and brings it back. Driven from the test's own
/// future, so neither it nor its futures need to be `Send` (Kafka's mock cluster is not).
pub trait Outage {
    /// Takes the broker down.
    fn stop(&mut self) -> impl Future<Output = ()>;
    /// Brings it back (returns once it accepts connections).
    fn start(&mut self) -> impl Future<Output = ()>;
}

/// A local broker stopped and started by pid and command ([`Broker`]). Dropping it while
/// stopped starts the broker again, so a failing test leaves it running.
#[derive(Debug)]
pub struct LocalBroker {
    broker: Broker,
    stopped: Option<Stopped>,
}

impl LocalBroker {
    /// Control over `broker`.
    pub fn new(broker: Broker) -> Self {
        Self {
            broker,
            stopped: None,
        }
    }
}

impl Outage for LocalBroker {
    async fn stop(&mut self) {
        let broker = self.broker;
        let stopped = tokio::task::spawn_blocking(move || broker.stop())
            .await
            .expect("stop task")
            .unwrap_or_else(|e| panic!("stop {broker:?}: {e}"));
        self.stopped = Some(stopped);
    }

    async fn start(&mut self) {
        if let Some(mut stopped) = self.stopped.take() {
            let took = tokio::task::spawn_blocking(move || stopped.restore())
                .await
                .expect("start task")
                .unwrap_or_else(|e| panic!("start {:?}: {e}", self.broker));
            eprintln!(
                "{:?} accepted connections {took:?} after its start",
                self.broker
            );
        }
    }
}

#[derive(Default)]
struct Record {
    acked: Vec<EventId>,
    acked_after_restart: usize,
    failures: Vec<(Duration, String)>,
    slowest: Duration,
}

/// Publishes one message every few milliseconds while `outage` stops the broker for
/// [`OUTAGE`] and starts it again, and consumes all along. Checks that
/// - publishes that cannot be confirmed fail (within `publish_timeout` and a little),
///   instead of hanging;
/// - publishing resumes once the broker is back;
/// - the consumer receives every message whose publish succeeded: none is lost.
pub async fn broker_outage<B: EventBus + Clone>(
    bus: &B,
    mut outage: impl Outage,
    publish_timeout: Duration,
) {
    let prefix = unique("outage");
    let subject = format!("{prefix}.ctx.Tick");
    let subscription = bus
        .subscribe(ConsumerConfig::new(unique("c"), [format!("{prefix}.>")]))
        .await
        .expect("subscribe");
    let received = Arc::new(Mutex::new(HashSet::new()));
    let consumer = tokio::spawn(consume(subscription, Arc::clone(&received)));

    let record = Arc::new(Mutex::new(Record::default()));
    let restarted = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let publisher = tokio::spawn(publish_steadily(
        bus.clone(),
        subject,
        Arc::clone(&record),
        Arc::clone(&restarted),
        Arc::clone(&stop),
    ));

    tokio::time::sleep(STEADY).await;
    assert!(
        bus.ping().await.is_ok(),
        "the broker answers before the outage"
    );
    outage.stop().await;
    let down_since = Instant::now();
    wait_for_ping(bus, false, "the ping fails while the broker is down").await;
    tokio::time::sleep(OUTAGE.saturating_sub(down_since.elapsed())).await;
    outage.start().await;
    // Readiness comes back by itself: no new bus, no restart.
    wait_for_ping(bus, true, "the ping succeeds again once the broker is back").await;
    restarted.store(true, Ordering::SeqCst);
    wait_for(DRAIN, "publishing resumed after the restart", || {
        record.lock().expect("record").acked_after_restart >= 20
    })
    .await;
    tokio::time::sleep(STEADY).await;
    stop.store(true, Ordering::SeqCst);
    publisher.await.expect("publisher");

    let acked: Vec<EventId> = record.lock().expect("record").acked.clone();
    wait_for(DRAIN, "the backlog drained", || {
        let received = received.lock().expect("received");
        acked.iter().all(|id| received.contains(id))
    })
    .await;
    consumer.abort();

    let record = record.lock().expect("record");
    let limit = publish_timeout + Duration::from_secs(3);
    eprintln!(
        "outage: {} publishes acked ({} after the restart), {} failed, slowest {:?}",
        record.acked.len(),
        record.acked_after_restart,
        record.failures.len(),
        record.slowest
    );
    assert!(
        !record.failures.is_empty(),
        "publishing while the broker is down fails"
    );
    assert!(
        record.slowest <= limit,
        "a publish took {:?}: it must fail within the timeout {publish_timeout:?}, not hang \
         (failures: {:?})",
        record.slowest,
        record.failures.iter().take(3).collect::<Vec<_>>()
    );
}

/// Pings until the answer is `ok` (readiness probes ask the same way).
async fn wait_for_ping<B: EventBus>(bus: &B, ok: bool, what: &str) {
    let deadline = Instant::now() + DRAIN;
    loop {
        let answer = tokio::time::timeout(Duration::from_secs(15), bus.ping()).await;
        if matches!(answer, Ok(Ok(()))) == ok {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "timed out: {what} (last answer {answer:?})"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn consume<S: Subscription>(mut subscription: S, received: Arc<Mutex<HashSet<EventId>>>) {
    // Errors are the outage; the subscription is expected to ride it out.
    while let Ok(Some(delivery)) = subscription.next().await {
        let id = delivery.message().envelope.event_id;
        if delivery.ack().await.is_ok() {
            received.lock().expect("received").insert(id);
        }
    }
    panic!("the subscription ended during the outage");
}

async fn publish_steadily<B: EventBus>(
    bus: B,
    subject: String,
    record: Arc<Mutex<Record>>,
    restarted: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
) {
    let mut n = 0;
    while !stop.load(Ordering::SeqCst) {
        n += 1;
        let mut message = events(&subject, 1).remove(0);
        message.envelope.aggregate_id = format!("agg-{}", n % 16);
        let id = message.envelope.event_id;
        let started = Instant::now();
        // Bounded here too, so a bus that hangs fails the test instead of stalling it.
        let result = tokio::time::timeout(Duration::from_secs(60), bus.publish(vec![message]))
            .await
            .unwrap_or_else(|_| Err(ddd_core::BusError::Timeout(Duration::from_secs(60))));
        let took = started.elapsed();
        let after_restart = restarted.load(Ordering::SeqCst);
        {
            let mut record = record.lock().expect("record");
            record.slowest = record.slowest.max(took);
            match result {
                Ok(()) => {
                    record.acked.push(id);
                    if after_restart {
                        record.acked_after_restart += 1;
                    }
                }
                Err(e) => record.failures.push((took, e.to_string())),
            }
        }
        tokio::time::sleep(PACE).await;
    }
}

async fn wait_for(limit: Duration, what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "waited {limit:?} for {what}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
