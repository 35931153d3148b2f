//! Consumer filters beyond the conformance suite: filters over several systems, and a
//! consumer name bound to the filters it was created with.

use ddd_core::testing::conformance::event_bus::{next, nothing_more};
use ddd_core::testing::conformance::unique;
use ddd_core::{BusError, ConsumerConfig, Delivery, EventBus};

use crate::events;

fn one(subject: &str) -> ddd_core::Message {
    events(subject, 1).remove(0)
}

/// One consumer's filters name two systems, with a wildcard, an exact subject and a tail:
/// it gets what they match, in any order, and nothing else.
pub async fn filters_span_systems<B: EventBus>(bus: &B) {
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
}

/// A consumer name keeps the filters it was created with: subscribing it with others is
/// refused, as is a filter whose system is a wildcard.
pub async fn a_consumer_name_keeps_its_filters<B: EventBus>(bus: &B) {
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
        "{:?}",
        other.err()
    );
    let wildcard = bus
        .subscribe(ConsumerConfig::new(unique("c"), ["*.a.>"]))
        .await;
    assert!(
        matches!(wildcard, Err(BusError::InvalidConsumer(_))),
        "{:?}",
        wildcard.err()
    );
}
