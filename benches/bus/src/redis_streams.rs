//! Redis Streams: `ddd_redis::RedisBus` vs the redis client doing `XADD` (one pipelined
//! round trip per confirm window), `XREADGROUP` (COUNT 32, BLOCK 1 s) and `XACK` per message.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use ddd_core::{Message, RawEnvelope};
use ddd_redis::{RedisBus, RedisConfig};
use redis::AsyncCommands as _;
use redis::aio::MultiplexedConnection;
use redis::streams::{StreamReadOptions, StreamReadReply};

use crate::Settings;
use crate::measure::{self, Consumed, Receipts, Sample};

/// The adapter's defaults for what both contenders share.
const PREFETCH: usize = 32;
const BLOCK_MS: usize = 1000;

fn url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// `dedup`: the adapter's default (off: pipelined `XADD`s) or `SET NX` per event id in the
/// publish script.
pub async fn ours(settings: &Settings, system: &str, dedup: bool) -> Result<Sample, String> {
    let prefix = format!("bbench:{system}:");
    let mut config = RedisConfig::new(url())
        .key_prefix(prefix.clone())
        .publish_window(settings.window);
    if dedup {
        config = config.dedup_window(Some(Duration::from_secs(120)));
    }
    let bus = RedisBus::connect(config)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let result = measure::through_bus(&bus, settings.messages, settings.batch, system).await;
    let mut connection = bus.connection();
    let keys: Vec<String> = {
        let mut found = Vec::new();
        if let Ok(mut iter) = connection
            .scan_match::<_, String>(format!("{prefix}*"))
            .await
        {
            use futures_util::StreamExt as _;
            while let Some(Ok(key)) = iter.next().await {
                found.push(key);
            }
        }
        found
    };
    for chunk in keys.chunks(1000) {
        let _: Result<(), _> = connection.unlink(chunk).await;
    }
    result
}

pub async fn raw(settings: &Settings, system: &str) -> Result<Sample, String> {
    let client = redis::Client::open(url()).map_err(|e| e.to_string())?;
    let mut writer = client
        .get_multiplexed_async_connection()
        .await
        .map_err(|e| format!("connect: {e}"))?;
    // Reads block on the server: a connection of their own, without the 500 ms default
    // response timeout.
    let reader = client
        .get_multiplexed_async_connection_with_config(
            &redis::AsyncConnectionConfig::new()
                .set_response_timeout(Some(Duration::from_secs(11))),
        )
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let key = format!("bbraw:{system}:stream");
    let result = async {
        let () = writer
            .xgroup_create_mkstream(&key, "bench", "$")
            .await
            .map_err(|e| format!("group: {e}"))?;
        let batches = crate::workload::batches(settings.messages, settings.batch, system);
        measure::drive(
            settings.batch,
            consume(reader, writer.clone(), key.clone(), settings.messages),
            publish(writer.clone(), &key, batches, settings.window),
        )
        .await
    }
    .await;
    let _: Result<(), _> = writer.del(&key).await;
    result
}

async fn publish(
    mut connection: MultiplexedConnection,
    key: &str,
    batches: Vec<Vec<Message>>,
    window: usize,
) -> Result<Vec<Instant>, String> {
    let mut starts = Vec::with_capacity(batches.len());
    for batch in batches {
        starts.push(Instant::now());
        for chunk in batch.chunks(window.max(1)) {
            let mut pipe = redis::pipe();
            for message in chunk {
                let body = serde_json::to_vec(&message.envelope).map_err(|e| e.to_string())?;
                pipe.cmd("XADD")
                    .arg(key)
                    .arg("*")
                    .arg("subject")
                    .arg(&message.subject)
                    .arg("envelope")
                    .arg(body)
                    .arg("event_id")
                    .arg(message.envelope.event_id.to_string())
                    .ignore();
            }
            let () = pipe
                .query_async(&mut connection)
                .await
                .map_err(|e| format!("xadd: {e}"))?;
        }
    }
    Ok(starts)
}

async fn consume(
    mut reader: MultiplexedConnection,
    mut acker: MultiplexedConnection,
    key: String,
    n: usize,
) -> Result<Consumed, String> {
    let mut receipts = Receipts::new(n);
    let mut ready = VecDeque::new();
    let options = StreamReadOptions::default()
        .group("bench", "member")
        .count(PREFETCH)
        .block(BLOCK_MS);
    loop {
        let Some(entry) = ready.pop_front() else {
            let reply: Option<StreamReadReply> = reader
                .xread_options(&[&key], &[">"], &options)
                .await
                .map_err(|e| format!("xreadgroup: {e}"))?;
            for stream in reply.map(|r| r.keys).unwrap_or_default() {
                ready.extend(stream.ids);
            }
            continue;
        };
        let redis::streams::StreamId { id, map, .. } = entry;
        let body: Vec<u8> = map
            .get("envelope")
            .map(redis::from_redis_value_ref::<Vec<u8>>)
            .ok_or("no envelope field")?
            .map_err(|e| e.to_string())?;
        let envelope: RawEnvelope =
            serde_json::from_slice(&body).map_err(|e| format!("decode: {e}"))?;
        let at = Instant::now();
        let _: usize = acker
            .xack(&key, "bench", &[&id])
            .await
            .map_err(|e| format!("xack: {e}"))?;
        if receipts.record(crate::workload::sequence(&envelope), at)? {
            return Ok((receipts, Instant::now()));
        }
    }
}
