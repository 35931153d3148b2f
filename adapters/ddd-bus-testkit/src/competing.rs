//! Competing consumers under load: members of one consumer share the messages.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use ddd_core::memory::InMemoryEventStore;
use ddd_core::testing::conformance::unique;
use ddd_core::{ConsumerConfig, Delivery, EventBus, EventId, Inbox, Subscription};
use tokio::sync::{mpsc, watch};

use crate::events;

/// What one member did.
#[derive(Debug, Default)]
struct Share {
    deliveries: usize,
    handled: Vec<EventId>,
}

/// Subscribes one member per bus in `members` (separate connections, as separate
/// processes would have) under one consumer name, publishes `total` messages, and checks
/// that every member takes part and that, after deduplication through an inbox, every
/// message is handled exactly once. `patience` bounds the whole run.
pub async fn competing_consumers_share<B: EventBus>(
    members: &[B],
    total: usize,
    patience: Duration,
) {
    let prefix = unique("share");
    let config = ConsumerConfig::new(unique("shared"), [format!("{prefix}.>")]);
    let mut subscriptions = Vec::new();
    for bus in members {
        subscriptions.push(bus.subscribe(config.clone()).await.expect("subscribe"));
    }
    let inbox = Arc::new(InMemoryEventStore::new());
    let (done_tx, done_rx) = watch::channel(false);
    let (handled_tx, mut handled_rx) = mpsc::unbounded_channel();
    let tasks: Vec<_> = subscriptions
        .into_iter()
        .map(|subscription| {
            tokio::spawn(member(
                subscription,
                config.name.clone(),
                Arc::clone(&inbox),
                done_rx.clone(),
                handled_tx.clone(),
            ))
        })
        .collect();

    let started = Instant::now();
    let sent = events(&format!("{prefix}.ctx.Tick"), total);
    for batch in sent.chunks(500) {
        members[0].publish(batch.to_vec()).await.expect("publish");
    }
    let published = started.elapsed();

    let mut handled = 0;
    while handled < total {
        match tokio::time::timeout_at((started + patience).into(), handled_rx.recv()).await {
            Ok(Some(())) => handled += 1,
            _ => panic!("the members handled {handled} of {total} within {patience:?}"),
        }
    }
    let drained = started.elapsed();
    // A moment for late duplicates to show up before the members stop.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let _ = done_tx.send(true);
    let mut shares = Vec::new();
    for task in tasks {
        shares.push(task.await.expect("member"));
    }
    check(&shares, &sent, published, drained);
}

fn check(shares: &[Share], sent: &[ddd_core::Message], published: Duration, drained: Duration) {
    let mut effects: HashMap<EventId, usize> = HashMap::new();
    for share in shares {
        for id in &share.handled {
            *effects.entry(*id).or_default() += 1;
        }
    }
    let deliveries: usize = shares.iter().map(|s| s.deliveries).sum();
    eprintln!(
        "competing: {} messages, {deliveries} deliveries ({} duplicates dropped by the \
         inbox), shares {:?}; published in {published:?}, handled in {drained:?}",
        sent.len(),
        deliveries - effects.len(),
        shares.iter().map(|s| s.handled.len()).collect::<Vec<_>>()
    );
    for message in sent {
        assert_eq!(
            effects.get(&message.envelope.event_id),
            Some(&1),
            "every message is handled exactly once"
        );
    }
    assert_eq!(effects.len(), sent.len(), "nothing else was handled");
    for (member, share) in shares.iter().enumerate() {
        assert!(
            !share.handled.is_empty(),
            "member {member} got no share of the work"
        );
    }
}

async fn member<S: Subscription>(
    mut subscription: S,
    consumer: String,
    inbox: Arc<InMemoryEventStore>,
    mut done: watch::Receiver<bool>,
    handled: mpsc::UnboundedSender<()>,
) -> Share {
    let mut share = Share::default();
    loop {
        // `next` is only ever cancelled at the end, so no delivery is lost in between.
        let next = tokio::select! {
            _ = done.changed() => return share,
            next = subscription.next() => next,
        };
        let delivery = next.expect("next delivery").expect("the bus is open");
        share.deliveries += 1;
        let id = delivery.message().envelope.event_id;
        if inbox.mark_processed(&consumer, id).await.expect("inbox") {
            share.handled.push(id);
            let _ = handled.send(());
        }
        delivery.ack().await.expect("ack");
    }
}
