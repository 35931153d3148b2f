//! Publishing: a pipeline of `XADD`s per window of messages or, with deduplication on, a
//! script that adds each entry unless its deduplication key is taken.

use std::time::Duration;

use ddd_core::{BusError, Message};

use crate::{Shared, error, system_of};

/// Field names of a stream entry.
pub(crate) mod field {
    pub(crate) const SUBJECT: &str = "subject";
    pub(crate) const ENVELOPE: &str = "envelope";
    pub(crate) const EVENT_ID: &str = "event_id";
}

/// KEYS: a stream and a deduplication key per message. ARGV: the window in ms, the
/// approximate max length (0: no trimming), then subject, envelope and event id per
/// message. Returns how many entries were added (duplicates are not).
const PUBLISH: &str = r"
local window = tonumber(ARGV[1])
local max_len = tonumber(ARGV[2])
local added = 0
for i = 1, #KEYS / 2 do
  if redis.call('SET', KEYS[2 * i], '1', 'NX', 'PX', window) then
    local at = 2 + (i - 1) * 3
    if max_len > 0 then
      redis.call('XADD', KEYS[2 * i - 1], 'MAXLEN', '~', max_len, '*',
        'subject', ARGV[at + 1], 'envelope', ARGV[at + 2], 'event_id', ARGV[at + 3])
    else
      redis.call('XADD', KEYS[2 * i - 1], '*',
        'subject', ARGV[at + 1], 'envelope', ARGV[at + 2], 'event_id', ARGV[at + 3])
    end
    added = added + 1
  end
end
return added
";

pub(crate) fn script() -> redis::Script {
    redis::Script::new(PUBLISH)
}

/// One entry ready to go.
pub(crate) struct Entry {
    subject: String,
    envelope: Vec<u8>,
    event_id: String,
    /// What deduplicates it: the event id for events; dead letters have their own.
    dedup_id: String,
}

impl Entry {
    /// An event, deduplicated by its event id.
    pub(crate) fn event(message: &Message) -> Result<Self, BusError> {
        Self::new(message, message.envelope.event_id.to_string())
    }

    /// A dead letter of `consumer`: several consumers may dead-letter one event, and the
    /// event itself holds the event id's deduplication key.
    pub(crate) fn dead_letter(letter: &Message, consumer: &str) -> Result<Self, BusError> {
        Self::new(
            letter,
            format!("dead-letter:{consumer}:{}", letter.envelope.event_id),
        )
    }

    fn new(message: &Message, dedup_id: String) -> Result<Self, BusError> {
        let envelope = serde_json::to_vec(&message.envelope)
            .map_err(|e| BusError::Rejected(format!("envelope does not encode: {e}")))?;
        Ok(Self {
            subject: message.subject.clone(),
            envelope,
            event_id: message.envelope.event_id.to_string(),
            dedup_id,
        })
    }
}

/// Adds `entries` in order; returns once Redis (and the replicas asked for) has them.
pub(crate) async fn publish(shared: &Shared, entries: &[Entry]) -> Result<(), BusError> {
    if entries.is_empty() {
        return Ok(());
    }
    let timeout = shared.config.publish_timeout;
    tokio::time::timeout(timeout, send(shared, entries))
        .await
        .map_err(|_| BusError::Timeout(timeout))?
}

async fn send(shared: &Shared, entries: &[Entry]) -> Result<(), BusError> {
    let mut connection = shared.connection.clone();
    for chunk in entries.chunks(shared.config.publish_window) {
        if let Some(window) = shared.config.dedup_window {
            add_new(shared, &mut connection, chunk, window).await?;
        } else {
            add(shared, &mut connection, chunk).await?;
        }
    }
    wait_for_replicas(shared, &mut connection).await
}

/// Without deduplication: the `XADD`s in one pipeline, as a client would send them (a
/// script call costs the server about twice as much per entry).
async fn add(
    shared: &Shared,
    connection: &mut redis::aio::ConnectionManager,
    chunk: &[Entry],
) -> Result<(), BusError> {
    let config = &shared.config;
    let mut pipe = redis::pipe();
    for entry in chunk {
        let command = pipe
            .cmd("XADD")
            .arg(config.stream(system_of(&entry.subject)));
        if let Some(max_len) = config.max_len {
            command.arg("MAXLEN").arg("~").arg(max_len);
        }
        command
            .arg("*")
            .arg(field::SUBJECT)
            .arg(&entry.subject)
            .arg(field::ENVELOPE)
            .arg(&entry.envelope)
            .arg(field::EVENT_ID)
            .arg(&entry.event_id)
            .ignore();
    }
    pipe.query_async::<()>(connection)
        .await
        .map_err(|e| error::redis("publish", e))
}

/// With deduplication: the script adds each entry whose key it could set.
async fn add_new(
    shared: &Shared,
    connection: &mut redis::aio::ConnectionManager,
    chunk: &[Entry],
    window: Duration,
) -> Result<(), BusError> {
    let config = &shared.config;
    let mut invocation = shared.publish_script.prepare_invoke();
    for entry in chunk {
        invocation
            .key(config.stream(system_of(&entry.subject)))
            .key(config.dedup_key(&entry.dedup_id));
    }
    // At least 1 ms: `PX 0` is an error.
    invocation
        .arg(millis(window).max(1))
        .arg(config.max_len.unwrap_or(0));
    for entry in chunk {
        invocation
            .arg(&entry.subject)
            .arg(&entry.envelope)
            .arg(&entry.event_id);
    }
    let _added: u64 = invocation
        .invoke_async(connection)
        .await
        .map_err(|e| error::redis("publish", e))?;
    Ok(())
}

async fn wait_for_replicas(
    shared: &Shared,
    connection: &mut redis::aio::ConnectionManager,
) -> Result<(), BusError> {
    let wanted = shared.config.wait_replicas;
    if wanted == 0 {
        return Ok(());
    }
    let timeout = shared.config.publish_timeout;
    let reached: u32 = redis::cmd("WAIT")
        .arg(wanted)
        .arg(millis(timeout))
        .query_async(connection)
        .await
        .map_err(|e| error::redis("wait for replicas", e))?;
    if reached < wanted {
        return Err(BusError::Timeout(timeout));
    }
    Ok(())
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
