//! Bounded contexts: the unit a service hosts.

use crate::aggregate::Aggregate;
use crate::event::DomainEvent;
use crate::outbox::Routing;
use crate::policy::Policy;

/// What a bounded context is made of: its aggregates, the events it publishes to other
/// contexts, and the policies through which it reacts to theirs.
///
/// `#[derive(BoundedContext)]` writes this impl and checks at compile time that every name
/// in it exists.
pub trait BoundedContext: Send + Sync + 'static {
    /// The context's name; part of every subject it publishes on.
    const NAME: &'static str;

    /// Its aggregates.
    fn aggregates() -> Vec<AggregateInfo>;

    /// The type names of the events other contexts may subscribe to.
    fn published_events() -> Vec<&'static str>;

    /// Its policies.
    fn policies() -> Vec<PolicyInfo>;

    /// Whether an event type leaves the context.
    fn publishes(event_type: &str) -> bool {
        Self::published_events().contains(&event_type)
    }

    /// Routing for its outbox relay: published events on `<system>.<context>.<Event>`.
    fn routing(system: &str) -> Routing {
        Routing::new(system, Self::NAME).publishing(Self::published_events())
    }
}

/// An aggregate of a context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AggregateInfo {
    /// Its stable type name.
    pub name: &'static str,
    /// The type names of its events.
    pub event_types: &'static [&'static str],
}

impl AggregateInfo {
    /// Describes `A`.
    pub fn of<A: Aggregate>() -> Self {
        Self {
            name: A::TYPE,
            event_types: <A::Event as DomainEvent>::event_types(),
        }
    }
}

/// A policy of a context.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PolicyInfo {
    /// Its durable consumer name.
    pub name: &'static str,
    /// The type names of the events it reacts to.
    pub reacts_to: &'static [&'static str],
    /// The aggregate its commands go to.
    pub target: &'static str,
}

impl PolicyInfo {
    /// Describes `P`.
    pub fn of<P: Policy>() -> Self {
        Self {
            name: P::NAME,
            reacts_to: <P::Event as DomainEvent>::event_types(),
            target: <P::Target as Aggregate>::TYPE,
        }
    }
}
