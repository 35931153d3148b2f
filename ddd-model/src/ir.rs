//! The model: the one representation everything downstream reads (validation, generation,
//! diagrams), whether it came from a `.ddd` file, JSON or YAML.
//!
//! Serialized with serde; `ddd schema` prints its JSON Schema. A model that passed
//! [`crate::check`] has every type reference resolved to a qualified path (no [`Type::Named`]
//! left), every expression typed, and the derived parts (`translation`, `emit_plans`,
//! `apply`, and a view's `copy` and `resolved`) filled in; those are recomputed on every
//! check, so input may leave them out.

mod expr;
mod plan;
mod ty;
mod view;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use self::expr::*;
pub use self::plan::*;
pub use self::ty::*;
pub use self::view::*;
use crate::name::{Name, Origin};

/// A whole model: the generated workspace.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct System {
    /// The system's name (PascalCase): the generated workspace's name.
    pub name: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// Values of the shared kernel, visible in every context.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Record>,
    /// Enums of the shared kernel, visible in every context.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enums: Vec<Enum>,
    /// Named types of the shared kernel (`type Quantity = u32 @range(1..=99)`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<Alias>,
    #[serde(default)]
    pub contexts: Vec<Context>,
    /// The context map.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub relations: Vec<Relation>,
}

/// A bounded context: one service.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Context {
    pub name: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// The kind of subdomain the context serves.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<SubdomainKind>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Record>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enums: Vec<Enum>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<Alias>,
    #[serde(default)]
    pub aggregates: Vec<Aggregate>,
    /// Events of this context that other contexts may subscribe to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publishes: Vec<Name>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Policy>,
    /// The read side: rows built from aggregates' state or from events.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub views: Vec<View>,
}

/// An aggregate. It has an implicit identity `id` of type `<Name>Id` and a `version`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Aggregate {
    pub name: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// The state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub entities: Vec<Record>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Record>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enums: Vec<Enum>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<Alias>,
    /// State machines over enum-typed state fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lifecycles: Vec<Lifecycle>,
    #[serde(default)]
    pub commands: Vec<Command>,
    #[serde(default)]
    pub events: Vec<Event>,
}

/// The kind of subdomain a context serves: where a team invests most (`core`), what it needs
/// but does not sell (`supporting`), what it could buy (`generic`).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum SubdomainKind {
    Core,
    Supporting,
    Generic,
}

impl SubdomainKind {
    pub const ALL: &[SubdomainKind] = &[
        SubdomainKind::Core,
        SubdomainKind::Supporting,
        SubdomainKind::Generic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SubdomainKind::Core => "core",
            SubdomainKind::Supporting => "supporting",
            SubdomainKind::Generic => "generic",
        }
    }

    pub fn parse(text: &str) -> Option<SubdomainKind> {
        SubdomainKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.as_str() == text)
    }
}

/// `type Quantity = u32 @range(1..=99)`: a field of this type has the type and the
/// constraints (before its own).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Alias {
    pub name: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    #[serde(rename = "type")]
    pub ty: Type,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Constraint>,
    #[serde(skip)]
    #[schemars(skip)]
    pub ty_origin: Origin,
}

/// `lifecycle status { Placed -> Paid by MarkPaid }`: which commands may run in which state
/// of an enum-typed state field, and the state their events leave it in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Lifecycle {
    /// The enum-typed state field.
    pub field: Name,
    pub transitions: Vec<Transition>,
}

/// `Placed, Paid -> Cancelled by Cancel`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Transition {
    pub from: Vec<Name>,
    pub to: Name,
    pub by: Vec<Name>,
}

/// `requires not checked_out else "the cart is checked out"`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Guard {
    /// A `bool` over the command's parameters and the state.
    pub rule: Expr,
    /// What a rejection says; without one, it names the rule.
    #[serde(default, rename = "else", skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// `field = EXPR` after an event's `sets`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    pub field: Name,
    pub value: Expr,
}

/// A value or an entity: named fields. Which one it is follows from the list holding it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Record {
    pub name: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    #[serde(default)]
    pub fields: Vec<Field>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Enum {
    pub name: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    pub variants: Vec<Variant>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Variant {
    pub name: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
}

/// A field of a record, of an aggregate's state, or a parameter of a command or an event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub name: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    #[serde(rename = "type")]
    pub ty: Type,
    /// Checked whenever a command is built (from HTTP, the bus or code).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<Constraint>,
    /// `@key`: the identity of an entity; `upsert` and `remove` find elements by it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub key: bool,
    /// `= EXPR`: the value of an event field missing from an older payload.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<Expr>,
    /// Where the type was written.
    #[serde(skip)]
    #[schemars(skip)]
    pub ty_origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Command {
    pub name: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub params: Vec<Field>,
    /// Makes a new aggregate instead of acting on an existing one.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub creates: bool,
    /// Rules the command must meet; a broken one rejects it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub requires: Vec<Guard>,
    /// Events of the same aggregate.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emits: Vec<Name>,
    /// Derived (ignored on input): how each emitted event's fields are filled, in `emits` order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emit_plans: Vec<EmitPlan>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Event {
    pub name: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// The schema version (`event OrderCancelled v2(...)`), from 1.
    #[serde(default = "first_version", skip_serializing_if = "is_first_version")]
    #[schemars(range(min = 1))]
    pub version: u32,
    /// Where the version was written (`v2`); none for a first version left implicit.
    #[serde(skip)]
    #[schemars(skip)]
    pub version_origin: Origin,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
    /// How applying the event changes the state, on top of copying same-name fields.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sets: Vec<Assignment>,
    /// Derived (ignored on input): the state fields `apply` sets from this event.
    #[serde(default, skip_serializing_if = "ApplyPlan::is_empty")]
    pub apply: ApplyPlan,
}

/// `on <on.context>.<on.event> run <run.aggregate>.<run.command> with <field> = <from>, ...`:
/// a published event of a context runs a command of this one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    pub on: EventRef,
    pub run: CommandRef,
    /// Explicit mappings: command field = event field.
    #[serde(default, rename = "with", skip_serializing_if = "Vec::is_empty")]
    pub mappings: Vec<Mapping>,
    /// Derived (ignored on input): how the event becomes the command.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub translation: Option<Translation>,
    #[serde(skip)]
    #[schemars(skip)]
    pub origin: Origin,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct EventRef {
    pub context: Name,
    pub event: Name,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CommandRef {
    pub aggregate: Name,
    pub command: Name,
}

/// `field = EXPR`: the command's `field` takes the value of `EXPR` over the event's fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub field: Name,
    pub from: Expr,
}

fn first_version() -> u32 {
    1
}

#[expect(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if"
)]
fn is_first_version(version: &u32) -> bool {
    *version == 1
}

/// A line of the context map: `from -> to : kind` (`from` is upstream) or, with
/// `both_ways`, `from <-> to : kind`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Relation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    pub from: Name,
    pub to: Name,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub both_ways: bool,
    pub kind: RelationKind,
    /// Roles `from` plays: `open-host`, `published-language`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub from_roles: Vec<RelationKind>,
    /// Roles `to` plays: `anticorruption-layer`, `conformist`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub to_roles: Vec<RelationKind>,
    /// Where the arrow was written.
    #[serde(skip)]
    #[schemars(skip)]
    pub origin: Origin,
    #[serde(skip)]
    #[schemars(skip)]
    pub role_origins: RoleOrigins,
}

/// Where each role of a relation was written, in the order of `from_roles` and `to_roles`.
/// Like every origin, not part of what the model says: always equal.
#[derive(Debug, Clone, Default)]
pub struct RoleOrigins {
    pub from: Vec<Origin>,
    pub to: Vec<Origin>,
}

impl PartialEq for RoleOrigins {
    fn eq(&self, _: &RoleOrigins) -> bool {
        true
    }
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case")]
pub enum RelationKind {
    CustomerSupplier,
    Conformist,
    AnticorruptionLayer,
    OpenHost,
    PublishedLanguage,
    /// Only with `<->`.
    SharedKernel,
    /// Only with `<->`.
    Partnership,
}

impl RelationKind {
    pub const ALL: &[RelationKind] = &[
        RelationKind::CustomerSupplier,
        RelationKind::Conformist,
        RelationKind::AnticorruptionLayer,
        RelationKind::OpenHost,
        RelationKind::PublishedLanguage,
        RelationKind::SharedKernel,
        RelationKind::Partnership,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RelationKind::CustomerSupplier => "customer-supplier",
            RelationKind::Conformist => "conformist",
            RelationKind::AnticorruptionLayer => "anticorruption-layer",
            RelationKind::OpenHost => "open-host",
            RelationKind::PublishedLanguage => "published-language",
            RelationKind::SharedKernel => "shared-kernel",
            RelationKind::Partnership => "partnership",
        }
    }

    pub fn parse(text: &str) -> Option<RelationKind> {
        RelationKind::ALL
            .iter()
            .copied()
            .find(|kind| kind.as_str() == text)
    }

    /// Symmetric kinds relate two contexts as equals and are written with `<->`.
    pub fn is_symmetric(self) -> bool {
        matches!(self, RelationKind::SharedKernel | RelationKind::Partnership)
    }
}

/// A record or enum definition found by [`System::type_def`].
#[derive(Debug, Clone, Copy)]
pub enum TypeDef<'a> {
    Value(&'a Record),
    Entity(&'a Record),
    Enum(&'a Enum),
}

impl TypeDef<'_> {
    pub fn kind(self) -> TypeKind {
        match self {
            TypeDef::Value(_) => TypeKind::Value,
            TypeDef::Entity(_) => TypeKind::Entity,
            TypeDef::Enum(_) => TypeKind::Enum,
        }
    }
}

impl System {
    pub fn context(&self, name: &str) -> Option<&Context> {
        self.contexts.iter().find(|context| context.name == name)
    }

    /// The aggregate of that name (aggregate names are unique in a system) and its context.
    pub fn aggregate(&self, name: &str) -> Option<(&Context, &Aggregate)> {
        self.contexts.iter().find_map(|context| {
            context
                .aggregate(name)
                .map(|aggregate| (context, aggregate))
        })
    }

    /// The definition a qualified path names.
    pub fn type_def(&self, path: &TypePath) -> Option<TypeDef<'_>> {
        let (values, entities, enums): (&[Record], &[Record], &[Enum]) =
            match (&path.context, &path.aggregate) {
                (None, _) => (&self.values, &[], &self.enums),
                (Some(context), None) => {
                    let context = self.context(context)?;
                    (&context.values, &[], &context.enums)
                }
                (Some(context), Some(aggregate)) => {
                    let aggregate = self.context(context)?.aggregate(aggregate)?;
                    (&aggregate.values, &aggregate.entities, &aggregate.enums)
                }
            };
        let name = path.name.as_str();
        (values.iter().find(|r| r.name == name).map(TypeDef::Value))
            .or_else(|| {
                entities
                    .iter()
                    .find(|r| r.name == name)
                    .map(TypeDef::Entity)
            })
            .or_else(|| enums.iter().find(|e| e.name == name).map(TypeDef::Enum))
    }

    /// Every policy of the system, with the context it runs in, in the model's order.
    pub fn policies(&self) -> impl Iterator<Item = (&Context, &Policy)> {
        self.contexts
            .iter()
            .flat_map(|context| context.policies.iter().map(move |policy| (context, policy)))
    }

    /// The fields of the value or entity at `path`.
    pub fn record(&self, path: &TypePath) -> Option<&Record> {
        match self.type_def(path)? {
            TypeDef::Value(record) | TypeDef::Entity(record) => Some(record),
            TypeDef::Enum(_) => None,
        }
    }
}

impl Context {
    pub fn aggregate(&self, name: &str) -> Option<&Aggregate> {
        self.aggregates
            .iter()
            .find(|aggregate| aggregate.name == name)
    }

    /// The event of that name (event names are unique in a context) and its aggregate.
    pub fn event(&self, name: &str) -> Option<(&Aggregate, &Event)> {
        self.aggregates
            .iter()
            .find_map(|aggregate| aggregate.event(name).map(|event| (aggregate, event)))
    }

    pub fn publishes(&self, event: &str) -> bool {
        self.publishes.iter().any(|name| name == event)
    }

    pub fn view(&self, name: &str) -> Option<&View> {
        self.views.iter().find(|view| view.name == name)
    }
}

impl Aggregate {
    pub fn command(&self, name: &str) -> Option<&Command> {
        self.commands.iter().find(|command| command.name == name)
    }

    pub fn event(&self, name: &str) -> Option<&Event> {
        self.events.iter().find(|event| event.name == name)
    }

    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|field| field.name == name)
    }

    /// The lifecycle transition `command` makes, if any (a command is in at most one
    /// transition per lifecycle; validation reports more).
    pub fn transitions_of<'a>(
        &'a self,
        command: &'a str,
    ) -> impl Iterator<Item = (&'a Lifecycle, &'a Transition)> + 'a {
        self.lifecycles.iter().filter_map(move |lifecycle| {
            lifecycle
                .transitions
                .iter()
                .find(|t| t.by.iter().any(|by| by == command))
                .map(|t| (lifecycle, t))
        })
    }

    /// The name of the identity type: `Order` → `OrderId`.
    pub fn id_type_name(&self) -> String {
        format!("{}{}", self.name, crate::symbol::ID_SUFFIX)
    }
}

pub(crate) fn field<'a>(fields: &'a [Field], name: &str) -> Option<&'a Field> {
    fields.iter().find(|field| field.name == name)
}
