//! Another context's published events copied into this context's store, once each, and
//! never published again by this context's relay.

use std::time::Duration;

use ddd_core::bus::Message;
use ddd_core::memory::{InMemoryEventStore, InProcessBus};
use ddd_core::testing::conformance::{Tick, tick};
use ddd_core::view::{EventMirror, copy_stream};
use ddd_core::{EventBus, EventStore, Outbox, Relay, Routing, Subscription as _};

#[tokio::test]
async fn a_redelivered_event_is_copied_once_and_never_published_again() {
    let bus = InProcessBus::new();
    let store = InMemoryEventStore::new();
    let mirror = EventMirror::<Tick, _>::new(store.clone(), "views-of-clock", "Clock");
    let subscription = bus
        .subscribe(mirror.consumer(["shop.Clock.Tick"]))
        .await
        .expect("subscribe");
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let copying = tokio::spawn(async move {
        mirror
            .consume(subscription, async {
                let _ = stopped.await;
            })
            .await
    });
    let event = tick("Dial", "d1", 3, 42).to_raw().expect("encodes");
    for _ in 0..3 {
        let message = Message::new("shop.Clock.Tick", event.clone());
        bus.publish(vec![message]).await.expect("publish");
    }
    let stream = copy_stream("Clock", &event);
    let mut copies = Vec::new();
    for _ in 0..100 {
        copies = store.load::<Tick>(&stream, 0).await.expect("load");
        if !copies.is_empty() {
            tokio::time::sleep(Duration::from_millis(50)).await;
            copies = store.load::<Tick>(&stream, 0).await.expect("load");
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(copies.len(), 1, "three deliveries, one copy");
    assert_eq!(copies[0].event_id, event.event_id);
    assert_eq!(copies[0].payload, Tick { writer: 3, n: 42 });
    assert_eq!(stream.aggregate_type, "Clock.Dial");

    let local = InProcessBus::new();
    let mut published = local
        .subscribe(ddd_core::ConsumerConfig::new("watch", ["shop.>"]))
        .await
        .expect("subscribe");
    let relay = Relay::new(store.clone(), local, Routing::new("shop", "Here"));
    assert_eq!(
        relay.drain().await.expect("relay"),
        1,
        "the copy is settled"
    );
    assert!(store.pending(10).await.expect("pending").is_empty());
    let next = tokio::time::timeout(Duration::from_millis(200), published.next()).await;
    assert!(next.is_err(), "the copy was not published again");
    let _ = stop.send(());
    copying.await.expect("joins").expect("consumes");
}
