//! Types and constraints of fields.

use std::borrow::Cow;
use std::fmt;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::de::{self, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::name::{Name, Origin};

/// The type of a field.
///
/// In JSON: scalars are strings (`"i64"`, `"string"`, `"date_time"`), the rest one-key
/// objects: `{"vec": {"entity": "Ordering.Order.OrderLine"}}`, `{"id": "Ordering.Order"}`,
/// `{"named": "Money"}`.
#[derive(
    Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Type {
    Bool,
    I8,
    I16,
    I32,
    I64,
    U8,
    U16,
    U32,
    U64,
    F32,
    F64,
    String,
    Uuid,
    /// A UTC instant.
    DateTime,
    Date,
    Decimal,
    /// Any JSON value.
    Json,
    Option(Box<Type>),
    Vec(Box<Type>),
    /// `Map<String, T>`: keys are always strings.
    Map(Box<Type>),
    /// `<Aggregate>Id`: the identity of an aggregate, as `Context.Aggregate` (or a bare
    /// `Aggregate`, found from where the field stands, on input).
    Id(TypePath),
    /// A value, by qualified path.
    Value(TypePath),
    /// An entity, by qualified path.
    Entity(TypePath),
    /// An enum, by qualified path.
    Enum(TypePath),
    /// A name as written, resolved by [`crate::check`] from where the field stands (its
    /// aggregate, its context, the system) into one of the variants above.
    Named(Name),
}

/// What a resolved named type is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TypeKind {
    Value,
    Entity,
    Enum,
}

impl TypeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TypeKind::Value => "value",
            TypeKind::Entity => "entity",
            TypeKind::Enum => "enum",
        }
    }
}

impl Type {
    /// The id type of the aggregate `aggregate` of `context`.
    pub fn id(context: &Name, aggregate: &Name) -> Type {
        Type::Id(TypePath::context(context.clone(), aggregate.clone()))
    }

    /// The scalar of that name as written in the language (`"i64"`, `"DateTime"`).
    pub fn scalar(name: &str) -> Option<Type> {
        Some(match name {
            "bool" => Type::Bool,
            "i8" => Type::I8,
            "i16" => Type::I16,
            "i32" => Type::I32,
            "i64" => Type::I64,
            "u8" => Type::U8,
            "u16" => Type::U16,
            "u32" => Type::U32,
            "u64" => Type::U64,
            "f32" => Type::F32,
            "f64" => Type::F64,
            "String" => Type::String,
            "Uuid" => Type::Uuid,
            "DateTime" => Type::DateTime,
            "Date" => Type::Date,
            "Decimal" => Type::Decimal,
            "Json" => Type::Json,
            _ => return None,
        })
    }

    /// The inclusive bounds of an integer type.
    pub fn integer_bounds(&self) -> Option<(i128, i128)> {
        Some(match self {
            Type::I8 => (i8::MIN.into(), i8::MAX.into()),
            Type::I16 => (i16::MIN.into(), i16::MAX.into()),
            Type::I32 => (i32::MIN.into(), i32::MAX.into()),
            Type::I64 => (i64::MIN.into(), i64::MAX.into()),
            Type::U8 => (0, u8::MAX.into()),
            Type::U16 => (0, u16::MAX.into()),
            Type::U32 => (0, u32::MAX.into()),
            Type::U64 => (0, u64::MAX.into()),
            _ => return None,
        })
    }

    pub fn is_float(&self) -> bool {
        matches!(self, Type::F32 | Type::F64 | Type::Decimal)
    }

    pub fn is_numeric(&self) -> bool {
        self.integer_bounds().is_some() || self.is_float()
    }

    /// The type inside any number of `Option`s.
    pub fn without_option(&self) -> &Type {
        match self {
            Type::Option(inner) => inner.without_option(),
            other => other,
        }
    }

    /// The qualified path of a resolved value, entity or enum.
    pub fn path(&self) -> Option<(TypeKind, &TypePath)> {
        match self {
            Type::Value(path) => Some((TypeKind::Value, path)),
            Type::Entity(path) => Some((TypeKind::Entity, path)),
            Type::Enum(path) => Some((TypeKind::Enum, path)),
            _ => None,
        }
    }

    /// Nesting depth (`i32` is 1, `Vec<Option<i32>>` is 3).
    pub fn depth(&self) -> usize {
        match self {
            Type::Option(inner) | Type::Vec(inner) | Type::Map(inner) => 1 + inner.depth(),
            _ => 1,
        }
    }
}

/// As written in the language: `Vec<OrderLine>`, `Map<String, i64>`, `OrderId`.
impl fmt::Display for Type {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let scalar = match self {
            Type::Bool => "bool",
            Type::I8 => "i8",
            Type::I16 => "i16",
            Type::I32 => "i32",
            Type::I64 => "i64",
            Type::U8 => "u8",
            Type::U16 => "u16",
            Type::U32 => "u32",
            Type::U64 => "u64",
            Type::F32 => "f32",
            Type::F64 => "f64",
            Type::String => "String",
            Type::Uuid => "Uuid",
            Type::DateTime => "DateTime",
            Type::Date => "Date",
            Type::Decimal => "Decimal",
            Type::Json => "Json",
            Type::Option(inner) => return write!(f, "Option<{inner}>"),
            Type::Vec(inner) => return write!(f, "Vec<{inner}>"),
            Type::Map(inner) => return write!(f, "Map<String, {inner}>"),
            Type::Id(aggregate) => return write!(f, "{}Id", aggregate.name),
            Type::Value(path) | Type::Entity(path) | Type::Enum(path) => {
                return f.write_str(&path.name);
            }
            Type::Named(name) => return f.write_str(name),
        };
        f.write_str(scalar)
    }
}

/// Where a value, entity or enum is defined: `Money` (system level), `Shipping.Address`
/// (a context), `Ordering.Order.OrderLine` (an aggregate). Serialized dotted.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TypePath {
    pub context: Option<Name>,
    /// Only with a context.
    pub aggregate: Option<Name>,
    pub name: Name,
}

impl TypePath {
    pub fn system(name: Name) -> TypePath {
        TypePath {
            context: None,
            aggregate: None,
            name,
        }
    }

    pub fn context(context: Name, name: Name) -> TypePath {
        TypePath {
            context: Some(context),
            aggregate: None,
            name,
        }
    }

    pub fn aggregate(context: Name, aggregate: Name, name: Name) -> TypePath {
        TypePath {
            context: Some(context),
            aggregate: Some(aggregate),
            name,
        }
    }

    pub fn parse(text: &str) -> Option<TypePath> {
        let parts: Vec<&str> = text.split('.').collect();
        if parts.iter().any(|part| part.is_empty()) {
            return None;
        }
        Some(match parts.as_slice() {
            [name] => TypePath::system(Name::new(*name)),
            [context, name] => TypePath::context(Name::new(*context), Name::new(*name)),
            [context, aggregate, name] => {
                TypePath::aggregate(Name::new(*context), Name::new(*aggregate), Name::new(*name))
            }
            _ => return None,
        })
    }
}

impl fmt::Display for TypePath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for scope in [&self.context, &self.aggregate].into_iter().flatten() {
            write!(f, "{scope}.")?;
        }
        f.write_str(&self.name)
    }
}

impl Serialize for TypePath {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for TypePath {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<TypePath, D::Error> {
        let text = String::deserialize(deserializer)?;
        TypePath::parse(&text).ok_or_else(|| {
            de::Error::custom(format!(
                "invalid type path `{text}`: expected `Name`, `Context.Name` or `Context.Aggregate.Name`"
            ))
        })
    }
}

impl JsonSchema for TypePath {
    fn schema_name() -> Cow<'static, str> {
        "TypePath".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "pattern": "^[^.]+(\\.[^.]+){0,2}$",
            "description": "Where a type is defined: `Name` (system level), `Context.Name` or `Context.Aggregate.Name`.",
        })
    }
}

/// A constraint on a field, checked when a command is built. Through `Option` it applies to
/// the value when there is one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Constraint {
    /// `@len(3)` (min = max = 3), `@len(1..=120)`: characters of a `String`, elements of a
    /// `Vec` or `Map`.
    Len {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<u64>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<u64>,
        #[serde(skip)]
        #[schemars(skip)]
        origin: Origin,
    },
    /// `@range(1..=99)`, `@range(0..)`, `@range(..=9)`: inclusive bounds of a number.
    Range {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        min: Option<Number>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        max: Option<Number>,
        #[serde(skip)]
        #[schemars(skip)]
        origin: Origin,
    },
    /// `@pattern("^[0-9]{5}$")`: a regex (Rust `regex` syntax) the whole `String` must match.
    Pattern {
        regex: String,
        #[serde(skip)]
        #[schemars(skip)]
        origin: Origin,
    },
}

impl Constraint {
    pub fn origin(&self) -> Origin {
        match self {
            Constraint::Len { origin, .. }
            | Constraint::Range { origin, .. }
            | Constraint::Pattern { origin, .. } => *origin,
        }
    }

    /// The constraint's name as written after `@`.
    pub fn keyword(&self) -> &'static str {
        match self {
            Constraint::Len { .. } => crate::symbol::LEN,
            Constraint::Range { .. } => crate::symbol::RANGE,
            Constraint::Pattern { .. } => crate::symbol::PATTERN,
        }
    }
}

/// As written in the language: `@len(1..=120)`.
impl fmt::Display for Constraint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Constraint::Len { min, max, .. } if min == max && min.is_some() => {
                write!(f, "@len({})", min.unwrap_or_default())
            }
            Constraint::Len { min, max, .. } => write!(f, "@len({})", Bounds(min, max)),
            Constraint::Range { min, max, .. } => write!(f, "@range({})", Bounds(min, max)),
            Constraint::Pattern { regex, .. } => write!(f, "@pattern({regex:?})"),
        }
    }
}

struct Bounds<'a, T>(&'a Option<T>, &'a Option<T>);

impl<T: fmt::Display> fmt::Display for Bounds<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(min) = self.0 {
            write!(f, "{min}")?;
        }
        match self.1 {
            Some(max) => write!(f, "..={max}"),
            None => f.write_str(".."),
        }
    }
}

/// A bound of `@range`: an integer (the range of `i64` and `u64` together) or a float.
/// Serialized as a plain JSON number.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd)]
pub enum Number {
    Int(i128),
    Float(f64),
}

impl Number {
    pub fn as_f64(self) -> f64 {
        match self {
            // Only for comparing bounds: precision loss past 2^53 does not change an order here.
            #[expect(clippy::cast_precision_loss, reason = "comparison only, see above")]
            Number::Int(value) => value as f64,
            Number::Float(value) => value,
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Number::Int(value) => write!(f, "{value}"),
            Number::Float(value) => write!(f, "{value:?}"),
        }
    }
}

impl Serialize for Number {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match *self {
            Number::Int(value) => match (i64::try_from(value), u64::try_from(value)) {
                (Ok(small), _) => serializer.serialize_i64(small),
                (_, Ok(big)) => serializer.serialize_u64(big),
                _ => Err(serde::ser::Error::custom("range bound outside i64 and u64")),
            },
            Number::Float(value) => serializer.serialize_f64(value),
        }
    }
}

impl<'de> Deserialize<'de> for Number {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Number, D::Error> {
        deserializer.deserialize_any(NumberVisitor)
    }
}

struct NumberVisitor;

impl Visitor<'_> for NumberVisitor {
    type Value = Number;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a number")
    }

    fn visit_i64<E: de::Error>(self, value: i64) -> Result<Number, E> {
        Ok(Number::Int(value.into()))
    }

    fn visit_u64<E: de::Error>(self, value: u64) -> Result<Number, E> {
        Ok(Number::Int(value.into()))
    }

    fn visit_i128<E: de::Error>(self, value: i128) -> Result<Number, E> {
        Ok(Number::Int(value))
    }

    fn visit_u128<E: de::Error>(self, value: u128) -> Result<Number, E> {
        i128::try_from(value)
            .map(Number::Int)
            .map_err(|_| E::custom("number out of range"))
    }

    fn visit_f64<E: de::Error>(self, value: f64) -> Result<Number, E> {
        if value.is_finite() {
            Ok(Number::Float(value))
        } else {
            Err(E::custom("a range bound must be a finite number"))
        }
    }
}

impl JsonSchema for Number {
    fn schema_name() -> Cow<'static, str> {
        "Number".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({ "type": "number" })
    }
}
