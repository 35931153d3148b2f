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
    /// `type Quantity = u32 @range(1..=99)`
    Type(TypeAliasDecl),
    /// `import "catalog.ddd"`
    Import(ImportDecl),
}

/// `import "catalog.ddd"`: the path as written, relative to the importing file.
#[derive(Debug, Clone, PartialEq)]
pub struct ImportDecl {
    pub path: String,
    pub span: Span,
}

/// `type Quantity = u32 @range(1..=99)`: a name for a type with its constraints.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeAliasDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub constraints: Vec<ConstraintDecl>,
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
    /// `: core`, `: supporting` or `: generic`, as written.
    pub kind: Option<Ident>,
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
    Type(TypeAliasDecl),
    View(Box<ViewDecl>),
}

/// `view V from Aggregate { ... }` or `view V by key: T { ...; on A.E sets ... }`.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub source: ViewSource,
    pub fields: Vec<FieldDecl>,
    pub handlers: Vec<ViewHandlerDecl>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ViewSource {
    /// `from Aggregate`: a row per aggregate.
    From(Ident),
    /// `by key: T`: a row per key value.
    By(Box<FieldDecl>),
}

/// `on Aggregate.Event sets field = EXPR, ...` in a view.
#[derive(Debug, Clone, PartialEq)]
pub struct ViewHandlerDecl {
    pub scope: Ident,
    pub event: Ident,
    pub sets: Vec<AssignDecl>,
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
    Type(TypeAliasDecl),
    Lifecycle(LifecycleDecl),
}

/// `lifecycle status { Placed -> Paid by MarkPaid; Placed, Paid -> Cancelled by Cancel }`.
#[derive(Debug, Clone, PartialEq)]
pub struct LifecycleDecl {
    pub field: Ident,
    pub transitions: Vec<TransitionDecl>,
}

/// `Placed, Paid -> Cancelled by Cancel`.
#[derive(Debug, Clone, PartialEq)]
pub struct TransitionDecl {
    pub from: Vec<Ident>,
    pub to: Ident,
    pub by: Vec<Ident>,
}

/// `name: Type @constraint(...) = default`, in records, aggregates, commands, events and views.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldDecl {
    pub doc: Option<String>,
    pub name: Ident,
    pub ty: TypeExpr,
    pub constraints: Vec<ConstraintDecl>,
    /// `= EXPR`: an event field's default for older payloads, a view field's value.
    pub value: Option<Expr>,
}

/// `Name`, `Context.Name` or `Name<Arg, ...>`, resolved only later.
#[derive(Debug, Clone, PartialEq)]
pub struct TypeExpr {
    /// `Catalog` in `Catalog.ProductId`.
    pub qualifier: Option<Ident>,
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
    /// `@key`: a marker without parentheses.
    Flag,
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
    pub requires: Vec<RequireDecl>,
    pub emits: Vec<Ident>,
}

/// `requires EXPR else "message"`.
#[derive(Debug, Clone, PartialEq)]
pub struct RequireDecl {
    pub rule: Expr,
    pub message: Option<String>,
}

/// `event OrderPlaced v2(...) sets field = EXPR, ...`.
#[derive(Debug, Clone, PartialEq)]
pub struct EventDecl {
    pub doc: Option<String>,
    pub name: Ident,
    /// `v2`: the schema version and where it was written.
    pub version: Option<(u32, Span)>,
    pub fields: Vec<FieldDecl>,
    pub sets: Vec<AssignDecl>,
}

/// `field = EXPR` in `sets`.
#[derive(Debug, Clone, PartialEq)]
pub struct AssignDecl {
    pub field: Ident,
    pub value: Expr,
}

/// An expression, as parsed: only checked for its syntax here; the model keeps its text
/// ([`Expr::span`]) and [`crate::typing`] gives it types.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    pub kind: ExprKind,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ExprKind {
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    /// `none`
    None,
    /// `total.amount_cents`, `Paid`
    Path(Vec<Ident>),
    Unary(UnaryOp, Box<Expr>),
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `status in {Placed, Paid}`
    In(Box<Expr>, Vec<Expr>),
    /// `count(items)`
    Call(Ident, Vec<Expr>),
    /// `Money { amount_cents: 0, currency: "EUR" }`; `Context.Money` too.
    Record {
        qualifier: Option<Ident>,
        name: Ident,
        fields: Vec<(Ident, Expr)>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnaryOp {
    Not,
    Neg,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinaryOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
}

impl BinaryOp {
    /// As written in the language.
    pub fn as_str(self) -> &'static str {
        match self {
            BinaryOp::Or => "or",
            BinaryOp::And => "and",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
        }
    }
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

/// `field = EXPR` in a policy's `with`, over the event's fields.
#[derive(Debug, Clone, PartialEq)]
pub struct MappingDecl {
    pub field: Ident,
    pub from: Expr,
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
    /// `[open-host, published-language]` before the arrow: roles of `from`.
    pub from_roles: Vec<Ident>,
    /// `[anticorruption-layer]` after the arrow: roles of `to`.
    pub to_roles: Vec<Ident>,
}
