//! A bus per test whose streams carry a prefix of their own, so the test can delete them
//! and leave the shared server as it found it.

#![allow(
    dead_code,
    reason = "each test binary includes this module and uses a part of it"
)]
use std::time::Duration;

use ddd_core::testing::conformance::unique;
use ddd_nats::{NatsBus, NatsConfig};
use futures_util::TryStreamExt;

/// Streams of test buses start with this.
const TEST_PREFIX: &str = "DDDTEST";
/// Streams of test runs that died before cleaning up are removed after this long.
const LEFTOVER_AGE: Duration = Duration::from_secs(3600);

pub(crate) fn url() -> String {
    std::env::var("NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

pub(crate) fn config() -> NatsConfig {
    NatsConfig::new(url())
        .stream_prefix(format!("{TEST_PREFIX}{}_", unique("")))
        .max_age(LEFTOVER_AGE)
}

pub(crate) async fn bus() -> NatsBus {
    connect(config()).await
}

pub(crate) async fn connect(config: NatsConfig) -> NatsBus {
    NatsBus::connect(config).await.unwrap_or_else(|e| {
        panic!(
            "{e}: {}",
            ddd_bus_testkit::broker::Broker::Nats.not_running()
        )
    })
}

/// Deletes the streams `bus` created, and those of earlier runs that died before doing so.
pub(crate) async fn clean(bus: &NatsBus, config: &NatsConfig) {
    let jetstream = bus.jetstream();
    let streams: Vec<_> = jetstream
        .streams()
        .try_collect()
        .await
        .expect("list streams");
    let now = time_now();
    for info in streams {
        let name = &info.config.name;
        let ours = name.starts_with(&config.stream_prefix);
        let leftover = name.starts_with(TEST_PREFIX)
            && now - info.created.unix_timestamp() > LEFTOVER_AGE.as_secs().cast_signed();
        if ours || leftover {
            // Another test may delete it first.
            let _ = jetstream.delete_stream(name).await;
        }
    }
}

fn time_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs().cast_signed())
}
