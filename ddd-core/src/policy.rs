//! Policies: an event of one context becomes commands in another.

use std::fmt;
use std::future::Future;
use std::sync::Arc;

use tracing::Instrument as _;

use crate::aggregate::{Aggregate, ExpectedVersion};
use crate::bus::{BusError, ConsumerConfig, Delivery, EventBus, Subscription};
use crate::event::{DomainEvent, Envelope};
use crate::repository::{CommandMeta, ExecuteError, Repository};
use crate::store::EventStore;

/// One command a policy wants run, on one aggregate.
pub struct Reaction<A: Aggregate> {
    /// The aggregate the command goes to.
    pub target: A::Id,
    /// The command.
    pub command: A::Command,
    /// `NoStream` for a command that creates the aggregate, so a redelivered event cannot
    /// run it twice; `Any` otherwise.
    pub expected: ExpectedVersion,
}

impl<A: Aggregate> Reaction<A> {
    /// A command for an existing aggregate.
    pub fn new(target: A::Id, command: A::Command) -> Self {
        Self {
            target,
            command,
            expected: ExpectedVersion::Any,
        }
    }

    /// A command that creates the aggregate `target`.
    pub fn create(target: A::Id, command: A::Command) -> Self {
        Self {
            target,
            command,
            expected: ExpectedVersion::NoStream,
        }
    }
}

impl<A: Aggregate> fmt::Debug for Reaction<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reaction")
            .field("target", &self.target)
            .field("command", &self.command)
            .field("expected", &self.expected)
            .finish()
    }
}

impl<A: Aggregate> PartialEq for Reaction<A>
where
    A::Command: PartialEq,
{
    fn eq(&self, other: &Self) -> bool {
        self.target == other.target
            && self.command == other.command
            && self.expected == other.expected
    }
}

/// Why a policy could not turn an event into commands.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The translation needs code a person has not written yet (an anticorruption-layer stub);
    /// the event goes to the dead letters with this message rather than being dropped.
    #[error("policy needs code: {0}")]
    Unmapped(String),
    /// The event can never be handled (it contradicts this context's rules).
    #[error("{0}")]
    Permanent(String),
    /// Something outside failed; trying again later may work.
    #[error("{0}")]
    Transient(String),
}

/// Reacts to events of type `Event` (usually another context's) with commands for `Target`.
pub trait Policy: Send + Sync + 'static {
    /// The events it reacts to.
    type Event: DomainEvent;
    /// The aggregate its commands go to.
    type Target: Aggregate;
    /// The durable consumer name: every replica of the service shares it.
    const NAME: &'static str;

    /// The commands an event leads to; none is a valid answer.
    fn react(
        &self,
        event: &Envelope<Self::Event>,
    ) -> impl Future<Output = Result<Vec<Reaction<Self::Target>>, PolicyError>> + Send;
}

/// What happened to one delivery.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Handled {
    /// Every command ran (or had run before); acknowledged.
    Done,
    /// Not one of the policy's events; acknowledged.
    Ignored,
    /// Failed for now; handed back for redelivery.
    Retried(String),
    /// Can never succeed; dead-lettered with this reason.
    DeadLettered(String),
}

impl Handled {
    /// Settles `delivery` as the outcome says: acknowledged, handed back for redelivery, or
    /// dead-lettered.
    ///
    /// # Errors
    /// The bus failing to settle it.
    pub async fn settle<D: Delivery>(&self, delivery: D) -> Result<(), BusError> {
        match self {
            Handled::Done | Handled::Ignored => delivery.ack().await,
            Handled::Retried(reason) => delivery.nack(reason).await,
            Handled::DeadLettered(reason) => delivery.dead_letter(reason).await,
        }
    }
}

/// The next delivery of `subscription`, or `None` once it ended or `shutdown` completed.
pub(crate) async fn next_delivery<Sub: Subscription>(
    subscription: &mut Sub,
    shutdown: std::pin::Pin<&mut impl Future<Output = ()>>,
) -> Result<Option<Sub::Delivery>, BusError> {
    tokio::select! {
        () = shutdown => Ok(None),
        next = subscription.next() => next,
    }
}

/// Runs a policy as a durable consumer: decode, react, run each command with the event's
/// correlation and causation, record the event in the inbox with the commands' events, ack.
pub struct PolicyRunner<P: Policy, S> {
    policy: P,
    repository: Arc<Repository<P::Target, S>>,
}

impl<P: Policy, S> fmt::Debug for PolicyRunner<P, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyRunner")
            .field("policy", &P::NAME)
            .finish_non_exhaustive()
    }
}

impl<P: Policy, S: EventStore> PolicyRunner<P, S> {
    /// A runner that executes the policy's commands through `repository`.
    pub fn new(policy: P, repository: Arc<Repository<P::Target, S>>) -> Self {
        Self { policy, repository }
    }

    /// The consumer this policy subscribes as, for the given subjects.
    pub fn consumer(subjects: impl IntoIterator<Item = impl Into<String>>) -> ConsumerConfig {
        ConsumerConfig::new(P::NAME, subjects)
    }

    /// Subscribes as `consumer` and handles deliveries until the subscription ends or
    /// `shutdown` completes. A delivery in progress when `shutdown` completes is finished
    /// and settled first.
    pub async fn run<B: EventBus>(
        &self,
        bus: &B,
        consumer: ConsumerConfig,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), BusError> {
        let subscription = bus.subscribe(consumer).await?;
        self.consume(subscription, shutdown).await
    }

    /// Handles the deliveries of a subscription made beforehand (so that nothing published
    /// between start-up and the first poll is missed) until it ends or `shutdown` completes.
    pub async fn consume<Sub: Subscription>(
        &self,
        mut subscription: Sub,
        shutdown: impl Future<Output = ()>,
    ) -> Result<(), BusError> {
        tokio::pin!(shutdown);
        while let Some(delivery) = next_delivery(&mut subscription, shutdown.as_mut()).await? {
            let span = delivery_span(P::NAME, delivery.message());
            let outcome = self.handle(delivery).instrument(span.clone()).await?;
            let _entered = span.enter();
            match &outcome {
                Handled::Retried(reason) | Handled::DeadLettered(reason) => {
                    tracing::warn!(%reason, ?outcome, "event not handled");
                }
                Handled::Done => tracing::info!("event handled"),
                Handled::Ignored => tracing::debug!("event ignored"),
            }
        }
        Ok(())
    }

    /// Handles one delivery and settles it (ack, nack or dead letter).
    pub async fn handle<D: Delivery>(&self, delivery: D) -> Result<Handled, BusError> {
        let outcome = self.outcome(delivery.message().envelope.clone()).await;
        outcome.settle(delivery).await?;
        Ok(outcome)
    }

    async fn outcome(&self, raw: crate::event::RawEnvelope) -> Handled {
        let event = match raw.decode::<P::Event>() {
            Ok(Some(event)) => event,
            Ok(None) => return Handled::Ignored,
            Err(error) => return Handled::DeadLettered(format!("does not decode: {error}")),
        };
        let reactions = match self.policy.react(&event).await {
            Ok(reactions) => reactions,
            Err(PolicyError::Transient(reason)) => return Handled::Retried(reason),
            Err(error) => return Handled::DeadLettered(error.to_string()),
        };
        let several = reactions.len() > 1;
        for (index, reaction) in reactions.into_iter().enumerate() {
            // Each command of a multi-command reaction gets its own inbox entry, so a
            // redelivery after a partial success runs only the ones that did not commit.
            let consumer = if several {
                format!("{}#{index}", P::NAME)
            } else {
                P::NAME.to_owned()
            };
            let mut meta = CommandMeta::default()
                .correlation_id(event.correlation_id)
                .causation_id(event.event_id)
                .expect(reaction.expected)
                .inbox(consumer, event.event_id);
            meta.trace = event.trace.clone();
            if let Some(failure) = self.run_one(reaction, meta).await {
                return failure;
            }
        }
        Handled::Done
    }

    async fn run_one(&self, reaction: Reaction<P::Target>, meta: CommandMeta) -> Option<Handled> {
        let creates = reaction.expected == ExpectedVersion::NoStream;
        match self
            .repository
            .execute_with(&reaction.target, reaction.command, meta)
            .await
        {
            Ok(_) | Err(ExecuteError::AlreadyProcessed(_)) => None,
            // A creating command whose aggregate exists ran before (its id is derived from the
            // event), so this is a redelivery whose first run committed.
            Err(ExecuteError::Conflict { .. }) if creates => None,
            Err(error) if error.is_retryable() => Some(Handled::Retried(error.to_string())),
            Err(error) => Some(Handled::DeadLettered(error.to_string())),
        }
    }
}

/// The span of one delivery: its event, correlation and trace, so the policy's log lines
/// (and the command it runs) can be found by the trace id that started in another service.
fn delivery_span(policy: &'static str, message: &crate::bus::Message) -> tracing::Span {
    let envelope = &message.envelope;
    let span = tracing::info_span!(
        "event",
        policy,
        event = %envelope.event_type,
        event_id = %envelope.event_id,
        correlation_id = %envelope.correlation_id,
        trace_id = tracing::field::Empty,
        // The W3C form of the envelope's trace: a subscriber exporting spans (ddd-service's
        // `otlp` feature) makes this span the child of the span that recorded the event.
        traceparent = envelope.trace.as_ref().map(tracing::field::display),
    );
    if let Some(trace) = &envelope.trace {
        span.record(
            "trace_id",
            tracing::field::display(format_args!("{:032x}", trace.trace_id)),
        );
    }
    span
}
