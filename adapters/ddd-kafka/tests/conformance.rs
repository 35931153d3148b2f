//! The Kafka bus passes ddd-core's bus conformance suite against librdkafka's mock cluster
//! (there is no Kafka broker on this machine), plus the Kafka-specific promises:
//! per-aggregate order across competing members, undecodable records dead-lettered.

use std::collections::HashMap;

use ddd_bus_testkit::undecodable;
use ddd_core::testing::conformance::event_bus::{self, next};
use ddd_core::testing::conformance::unique;
use ddd_core::{BusError, ConsumerConfig, Delivery, EventBus, Subscription};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::FutureRecord;

mod common;

macro_rules! bus_checks {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let cluster = common::cluster(1);
            let bus = common::bus(&cluster).await;
            event_bus::$check(&bus).await;
            drop(bus);
        }
    )*};
}

mod suite {
    use super::*;

    ddd_core::for_each_bus_check!(bus_checks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_record_that_is_not_a_message_is_dead_lettered_and_consuming_goes_on() {
    let cluster = common::cluster(1);
    let bus = common::bus(&cluster).await;
    undecodable::dead_lettered_and_consuming_goes_on(&bus, async |subject: &str| {
        let topic = bus.topic_of(subject).await.expect("topic");
        let headers = OwnedHeaders::new().insert(Header {
            key: "ddd-subject",
            value: Some(subject.as_bytes()),
        });
        // The key of the message the kit publishes next: one partition, garbage first.
        bus.producer()
            .send(
                FutureRecord::to(&topic)
                    .key("Testkit/agg-1")
                    .payload("{\"not\": 1")
                    .headers(headers),
                std::time::Duration::from_secs(5),
            )
            .await
            .expect("produce garbage");
        None
    })
    .await;
    drop(bus);
}

/// Competing members share the aggregates, and each aggregate's events arrive in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn competing_members_keep_each_aggregates_order() {
    let cluster = common::cluster(1);
    let bus = common::bus(&cluster).await;
    let prefix = unique("t");
    let config = ConsumerConfig::new(unique("c"), [format!("{prefix}.>")]);
    let mut first = bus.subscribe(config.clone()).await.expect("subscribe");
    let mut second = bus.subscribe(config).await.expect("subscribe");
    let subject = format!("{prefix}.ctx.Tick");
    let mut sent = Vec::new();
    for n in 0..60 {
        let mut message = ddd_bus_testkit::events(&subject, 1).remove(0);
        message.envelope.aggregate_id = format!("agg-{}", n % 6);
        sent.push(message);
    }
    bus.publish(sent.clone()).await.expect("publish");

    let mut seen: HashMap<String, Vec<ddd_core::EventId>> = HashMap::new();
    let mut per_member = [0, 0];
    let mut received = 0;
    while received < sent.len() {
        let (member, delivery) = tokio::select! {
            d = first.next() => (0, d),
            d = second.next() => (1, d),
        };
        let delivery = delivery.expect("next").expect("open");
        per_member[member] += 1;
        let envelope = &delivery.message().envelope;
        seen.entry(envelope.aggregate_id.clone())
            .or_default()
            .push(envelope.event_id);
        delivery.ack().await.expect("ack");
        received += 1;
    }
    for (aggregate, ids) in &seen {
        let expected: Vec<_> = sent
            .iter()
            .filter(|m| &m.envelope.aggregate_id == aggregate)
            .map(|m| m.envelope.event_id)
            .collect();
        assert_eq!(ids, &expected, "aggregate {aggregate} in publish order");
    }
    assert!(
        per_member.iter().all(|n| *n > 0),
        "both members worked: {per_member:?}"
    );
    drop((first, second, bus));
}

/// librdkafka keeps a partition paused through a rebalance: a member that paused its
/// partitions at the read-ahead limit and got them back from a rebalance must resume them,
/// or their messages are never read again.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn partitions_paused_at_the_read_ahead_are_read_again_after_a_rebalance() {
    let cluster = common::cluster(1);
    let config = common::config(&cluster.bootstrap_servers()).prefetch(2);
    let bus = common::connect(config.clone()).await;
    let prefix = unique("t");
    let consumer = ConsumerConfig::new(unique("c"), [format!("{prefix}.>")]);
    let mut first = bus.subscribe(consumer.clone()).await.expect("subscribe");
    let sent = ddd_bus_testkit::events(&format!("{prefix}.ctx.Tick"), 60);
    bus.publish(sent.clone()).await.expect("publish");
    // Every partition of the only member fills its read-ahead and is paused.
    let mut handled = std::collections::HashSet::new();
    let delivery = next(&mut first, "the first message").await;
    handled.insert(delivery.message().envelope.event_id);
    delivery.ack().await.expect("ack");
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;

    let other = common::connect(config).await;
    let mut second = other.subscribe(consumer).await.expect("subscribe");
    while handled.len() < sent.len() {
        let delivery = tokio::select! {
            d = first.next() => d,
            d = second.next() => d,
            () = tokio::time::sleep(std::time::Duration::from_secs(30)) => panic!(
                "{} of {} messages read after the rebalance",
                handled.len(),
                sent.len()
            ),
        };
        let delivery = delivery.expect("next").expect("open");
        handled.insert(delivery.message().envelope.event_id);
        delivery.ack().await.expect("ack");
    }
    drop((first, second, bus, other));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_must_name_a_system() {
    let cluster = common::cluster(1);
    let bus = common::bus(&cluster).await;
    let wildcard = bus
        .subscribe(ConsumerConfig::new(unique("c"), ["*.a.>"]))
        .await;
    assert!(
        matches!(wildcard, Err(BusError::InvalidConsumer(_))),
        "{wildcard:?}"
    );
    drop(bus);
}
