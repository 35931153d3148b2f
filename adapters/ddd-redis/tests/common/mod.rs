//! A bus per test whose keys carry a prefix of their own, so the test can delete them and
//! leave the shared server as it found it.

#![allow(
    dead_code,
    reason = "each test binary includes this module and uses a part of it"
)]
use ddd_core::testing::conformance::unique;
use ddd_redis::{RedisBus, RedisConfig};
use redis::AsyncCommands;

pub(crate) fn url() -> String {
    std::env::var("REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

pub(crate) fn config() -> RedisConfig {
    RedisConfig::new(url()).key_prefix(format!("ddd-test:{}:", unique("")))
}

pub(crate) async fn bus() -> RedisBus {
    connect(config()).await
}

pub(crate) async fn connect(config: RedisConfig) -> RedisBus {
    RedisBus::connect(config).await.unwrap_or_else(|e| {
        panic!(
            "{e}: {}",
            ddd_bus_testkit::broker::Broker::Redis.not_running()
        )
    })
}

/// Deletes every key of the bus' prefix.
pub(crate) async fn clean(bus: &RedisBus) {
    let mut connection = bus.connection();
    let pattern = format!("{}*", bus.config().key_prefix);
    let keys: Vec<String> = {
        let mut iter = connection
            .scan_match::<_, String>(&pattern)
            .await
            .expect("scan");
        let mut keys = Vec::new();
        while let Some(key) = iter.next_item().await {
            keys.push(key.expect("key"));
        }
        keys
    };
    if !keys.is_empty() {
        let _: usize = connection.del(&keys).await.expect("delete test keys");
    }
}
