//! # ddd-bus-testkit
//!
//! What the bus adapters prove beyond the conformance suite of `ddd-core`, against the real
//! brokers of the machine (Kafka: its mock cluster):
//!
//! - [`killed::consumer_killed_before_ack`]: a consumer process killed with `SIGKILL`
//!   after handling a message but before acknowledging it; the message comes again and the
//!   inbox makes its effect happen once.
//! - [`outage::broker_outage`]: the broker stopped for 10 s during a steady publish; the
//!   publishes that cannot be confirmed fail within the timeout instead of hanging,
//!   publishing resumes once the broker is back, and no acknowledged message is lost.
//! - [`competing::competing_consumers_share`]: three members of one consumer share 10,000
//!   messages; after deduplication by event id each is handled exactly once.
//! - [`republish::republished_event`]: the same event published three times reaches a
//!   consumer once where the bus deduplicates, three times where it does not.
//! - [`undecodable::dead_lettered_and_consuming_goes_on`]: a body that is not a message is
//!   dead-lettered and the consumer goes on to the next message.
//! - [`filters`]: filters over several systems; a consumer name keeps its filters.
//!
//! [`broker`] stops and starts the local brokers the way this machine runs them and
//! restarts them when a test fails halfway. [`inbox::FileInbox`] is an inbox that several
//! processes share through a directory.
#![warn(missing_docs)]

pub mod broker;
pub mod competing;
pub mod filters;
pub mod inbox;
pub mod killed;
pub mod outage;
pub mod republish;
pub mod undecodable;

use ddd_core::Message;
use ddd_core::testing::conformance::{tick, unique};

/// `count` events on `subject`, each of its own aggregate (so partitioned buses spread them).
pub fn events(subject: &str, count: usize) -> Vec<Message> {
    (1..=count)
        .map(|n| {
            let aggregate = format!("agg-{n}");
            let n = u64::try_from(n).unwrap_or(u64::MAX);
            let envelope = tick("Testkit", &aggregate, 0, n).to_raw().expect("encode");
            Message::new(subject, envelope)
        })
        .collect()
}

/// A fresh subject prefix (system token) for one scenario run.
pub fn fresh_prefix(what: &str) -> String {
    unique(what)
}

/// A process-wide lock for tests that must not overlap: the ones that stop a broker, and
/// the ones that would be disturbed by it. Hold the guard for the whole test.
pub async fn exclusive() -> tokio::sync::MutexGuard<'static, ()> {
    static LOCK: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
    LOCK.lock().await
}
