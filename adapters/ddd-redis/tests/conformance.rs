//! The Redis bus passes ddd-core's bus conformance suite against the local server, plus the
//! Redis-specific promises: deduplication by event id when asked for, undecodable entries dead-lettered,
//! filters over several systems, a consumer name keeping its filters.

use ddd_bus_testkit::{filters, undecodable};
use ddd_core::testing::conformance::event_bus;
use redis::AsyncCommands;

mod common;

/// One test per check, on the `bus()` of the module it is expanded in.
macro_rules! bus_checks {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let bus = bus().await;
            event_bus::$check(&bus).await;
            common::clean(&bus).await;
        }
    )*};
}

/// The default: publishing pipelines plain `XADD`s.
mod suite {
    use super::*;

    async fn bus() -> ddd_redis::RedisBus {
        common::bus().await
    }

    ddd_core::for_each_bus_check!(bus_checks);
}

/// Publishing through the deduplicating script, trimming streams: the other way entries
/// are added.
mod suite_with_dedup_and_trimming {
    use super::*;

    async fn bus() -> ddd_redis::RedisBus {
        common::connect(deduplicating().max_len(Some(100_000))).await
    }

    ddd_core::for_each_bus_check!(bus_checks);
}

fn deduplicating() -> ddd_redis::RedisConfig {
    common::config().dedup_window(Some(std::time::Duration::from_secs(120)))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_republished_event_id_is_stored_once_with_deduplication() {
    let bus = common::connect(deduplicating()).await;
    ddd_bus_testkit::republish::republished_event(&bus, 1).await;
    common::clean(&bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_deduplication_a_republished_event_is_delivered_again() {
    let bus = common::bus().await;
    ddd_bus_testkit::republish::republished_event(&bus, 3).await;
    common::clean(&bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_entry_that_is_not_a_message_is_dead_lettered_and_consuming_goes_on() {
    let bus = common::bus().await;
    let body = "{\"not\": 1";
    undecodable::dead_lettered_and_consuming_goes_on(&bus, async |subject: &str| {
        let prefix = subject.split('.').next().expect("a prefix");
        let mut connection = bus.connection();
        let _: String = connection
            .xadd(
                bus.config().stream(prefix),
                "*",
                &[("subject", subject), ("envelope", body)],
            )
            .await
            .expect("add garbage");
        Some(body.to_owned())
    })
    .await;
    common::clean(&bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_may_span_systems() {
    let bus = common::bus().await;
    filters::filters_span_systems(&bus).await;
    common::clean(&bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_name_keeps_its_filters() {
    let bus = common::bus().await;
    filters::a_consumer_name_keeps_its_filters(&bus).await;
    common::clean(&bus).await;
}
