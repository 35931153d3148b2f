//! A publish-only bus for relays in child processes: a file of JSON lines per relay, one
//! `write` per message, so what was published survives a SIGKILL and the parent can read it,
//! with the time each message was published.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, SystemTime};

use ddd_core::memory::InProcessSubscription;
use ddd_core::{BusError, ConsumerConfig, EventBus, Message};
use serde::{Deserialize, Serialize};

/// The bus: appends a [`Published`] line per message to its file.
pub(crate) struct FileBus {
    file: Mutex<std::fs::File>,
}

/// A line of a bus file.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Published {
    /// When it was published, in microseconds since the Unix epoch (the machine's clock,
    /// which the parent and its children share).
    pub(crate) at: u64,
    pub(crate) message: Message,
}

impl FileBus {
    pub(crate) fn open(path: &Path) -> Self {
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("open the bus file");
        Self {
            file: Mutex::new(file),
        }
    }
}

impl EventBus for FileBus {
    type Subscription = InProcessSubscription;

    async fn publish(&self, messages: Vec<Message>) -> Result<(), BusError> {
        let mut file = self.file.lock().unwrap_or_else(PoisonError::into_inner);
        for message in messages {
            let published = Published {
                at: micros_since_epoch(SystemTime::now()),
                message,
            };
            let mut line = serde_json::to_vec(&published).expect("a message encodes");
            line.push(b'\n');
            file.write_all(&line)
                .map_err(|error| BusError::Unavailable(error.to_string()))?;
        }
        Ok(())
    }

    async fn subscribe(&self, _: ConsumerConfig) -> Result<InProcessSubscription, BusError> {
        Err(BusError::Rejected("the file bus only publishes".into()))
    }
}

/// `time` in microseconds since the Unix epoch.
pub(crate) fn micros_since_epoch(time: SystemTime) -> u64 {
    let since = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO);
    u64::try_from(since.as_micros()).unwrap_or(u64::MAX)
}

/// What the relay that owns `path` published, in order: the file's lines, but for a last
/// line a kill cut short (its publish never returned, so the relay did not mark it).
pub(crate) fn read(path: &PathBuf) -> Vec<Published> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new(); // A relay killed before it opened its file.
    };
    let whole = text.rsplit_once('\n').map_or("", |(whole, _)| whole);
    whole
        .lines()
        .map(|line| serde_json::from_str(line).expect("a published message"))
        .collect()
}
