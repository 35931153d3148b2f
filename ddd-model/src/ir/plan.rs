//! What the generator can write by itself: how a policy turns an event into a command, how a
//! command fills the events it emits, and which state fields an event sets. Derived by
//! [`crate::check`]; every part it cannot derive is a [`Source::NeedsCode`] saying what is
//! missing, for which the generator writes a stub a person fills in.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::TypePath;
use crate::name::Name;

/// How a policy's event becomes its command.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Translation {
    /// Which aggregate instance runs the command.
    pub target: Target,
    /// One entry per command parameter, in the command's order.
    pub fields: Vec<FieldPlan>,
    /// Every record conversion the `fields` use, transitively.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conversions: Vec<RecordConversion>,
}

impl Translation {
    /// Whether the generator must write a stub for a person to fill in.
    pub fn needs_code(&self) -> bool {
        matches!(self.target, Target::NeedsCode { .. })
            || self.fields.iter().any(FieldPlan::needs_code)
    }
}

/// The aggregate instance a policy's command goes to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "from", rename_all = "snake_case", deny_unknown_fields)]
pub enum Target {
    /// A `creates` command: a new id derived deterministically from the event's id, so a
    /// redelivered event cannot create two aggregates.
    NewFromEventId,
    /// The event's only field of type `<Aggregate>Id`.
    EventField {
        field: Name,
    },
    /// The id of the aggregate that emitted the event, which is the target's type.
    EmittingAggregate,
    NeedsCode {
        reason: String,
    },
}

/// Where one field (of a command or an event) gets its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldPlan {
    pub field: Name,
    pub source: Source,
}

impl FieldPlan {
    pub fn needs_code(&self) -> bool {
        matches!(self.source, Source::NeedsCode { .. })
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "from", rename_all = "snake_case", deny_unknown_fields)]
pub enum Source {
    /// A field of the event that triggered a policy.
    EventField { field: Name, conversion: Conversion },
    /// A parameter of the command that emits the event.
    CommandField { field: Name, conversion: Conversion },
    /// A field of the aggregate's state (before the command), for events of non-`creates`
    /// commands.
    StateField { field: Name, conversion: Conversion },
    /// An aggregate's id: in a policy, of the aggregate that emitted the event; in an emit
    /// plan, of the aggregate handling the command.
    AggregateId { conversion: Conversion },
    /// An expression over the event's fields (`with total = Money { ... }`), typed.
    Computed { expr: super::Expr },
    /// The event field's default (`cancelled_by: String = "customer"`).
    Default,
    /// Nothing to derive it from: a stub that names `reason` until a person writes it.
    NeedsCode { reason: String },
}

/// How a value of one type becomes a value of another.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Conversion {
    /// The same type: moved or cloned as it is.
    Same,
    /// `T` into `Option<T>`: wrapped in `Some`.
    Some(Box<Conversion>),
    /// Element-wise inside `Option`, `Vec` and `Map`.
    Option(Box<Conversion>),
    Vec(Box<Conversion>),
    Map(Box<Conversion>),
    /// One record into another with the same field names; see the plan's `conversions`.
    Record(Box<RecordPair>),
    /// An integer into a wider integer type (`u32` into `i64`): no value is lost.
    Widen(super::Type),
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordPair {
    pub from: TypePath,
    pub to: TypePath,
}

/// Builds the `to` record field by field from the `from` record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordConversion {
    pub from: TypePath,
    pub to: TypePath,
    /// One per field of `to` (which has the same field names as `from`), in `to`'s order.
    pub fields: Vec<FieldConversion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FieldConversion {
    pub field: Name,
    pub conversion: Conversion,
}

/// How a command fills one event it emits.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EmitPlan {
    pub event: Name,
    /// One entry per event field, in the event's order.
    pub fields: Vec<FieldPlan>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conversions: Vec<RecordConversion>,
}

/// Which state fields `apply` sets from an event: those sharing a name and a compatible type
/// with an event field. Other state fields keep their value. An event that carries every
/// field of the records a `Vec` state field holds (and does not name that field itself) adds
/// one such record to it: `ItemAdded(product, quantity)` appends to `items: Vec<Item>`.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ApplyPlan {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub updates: Vec<StateUpdate>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub appends: Vec<StateAppend>,
    /// Lifecycle fields the event moves to a state (the transition of the command that
    /// emits it).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub moves: Vec<StateMove>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conversions: Vec<RecordConversion>,
}

impl ApplyPlan {
    pub fn is_empty(&self) -> bool {
        self.updates.is_empty()
            && self.appends.is_empty()
            && self.moves.is_empty()
            && self.conversions.is_empty()
    }
}

/// A lifecycle field set to a state by an event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateMove {
    pub field: Name,
    pub to: Name,
}

/// A record built from event fields and pushed onto a `Vec` state field (or, for an entity
/// with a `@key`, replacing the element with the same key).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateAppend {
    /// The `Vec` state field.
    pub field: Name,
    /// The value or entity it holds.
    pub record: TypePath,
    /// The entity's `@key` field: an element with the same key is replaced.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key: Option<Name>,
    /// One per field of the record, from the event field of the same name.
    pub fields: Vec<FieldConversion>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StateUpdate {
    /// The state field.
    pub field: Name,
    /// The event field.
    pub from: Name,
    pub conversion: Conversion,
}
