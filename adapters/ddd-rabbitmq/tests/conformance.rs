//! The RabbitMQ bus passes ddd-core's bus conformance suite against the local broker, plus
//! the RabbitMQ-specific promises: unroutable messages are refused, undecodable messages
//! are dead-lettered, a consumer's queue keeps its type.

use ddd_core::bus::{dead_letter, dead_letter_subject};
use ddd_core::testing::conformance::event_bus::{self, next, nothing_more};
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
            subject.as_str().into(),
            BasicPublishOptions::default(),
            b"{\"not\": \"an envelope\"",
            BasicProperties::default(),
        )
        .await
        .expect("publish garbage")
        .await
        .expect("garbage confirmed");
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
    letter.ack().await.expect("ack");
    nothing_more(&mut consumer, "the garbage itself").await;
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
