//! The same event published again: stored once where the bus deduplicates by event id,
//! delivered again where it does not.

use ddd_core::testing::conformance::event_bus::{next, nothing_more};
use ddd_core::testing::conformance::unique;
use ddd_core::{ConsumerConfig, Delivery, EventBus};

use crate::events;

/// Publishes one event twice in one batch and once more in a second, then checks that a
/// fresh consumer gets it `copies` times: 1 on a deduplicating bus, 3 on one that is not.
pub async fn republished_event<B: EventBus>(bus: &B, copies: usize) {
    let prefix = unique("t");
    let mut consumer = bus
        .subscribe(ConsumerConfig::new(unique("c"), [format!("{prefix}.>")]))
        .await
        .expect("subscribe");
    let message = events(&format!("{prefix}.ctx.Tick"), 1).remove(0);
    bus.publish(vec![message.clone(), message.clone()])
        .await
        .expect("publish twice in a batch");
    bus.publish(vec![message.clone()])
        .await
        .expect("publish again");
    for copy in 1..=copies {
        let delivery = next(&mut consumer, &format!("copy {copy} of {copies}")).await;
        assert_eq!(delivery.message(), &message);
        delivery.ack().await.expect("ack");
    }
    nothing_more(&mut consumer, "one copy more").await;
}
