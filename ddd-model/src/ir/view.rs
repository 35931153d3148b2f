//! The read side: views, their fields, and the events that feed them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Assignment, Conversion, Expr, Field, Type};
use crate::name::{Name, Origin};

/// `view OrderSummary from Order { ... }` or `view CustomerTotals by customer: Uuid { ... }`:
/// a read model. Stored in its context's own database (a table per view), kept by the runtime
/// exactly once per event, rebuildable from the events, and served over HTTP at
/// [`View::route`] (`GET /<views>` with filters, sort and cursor pagination;
/// `GET /<views>/{key}`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct View {
    pub name: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    /// Where the rows come from.
    pub source: ViewSource,
    /// The row's fields, besides the implicit ones (see [`ViewSource`]).
    #[serde(default)]
    pub fields: Vec<ViewField>,
    /// `on Scope.Event sets ...`: the events a `by` view is fed by (a `from` view has none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub handlers: Vec<ViewHandler>,
}

/// In JSON: `{"from": "Order"}` or `{"by": {"name": "customer", "type": "uuid"}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum ViewSource {
    /// `from Order`: a row per aggregate of the view's context, from its state. The row also
    /// has the aggregate's `id` (its key), `version`, `created_at` and `updated_at`.
    From(Name),
    /// `by customer: Uuid`: a row per value of the key, made by the first event that names
    /// it, its fields starting at their type's default. The row also has a `version` and an
    /// `updated_at`.
    By(Box<Field>),
}

/// A field of a view.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewField {
    pub name: Name,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    #[serde(rename = "type")]
    pub ty: Type,
    /// `@filter`: rows can be filtered by equality on this field; it is indexed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub filter: bool,
    /// `@sort`: rows can be sorted by this field; it is indexed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub sort: bool,
    /// `= EXPR`, in a `from` view: the value, over the aggregate's state fields and its
    /// implicit `id`, `version`, `created_at` and `updated_at`. In the typed tree these read
    /// as [`NameScope::State`](super::NameScope::State): an implicit one is a name that is no
    /// state field of the aggregate.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Expr>,
    /// Derived (ignored on input): for a field of a `from` view without `= EXPR`, how the
    /// state field of the same name becomes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub copy: Option<Conversion>,
    /// Where the type was written.
    #[serde(skip)]
    #[schemars(skip)]
    pub ty_origin: Origin,
    /// Where `@filter` and `@sort` were written.
    #[serde(skip)]
    #[schemars(skip)]
    pub marks: MarkOrigins,
}

/// Where a view field's `@filter` and `@sort` were written. Like every origin, not part of
/// what the model says: always equal.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct MarkOrigins {
    pub filter: Origin,
    pub sort: Origin,
}

/// `on Order.OrderPlaced sets orders = orders + 1`: how an event changes the row of the key
/// it carries (the event's field named like the view's key).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ViewHandler {
    pub on: HandlerRef,
    /// Over the row before the event (its fields and key, read as
    /// [`NameScope::State`](super::NameScope::State)) and the event's fields
    /// ([`NameScope::Event`](super::NameScope::Event); the key is read from the row, where
    /// it has the same value).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub sets: Vec<Assignment>,
    /// Derived (ignored on input): the event `on` names, found.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolved: Option<HandledEvent>,
    /// Where `Scope.Event` was written.
    #[serde(skip)]
    #[schemars(skip)]
    pub origin: Origin,
}

/// `Order.OrderPlaced` (an aggregate of the view's context and one of its events) or
/// `Payments.PaymentCaptured` (another context and an event it publishes).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandlerRef {
    pub scope: Name,
    pub event: Name,
}

/// The event a view handler reads, and how.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HandledEvent {
    /// The context of the aggregate that emits the event.
    pub context: Name,
    pub aggregate: Name,
    pub event: Name,
    pub delivery: Delivery,
    /// How the event's field named like the view's key becomes the key.
    pub key: Conversion,
}

/// How an event reaches a view.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// An event of the view's own context, read from that context's event store.
    Local,
    /// An event another context publishes: it comes over the message bus.
    Bus,
}

impl View {
    /// The aggregate a `from` view shows.
    pub fn aggregate(&self) -> Option<&Name> {
        match &self.source {
            ViewSource::From(aggregate) => Some(aggregate),
            ViewSource::By(_) => None,
        }
    }

    /// The key of a `by` view.
    pub fn key(&self) -> Option<&Field> {
        match &self.source {
            ViewSource::From(_) => None,
            ViewSource::By(key) => Some(key),
        }
    }

    pub fn field(&self, name: &str) -> Option<&ViewField> {
        self.fields.iter().find(|field| field.name == name)
    }

    /// The HTTP collection of the view: `OrderSummary` → `/order-summaries`,
    /// `CustomerTotals` → `/customer-totals`.
    pub fn route(&self) -> String {
        ddd_names::view_route(&self.name)
    }

    /// The names a row has without declaring them: a `from` view's `id`, `version`,
    /// `created_at` and `updated_at`; a `by` view's `version` and `updated_at` (its key is
    /// declared).
    pub fn implicit_fields(&self) -> &'static [&'static str] {
        match self.source {
            ViewSource::From(_) => crate::symbol::FROM_VIEW_IMPLICIT,
            ViewSource::By(_) => crate::symbol::BY_VIEW_IMPLICIT,
        }
    }
}

impl ViewField {
    /// The field as a plain field of its name and type, for what reads any field alike.
    pub fn as_field(&self) -> Field {
        Field {
            name: self.name.clone(),
            doc: self.doc.clone(),
            ty: self.ty.clone(),
            constraints: Vec::new(),
            key: false,
            default: None,
            ty_origin: self.ty_origin,
        }
    }
}

/// The implicit fields of a `from` view of an aggregate whose id type is `id`, typed: what
/// its `= EXPR`s read besides the state.
pub fn from_view_implicit(id: &Type) -> Vec<Field> {
    crate::symbol::FROM_VIEW_IMPLICIT
        .iter()
        .map(|&name| Field {
            name: Name::new(name),
            doc: None,
            ty: match name {
                "id" => id.clone(),
                "version" => Type::U64,
                _ => Type::DateTime,
            },
            constraints: Vec::new(),
            key: false,
            default: None,
            ty_origin: Origin::NONE,
        })
        .collect()
}
