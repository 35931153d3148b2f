//! The syntax tree of a `.ddd` file, as written: every name keeps its span. Items that did not
//! parse are left out (their errors are already reported), so everything here is complete.

use crate::name::Span;

#[derive(Debug, Clone, PartialEq)]
pub struct Ident {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Item {
    System(SystemDecl),
    Value(RecordDecl),
    Enum(EnumDecl),
    Context(ContextDecl),
    Map(MapDecl),
}

/// `system Shop`; `name` is `None` when the keyword was there but the name did not parse.
#[derive(Debug, Clone, PartialEq)]
pub struct SystemDecl {
    pub doc: Option<String>,
    pub keyword: Span,
    pub name: Option<Ident>,
}

/// `value Money { ... }` or `entity OrderLine { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub fields: Vec<FieldDecl>,
}

/// `enum OrderStatus { Placed, Paid }`.
#[derive(Debug, Clone, PartialEq)]
pub struct EnumDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub variants: Vec<VariantDecl>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct VariantDecl {
    pub doc: Option<String>,
    pub name: Ident,
}

/// `context Ordering { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ContextDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub members: Vec<ContextMember>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ContextMember {
    Value(RecordDecl),
    Enum(EnumDecl),
    Aggregate(AggregateDecl),
    /// `publishes OrderPlaced, OrderCancelled`
    Publishes(Vec<Ident>),
    Policy(PolicyDecl),
}

/// `aggregate Order { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct AggregateDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub members: Vec<AggregateMember>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AggregateMember {
    /// A state field: `status: OrderStatus`.
    Field(FieldDecl),
    Entity(RecordDecl),
    Value(RecordDecl),
    Enum(EnumDecl),
    Command(CommandDecl),
    Event(EventDecl),
}

/// `name: Type @constraint(...)`, in records, aggregates, commands and events.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub constraints: Vec<ConstraintDecl>,
}

/// `Name` or `Name<Arg, ...>`, resolved only later.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeExpr {
    pub name: Ident,
    pub args: Vec<TypeExpr>,
    pub span: Span,
}

/// `@len(1..=120)`.
#[derive(Debug, Clone, PartialEq)]
pub struct ConstraintDecl {
    pub name: Ident,
    pub arg: ConstraintArg,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ConstraintArg {
    /// `@pattern("...")`
    Str { value: String, span: Span },
    /// `@len(3)`
    Number(NumLit),
    /// `@range(1..=9)`, `@range(0..)`, `@range(..=9)`, and the rejected `@range(1..9)`.
    Range {
        min: Option<NumLit>,
        max: Option<NumLit>,
        inclusive: bool,
        span: Span,
    },
    /// `@len()`
    Empty { span: Span },
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct NumLit {
    pub value: Num,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Num {
    Int(i128),
    Float(f64),
}

/// `command PlaceOrder(...) creates emits OrderPlaced`.
#[derive(Debug, Clone, PartialEq)]
pub struct CommandDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub params: Vec<FieldDecl>,
    pub creates: Option<Span>,
    pub emits: Vec<Ident>,
}

/// `event OrderPlaced(...)`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub fields: Vec<FieldDecl>,
}

/// `on Payments.PaymentCaptured run Order.MarkPaid with payment = id`.
#[derive(Debug, Clone, PartialEq)]
pub struct PolicyDecl {
    pub doc: Option<String>,
    pub span: Span,
    pub context: Ident,
    pub event: Ident,
    pub aggregate: Ident,
    pub command: Ident,
    pub mappings: Vec<MappingDecl>,
}

/// `field = event_field` in a policy's `with`.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingDecl {
    pub field: Ident,
    pub from: Ident,
}

/// `map { ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct MapDecl {
    pub relations: Vec<RelationDecl>,
}

/// `Catalog -> Ordering : customer-supplier` or `Catalog <-> Cart : shared-kernel`.
#[derive(Debug, Clone, PartialEq)]
pub struct RelationDecl {
    pub doc: Option<String>,
    pub from: Ident,
    pub to: Ident,
    pub both_ways: bool,
    pub arrow: Span,
    /// The kind as written, hyphens included.
    pub kind: Ident,
}
