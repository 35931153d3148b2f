//! The RabbitMQ bus passes ddd-core's bus conformance suite against the local broker, plus
//! the RabbitMQ-specific promises: unroutable messages are refused, undecodable messages
//! are dead-lettered, a consumer's queue keeps its type.

use ddd_bus_testkit::undecodable;
use ddd_core::testing::conformance::event_bus::{self, next};
use ddd_core::testing::conformance::unique;
use ddd_core::{BusError, ConsumerConfig, Delivery, EventBus};
use lapin::BasicProperties;
use lapin::options::{BasicPublishOptions, ConfirmSelectOptions};

mod common;

macro_rules! bus_checks {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
        async fn $check() {
            event_bus::$check(&common::bus().await).await;
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
async fn a_message_nobody_subscribes_to_is_accepted_unless_refusal_is_asked_for() {
    let accepting = common::bus().await;
    accepting
        .publish(vec![one(&format!("{}.ctx.Tick", unique("nobody")))])
        .await
        .expect("publishing what nobody subscribes to succeeds, as on the other buses");
    let bus = ddd_rabbitmq::RabbitMqBus::connect(common::config().refuse_unroutable(true))
        .await
        .expect("connect");
    let error = bus
        .publish(vec![one(&format!("{}.ctx.Tick", unique("nobody")))])
        .await
        .expect_err("unroutable");
    assert!(matches!(error, BusError::Rejected(_)), "{error:?}");
    // The connection survives the refusal.
    let prefix = unique("t");
    let mut consumer = bus
        .subscribe(ConsumerConfig::new(unique("c"), [format!("{prefix}.>")]))
        .await
        .expect("subscribe");
    let message = one(&format!("{prefix}.ctx.Tick"));
    bus.publish(vec![message.clone()]).await.expect("publish");
    let delivery = next(&mut consumer, "the routable message").await;
    assert_eq!(delivery.message(), &message);
    delivery.ack().await.expect("ack");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_that_is_not_a_message_is_dead_lettered_and_consuming_goes_on() {
    let bus = common::bus().await;
    undecodable::dead_lettered_and_consuming_goes_on(&bus, async |subject: &str| {
        let channel = bus.channel().await.expect("channel");
        // Confirmed before the good message goes out on another channel, so the garbage is
        // queued first and the consumer meets it on its way to the good one.
        channel
            .confirm_select(ConfirmSelectOptions::default())
            .await
            .expect("confirm mode");
        channel
            .basic_publish(
                bus.config().exchange.as_str().into(),
                subject.into(),
                BasicPublishOptions::default(),
                b"{\"not\": \"an envelope\"",
                BasicProperties::default(),
            )
            .await
            .expect("publish garbage")
            .await
            .expect("garbage confirmed");
        None
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_queue_declared_otherwise_is_refused() {
    let name = unique("c");
    let prefix = unique("t");
    let bus = common::bus().await;
    drop(
        bus.subscribe(ConsumerConfig::new(name.clone(), [format!("{prefix}.>")]))
            .await
            .expect("subscribe"),
    );
    // Same queue, other arguments: the broker refuses, the bus says the consumer is invalid.
    let other = common::connect(common::config().queue_expires(None)).await;
    let refused = other
        .subscribe(ConsumerConfig::new(name, [format!("{prefix}.>")]))
        .await;
    assert!(
        matches!(refused, Err(BusError::InvalidConsumer(_))),
        "{refused:?}"
    );
}
