//! Contender (c): no framework, the same job done by hand.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};
use std::time::SystemTime;

use uuid::Uuid;

use crate::domain::{
    Account, BankAccountCommand, BankAccountError, BankAccountEvent, decide, evolve,
};

/// One recorded event: the event itself, a UUID v7 event id, when it was recorded and its
/// version (1-based position in its aggregate's stream).
#[derive(Clone, Debug)]
pub struct StoredEvent {
    pub event: BankAccountEvent,
    pub event_id: Uuid,
    pub recorded_at: SystemTime,
    pub version: u64,
}

/// Why a command was not executed.
#[derive(Debug)]
pub enum HandError {
    Rejected(BankAccountError),
    Conflict { expected: u64, actual: u64 },
}

impl std::fmt::Display for HandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Rejected(error) => write!(f, "rejected: {error}"),
            Self::Conflict { expected, actual } => write!(
                f,
                "conflict: expected version {expected}, stream is at {actual}"
            ),
        }
    }
}

impl std::error::Error for HandError {}

/// Event sourcing written by hand, the way a careful engineer would do it without a library.
///
/// Events live in a `Mutex<HashMap<String, Vec<StoredEvent>>>` keyed by aggregate id. Per
/// command [`HandWritten::execute`]:
/// 1. locks the map, looks up the stream and replays every one of its events (by reference)
///    into a fresh [`Account`], noting the stream's length as the expected version, and unlocks;
/// 2. decides the command on that state (the shared `decide`), outside the lock;
/// 3. locks again, checks that the stream is still at the expected version (optimistic
///    concurrency; a mismatch is a `Conflict`), and pushes the new event with a fresh
///    `Uuid::now_v7()` id, `SystemTime::now()` and version = expected + 1, creating the
///    stream (one `String` allocation for the key) on the first event.
///
/// It keeps no cache, no snapshots, no global order, no outbox and no metadata, and returns
/// only the new version.
#[derive(Debug, Default)]
pub struct HandWritten {
    streams: Mutex<HashMap<String, Vec<StoredEvent>>>,
}

impl HandWritten {
    /// Executes one command; returns the stream's new version.
    pub async fn execute(&self, id: &str, command: BankAccountCommand) -> Result<u64, HandError> {
        let (state, expected) = {
            let streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
            let mut state = Account::default();
            let events = streams.get(id).map_or(&[][..], Vec::as_slice);
            for stored in events {
                evolve(&mut state, &stored.event);
            }
            (state, events.len() as u64)
        };
        let event = decide(&state, command).map_err(HandError::Rejected)?;
        let mut streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        let actual = streams.get(id).map_or(0, |events| events.len() as u64);
        if actual != expected {
            return Err(HandError::Conflict { expected, actual });
        }
        let stored = StoredEvent {
            event,
            event_id: Uuid::now_v7(),
            recorded_at: SystemTime::now(),
            version: expected + 1,
        };
        match streams.get_mut(id) {
            Some(events) => events.push(stored),
            None => {
                streams.insert(id.to_owned(), vec![stored]);
            }
        }
        Ok(expected + 1)
    }

    /// The current state of an aggregate, after checking its stream's bookkeeping (for
    /// checking results, not timed).
    pub fn state(&self, id: &str) -> Account {
        let streams = self.streams.lock().unwrap_or_else(PoisonError::into_inner);
        let mut state = Account::default();
        for (index, stored) in streams.get(id).into_iter().flatten().enumerate() {
            assert_eq!(stored.version, index as u64 + 1);
            assert_eq!(stored.event_id.get_version_num(), 7);
            assert!(stored.recorded_at > SystemTime::UNIX_EPOCH);
            evolve(&mut state, &stored.event);
        }
        state
    }
}
