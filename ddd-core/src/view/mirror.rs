//! Copies of other contexts' published events in this context's store, so its views fold
//! them like its own: in one order, each once, rebuildable.

use std::future::Future;
use std::marker::PhantomData;

use crate::aggregate::ExpectedVersion;
use crate::bus::{BusError, ConsumerConfig, Delivery, Subscription};
use crate::event::{DomainEvent, RawEnvelope};
use crate::policy::{Handled, next_delivery};
use crate::store::{AppendError, AppendRequest, EventStore, InboxMark, StreamId};

/// The separator of a copied stream's aggregate type: `Ordering.Order`. Aggregate names
/// are identifiers, so no stream of the context's own has one.
const COPY: char = '.';

/// The stream a copy of `event` (recorded by `context`) is kept in.
pub fn copy_stream(context: &str, event: &RawEnvelope) -> StreamId {
    StreamId::new(
        format!("{context}{COPY}{}", event.aggregate_type),
        event.aggregate_id.clone(),
    )
}

/// Whether events of this aggregate type are copies of another context's events (the
/// relay never publishes them again).
pub fn is_copy(aggregate_type: &str) -> bool {
    aggregate_type.contains(COPY)
}

/// Subscribes to another context's published events `E` and appends each, with its id and
/// metadata, to a stream of its own in `store` ([`copy_stream`]), with an inbox mark: a
/// redelivery stores nothing twice.
#[derive(Debug)]
pub struct EventMirror<E, S> {
    store: S,
    name: &'static str,
    context: &'static str,
    events: PhantomData<fn() -> E>,
}

impl<E: DomainEvent, S: EventStore> EventMirror<E, S> {
    /// The mirror named `name` (its durable consumer) of `context`'s events into `store`.
    pub fn new(store: S, name: &'static str, context: &'static str) -> Self {
        Self {
            store,
            name,
            context,
            events: PhantomData,
        }
    }

    /// Its consumer of `subjects`.
    pub fn consumer(
        &self,
        subjects: impl IntoIterator<Item = impl Into<String>>,
    ) -> ConsumerConfig {
        ConsumerConfig::new(self.name, subjects)
    }

    /// Copies deliveries until the subscription ends or `shutdown` completes.
    ///
    /// # Errors
    /// The bus failing.
    pub async fn consume<Sub: Subscription>(
        &self,
        mut subscription: Sub,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), BusError> {
        tokio::pin!(shutdown);
        while let Some(delivery) = next_delivery(&mut subscription, shutdown.as_mut()).await? {
            let outcome = self.copy(delivery.message().envelope.clone()).await;
            if let Handled::Retried(reason) | Handled::DeadLettered(reason) = &outcome {
                tracing::warn!(mirror = self.name, %reason, ?outcome, "event not copied");
            }
            outcome.settle(delivery).await?;
        }
        Ok(())
    }

    /// Copies one event: appended once, whatever the deliveries.
    pub async fn copy(&self, raw: RawEnvelope) -> Handled {
        let stream = copy_stream(self.context, &raw);
        let event_id = raw.event_id;
        let mut event = match raw.decode::<E>() {
            Ok(Some(event)) => event,
            Ok(None) => return Handled::Ignored,
            Err(error) => return Handled::DeadLettered(format!("does not decode: {error}")),
        };
        event.aggregate_type = stream.aggregate_type.clone();
        let request = AppendRequest {
            stream,
            expected: ExpectedVersion::Any,
            events: vec![event],
            inbox: Some(InboxMark {
                consumer: self.name.to_owned(),
                event_id,
            }),
        };
        match self.store.append(request).await {
            Ok(_) | Err(AppendError::AlreadyProcessed(_)) => Handled::Done,
            Err(AppendError::Store(error)) if error.is_retryable() => {
                Handled::Retried(error.to_string())
            }
            Err(AppendError::Conflict { .. }) => Handled::Retried("a concurrent copy".to_owned()),
            Err(error) => Handled::DeadLettered(error.to_string()),
        }
    }
}
