//! Both contexts wired together in one process: a store each, one in-process bus, a relay
//! per context, a durable consumer per policy.

use std::sync::Arc;
use std::time::Duration;

use ddd_core::memory::{InMemoryEventStore, InProcessBus};
use ddd_core::{BoundedContext, EventBus, PolicyRunner, Relay, Repository};
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::ordering::{MarkOrderPaid, Order, Ordering};
use crate::payments::{Payment, Payments, RequestPayment};

/// The system's name: the first token of every subject.
pub const SYSTEM: &str = "shop";

/// The running system.
#[derive(Debug)]
pub struct Shop {
    /// Ordering's aggregate.
    pub orders: Arc<Repository<Order, InMemoryEventStore>>,
    /// Payments' aggregate.
    pub payments: Arc<Repository<Payment, InMemoryEventStore>>,
    stop: watch::Sender<bool>,
    tasks: JoinSet<Result<(), String>>,
}

impl Shop {
    /// Starts both contexts: subscriptions first, so nothing published is missed.
    pub async fn start() -> Result<Self, ddd_core::BusError> {
        let bus = InProcessBus::new();
        let (ordering_store, payments_store) =
            (InMemoryEventStore::new(), InMemoryEventStore::new());
        let orders = Arc::new(Repository::new(ordering_store.clone()));
        let payments = Arc::new(Repository::new(payments_store.clone()));
        let (stop, stopped) = watch::channel(false);
        let mut tasks = JoinSet::new();

        let subject = |context: &str| format!("{SYSTEM}.{context}.>");
        let mark_paid = PolicyRunner::new(MarkOrderPaid, Arc::clone(&orders));
        let subscription = bus
            .subscribe(PolicyRunner::<MarkOrderPaid, InMemoryEventStore>::consumer(
                [subject(Payments::NAME)],
            ))
            .await?;
        let shutdown = wait(stopped.clone());
        tasks.spawn(async move {
            mark_paid
                .consume(subscription, shutdown)
                .await
                .map_err(|e| e.to_string())
        });

        let request = PolicyRunner::new(RequestPayment, Arc::clone(&payments));
        let subscription = bus
            .subscribe(
                PolicyRunner::<RequestPayment, InMemoryEventStore>::consumer([subject(
                    Ordering::NAME,
                )]),
            )
            .await?;
        let shutdown = wait(stopped.clone());
        tasks.spawn(async move {
            request
                .consume(subscription, shutdown)
                .await
                .map_err(|e| e.to_string())
        });

        for (store, routing) in [
            (ordering_store, Ordering::routing(SYSTEM)),
            (payments_store, Payments::routing(SYSTEM)),
        ] {
            let relay = Relay::new(store, bus.clone(), routing);
            let shutdown = wait(stopped.clone());
            tasks.spawn(async move {
                relay
                    .run(Duration::from_millis(5), shutdown)
                    .await
                    .map_err(|e| e.to_string())
            });
        }
        Ok(Self {
            orders,
            payments,
            stop,
            tasks,
        })
    }

    /// Stops consuming, drains the relays, and reports the first task that failed.
    pub async fn shutdown(mut self) -> Result<(), String> {
        let _ = self.stop.send(true);
        while let Some(joined) = self.tasks.join_next().await {
            joined.map_err(|e| e.to_string())??;
        }
        Ok(())
    }
}

async fn wait(mut stopped: watch::Receiver<bool>) {
    let _ = stopped.wait_for(|stop| *stop).await;
}
