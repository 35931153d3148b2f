//! What changed between two checked models, and whom each change can break: the library
//! side of `ddd diff OLD NEW`.
//!
//! Items are matched by name in their scope (a context in the system, an aggregate in its
//! context, a field in its command, event, view or record), so a rename is a removal and an
//! addition. Each [`Change`] names the item, where it stands in the old model and in the
//! new one (spans in each model's own [`crate::Sources`]), what changed, and which
//! [`Audience`]s it breaks:
//!
//! - **stored events**: events written years ago are read again on every replay. An event
//!   removed, a field of it removed or retyped, a field added that is neither optional nor
//!   given a `= default`, a default removed or changed, or a value, entity or enum that an
//!   event carries changed in the same ways, leaves an old payload unreadable or read
//!   differently.
//! - **other contexts**: the published language. A published event no longer published,
//!   a field of it removed, retyped, widened or made optional, a variant added to or removed
//!   from an enum it carries, or a subject that changes (the system renamed).
//! - **HTTP clients**: the OpenAPI contract. An endpoint removed (an aggregate, a command, a
//!   view, a `creates` that moves a command's path), a command parameter added that is not
//!   optional, removed, retyped or constrained more tightly, a state or view field removed,
//!   retyped or made optional, a `@filter` or `@sort` removed, a view's key changed.
//!
//! A change that breaks stored events or other contexts inside an event whose version goes
//! up (`event E v2(...)`) is *allowed*: the new version tells old payloads apart, and the
//! generator stubs an upcaster where a default does not bridge them (the contract's
//! "Evolution of events"). A version that goes down is an error of the pair ([`Diff::errors`]).
//! Everything else (docs, rules, `sets`, policies, the context map, additions) is safe.

mod compare;
mod fields;
mod usage;

use std::fmt;

use crate::diagnostic::Diagnostic;
use crate::ir::System;
use crate::name::Span;

/// Compares two checked models.
pub fn diff(old: &System, new: &System) -> Diff {
    compare::Differ::new(old, new).run()
}

/// The changes between two models, in the old model's order (what only the new model has
/// after what both have, in its order).
#[derive(Debug, Clone, Default)]
pub struct Diff {
    pub changes: Vec<Change>,
    /// Errors of the pair (an event's version lowered), located in the new model.
    pub errors: Vec<Diagnostic>,
}

impl Diff {
    /// Whether any change breaks someone (a change allowed by a new event version does not).
    pub fn is_breaking(&self) -> bool {
        self.changes.iter().any(Change::is_breaking)
    }
}

/// One item added, removed or changed.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    pub item: Item,
    /// Where the item stands: `Ordering.Order.OrderCancelled.reason`.
    pub path: String,
    pub kind: ChangeKind,
    /// What changed, as a person reads it: ``type `String` → `u32` ``.
    pub details: Vec<String>,
    /// The item in the old model; for an added item, the item it was added to (an event
    /// for its field). None for what JSON or YAML models say, which has no spans.
    pub old: Option<Span>,
    /// The item in the new model; for a removed item, the item it was removed from.
    pub new: Option<Span>,
    /// Whom the change breaks.
    pub breaks: Audiences,
    /// Whom the change would break, but a new version of its event allows it.
    pub allowed: Audiences,
}

impl Change {
    pub fn is_breaking(&self) -> bool {
        !self.breaks.is_empty()
    }

    fn new(item: Item, path: String, kind: ChangeKind) -> Change {
        Change {
            item,
            path,
            kind,
            details: Vec::new(),
            old: None,
            new: None,
            breaks: Audiences::NONE,
            allowed: Audiences::NONE,
        }
    }

    fn added(item: Item, path: String, new: Option<Span>) -> Change {
        Change {
            new,
            ..Change::new(item, path, ChangeKind::Added)
        }
    }

    fn removed(item: Item, path: String, old: Option<Span>) -> Change {
        Change {
            old,
            ..Change::new(item, path, ChangeKind::Removed)
        }
    }

    fn changed(item: Item, path: String, old: Option<Span>, new: Option<Span>) -> Change {
        Change {
            old,
            new,
            ..Change::new(item, path, ChangeKind::Changed)
        }
    }

    #[must_use]
    fn detail(mut self, detail: impl Into<String>) -> Change {
        self.details.push(detail.into());
        self
    }

    #[must_use]
    fn breaking(mut self, audiences: Audiences) -> Change {
        self.breaks = self.breaks.union(audiences);
        self
    }

    /// A new version of the change's event bridges what it breaks for stored events and
    /// other contexts.
    fn bridge(&mut self) {
        let bridged = Audiences::STORED.union(Audiences::CONTEXTS);
        self.allowed = self.allowed.union(self.breaks.intersection(bridged));
        self.breaks = self.breaks.without(bridged);
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    Added,
    Removed,
    Changed,
}

impl ChangeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ChangeKind::Added => "added",
            ChangeKind::Removed => "removed",
            ChangeKind::Changed => "changed",
        }
    }
}

/// What kind of item changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Item {
    System,
    Context,
    Aggregate,
    /// A field of an aggregate's state.
    StateField,
    Command,
    /// A command's parameter.
    Parameter,
    Event,
    EventField,
    /// An event in a context's `publishes`.
    Published,
    View,
    ViewField,
    /// An `on Scope.Event sets ...` of a `by` view.
    ViewHandler,
    Policy,
    Value,
    Entity,
    /// A field of a value or an entity.
    RecordField,
    Enum,
    Variant,
    /// A line of the context map.
    Relation,
}

impl Item {
    /// Kebab case, as `ddd diff --format json` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Item::System => "system",
            Item::Context => "context",
            Item::Aggregate => "aggregate",
            Item::StateField => "state-field",
            Item::Command => "command",
            Item::Parameter => "parameter",
            Item::Event => "event",
            Item::EventField => "event-field",
            Item::Published => "published",
            Item::View => "view",
            Item::ViewField => "view-field",
            Item::ViewHandler => "view-handler",
            Item::Policy => "policy",
            Item::Value => "value",
            Item::Entity => "entity",
            Item::RecordField => "record-field",
            Item::Enum => "enum",
            Item::Variant => "variant",
            Item::Relation => "relation",
        }
    }

    /// As a person names it: `event field`.
    pub fn label(self) -> String {
        self.as_str().replace('-', " ")
    }
}

/// Who depends on what a model says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Audience {
    /// Events already in the stores, read on every replay.
    StoredEvents,
    /// Contexts that subscribe to published events.
    OtherContexts,
    /// Clients of the services' HTTP APIs (OpenAPI).
    HttpClients,
}

impl Audience {
    pub const ALL: [Audience; 3] = [
        Audience::StoredEvents,
        Audience::OtherContexts,
        Audience::HttpClients,
    ];

    /// Kebab case, as `ddd diff --format json` writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::StoredEvents => "stored-events",
            Audience::OtherContexts => "other-contexts",
            Audience::HttpClients => "http-clients",
        }
    }

    fn bit(self) -> u8 {
        match self {
            Audience::StoredEvents => 1,
            Audience::OtherContexts => 2,
            Audience::HttpClients => 4,
        }
    }
}

impl fmt::Display for Audience {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.as_str().replace('-', " "))
    }
}

/// A set of [`Audience`]s.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Audiences(u8);

impl Audiences {
    pub const NONE: Audiences = Audiences(0);
    pub const STORED: Audiences = Audiences(1);
    pub const CONTEXTS: Audiences = Audiences(2);
    pub const HTTP: Audiences = Audiences(4);

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, audience: Audience) -> bool {
        self.0 & audience.bit() != 0
    }

    /// In [`Audience::ALL`]'s order.
    pub fn iter(self) -> impl Iterator<Item = Audience> {
        Audience::ALL.into_iter().filter(move |a| self.contains(*a))
    }

    #[must_use]
    pub fn union(self, other: Audiences) -> Audiences {
        Audiences(self.0 | other.0)
    }

    #[must_use]
    fn intersection(self, other: Audiences) -> Audiences {
        Audiences(self.0 & other.0)
    }

    #[must_use]
    fn without(self, other: Audiences) -> Audiences {
        Audiences(self.0 & !other.0)
    }

    /// `these` when `when` holds, else none: one audience of a rule.
    fn when(when: bool, these: Audiences) -> Audiences {
        if when { these } else { Audiences::NONE }
    }
}
