//! A relay publishes what its store hands over at commit without reading it back, and
//! reads the store whenever it cannot be sure the handover holds every event: after a gap
//! in the positions (an event recorded by another process, or raised without its
//! position), before it knows where it stands, and when the marks are due.

use std::time::Duration;

use ddd_core::memory::InMemoryEventStore;
use ddd_core::testing::conformance::Tick;
use ddd_core::testing::conformance::outbox::{CountingReads, SignalledRelay, append_tick};
use ddd_core::{Envelope, EventId, Outbox, OutboxSignal, StreamId};

/// The in-memory store as a relay of another process sees it: commits reach the relay only
/// through the signal the test raises (or hands over on), as that store would.
#[derive(Clone)]
struct Elsewhere {
    outbox: CountingReads<InMemoryEventStore>,
    handover: OutboxSignal,
}

impl Default for Elsewhere {
    fn default() -> Self {
        let handover = OutboxSignal::default();
        Self {
            outbox: CountingReads::new(InMemoryEventStore::default())
                .signalled_by(handover.clone()),
            handover,
        }
    }
}

impl Elsewhere {
    async fn append(&self, stream: &StreamId, n: u64) -> Vec<Envelope<Tick>> {
        append_tick(self.outbox.store(), stream, n).await
    }

    fn reads(&self) -> usize {
        self.outbox.reads()
    }

    async fn pending(&self) -> usize {
        self.outbox
            .store()
            .pending(100)
            .await
            .expect("pending")
            .len()
    }
}

/// A relay over `outbox`, polling every `interval`, and a consumer of what it publishes.
async fn start(outbox: &Elsewhere, interval: Duration) -> SignalledRelay {
    SignalledRelay::polling(outbox.outbox.clone(), 256, interval).await
}

fn ids(events: &[Envelope<Tick>]) -> Vec<EventId> {
    events.iter().map(|event| event.event_id).collect()
}

/// Waits until the relay has made `reads` reads and no more for a moment.
async fn settled_at(outbox: &Elsewhere) -> usize {
    loop {
        let before = outbox.reads();
        tokio::time::sleep(Duration::from_millis(50)).await;
        if outbox.reads() == before {
            return before;
        }
    }
}

#[tokio::test]
async fn handed_over_commits_are_published_without_reads_and_marked_at_the_poll() {
    let outbox = Elsewhere::default();
    let interval = Duration::from_millis(400);
    let mut relay = start(&outbox, interval).await;
    let stream = StreamId::new("Ledger", "one");
    let idle = settled_at(&outbox).await;

    // Where it stands is known only from a read that found something.
    let first = outbox.append(&stream, 1).await;
    outbox.handover.recorded(&first);
    assert_eq!(relay.receive(1, "the first").await, ids(&first));
    let learned = outbox.reads();
    assert_eq!(learned - idle, 1, "the first handover is read back once");

    let mut sent = Vec::new();
    for n in 2..=21 {
        let event = outbox.append(&stream, n).await;
        outbox.handover.recorded(&event);
        assert_eq!(
            relay.receive(1, "a handed-over event").await,
            ids(&event),
            "published in order, at once"
        );
        sent.extend(event);
    }
    let reads_for_twenty = outbox.reads() - learned;
    assert!(
        reads_for_twenty <= 1,
        "twenty handed-over events took {reads_for_twenty} reads: at most the poll's"
    );
    assert!(outbox.pending().await > 0, "the marks wait for the poll");
    tokio::time::sleep(interval * 2).await;
    assert!(
        outbox.pending().await == 0,
        "the poll marks what the handovers published"
    );
    relay.nothing_more("after the poll").await;
    relay.stop().await;
}

#[tokio::test]
async fn a_gap_in_the_positions_handed_over_is_read_and_published_in_order() {
    let outbox = Elsewhere::default();
    let mut relay = start(&outbox, Duration::from_secs(60)).await;
    let stream = StreamId::new("Ledger", "gap");
    settled_at(&outbox).await;

    let first = outbox.append(&stream, 1).await;
    outbox.handover.recorded(&first);
    assert_eq!(relay.receive(1, "the first").await, ids(&first));
    let before = settled_at(&outbox).await;

    // Recorded by another process: nothing is handed over for it.
    let elsewhere = outbox.append(&stream, 2).await;
    let third = outbox.append(&stream, 3).await;
    outbox.handover.recorded(&third);
    let received = relay.receive(2, "the gap and the third").await;
    assert_eq!(
        received,
        [ids(&elsewhere), ids(&third)].concat(),
        "the event in the gap first, each once"
    );
    assert_eq!(
        settled_at(&outbox).await - before,
        1,
        "one read filled the gap"
    );

    // Raised without positions: read, whatever is handed over with it.
    let unpositioned = outbox.append(&stream, 4).await;
    let fifth = outbox.append(&stream, 5).await;
    outbox.handover.raise();
    outbox.handover.recorded(&fifth);
    let received = relay.receive(2, "the raised and the fifth").await;
    assert_eq!(received, [ids(&unpositioned), ids(&fifth)].concat());
    relay.nothing_more("after the read").await;
    relay.stop().await;
    assert!(
        outbox.pending().await == 0,
        "a relay that stops marks what it published"
    );
}

#[tokio::test]
async fn a_handover_of_events_a_read_published_already_publishes_nothing_again() {
    let outbox = Elsewhere::default();
    let mut relay = start(&outbox, Duration::from_secs(60)).await;
    let stream = StreamId::new("Ledger", "late");
    settled_at(&outbox).await;

    // Both committed before the relay learns of either: the first notice makes it read,
    // and that read finds the second too, whose own notice then comes late.
    let first = outbox.append(&stream, 1).await;
    let second = outbox.append(&stream, 2).await;
    outbox.handover.recorded(&first);
    assert_eq!(
        relay.receive(2, "both").await,
        [ids(&first), ids(&second)].concat()
    );
    outbox.handover.recorded(&second);
    relay.nothing_more("the late notice").await;

    let third = outbox.append(&stream, 3).await;
    outbox.handover.recorded(&third);
    assert_eq!(relay.receive(1, "the third").await, ids(&third));
    relay.stop().await;
}
