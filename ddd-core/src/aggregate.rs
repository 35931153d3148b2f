//! Aggregates: the consistency boundary that decides (`handle`) and evolves (`apply`).

use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::str::FromStr;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::command::Command;
use crate::event::DomainEvent;

pub use crate::event::Version;

/// What an append expects the stream's current version to be.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Default)]
pub enum ExpectedVersion {
    /// Append whatever the stream holds: no optimistic concurrency check.
    #[default]
    Any,
    /// The stream must not exist yet (a command that creates an aggregate).
    NoStream,
    /// The stream must be exactly at this version (0 is the same as [`ExpectedVersion::NoStream`]).
    Exact(Version),
}

impl ExpectedVersion {
    /// Whether a stream currently at `actual` satisfies this expectation.
    pub fn accepts(self, actual: Version) -> bool {
        match self {
            Self::Any => true,
            Self::NoStream => actual == 0,
            Self::Exact(expected) => actual == expected,
        }
    }
}

impl fmt::Display for ExpectedVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any version"),
            Self::NoStream => f.write_str("no stream"),
            Self::Exact(version) => write!(f, "version {version}"),
        }
    }
}

/// An aggregate's identity. Blanket-implemented: `Uuid`, `String` and newtypes made with
/// [`aggregate_id!`](crate::aggregate_id) all qualify. Its `Display` form is the stream id.
pub trait AggregateId:
    Clone
    + Eq
    + Hash
    + fmt::Display
    + fmt::Debug
    + FromStr
    + Serialize
    + DeserializeOwned
    + Send
    + Sync
    + 'static
{
}

impl<T> AggregateId for T where
    T: Clone
        + Eq
        + Hash
        + fmt::Display
        + fmt::Debug
        + FromStr
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + 'static
{
}

/// An event-sourced aggregate.
///
/// `handle` decides: given the current state and a command it returns the events to record,
/// or a domain error. It never mutates the state and does no IO of its own; what it needs from
/// outside (a clock, a price list, a remote check) comes through `services`.
/// `apply` evolves: it folds one recorded event into the state and cannot fail, because the
/// event already happened.
///
/// `#[derive(Aggregate)]` writes this impl; see the crate docs for the attributes.
pub trait Aggregate: Default + Serialize + DeserializeOwned + Send + Sync + 'static {
    /// Stable type name, stored with every event of this aggregate. Renaming the Rust type
    /// must not change it.
    const TYPE: &'static str;
    /// Bumped when the state's shape changes, so snapshots taken of an older shape are
    /// ignored and the state is rebuilt from events instead.
    const SNAPSHOT_VERSION: u32 = 1;

    /// The identity type.
    type Id: AggregateId;
    /// The commands this aggregate decides on.
    type Command: Command;
    /// The events it records.
    type Event: DomainEvent;
    /// Why a command was rejected.
    type Error: std::error::Error + Send + Sync + 'static;
    /// What `handle` may call out to. `()` when it needs nothing.
    type Services: Send + Sync + 'static;

    /// Decide: the events a command produces on the current state, or why it is rejected.
    fn handle(
        &self,
        command: Self::Command,
        services: &Self::Services,
    ) -> impl Future<Output = Result<Vec<Self::Event>, Self::Error>> + Send;

    /// Evolve: fold one event into the state.
    fn apply(&mut self, event: &Self::Event);

    /// Called with the aggregate's id before its first event is applied, for aggregates that
    /// keep their id in their state (`#[aggregate(id)]` on a field).
    fn set_id(&mut self, id: &Self::Id) {
        let _ = id;
    }

    /// Called after events are applied with the version they brought the aggregate to, for
    /// aggregates that keep it in their state (`#[aggregate(version)]` on a field).
    fn set_version(&mut self, version: Version) {
        let _ = version;
    }
}

/// An aggregate's state together with its identity and the version it was built from.
#[derive(Clone, Debug, PartialEq)]
pub struct AggregateRoot<A: Aggregate> {
    id: A::Id,
    version: Version,
    state: A,
}

impl<A: Aggregate> AggregateRoot<A> {
    /// A fresh aggregate with no events.
    pub fn new(id: A::Id) -> Self {
        let mut state = A::default();
        state.set_id(&id);
        Self {
            id,
            version: 0,
            state,
        }
    }

    /// Rebuilds from a known state (a snapshot) at `version`.
    pub fn from_snapshot(id: A::Id, version: Version, mut state: A) -> Self {
        state.set_id(&id);
        state.set_version(version);
        Self { id, version, state }
    }

    /// The aggregate's identity.
    pub fn id(&self) -> &A::Id {
        &self.id
    }

    /// The version of the last applied event; 0 when none.
    pub fn version(&self) -> Version {
        self.version
    }

    /// Whether any event has been applied.
    pub fn exists(&self) -> bool {
        self.version > 0
    }

    /// The current state.
    pub fn state(&self) -> &A {
        &self.state
    }

    /// Takes the state out.
    pub fn into_state(self) -> A {
        self.state
    }

    /// Applies one event that brings the aggregate to `version`.
    pub fn apply(&mut self, event: &A::Event, version: Version) {
        self.state.apply(event);
        self.version = version;
        self.state.set_version(version);
    }

    /// Applies events that follow the current version, one version each.
    pub fn apply_all<'a>(&mut self, events: impl IntoIterator<Item = &'a A::Event>) {
        for event in events {
            let next = self.version + 1;
            self.apply(event, next);
        }
    }
}

/// Declares a UUID newtype for an aggregate's id, with `Display`, `FromStr`, serde (as a bare
/// UUID string) and a `new()` that makes a time-ordered UUID v7.
///
/// ```
/// ddd_core::aggregate_id! {
///     /// Identifies a bank account.
///     pub AccountId
/// }
/// let id = AccountId::new();
/// assert_eq!(id, id.to_string().parse().unwrap());
/// ```
#[macro_export]
macro_rules! aggregate_id {
    ($(#[$meta:meta])* $vis:vis $name:ident) => {
        $(#[$meta])*
        #[derive(
            ::core::clone::Clone, ::core::marker::Copy, ::core::fmt::Debug, ::core::cmp::PartialEq,
            ::core::cmp::Eq, ::core::hash::Hash, ::core::cmp::PartialOrd, ::core::cmp::Ord,
        )]
        $vis struct $name(pub $crate::__private::Uuid);

        #[allow(dead_code, reason = "helpers that a given id type may not need")]
        impl $name {
            /// A new, time-ordered (UUID v7) id.
            #[allow(clippy::new_without_default, reason = "a default id would be a shared, non-unique value")]
            $vis fn new() -> Self {
                Self($crate::__private::Uuid::now_v7())
            }

            /// An id derived deterministically from a name within a namespace (UUID v5),
            /// e.g. from the id of the event that caused the aggregate to be created, so a
            /// redelivered event cannot create two aggregates.
            $vis fn derived_from(namespace: &$crate::__private::Uuid, name: &[u8]) -> Self {
                Self($crate::__private::Uuid::new_v5(namespace, name))
            }

            /// The UUID inside.
            $vis fn as_uuid(&self) -> &$crate::__private::Uuid {
                &self.0
            }
        }

        #[automatically_derived]
        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                ::core::fmt::Display::fmt(&self.0, f)
            }
        }

        #[automatically_derived]
        impl ::core::str::FromStr for $name {
            type Err = $crate::__private::UuidError;
            fn from_str(s: &str) -> ::core::result::Result<Self, Self::Err> {
                ::core::result::Result::map(<$crate::__private::Uuid as ::core::str::FromStr>::from_str(s), Self)
            }
        }

        #[automatically_derived]
        impl ::core::convert::From<$crate::__private::Uuid> for $name {
            fn from(uuid: $crate::__private::Uuid) -> Self {
                Self(uuid)
            }
        }

        #[automatically_derived]
        impl $crate::__private::Serialize for $name {
            fn serialize<S: $crate::__private::Serializer>(&self, serializer: S) -> ::core::result::Result<S::Ok, S::Error> {
                $crate::__private::Serialize::serialize(&self.0, serializer)
            }
        }

        #[automatically_derived]
        impl<'de> $crate::__private::Deserialize<'de> for $name {
            fn deserialize<D: $crate::__private::Deserializer<'de>>(deserializer: D) -> ::core::result::Result<Self, D::Error> {
                ::core::result::Result::map(<$crate::__private::Uuid as $crate::__private::Deserialize<'de>>::deserialize(deserializer), Self)
            }
        }
    };
}

/// Routes a command to the aggregate method that decides it. `#[derive(Command)]` with
/// `#[command(aggregate = A)]` implements it by calling `A::handle_<variant>` per variant;
/// `#[derive(Aggregate)]` calls it unless `#[aggregate(handle = ...)]` names a function.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not dispatch to the handlers of `{A}`",
    label = "no per-variant dispatch for this command type",
    note = "add `#[command(aggregate = {A})]` to `{Self}` to call `{A}::handle_<variant>` methods, or name one decision function with `#[aggregate(handle = path::to::decide)]`"
)]
pub trait DispatchCommand<A: Aggregate>: Sized {
    /// Decides `self` on `aggregate`.
    fn dispatch(
        self,
        aggregate: &A,
        services: &A::Services,
    ) -> impl Future<Output = Result<Vec<A::Event>, A::Error>> + Send;
}

/// Routes an event to the aggregate method that applies it. `#[derive(DomainEvent)]` with
/// `#[event(aggregate = A)]` implements it by calling `A::apply_<variant>` per variant.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not dispatch to the appliers of `{A}`",
    label = "no per-variant dispatch for this event type",
    note = "add `#[event(aggregate = {A})]` to `{Self}` to call `{A}::apply_<variant>` methods, or name one function with `#[aggregate(apply = path::to::evolve)]`"
)]
pub trait DispatchEvent<A> {
    /// Applies `self` to `aggregate`.
    fn dispatch(&self, aggregate: &mut A);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expected_version_accepts_only_matching_streams() {
        assert!(ExpectedVersion::Any.accepts(7));
        assert!(ExpectedVersion::NoStream.accepts(0));
        assert!(!ExpectedVersion::NoStream.accepts(1));
        assert!(ExpectedVersion::Exact(3).accepts(3));
        assert!(!ExpectedVersion::Exact(3).accepts(4));
    }

    crate::aggregate_id!(pub(crate) ThingId);

    #[test]
    fn aggregate_id_round_trips_through_text_and_json() {
        let id = ThingId::new();
        assert_eq!(id, id.to_string().parse::<ThingId>().unwrap());
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, format!("\"{id}\""));
        assert_eq!(id, serde_json::from_str::<ThingId>(&json).unwrap());
        assert!("not-a-uuid".parse::<ThingId>().is_err());
    }

    #[test]
    fn derived_ids_are_deterministic() {
        let ns = uuid::Uuid::now_v7();
        assert_eq!(
            ThingId::derived_from(&ns, b"x"),
            ThingId::derived_from(&ns, b"x")
        );
        assert_ne!(
            ThingId::derived_from(&ns, b"x"),
            ThingId::derived_from(&ns, b"y")
        );
    }
}
