//! A body on the broker that is not a message: dead-lettered as undecodable, and the
//! consumer goes on to the message after it.

use ddd_core::bus::{dead_letter, dead_letter_subject};
use ddd_core::testing::conformance::event_bus::{next, nothing_more};
use ddd_core::testing::conformance::unique;
use ddd_core::{ConsumerConfig, Delivery, EventBus};

use crate::events;

/// Subscribes a consumer (and a reader of its dead letters) to a fresh prefix, has `inject`
/// put something that is not a message on `subject` with the broker's own client, then
/// publishes a message. The consumer gets the message; the dead letter names the subject
/// and why; the garbage never reaches the consumer. `inject` returns the body the dead
/// letter must keep, where the broker hands the garbage over as text.
pub async fn dead_lettered_and_consuming_goes_on<B, F>(bus: &B, inject: F)
where
    B: EventBus,
    F: AsyncFnOnce(&str) -> Option<String>,
{
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
    let body = inject(&subject).await;
    let good = events(&subject, 1).remove(0);
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
    if let Some(body) = body {
        assert_eq!(envelope.payload["body"], body.as_str());
    }
    letter.ack().await.expect("ack");
    nothing_more(&mut consumer, "the garbage itself").await;
}
