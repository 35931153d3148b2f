//! # ddd-store-testkit
//!
//! What the event stores prove beyond the conformance suite of `ddd-core`, against their real
//! databases; the counterpart of `ddd-bus-testkit`. A store implements [`TestStore`] (and
//! [`OwnWrites`], [`SqlBalances`] for the inbox and projection scenarios), and its test files
//! call:
//!
//! - [`relay_crash`]: the outbox relay killed with SIGKILL at random points while events keep
//!   being appended; every committed event is published, in per-aggregate order, nothing
//!   uncommitted is.
//! - [`relay_failover`]: three replicas' relays over one store, the publishing one killed
//!   with SIGKILL again and again: one publishes at a time, another takes over within the
//!   lease's time-to-live, every committed event is published about once, in order.
//! - [`lost_reply`]: an appender killed between its commits and their replies; a retry with
//!   the same ids stores one copy.
//! - [`slow_commit`]: writes held open for seconds while a reader tails the global order;
//!   nothing is skipped or delivered twice.
//! - [`inbox`]: a redelivered event has no second effect, whether the effect is an append or
//!   writes of the handler's own.
//! - [`projection`]: read models whose rows and checkpoint commit together: catch-up, a
//!   failing event, a rebuild, two runners at once.
//!
//! [`child`] runs a scenario's child process (the store's test binary, run again on one of its
//! ignored tests) and [`rng`] gives replayable randomness (`DDD_TEST_SEED`).
#![warn(missing_docs)]

pub mod child;
mod file_bus;
pub mod inbox;
pub mod lost_reply;
pub mod projection;
pub mod relay_crash;
pub mod relay_failover;
pub mod rng;
pub mod slow_commit;

use std::future::Future;
use std::time::Duration;

use ddd_core::testing::conformance::Tick;
use ddd_core::testing::conformance::account::AccountEvent;
use ddd_core::{AppendRequest, DomainEvent, Envelope, EventId, EventStore, Outbox, RawEnvelope};

pub use inbox::OwnWrites;
pub use projection::SqlBalances;

/// What the scenarios need of a store beyond its ports.
pub trait TestStore: EventStore + Outbox + Clone {
    /// Whether two write transactions can be open at once. Where they cannot (SQLite's one
    /// writer), the scenarios hold writes open one after another.
    const CONCURRENT_WRITES: bool;

    /// Another handle on the store at `url`, as a child process opens it.
    fn open(url: &str) -> impl Future<Output = Self> + Send;

    /// Appends `request` in a write that then fails and rolls back: none of it may commit.
    /// A conflict inside that write is fine.
    fn append_rolled_back<E: DomainEvent>(
        &self,
        request: AppendRequest<E>,
    ) -> impl Future<Output = ()> + Send;

    /// Appends `request` in a write that stays open for `hold` before it commits; returns the
    /// id of its first event.
    fn append_held_open(
        &self,
        request: AppendRequest<Tick>,
        hold: Duration,
    ) -> impl Future<Output = EventId> + Send;
}

/// A deposit of `amount` into `account-{account}`, not yet stored.
pub fn deposit(account: u64, amount: i64) -> Envelope<AccountEvent> {
    let id = uuid::Uuid::now_v7();
    Envelope {
        event_id: id,
        aggregate_type: "Account".into(),
        aggregate_id: format!("account-{account}"),
        version: 0,
        position: 0,
        recorded_at: chrono::Utc::now(),
        event_type: "Deposited".into(),
        schema_version: 1,
        correlation_id: id,
        causation_id: None,
        trace: None,
        metadata: ddd_core::Metadata::new(),
        payload: AccountEvent::Deposited { amount },
    }
}

/// Every event of the store, in the global order.
pub async fn everything(store: &impl EventStore) -> Vec<RawEnvelope> {
    let mut all: Vec<RawEnvelope> = Vec::new();
    loop {
        let after = all.last().map_or(0, |event| event.position);
        let page = store.read_all(after, 1000).await.expect("read_all");
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}
