//! The Redis bus passes ddd-core's bus conformance suite against the local server, plus the
//! Redis-specific promises: deduplication by event id when asked for, undecodable entries dead-lettered,
//! filters over several systems, a consumer name keeping its filters.

use ddd_core::bus::{dead_letter, dead_letter_subject};
use ddd_core::testing::conformance::event_bus::{self, next, nothing_more};
use ddd_core::testing::conformance::unique;
use ddd_core::{BusError, ConsumerConfig, Delivery, EventBus};
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

fn one(subject: &str) -> ddd_core::Message {
    ddd_bus_testkit::events(subject, 1).remove(0)
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
    let prefix = unique("t");
    let name = unique("c");
    let mut dead = bus
        .subscribe(ConsumerConfig::new(
            unique("dlq"),
            [dead_letter_subject(&name)],
        ))
        .await
        .expect("subscribe to dead letters");
    let mut consumer = bus
        .subscribe(ConsumerConfig::new(name.clone(), [format!("{prefix}.>")]))
        .await
        .expect("subscribe");
    let subject = format!("{prefix}.ctx.Tick");
    let mut connection = bus.connection();
    let _: String = connection
        .xadd(
            bus.config().stream(&prefix),
            "*",
            &[("subject", subject.as_str()), ("envelope", "{\"not\": 1")],
        )
        .await
        .expect("add garbage");
    let good = one(&subject);
    bus.publish(vec![good.clone()]).await.expect("publish");

    let delivery = next(&mut consumer, "the message after the garbage").await;
    assert_eq!(delivery.message(), &good);
    delivery.ack().await.expect("ack");
    let letter = next(&mut dead, "the garbage's dead letter").await;
    let envelope = &letter.message().envelope;
    assert_eq!(envelope.event_type, dead_letter::UNDECODABLE);
    let reason = envelope.metadata[dead_letter::REASON]
        .as_str()
        .expect("reason");
    assert!(reason.starts_with("does not decode"), "{reason}");
    assert_eq!(envelope.metadata[dead_letter::SUBJECT], subject.as_str());
    assert_eq!(envelope.payload["body"], "{\"not\": 1");
    letter.ack().await.expect("ack");
    nothing_more(&mut consumer, "the garbage itself").await;
    common::clean(&bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_may_span_systems() {
    let bus = common::bus().await;
    let (first, second) = (unique("t"), unique("t"));
    let mut consumer = bus
        .subscribe(ConsumerConfig::new(
            unique("c"),
            [format!("{first}.a.*"), format!("{second}.>")],
        ))
        .await
        .expect("subscribe");
    let wanted = [
        one(&format!("{first}.a.Tick")),
        one(&format!("{second}.c.Tick")),
    ];
    bus.publish(vec![one(&format!("{first}.b.Tick"))])
        .await
        .expect("publish unwanted");
    bus.publish(wanted.to_vec()).await.expect("publish");
    let mut got = Vec::new();
    for _ in &wanted {
        let delivery = next(&mut consumer, "a wanted subject").await;
        got.push(delivery.message().envelope.event_id);
        delivery.ack().await.expect("ack");
    }
    got.sort();
    let mut expected: Vec<_> = wanted.iter().map(|m| m.envelope.event_id).collect();
    expected.sort();
    assert_eq!(got, expected);
    nothing_more(&mut consumer, "an unwanted subject").await;
    common::clean(&bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_name_keeps_its_filters() {
    let bus = common::bus().await;
    let prefix = unique("t");
    let name = unique("c");
    drop(
        bus.subscribe(ConsumerConfig::new(name.clone(), [format!("{prefix}.a.>")]))
            .await
            .expect("subscribe"),
    );
    let other = bus
        .subscribe(ConsumerConfig::new(name, [format!("{prefix}.b.>")]))
        .await;
    assert!(
        matches!(other, Err(BusError::InvalidConsumer(_))),
        "{other:?}"
    );
    let wildcard = bus
        .subscribe(ConsumerConfig::new(unique("c"), ["*.a.>"]))
        .await;
    assert!(
        matches!(wildcard, Err(BusError::InvalidConsumer(_))),
        "{wildcard:?}"
    );
    common::clean(&bus).await;
}
