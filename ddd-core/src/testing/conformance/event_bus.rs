//! Conformance checks for [`EventBus`] implementations.

use std::collections::HashSet;
use std::time::Duration;

use super::{PATIENCE, QUIET, tick, unique};
use crate::bus::{
    ConsumerConfig, Delivery, EventBus, Message, Subscription, dead_letter, dead_letter_subject,
};
use crate::event::EventId;

/// Calls the macro `$each` with the names of every check, so that an adapter's tests make
/// one test per check (`$each` is theirs: it sets up the bus) and get new checks without
/// listing them:
///
/// ```ignore
/// macro_rules! bus_checks {
///     ($($check:ident),*) => {$(
///         #[tokio::test]
///         async fn $check() {
///             ddd_core::testing::conformance::event_bus::$check(&my_bus().await).await;
///         }
///     )*};
/// }
/// ddd_core::for_each_bus_check!(bus_checks);
/// ```
#[macro_export]
macro_rules! for_each_bus_check {
    ($each:ident) => {
        $each!(
            publish_then_consume_in_order,
            different_names_fan_out,
            same_name_competes,
            nack_redelivers,
            unacknowledged_deliveries_come_back,
            dead_letter_after_max_deliver,
            dead_letter_at_once,
            filters_select_subjects,
            consumers_are_durable
        );
    };
}

/// Runs every check, in the order [`for_each_bus_check!`](crate::for_each_bus_check) lists them.
pub async fn run_all<B: EventBus + Clone>(bus: B) {
    macro_rules! run_each {
        ($($check:ident),*) => {$(
            $check(&bus).await;
        )*};
    }
    crate::for_each_bus_check!(run_each);
}

/// `count` events of one aggregate: buses that keep per-aggregate order must keep theirs.
fn messages(subject: &str, count: u64) -> Vec<Message> {
    (1..=count)
        .map(|n| {
            let envelope = tick("Conformance", "bus", 0, n).to_raw().expect("encode");
            Message::new(subject, envelope)
        })
        .collect()
}

/// `count` events of as many aggregates: work that can be shared however the bus partitions.
fn spread_messages(subject: &str, count: u64) -> Vec<Message> {
    (1..=count)
        .map(|n| {
            let aggregate = format!("bus-{n}");
            let envelope = tick("Conformance", &aggregate, 0, n)
                .to_raw()
                .expect("encode");
            Message::new(subject, envelope)
        })
        .collect()
}

/// The next delivery, or a panic naming `what` when none comes within the patience.
pub async fn next<S: Subscription>(subscription: &mut S, what: &str) -> S::Delivery {
    match tokio::time::timeout(PATIENCE, subscription.next()).await {
        Ok(Ok(Some(delivery))) => delivery,
        Ok(Ok(None)) => panic!("{what}: the subscription ended"),
        Ok(Err(error)) => panic!("{what}: {error}"),
        Err(_) => panic!("{what}: nothing delivered within {PATIENCE:?}"),
    }
}

/// Panics when a delivery arrives within a short quiet period.
pub async fn nothing_more<S: Subscription>(subscription: &mut S, what: &str) {
    if let Ok(Ok(Some(delivery))) = tokio::time::timeout(QUIET, subscription.next()).await {
        panic!(
            "{what}: unexpected delivery of {:?}",
            delivery.message().envelope.event_id
        );
    }
}

async fn subscribe<B: EventBus>(bus: &B, config: ConsumerConfig) -> B::Subscription {
    let name = config.name.clone();
    bus.subscribe(config)
        .await
        .unwrap_or_else(|e| panic!("subscribe `{name}`: {e}"))
}

async fn publish<B: EventBus>(bus: &B, messages: Vec<Message>) {
    bus.publish(messages).await.expect("publish");
}

/// A consumer receives what was published, unchanged (subject and the whole envelope:
/// ids, correlation, causation, trace context, metadata, payload), in publish order.
pub async fn publish_then_consume_in_order<B: EventBus>(bus: &B) {
    let prefix = unique("t");
    let mut consumer = subscribe(
        bus,
        ConsumerConfig::new(unique("c"), [format!("{prefix}.>")]),
    )
    .await;
    let sent = messages(&format!("{prefix}.ctx.Tick"), 20);
    publish(bus, sent.clone()).await;
    for expected in &sent {
        let delivery = next(&mut consumer, "in-order consumer").await;
        assert_eq!(
            delivery.message(),
            expected,
            "a message arrives unchanged and in order"
        );
        assert_eq!(delivery.attempt(), 1);
        delivery.ack().await.expect("ack");
    }
    nothing_more(&mut consumer, "after acking everything").await;
}

/// Consumers with different names each get every message.
pub async fn different_names_fan_out<B: EventBus>(bus: &B) {
    let prefix = unique("t");
    let filter = [format!("{prefix}.>")];
    let mut first = subscribe(bus, ConsumerConfig::new(unique("a"), filter.clone())).await;
    let mut second = subscribe(bus, ConsumerConfig::new(unique("b"), filter)).await;
    let sent = messages(&format!("{prefix}.ctx.Tick"), 10);
    publish(bus, sent.clone()).await;
    for consumer in [&mut first, &mut second] {
        for expected in &sent {
            let delivery = next(consumer, "fan-out consumer").await;
            assert_eq!(
                delivery.message().envelope.event_id,
                expected.envelope.event_id
            );
            delivery.ack().await.expect("ack");
        }
    }
}

/// Subscriptions under one name share the messages: each is handled by one of them, and
/// both take part. The messages belong to different aggregates, because a bus that keeps
/// per-aggregate order (Kafka, by message key) hands one aggregate's events to one member.
pub async fn same_name_competes<B: EventBus>(bus: &B) {
    let prefix = unique("t");
    let config = ConsumerConfig::new(unique("shared"), [format!("{prefix}.>")]);
    let members = [
        subscribe(bus, config.clone()).await,
        subscribe(bus, config).await,
    ];
    let sent = spread_messages(&format!("{prefix}.ctx.Tick"), 100);
    let expected: HashSet<EventId> = sent.iter().map(|m| m.envelope.event_id).collect();
    publish(bus, sent).await;
    let (done_tx, done_rx) = tokio::sync::watch::channel(false);
    let (seen_tx, mut seen_rx) = tokio::sync::mpsc::unbounded_channel();
    let tasks: Vec<_> = members
        .into_iter()
        .enumerate()
        .map(|(member, mut subscription)| {
            let (seen_tx, mut done_rx) = (seen_tx.clone(), done_rx.clone());
            tokio::spawn(async move {
                loop {
                    let delivery = tokio::select! {
                        _ = done_rx.changed() => return,
                        next = subscription.next() => match next {
                            Ok(Some(delivery)) => delivery,
                            _ => return,
                        },
                    };
                    // Slow consumers, so both members are busy at once.
                    tokio::time::sleep(Duration::from_millis(2)).await;
                    let id = delivery.message().envelope.event_id;
                    delivery.ack().await.expect("ack");
                    let _ = seen_tx.send((member, id));
                }
            })
        })
        .collect();
    let mut seen = Vec::new();
    while seen.len() < expected.len() {
        match tokio::time::timeout(PATIENCE, seen_rx.recv()).await {
            Ok(Some(entry)) => seen.push(entry),
            _ => panic!(
                "competing consumers handled {} of {}",
                seen.len(),
                expected.len()
            ),
        }
    }
    tokio::time::sleep(QUIET).await;
    while let Ok(entry) = seen_rx.try_recv() {
        seen.push(entry);
    }
    let _ = done_tx.send(true);
    for task in tasks {
        task.await.expect("member task");
    }
    let ids: Vec<EventId> = seen.iter().map(|(_, id)| *id).collect();
    let distinct: HashSet<EventId> = ids.iter().copied().collect();
    assert_eq!(
        ids.len(),
        distinct.len(),
        "an acked message went to two members"
    );
    assert_eq!(distinct, expected, "every message is handled by the group");
    for member in 0..2 {
        assert!(
            seen.iter().any(|(m, _)| *m == member),
            "member {member} got no share of the work"
        );
    }
}

/// A nacked message is delivered again, with the attempt counted.
pub async fn nack_redelivers<B: EventBus>(bus: &B) {
    let prefix = unique("t");
    let mut consumer = subscribe(
        bus,
        ConsumerConfig::new(unique("c"), [format!("{prefix}.>")]),
    )
    .await;
    let sent = messages(&format!("{prefix}.ctx.Tick"), 1);
    publish(bus, sent.clone()).await;
    let first = next(&mut consumer, "first delivery").await;
    first.nack("try again").await.expect("nack");
    let second = next(&mut consumer, "redelivery after nack").await;
    assert_eq!(
        second.message().envelope.event_id,
        sent[0].envelope.event_id
    );
    assert_eq!(
        second.attempt(),
        2,
        "the redelivery counts as the second attempt"
    );
    second.ack().await.expect("ack");
    nothing_more(&mut consumer, "after the redelivery was acked").await;
}

/// A delivery that is never settled (its consumer died) is delivered again, to another
/// subscription of the same consumer, once the ack wait has passed.
pub async fn unacknowledged_deliveries_come_back<B: EventBus>(bus: &B) {
    let prefix = unique("t");
    let config =
        ConsumerConfig::new(unique("c"), [format!("{prefix}.>")]).ack_wait(Duration::from_secs(1));
    let mut doomed = subscribe(bus, config.clone()).await;
    let sent = messages(&format!("{prefix}.ctx.Tick"), 1);
    publish(bus, sent.clone()).await;
    let lost = next(&mut doomed, "delivery to the consumer that dies").await;
    drop(lost);
    drop(doomed);
    let mut survivor = subscribe(bus, config).await;
    let again = next(&mut survivor, "redelivery after the consumer died").await;
    assert_eq!(again.message().envelope.event_id, sent[0].envelope.event_id);
    assert!(again.attempt() >= 2, "the redelivery is counted");
    again.ack().await.expect("ack");
}

/// After `max_deliver` failed attempts a message goes to the consumer's dead-letter subject
/// with the reason, the attempts and its original subject, and is not delivered again.
pub async fn dead_letter_after_max_deliver<B: EventBus>(bus: &B) {
    let prefix = unique("t");
    let name = unique("c");
    let mut dead = subscribe(
        bus,
        ConsumerConfig::new(unique("dlq"), [dead_letter_subject(&name)]),
    )
    .await;
    let mut consumer = subscribe(
        bus,
        ConsumerConfig::new(name.clone(), [format!("{prefix}.>")]).max_deliver(3),
    )
    .await;
    let subject = format!("{prefix}.ctx.Tick");
    let sent = messages(&subject, 1);
    publish(bus, sent.clone()).await;
    for attempt in 1..=3 {
        let delivery = next(&mut consumer, "a failing attempt").await;
        assert_eq!(delivery.attempt(), attempt);
        delivery
            .nack(&format!("failure {attempt}"))
            .await
            .expect("nack");
    }
    let letter = next(&mut dead, "the dead letter").await;
    let envelope = &letter.message().envelope;
    assert_eq!(envelope.event_id, sent[0].envelope.event_id);
    assert_eq!(envelope.payload, sent[0].envelope.payload);
    assert_eq!(envelope.metadata[dead_letter::REASON], "failure 3");
    assert_eq!(envelope.metadata[dead_letter::ATTEMPTS], 3);
    assert_eq!(envelope.metadata[dead_letter::SUBJECT], subject.as_str());
    assert_eq!(envelope.metadata[dead_letter::CONSUMER], name.as_str());
    letter.ack().await.expect("ack");
    nothing_more(&mut consumer, "a dead-lettered message").await;
}

/// A message dead-lettered by the consumer (it can never succeed) goes there at once.
pub async fn dead_letter_at_once<B: EventBus>(bus: &B) {
    let prefix = unique("t");
    let name = unique("c");
    let mut dead = subscribe(
        bus,
        ConsumerConfig::new(unique("dlq"), [dead_letter_subject(&name)]),
    )
    .await;
    let mut consumer = subscribe(bus, ConsumerConfig::new(name, [format!("{prefix}.>")])).await;
    publish(bus, messages(&format!("{prefix}.ctx.Tick"), 1)).await;
    let delivery = next(&mut consumer, "a message that does not decode").await;
    delivery
        .dead_letter("does not decode: missing field `n`")
        .await
        .expect("dead letter");
    let letter = next(&mut dead, "the dead letter").await;
    assert_eq!(
        letter.message().envelope.metadata[dead_letter::REASON],
        "does not decode: missing field `n`"
    );
    letter.ack().await.expect("ack");
    nothing_more(&mut consumer, "a dead-lettered message").await;
}

/// A consumer gets only the subjects its filters match.
///
/// Another consumer wants every subject, so no message is unroutable: buses that refuse
/// messages no consumer wants (RabbitMQ with `mandatory`) publish them all.
pub async fn filters_select_subjects<B: EventBus>(bus: &B) {
    let prefix = unique("t");
    let mut everything = subscribe(
        bus,
        ConsumerConfig::new(unique("all"), [format!("{prefix}.>")]),
    )
    .await;
    let mut consumer = subscribe(
        bus,
        ConsumerConfig::new(unique("c"), [format!("{prefix}.wanted.*")]),
    )
    .await;
    let other = messages(&format!("{prefix}.other.Tick"), 2);
    publish(bus, other.clone()).await;
    let wanted = messages(&format!("{prefix}.wanted.Tick"), 1);
    publish(bus, wanted.clone()).await;
    let delivery = next(&mut consumer, "the wanted subject").await;
    assert_eq!(
        delivery.message().envelope.event_id,
        wanted[0].envelope.event_id
    );
    delivery.ack().await.expect("ack");
    nothing_more(&mut consumer, "an unwanted subject").await;
    for expected in other.iter().chain(&wanted) {
        let delivery = next(&mut everything, "the catch-all consumer").await;
        assert_eq!(
            delivery.message().envelope.event_id,
            expected.envelope.event_id
        );
        delivery.ack().await.expect("ack");
    }
}

/// A named consumer keeps what is published while none of its subscriptions runs.
pub async fn consumers_are_durable<B: EventBus>(bus: &B) {
    let prefix = unique("t");
    let config = ConsumerConfig::new(unique("c"), [format!("{prefix}.>")]);
    drop(subscribe(bus, config.clone()).await);
    let sent = messages(&format!("{prefix}.ctx.Tick"), 5);
    publish(bus, sent.clone()).await;
    let mut back = subscribe(bus, config).await;
    for expected in &sent {
        let delivery = next(&mut back, "a message published while away").await;
        assert_eq!(
            delivery.message().envelope.event_id,
            expected.envelope.event_id
        );
        delivery.ack().await.expect("ack");
    }
}
