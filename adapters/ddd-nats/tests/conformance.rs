//! The NATS bus passes ddd-core's bus conformance suite against the local server, plus the
//! NATS-specific promises: deduplication by event id, undecodable messages dead-lettered,
//! filters over several systems.

use std::time::Duration;

use ddd_bus_testkit::{filters, undecodable};
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
    let body = "{\"not\": \"an envelope\"";
    undecodable::dead_lettered_and_consuming_goes_on(&bus, async |subject: &str| {
        bus.jetstream()
            .publish(subject.to_owned(), body.into())
            .await
            .expect("publish garbage")
            .await
            .expect("stored");
        Some(body.to_owned())
    })
    .await;
    common::clean(&bus, &config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn filters_may_span_systems_and_several_filters_share_a_stream() {
    let config = common::config();
    let bus = common::connect(config.clone()).await;
    filters::filters_span_systems(&bus).await;
    common::clean(&bus, &config).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_name_keeps_its_filters() {
    let config = common::config();
    let bus = common::connect(config.clone()).await;
    filters::a_consumer_name_keeps_its_filters(&bus).await;
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
