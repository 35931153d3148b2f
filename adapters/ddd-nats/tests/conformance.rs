//! The NATS bus passes ddd-core's bus conformance suite against the local server, plus the
//! NATS-specific promises: deduplication by event id, undecodable messages dead-lettered,
//! filters over several systems.

use std::time::Duration;

use ddd_core::bus::{dead_letter, dead_letter_subject};
use ddd_core::testing::conformance::event_bus::{self, next, nothing_more};
use ddd_core::testing::conformance::unique;
use ddd_core::{BusError, ConsumerConfig, Delivery, EventBus};
use ddd_nats::{NatsBus, NatsConfig};

mod common;

macro_rules! bus_checks {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            let config = common::config();
            let bus = common::connect(config.clone()).await;
            event_bus::$check(&bus).await;
            common::clean(&bus, &config).await;
        }
    )*};
}

mod suite {
    use super::*;

    ddd_core::for_each_bus_check!(bus_checks);
}

fn one(subject: &str) -> ddd_core::Message {
    ddd_bus_testkit::events(subject, 1).remove(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_republished_event_id_is_stored_once() {
    let config = common::config();
    let bus = common::connect(config.clone()).await;
    ddd_bus_testkit::republish::republished_event(&bus, 1).await;
    common::clean(&bus, &config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_a_message_is_dead_lettered_and_consuming_goes_on() {
    let config = common::config();
    let bus = common::connect(config.clone()).await;
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
    bus.jetstream()
        .publish(subject.clone(), "{\"not\": \"an envelope\"".into())
        .await
        .expect("publish garbage")
        .await
        .expect("stored");
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
    assert_eq!(envelope.payload["body"], "{\"not\": \"an envelope\"");
    letter.ack().await.expect("ack");
    common::clean(&bus, &config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_may_span_systems_and_several_filters_share_a_stream() {
    let config = common::config();
    let bus = common::connect(config.clone()).await;
    let (first, second) = (unique("t"), unique("t"));
    let mut consumer = bus
        .subscribe(ConsumerConfig::new(
            unique("c"),
            [
                format!("{first}.a.*"),
                format!("{first}.b.Tick"),
                format!("{second}.>"),
            ],
        ))
        .await
        .expect("subscribe");
    let wanted = [
        one(&format!("{first}.a.Tick")),
        one(&format!("{first}.b.Tick")),
        one(&format!("{second}.c.Tick")),
    ];
    bus.publish(vec![one(&format!("{first}.c.Tick"))])
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
    common::clean(&bus, &config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_name_keeps_its_filters() {
    let config = common::config();
    let bus = common::connect(config.clone()).await;
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
    common::clean(&bus, &config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publishing_to_an_unreachable_server_fails_in_time() {
    // Nothing listens on port 1: connecting fails at once instead of hanging.
    let error = NatsBus::connect(
        NatsConfig::new("nats://127.0.0.1:1").request_timeout(Duration::from_secs(1)),
    )
    .await
    .expect_err("no server");
    assert!(matches!(error, BusError::Unavailable(_)), "{error:?}");
}

/// Acks return before the server confirms them; with a window smaller than the batch, acks
/// wait for older confirmations, `flush_acks` waits for the rest, and every ack counted: the
/// same consumer, reopened with a short ack wait, gets nothing again.
async fn acks_are_confirmed_with_window(window: usize) {
    let config = common::config().ack_window(window);
    let bus = common::connect(config.clone()).await;
    let prefix = unique("t");
    let consumer =
        ConsumerConfig::new(unique("c"), [format!("{prefix}.>")]).ack_wait(Duration::from_secs(1));
    let mut subscription = bus.subscribe(consumer.clone()).await.expect("subscribe");
    let sent = ddd_bus_testkit::events(&format!("{prefix}.ctx.Tick"), 40);
    bus.publish(sent.clone()).await.expect("publish");
    for message in &sent {
        let delivery = next(&mut subscription, "a published event").await;
        assert_eq!(delivery.message(), message);
        delivery.ack().await.expect("ack");
    }
    subscription
        .flush_acks()
        .await
        .expect("every ack confirmed");
    drop(subscription);
    let mut again = bus.subscribe(consumer).await.expect("subscribe again");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    nothing_more(&mut again, "an acknowledged event").await;
    common::clean(&bus, &config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acks_are_confirmed_in_the_background_within_the_window() {
    acks_are_confirmed_with_window(4).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_zero_ack_window_confirms_each_ack_in_place() {
    acks_are_confirmed_with_window(0).await;
}
