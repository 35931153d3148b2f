//! The model: the one representation everything downstream reads (validation, generation,
//! diagrams), whether it came from a `.ddd` file, JSON or YAML.
//!
//! Serialized with serde; `ddd schema` prints its JSON Schema. A model that passed
//! [`crate::check`] has every type reference resolved to a qualified path (no [`Type::Named`]
//! left) and the derived parts (`translation`, `emit_plans`, `apply`) filled in; those are
//! recomputed on every check, so input may leave them out.

mod plan;
mod ty;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use self::plan::*;
pub use self::ty::*;
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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<Record>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enums: Vec<Enum>,
    #[serde(default)]
    pub aggregates: Vec<Aggregate>,
    /// Events of this context that other contexts may subscribe to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub publishes: Vec<Name>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub policies: Vec<Policy>,
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
    #[serde(default)]
    pub commands: Vec<Command>,
    #[serde(default)]
    pub events: Vec<Event>,
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
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fields: Vec<Field>,
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

/// `field = from`: the command's `field` takes the event's `from`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Mapping {
    pub field: Name,
    pub from: Name,
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
    #[serde(skip)]
    #[schemars(skip)]
    pub origin: Origin,
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

    /// The name of the identity type: `Order` → `OrderId`.
    pub fn id_type_name(&self) -> String {
        format!("{}{}", self.name, crate::symbol::ID_SUFFIX)
    }
}

pub(crate) fn field<'a>(fields: &'a [Field], name: &str) -> Option<&'a Field> {
    fields.iter().find(|field| field.name == name)
}
