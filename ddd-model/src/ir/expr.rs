//! Expressions in the model: kept as the text a person wrote (in JSON and YAML too), typed by
//! [`crate::check`] into a [`Typed`] tree the generator turns into code.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use super::{Conversion, RecordConversion, Type, TypePath};
pub use crate::ast::{BinaryOp, UnaryOp};
use crate::name::{Name, Origin};

/// An expression of the language (`not checked_out and count(items) > 0`). Serialized as
/// its text; equal when the text is.
#[derive(Debug, Clone, Default)]
pub struct Expr {
    pub source: String,
    /// Where the text starts in the model's sources; `None` in JSON and YAML.
    pub origin: Origin,
    /// Derived by [`crate::check`]: the expression with every name resolved and typed.
    pub typed: Option<Box<Typed>>,
}

impl Expr {
    pub fn new(source: impl Into<String>) -> Expr {
        Expr {
            source: source.into(),
            origin: Origin::NONE,
            typed: None,
        }
    }

    /// The typed tree of a checked model.
    pub fn checked(&self) -> Option<&Typed> {
        self.typed.as_deref()
    }
}

impl PartialEq for Expr {
    fn eq(&self, other: &Expr) -> bool {
        self.source == other.source
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl Serialize for Expr {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.source)
    }
}

impl<'de> Deserialize<'de> for Expr {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Expr, D::Error> {
        String::deserialize(deserializer).map(Expr::new)
    }
}

impl JsonSchema for Expr {
    fn schema_name() -> Cow<'static, str> {
        "Expr".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "An expression of the domain language, e.g. `not checked_out and count(items) > 0`.",
        })
    }
}

/// A typed expression: every node knows its type.
#[derive(Debug, Clone, PartialEq)]
pub struct Typed {
    pub kind: TypedKind,
    pub ty: Type,
}

#[derive(Debug, Clone, PartialEq)]
pub enum TypedKind {
    Bool(bool),
    /// An integer literal, of the integer type `ty`.
    Int(i128),
    /// A float literal, of `f32`, `f64` or `Decimal`.
    Float(f64),
    Str(String),
    /// `none`, of the `Option` type `ty`.
    None,
    /// A variant of the enum `ty`.
    Variant(Name),
    /// A name in scope: a command's parameter, a state field, an event's field, a view's
    /// field, or a field of the element `sum` is at.
    Name {
        scope: NameScope,
        name: Name,
    },
    /// `base.field` of a record.
    Field {
        base: Box<Typed>,
        field: Name,
    },
    Unary {
        op: UnaryOp,
        operand: Box<Typed>,
    },
    /// Both operands have one type (conversions are explicit); `ty` is `bool` for
    /// comparisons and `and`/`or`, the operands' type for arithmetic.
    Binary {
        op: BinaryOp,
        lhs: Box<Typed>,
        rhs: Box<Typed>,
    },
    /// `value in {a, b}`: the set has `value`'s type.
    In {
        value: Box<Typed>,
        set: Vec<Typed>,
    },
    Call {
        function: Function,
        args: Vec<Typed>,
    },
    /// A value or entity built field by field, in the record's order.
    Record {
        path: TypePath,
        fields: Vec<(Name, Typed)>,
    },
    /// `value` as `ty`: wrapped in `Some`, an integer widened, a record converted.
    Convert {
        value: Box<Typed>,
        conversion: Conversion,
        records: Vec<RecordConversion>,
    },
}

/// Where a name of an expression lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NameScope {
    /// A parameter of the command (in `requires`).
    Param,
    /// A field of the aggregate's state, before the command or event.
    State,
    /// A field of the event (in `sets` and `with`).
    Event,
    /// A field of the element of the `sum` nested this deep (0 is the outermost).
    Element(u32),
}

/// The built-in functions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Function {
    /// `count(list)`: elements of a `Vec` or `Map`, as `u32` (saturating).
    Count,
    /// `sum(list, EXPR)`: EXPR per element, added up.
    Sum,
    /// `len(text)`: characters, as `u32` (saturating).
    Len,
    /// `some(x)`
    Some,
    /// `append(list, x)`
    Append,
    /// `upsert(list, x)`: replaces the element with `x`'s `@key`, else appends.
    Upsert,
    /// `remove(list, key)`: without the element(s) of that `@key` (or equal to it, for a
    /// list of non-records).
    Remove,
    /// `insert(map, key, value)`
    Insert,
    /// `delete(map, key)`
    Delete,
}

impl Function {
    pub const ALL: &[Function] = &[
        Function::Count,
        Function::Sum,
        Function::Len,
        Function::Some,
        Function::Append,
        Function::Upsert,
        Function::Remove,
        Function::Insert,
        Function::Delete,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Function::Count => "count",
            Function::Sum => "sum",
            Function::Len => "len",
            Function::Some => "some",
            Function::Append => "append",
            Function::Upsert => "upsert",
            Function::Remove => "remove",
            Function::Insert => "insert",
            Function::Delete => "delete",
        }
    }

    pub fn parse(name: &str) -> Option<Function> {
        Function::ALL.iter().copied().find(|f| f.as_str() == name)
    }

    /// How it is called, for messages.
    pub fn signature(self) -> &'static str {
        match self {
            Function::Count => "count(list)",
            Function::Sum => "sum(list, EXPR)",
            Function::Len => "len(text)",
            Function::Some => "some(x)",
            Function::Append => "append(list, x)",
            Function::Upsert => "upsert(list, x)",
            Function::Remove => "remove(list, key)",
            Function::Insert => "insert(map, key, value)",
            Function::Delete => "delete(map, key)",
        }
    }
}

impl Typed {
    /// Whether evaluating it can overflow: it does integer arithmetic (or sums), which
    /// decisions check and `sets` saturate.
    pub fn has_arithmetic(&self) -> bool {
        let mut found = false;
        self.visit(&mut |node| {
            found |= match &node.kind {
                TypedKind::Binary { op, .. } => {
                    matches!(op, BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul)
                        && node.ty.integer_bounds().is_some()
                }
                TypedKind::Unary {
                    op: UnaryOp::Neg, ..
                } => node.ty.integer_bounds().is_some(),
                TypedKind::Call {
                    function: Function::Sum,
                    ..
                } => node.ty.integer_bounds().is_some(),
                _ => false,
            };
        });
        found
    }

    /// Whether it reads a name of `scope`.
    pub fn reads(&self, scope: NameScope) -> bool {
        let mut found = false;
        self.visit(&mut |node| {
            found |= matches!(&node.kind, TypedKind::Name { scope: s, .. } if *s == scope);
        });
        found
    }

    /// Whether it reads the name `name` of `scope`.
    pub fn reads_name(&self, scope: NameScope, name: &str) -> bool {
        let mut found = false;
        self.visit(&mut |node| {
            found |= matches!(&node.kind, TypedKind::Name { scope: s, name: n } if *s == scope && n == name);
        });
        found
    }

    /// Calls `f` on this node and every node below it.
    pub fn visit(&self, f: &mut impl FnMut(&Typed)) {
        f(self);
        match &self.kind {
            TypedKind::Field { base, .. } => base.visit(f),
            TypedKind::Unary { operand, .. } => operand.visit(f),
            TypedKind::Binary { lhs, rhs, .. } => {
                lhs.visit(f);
                rhs.visit(f);
            }
            TypedKind::In { value, set } => {
                value.visit(f);
                set.iter().for_each(|t| t.visit(f));
            }
            TypedKind::Call { args, .. } => args.iter().for_each(|t| t.visit(f)),
            TypedKind::Record { fields, .. } => fields.iter().for_each(|(_, t)| t.visit(f)),
            TypedKind::Convert { value, .. } => value.visit(f),
            _ => {}
        }
    }
}
