//! What the system did since the last `when`, and waiting until it has stopped doing things.

use std::collections::BTreeMap;
use std::time::Duration;

use ddd_core::view::is_copy;
use ddd_core::{EventStore as _, Outbox as _, ViewHandle, ViewStatus};
use serde_json::Value;
use tokio::time::Instant;

use crate::{DeadLetter, Member, Scenario, System};

/// How often the system is looked at while waiting.
pub(crate) const POLL: Duration = Duration::from_millis(10);
/// Consecutive quiet looks that make the system settled: a relay or a view runner between
/// two steps looks quiet once.
const QUIET_LOOKS: u32 = 3;

/// An event a context recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Recorded {
    /// The aggregate's type (`Payment`).
    pub aggregate_type: String,
    /// The aggregate's id, as the store keeps it.
    pub aggregate_id: String,
    /// The event's type (`PaymentRequested`).
    pub event_type: String,
    /// The event's fields.
    pub payload: Value,
}

/// A view's rows, or why there are none to show.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Rows {
    Read(Vec<Value>),
    /// The view stopped at an event it could not fold.
    Stopped {
        position: u64,
        reason: String,
    },
    Unreadable(String),
}

/// Everything a scenario compares, at one moment.
#[derive(Debug)]
pub(crate) struct Observed {
    /// By context, the events recorded since the mark (copies of other contexts' events
    /// left out: they are the other context's).
    pub events: Vec<Vec<Recorded>>,
    /// By `(context, view)`, the rows now.
    pub rows: BTreeMap<(usize, String), Rows>,
    pub dead_letters: Vec<DeadLetter>,
}

pub(crate) async fn observe<S: System>(
    scenario: &Scenario<S>,
    views: &[(usize, String)],
) -> Observed {
    let mut events = Vec::with_capacity(scenario.contexts.len());
    for (member, &mark) in scenario.contexts.iter().zip(&scenario.marks) {
        events.push(recorded_since(member, mark).await);
    }
    let mut rows = BTreeMap::new();
    for (context, view) in views {
        let member = &scenario.contexts[*context];
        if let Some(handle) = member.view_named(view) {
            handle.wake();
            rows.insert((*context, view.clone()), read_rows(member, handle).await);
        }
    }
    Observed {
        events,
        rows,
        dead_letters: scenario.dead_letters(),
    }
}

pub(crate) async fn recorded_since(member: &Member, mark: u64) -> Vec<Recorded> {
    let raw = member
        .store
        .read_all(mark, usize::MAX)
        .await
        .expect("the in-memory store reads");
    raw.into_iter()
        .filter(|envelope| !is_copy(&envelope.aggregate_type))
        .map(|envelope| Recorded {
            aggregate_type: envelope.aggregate_type.into_owned(),
            aggregate_id: envelope.aggregate_id,
            event_type: envelope.event_type.into_owned(),
            payload: envelope.payload,
        })
        .collect()
}

async fn read_rows(member: &Member, handle: &ViewHandle) -> Rows {
    if let ViewStatus::Failed {
        position, reason, ..
    } = handle.status()
    {
        return Rows::Stopped { position, reason };
    }
    match ddd_core::view::all_rows(&member.store, handle.schema()).await {
        Ok(records) => Rows::Read(
            records
                .into_iter()
                .map(|record| {
                    serde_json::from_str(&record.row).unwrap_or(Value::String(record.row))
                })
                .collect(),
        ),
        // Not prepared yet: its runner has not made its first step.
        Err(error) => Rows::Unreadable(error.to_string()),
    }
}

/// Waits until nothing is in flight on the bus, no outbox holds an event, every view has
/// folded its store's last event and no event was recorded for a few looks in a row.
///
/// # Errors
/// What was still busy when `timeout` ran out.
pub(crate) async fn settle<S: System>(
    scenario: &Scenario<S>,
    timeout: Duration,
) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    let mut quiet = 0;
    let mut recorded = total_recorded(scenario);
    loop {
        let busy = busy(scenario).await;
        let now_recorded = total_recorded(scenario);
        if busy.is_none() && now_recorded == recorded {
            quiet += 1;
            if quiet >= QUIET_LOOKS {
                return Ok(());
            }
        } else {
            quiet = 0;
        }
        recorded = now_recorded;
        if Instant::now() >= deadline {
            return Err(busy.unwrap_or_else(|| "events were still being recorded".to_owned()));
        }
        tokio::time::sleep(POLL).await;
    }
}

fn total_recorded<S: System>(scenario: &Scenario<S>) -> usize {
    scenario
        .contexts
        .iter()
        .map(|member| member.store.len())
        .sum()
}

/// What is still moving, if anything.
async fn busy<S: System>(scenario: &Scenario<S>) -> Option<String> {
    if !scenario.bus.is_idle() {
        return Some("events on the bus were not yet handled".to_owned());
    }
    for member in &scenario.contexts {
        let pending = member.store.pending(1).await.unwrap_or_default();
        if !pending.is_empty() {
            return Some(format!("{}'s outbox still held events", member.name));
        }
        let head = member.store.len() as u64;
        for handle in &member.views {
            match handle.status() {
                ViewStatus::Running { checkpoint } if checkpoint < head => {
                    handle.wake();
                    return Some(format!(
                        "view {}.{} was at event {checkpoint} of {head}",
                        member.name,
                        handle.schema().name
                    ));
                }
                _ => {}
            }
        }
    }
    None
}
