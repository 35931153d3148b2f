//! Runs an aggregate's behaviour without IO to find, for a `requires` rule of a command, one
//! case where the rule is met and one where it is broken: the events given before the
//! command and its parameters, for the given / when / then tests the generator writes.
//!
//! It follows the generated code rather than the language's prose, so that what it predicts
//! is what the tests see: `apply` runs `sets` in order on the state (lifecycle moves after
//! them), then same-name copies, then appends (an upsert by `@key`); deciding does checked
//! arithmetic (an overflow rejects the command) and applying saturates; `count` and `len`
//! saturate to `u32`; `&&` and `||` short-circuit, so an overflow on the side never reached
//! rejects nothing; records compare field by field (see `expr.rs` and the aggregate
//! template).
//!
//! Values come from a few per type that keep the field's constraints, led by the one
//! `Scope::sample` writes, so a case reads like the generator's other tests; numbers and
//! lengths next to the rules' literals join them, since that is where rules flip. The search
//! is breadth-first over histories (a creating event, then up to [`MAX_LATER_EVENTS`] more),
//! so the first case found has the fewest events. Only what the rules can see varies: the
//! state fields they read (and, through `sets` and the commands' emit plans, the fields
//! those come from), and the parameters they read; events that change none of it are never
//! tried. A budget bounds the rest, so a simple rule costs microseconds and no rule more
//! than a few milliseconds.

use std::cell::RefCell;
use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash, Hasher};
use std::rc::Rc;

use ddd_model::ir::{
    Aggregate, BinaryOp, Command, Constraint, Conversion, Event, Field, Function, NameScope,
    Number, RecordConversion, Source, Translation, Type, TypeDef, TypePath, Typed, TypedKind,
    UnaryOp,
};
use ddd_model::{Name, System};

use crate::expr::Arithmetic;
use crate::rust::{Scope, string_sample};

/// Events after the creating one that a history may have.
const MAX_LATER_EVENTS: usize = 3;
/// Events applied plus rules evaluated, per search: about a millisecond.
const MAX_WORK: usize = 1024;
/// Distinct states per search.
const MAX_STATES: usize = 512;
/// Parameter combinations per state, and field combinations per event.
const MAX_COMBINATIONS: usize = 64;
/// Values tried per field.
const MAX_CHOICES: usize = 8;
/// How deep inside records and lists values still vary; below, only the sample.
const MAX_DEPTH: usize = 3;
/// The longest string, list or map made to reach a length a rule or constraint names.
const MAX_MADE_LENGTH: u64 = 256;
/// The ids values take, the sample's first.
const IDS: [u128; 2] = [7, 8];
/// The id of the aggregate the command acts on, where an event carries it.
const AGGREGATE_ID: u128 = 1;

/// A value of a model type, as the generated Rust holds it.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Value {
    Bool(bool),
    /// Any integer type: the type comes from where the value stands.
    Int(i128),
    /// `f32`, `f64` and `Decimal` (the candidates are small, where `f64` is exact).
    Float(f64),
    Str(String),
    Uuid(u128),
    /// An `<Aggregate>Id`.
    Id(u128),
    None,
    Some(Box<Value>),
    List(Vec<Value>),
    Map(BTreeMap<String, Value>),
    /// A value or an entity, its fields in the record's order.
    Record(Vec<(Name, Value)>),
    Variant(Name),
    /// `DateTime`, `Date` or `Json`: only their `Default` is ever sampled, so all are equal.
    Opaque,
}

/// An event applied before the command.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Given {
    pub(crate) event: Name,
    /// Every field of the event, in its order.
    pub(crate) fields: Vec<(Name, Value)>,
}

/// A history and the command's parameters.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Case {
    pub(crate) given: Vec<Given>,
    /// Every parameter, in the command's order; each keeps its constraints.
    pub(crate) params: Vec<(Name, Value)>,
}

/// `(met, broken)` for the rule `command.requires[rule]`: `None` where the search finds no
/// such case. Where it can, it picks a met case that passes the command's whole guard (its
/// lifecycle and every rule) and a broken case that passes the lifecycle and the rules
/// before this one (the guard checks in that order); where it cannot, any case that meets or
/// breaks this rule. The generator writes tests from [`guard_cases`]; this looser search is
/// what the simulator's own tests explore rules with.
#[cfg(test)]
pub(crate) fn requires_cases(
    system: &System,
    aggregate: &Aggregate,
    command: &Command,
    rule: usize,
) -> (Option<Case>, Option<Case>) {
    search(
        system,
        aggregate,
        command,
        Goal::Rule(rule, Strictness::Prefer),
        &[],
    )
}

/// For a test of the guard itself: only cases the guard decides by this rule, a met one
/// passing the whole guard and a broken one passing everything before it.
pub(crate) fn guard_cases(
    system: &System,
    aggregate: &Aggregate,
    command: &Command,
    rule: usize,
) -> (Option<Case>, Option<Case>) {
    search(
        system,
        aggregate,
        command,
        Goal::Rule(rule, Strictness::Require),
        &[],
    )
}

/// The Rust expression of `value`, a value of `ty`, in the shapes [`Scope::sample`] writes.
pub(crate) fn rust(scope: &Scope<'_>, value: &Value, ty: &Type) -> String {
    match (value, ty) {
        (Value::Bool(b), Type::Bool) => b.to_string(),
        (Value::Int(v), _) if ty.integer_bounds().is_some() => int_literal(*v, ty),
        (Value::Float(v), Type::Decimal) => decimal_literal(scope, *v),
        (Value::Float(v), Type::F32 | Type::F64) => format!("{v:?}"),
        (Value::Str(text), Type::String) => format!("{text:?}.to_owned()"),
        (Value::Uuid(n), Type::Uuid) => uuid_literal(scope, *n),
        (Value::Id(n), Type::Id(_)) => {
            format!("{}::from({})", scope.ty(ty), uuid_literal(scope, *n))
        }
        (Value::None, Type::Option(_)) => scope.std("None"),
        (Value::Some(inner), Type::Option(inner_ty)) => {
            format!("{}({})", scope.std("Some"), rust(scope, inner, inner_ty))
        }
        (Value::List(items), Type::Vec(item_ty)) => list_literal(scope, items, item_ty),
        (Value::Map(entries), Type::Map(item_ty)) => {
            let map = scope.name("std::collections::BTreeMap");
            if entries.is_empty() {
                return format!("{map}::new()");
            }
            let entries: Vec<String> = entries
                .iter()
                .map(|(key, v)| format!("({key:?}.to_owned(), {})", rust(scope, v, item_ty)))
                .collect();
            format!("{map}::from([{}])", entries.join(", "))
        }
        (Value::Record(fields), Type::Value(path) | Type::Entity(path)) => {
            let Some(record) = scope.system.record(path) else {
                return mismatch();
            };
            let fields: Vec<String> = fields
                .iter()
                .map(
                    |(name, v)| match record.fields.iter().find(|f| f.name == *name) {
                        Some(field) => format!("{name}: {}", rust(scope, v, &field.ty)),
                        None => mismatch(),
                    },
                )
                .collect();
            format!("{} {{ {} }}", scope.ty(ty), fields.join(", "))
        }
        (Value::Variant(variant), Type::Enum(_)) => format!("{}::{variant}", scope.ty(ty)),
        (Value::Opaque, Type::DateTime | Type::Date | Type::Json) => {
            format!("{}::default()", scope.std("Default"))
        }
        _ => mismatch(),
    }
}

/// `given` as a variant of the aggregate's event enum, written `path`:
/// `OrderEvent::OrderPaid { payment: .. }`.
pub(crate) fn event_literal(
    scope: &Scope<'_>,
    path: &str,
    aggregate: &Aggregate,
    given: &Given,
) -> Option<String> {
    let event = aggregate.event(&given.event)?;
    Some(variant_literal(
        scope,
        path,
        &event.name,
        &event.fields,
        &given.fields,
    ))
}

/// `Enum::Variant { field: value, .. }`, each declared field with its simulated value.
pub(crate) fn variant_literal(
    scope: &Scope<'_>,
    path: &str,
    variant: &Name,
    declared: &[Field],
    values: &[(Name, Value)],
) -> String {
    let fields: Vec<String> = (declared.iter())
        .filter_map(|field| {
            let value = get(values, &field.name)?;
            let value = rust(scope, value, &field.ty);
            Some(format!("{}: {value}", field.name))
        })
        .collect();
    format!("{path}::{variant} {{ {} }}", fields.join(", "))
}

/// What a value that does not fit its type renders as: the generated test does not compile,
/// rather than testing something else.
fn mismatch() -> String {
    "compile_error!(\"a simulated value does not fit its type\")".to_owned()
}

fn int_literal(value: i128, ty: &Type) -> String {
    match ty.integer_bounds() {
        Some((_, max)) if value == max => format!("{ty}::MAX"),
        Some((min, _)) if value == min && min != 0 => format!("{ty}::MIN"),
        _ => value.to_string(),
    }
}

fn decimal_literal(scope: &Scope<'_>, value: f64) -> String {
    // The type is named (and imported) only where the literal names it.
    if value == 0.0 {
        format!("{}::default()", scope.std("Default"))
    } else if value.fract() == 0.0 && value.abs() < 1e15 {
        // Integral and well inside `i64`: the cast is exact.
        #[expect(clippy::cast_possible_truncation, reason = "integral, checked above")]
        let whole = value as i64;
        format!("{}::from({whole}_i64)", scope.ty(&Type::Decimal))
    } else {
        format!(
            "{}::try_from({value:?}).unwrap_or_default()",
            scope.ty(&Type::Decimal)
        )
    }
}

fn uuid_literal(scope: &Scope<'_>, n: u128) -> String {
    let uuid = scope.name("uuid::Uuid");
    if n == 0 {
        format!("{uuid}::nil()")
    } else {
        format!("{uuid}::from_u128({n})")
    }
}

fn list_literal(scope: &Scope<'_>, items: &[Value], item_ty: &Type) -> String {
    match items {
        [] => format!("{}::new()", scope.std("Vec")),
        [first, rest @ ..] if rest.len() > 1 && rest.iter().all(|item| item == first) => {
            format!("vec![{}; {}]", rust(scope, first, item_ty), items.len())
        }
        _ => {
            let items: Vec<String> = items.iter().map(|v| rust(scope, v, item_ty)).collect();
            format!("vec![{}]", items.join(", "))
        }
    }
}

// ---------------------------------------------------------------------------------------
// Evaluation

/// Why an expression has no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    /// Checked arithmetic overflowed: the command is rejected.
    Overflow,
    /// Something the simulation does not model (arithmetic on a `DateTime`, a list without
    /// the `@key` its built-in needs): no case is built on it.
    Unsupported,
}

/// How a rule came out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Met,
    Broken,
    /// Broken because a calculation overflowed.
    Overflow,
}

/// Named values, in their declaration's order: a state, parameters, an event's fields.
pub(crate) type Fields = Vec<(Name, Value)>;

/// The value named `name` among `fields`.
pub(crate) fn get<'v>(fields: &'v [(Name, Value)], name: &str) -> Option<&'v Value> {
    fields
        .iter()
        .find(|(n, _)| n.as_str() == name)
        .map(|(_, v)| v)
}

fn put(fields: &mut [(Name, Value)], name: &str, value: Value) {
    if let Some(slot) = fields.iter_mut().find(|slot| slot.0.as_str() == name) {
        slot.1 = value;
    }
}

/// What the names of an expression read.
struct Env<'a> {
    system: &'a System,
    arithmetic: Arithmetic,
    state: &'a [(Name, Value)],
    params: &'a [(Name, Value)],
    event: &'a [(Name, Value)],
}

impl<'a> Env<'a> {
    /// What a command's rules and emit plans see: the state before it and its parameters,
    /// with the checked arithmetic of `decide`.
    fn deciding(
        system: &'a System,
        state: &'a [(Name, Value)],
        params: &'a [(Name, Value)],
    ) -> Self {
        Env {
            system,
            arithmetic: Arithmetic::Checked,
            state,
            params,
            event: &[],
        }
    }

    fn outcome(&self, rule: &Typed) -> Option<Outcome> {
        match self.eval(rule, &[]) {
            Ok(Value::Bool(true)) => Some(Outcome::Met),
            Ok(Value::Bool(false)) => Some(Outcome::Broken),
            Err(Stop::Overflow) => Some(Outcome::Overflow),
            _ => None,
        }
    }

    /// `elements` are the elements the enclosing `sum`s are at, the outermost first.
    fn eval(&self, t: &Typed, elements: &[&Value]) -> Result<Value, Stop> {
        match &t.kind {
            TypedKind::Bool(b) => Ok(Value::Bool(*b)),
            TypedKind::Int(v) if t.ty.is_float() => Ok(Value::Float(float(*v as f64, &t.ty))),
            TypedKind::Int(v) => Ok(Value::Int(*v)),
            TypedKind::Float(v) => Ok(Value::Float(float(*v, &t.ty))),
            TypedKind::Str(text) => Ok(Value::Str(text.clone())),
            TypedKind::None => Ok(Value::None),
            TypedKind::Variant(variant) => Ok(Value::Variant(variant.clone())),
            TypedKind::Name { scope, name } => {
                let fields = match scope {
                    NameScope::Param => self.params,
                    NameScope::State => self.state,
                    NameScope::Event => self.event,
                    NameScope::Element(depth) => match elements.get(*depth as usize) {
                        Some(Value::Record(fields)) => fields,
                        _ => return Err(Stop::Unsupported),
                    },
                };
                get(fields, name).cloned().ok_or(Stop::Unsupported)
            }
            TypedKind::Field { base, field } => match self.eval(base, elements)? {
                Value::Record(fields) => get(&fields, field).cloned().ok_or(Stop::Unsupported),
                _ => Err(Stop::Unsupported),
            },
            TypedKind::Unary { op, operand } => match (op, self.eval(operand, elements)?) {
                (UnaryOp::Not, Value::Bool(b)) => Ok(Value::Bool(!b)),
                (UnaryOp::Neg, Value::Int(v)) => self.fit(v.checked_neg(), v < 0, &t.ty),
                (UnaryOp::Neg, Value::Float(v)) => Ok(Value::Float(float(-v, &t.ty))),
                _ => Err(Stop::Unsupported),
            },
            TypedKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, &t.ty, elements),
            TypedKind::In { value, set } => {
                let value = self.eval(value, elements)?;
                let set = set
                    .iter()
                    .map(|item| self.eval(item, elements))
                    .collect::<Result<Vec<_>, _>>()?;
                Ok(Value::Bool(set.contains(&value)))
            }
            TypedKind::Call { function, args } => self.call(*function, args, &t.ty, elements),
            TypedKind::Record { fields, .. } => fields
                .iter()
                .map(|(name, field)| Ok((name.clone(), self.eval(field, elements)?)))
                .collect::<Result<Fields, Stop>>()
                .map(Value::Record),
            TypedKind::Convert {
                value,
                conversion,
                records,
            } => Ok(convert(self.eval(value, elements)?, conversion, records)),
        }
    }

    fn binary(
        &self,
        op: BinaryOp,
        lhs: &Typed,
        rhs: &Typed,
        ty: &Type,
        elements: &[&Value],
    ) -> Result<Value, Stop> {
        if matches!(op, BinaryOp::And | BinaryOp::Or) {
            let decided = op == BinaryOp::Or;
            return match self.eval(lhs, elements)? {
                Value::Bool(left) if left == decided => Ok(Value::Bool(left)),
                Value::Bool(_) => self.eval(rhs, elements),
                _ => Err(Stop::Unsupported),
            };
        }
        let (a, b) = (self.eval(lhs, elements)?, self.eval(rhs, elements)?);
        let order = || compare(&a, &b).ok_or(Stop::Unsupported);
        let holds = match op {
            BinaryOp::Eq => a == b,
            BinaryOp::Ne => a != b,
            BinaryOp::Lt => order()? == Ordering::Less,
            BinaryOp::Le => order()? != Ordering::Greater,
            BinaryOp::Gt => order()? == Ordering::Greater,
            BinaryOp::Ge => order()? != Ordering::Less,
            _ => return self.calculate(op, a, b, ty),
        };
        Ok(Value::Bool(holds))
    }

    fn calculate(&self, op: BinaryOp, a: Value, b: Value, ty: &Type) -> Result<Value, Stop> {
        match (a, b) {
            (Value::Int(a), Value::Int(b)) => {
                let exact = match op {
                    BinaryOp::Add => a.checked_add(b),
                    BinaryOp::Sub => a.checked_sub(b),
                    _ => a.checked_mul(b),
                };
                // Only a product of two `u64`s leaves `i128`: its sign is the operands'.
                self.fit(exact, (a < 0) == (b < 0), ty)
            }
            (Value::Float(a), Value::Float(b)) => {
                let exact = match op {
                    BinaryOp::Add => a + b,
                    BinaryOp::Sub => a - b,
                    _ => a * b,
                };
                Ok(Value::Float(float(exact, ty)))
            }
            _ => Err(Stop::Unsupported),
        }
    }

    /// An integer result in `ty`: out of range, an overflow while deciding, the nearest
    /// bound while applying. `positive` is where the result lies when `exact` is `None`.
    fn fit(&self, exact: Option<i128>, positive: bool, ty: &Type) -> Result<Value, Stop> {
        let (low, high) = ty.integer_bounds().ok_or(Stop::Unsupported)?;
        match (exact, self.arithmetic) {
            (Some(v), _) if (low..=high).contains(&v) => Ok(Value::Int(v)),
            (_, Arithmetic::Checked) => Err(Stop::Overflow),
            (Some(v), Arithmetic::Saturating) => Ok(Value::Int(v.clamp(low, high))),
            (None, Arithmetic::Saturating) => Ok(Value::Int(if positive { high } else { low })),
        }
    }

    fn call(
        &self,
        function: Function,
        args: &[Typed],
        ty: &Type,
        elements: &[&Value],
    ) -> Result<Value, Stop> {
        if function == Function::Sum {
            return self.sum(args, ty, elements);
        }
        let key = args
            .first()
            .and_then(|list| key_field(self.system, &list.ty));
        let values = args
            .iter()
            .map(|arg| self.eval(arg, elements))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(match (function, values.as_slice()) {
            (Function::Count, [Value::List(items)]) => count(items.len()),
            (Function::Count, [Value::Map(entries)]) => count(entries.len()),
            (Function::Len, [Value::Str(text)]) => count(text.chars().count()),
            (Function::Some, [value]) => Value::Some(Box::new(value.clone())),
            (Function::Append, [Value::List(items), item]) => {
                let mut items = items.clone();
                items.push(item.clone());
                Value::List(items)
            }
            (Function::Upsert, [Value::List(items), item]) => {
                let mut items = items.clone();
                upsert(&mut items, item.clone(), key.ok_or(Stop::Unsupported)?);
                Value::List(items)
            }
            (Function::Remove, [Value::List(items), gone]) => {
                // Records go by their `@key`, other elements by equality (`expr.rs`).
                let records = args.first().is_some_and(|list| holds_records(&list.ty));
                if records && key.is_none() {
                    return Err(Stop::Unsupported);
                }
                let matches = |item: &Value| match key {
                    Some(key) => field_of(item, key) == Some(gone),
                    None => item == gone,
                };
                Value::List(items.iter().filter(|i| !matches(i)).cloned().collect())
            }
            (Function::Insert, [Value::Map(entries), Value::Str(k), value]) => {
                let mut entries = entries.clone();
                entries.insert(k.clone(), value.clone());
                Value::Map(entries)
            }
            (Function::Delete, [Value::Map(entries), Value::Str(k)]) => {
                let mut entries = entries.clone();
                entries.remove(k);
                Value::Map(entries)
            }
            _ => return Err(Stop::Unsupported),
        })
    }

    fn sum(&self, args: &[Typed], ty: &Type, elements: &[&Value]) -> Result<Value, Stop> {
        let (list, term) = match args {
            [list] => (list, None),
            [list, term] => (list, Some(term)),
            _ => return Err(Stop::Unsupported),
        };
        let Value::List(items) = self.eval(list, elements)? else {
            return Err(Stop::Unsupported);
        };
        let mut total = if ty.is_float() {
            Value::Float(0.0)
        } else {
            Value::Int(0)
        };
        for item in &items {
            let value = match term {
                Some(term) => {
                    let mut inner = elements.to_vec();
                    inner.push(item);
                    self.eval(term, &inner)?
                }
                None => item.clone(),
            };
            total = self.calculate(BinaryOp::Add, total, value, ty)?;
        }
        Ok(total)
    }
}

/// `count` and `len`: a `u32`, saturating.
fn count(n: usize) -> Value {
    Value::Int(i128::from(u32::try_from(n).unwrap_or(u32::MAX)))
}

/// A float of `ty`: `f32` arithmetic rounds to `f32`.
fn float(value: f64, ty: &Type) -> f64 {
    match ty {
        #[expect(
            clippy::cast_possible_truncation,
            reason = "rounding to f32 is the point"
        )]
        Type::F32 => f64::from(value as f32),
        _ => value,
    }
}

/// The order of two values of one ordered type (numbers, strings, instants, dates).
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::Int(a), Value::Int(b)) => Some(a.cmp(b)),
        (Value::Float(a), Value::Float(b)) => a.partial_cmp(b),
        (Value::Str(a), Value::Str(b)) => Some(a.cmp(b)),
        (Value::Opaque, Value::Opaque) => Some(Ordering::Equal),
        _ => None,
    }
}

fn holds_records(list: &Type) -> bool {
    matches!(list, Type::Vec(item) if matches!(**item, Type::Value(_) | Type::Entity(_)))
}

/// The `@key` field of the records a list holds.
fn key_field<'s>(system: &'s System, list: &Type) -> Option<&'s str> {
    let Type::Vec(item) = list else { return None };
    let (_, path) = item.path()?;
    let record = system.record(path)?;
    record
        .fields
        .iter()
        .find(|f| f.key)
        .map(|f| f.name.as_str())
}

fn field_of<'v>(value: &'v Value, name: &str) -> Option<&'v Value> {
    match value {
        Value::Record(fields) => get(fields, name),
        _ => None,
    }
}

/// Replaces the element with `item`'s key, else appends (`ddd_core::rules::upsert_in`).
fn upsert(items: &mut Vec<Value>, item: Value, key: &str) {
    let id = field_of(&item, key);
    match items.iter().position(|e| field_of(e, key) == id) {
        Some(at) => items[at] = item,
        None => items.push(item),
    }
}

fn convert(value: Value, conversion: &Conversion, records: &[RecordConversion]) -> Value {
    match (conversion, value) {
        (Conversion::Some(inner), value) => Value::Some(Box::new(convert(value, inner, records))),
        (Conversion::Option(inner), Value::Some(value)) => {
            Value::Some(Box::new(convert(*value, inner, records)))
        }
        (Conversion::Vec(inner), Value::List(items)) => Value::List(
            items
                .into_iter()
                .map(|v| convert(v, inner, records))
                .collect(),
        ),
        (Conversion::Map(inner), Value::Map(entries)) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k, convert(v, inner, records)))
                .collect(),
        ),
        (Conversion::Record(pair), Value::Record(fields)) => {
            let Some(plan) = records
                .iter()
                .find(|r| r.from == pair.from && r.to == pair.to)
            else {
                return Value::Record(fields);
            };
            Value::Record(
                plan.fields
                    .iter()
                    .map(|f| {
                        let value = get(&fields, &f.field).cloned().unwrap_or(Value::Opaque);
                        (f.field.clone(), convert(value, &f.conversion, records))
                    })
                    .collect(),
            )
        }
        (Conversion::Widen(to), Value::Int(v)) if to.is_float() => Value::Float(v as f64),
        (_, value) => value,
    }
}

/// What a field holds before anything sets it: the Rust `Default`, ids nil.
fn default_value(system: &System, ty: &Type) -> Value {
    match ty {
        Type::Bool => Value::Bool(false),
        Type::F32 | Type::F64 | Type::Decimal => Value::Float(0.0),
        Type::String => Value::Str(String::new()),
        Type::Uuid => Value::Uuid(0),
        Type::Id(_) => Value::Id(0),
        Type::Option(_) => Value::None,
        Type::Vec(_) => Value::List(Vec::new()),
        Type::Map(_) => Value::Map(BTreeMap::new()),
        Type::Value(path) | Type::Entity(path) => match system.record(path) {
            Some(record) => Value::Record(
                record
                    .fields
                    .iter()
                    .map(|f| (f.name.clone(), default_value(system, &f.ty)))
                    .collect(),
            ),
            None => Value::Opaque,
        },
        Type::Enum(path) => variants(system, path)
            .first()
            .map_or(Value::Opaque, |v| Value::Variant(v.clone())),
        ty if ty.integer_bounds().is_some() => Value::Int(0),
        _ => Value::Opaque,
    }
}

/// The state of an aggregate no event has changed.
fn initial_state(system: &System, aggregate: &Aggregate) -> Fields {
    (aggregate.fields.iter())
        .map(|f| (f.name.clone(), default_value(system, &f.ty)))
        .collect()
}

fn variants(system: &System, path: &TypePath) -> Vec<Name> {
    match system.type_def(path) {
        Some(TypeDef::Enum(e)) => e.variants.iter().map(|v| v.name.clone()).collect(),
        _ => Vec::new(),
    }
}

/// Applies `event` with `fields` to `state`, as the generated `on_<event>` does.
fn apply(
    system: &System,
    event: &Event,
    fields: &[(Name, Value)],
    state: &mut Fields,
) -> Option<()> {
    for set in &event.sets {
        let env = Env {
            system,
            arithmetic: Arithmetic::Saturating,
            state,
            params: &[],
            event: fields,
        };
        let value = env.eval(set.value.checked()?, &[]).ok()?;
        put(state, &set.field, value);
    }
    for step in &event.apply.moves {
        put(state, &step.field, Value::Variant(step.to.clone()));
    }
    let conversions = &event.apply.conversions;
    let from_event = |name: &str, conversion: &Conversion| {
        Some(convert(get(fields, name)?.clone(), conversion, conversions))
    };
    for update in &event.apply.updates {
        let value = from_event(&update.from, &update.conversion)?;
        put(state, &update.field, value);
    }
    for append in &event.apply.appends {
        let record = append
            .fields
            .iter()
            .map(|f| Some((f.field.clone(), from_event(&f.field, &f.conversion)?)))
            .collect::<Option<Fields>>()?;
        let slot = state.iter_mut().find(|slot| slot.0 == append.field)?;
        let Value::List(items) = &mut slot.1 else {
            return None;
        };
        match &append.key {
            Some(key) => upsert(items, Value::Record(record), key),
            None => items.push(Value::Record(record)),
        }
    }
    Some(())
}

// ---------------------------------------------------------------------------------------
// Candidate values

/// Literals of the command's rules: values next to them are where a rule flips.
#[derive(Debug, Default)]
struct Hints {
    ints: Vec<i128>,
    floats: Vec<f64>,
    strings: Vec<String>,
}

impl Hints {
    fn of(rules: &[&Typed]) -> Hints {
        let mut hints = Hints::default();
        for rule in rules {
            rule.visit(&mut |node| match &node.kind {
                TypedKind::Int(v) => {
                    hints
                        .ints
                        .extend([*v, v.saturating_add(1), v.saturating_sub(1)]);
                }
                TypedKind::Float(v) => hints.floats.extend([*v, v + 1.0, v - 1.0]),
                TypedKind::Str(text) => hints.strings.push(text.clone()),
                _ => {}
            });
        }
        hints
    }

    /// Lengths a made string or list may take.
    fn lengths(&self) -> impl Iterator<Item = u64> + '_ {
        (self.ints.iter())
            .filter_map(|&n| u64::try_from(n).ok())
            .filter(|&n| n <= MAX_MADE_LENGTH)
    }
}

/// The sample and the compiled patterns of a string's constraints.
type Patterned = (Option<String>, Vec<regex::Regex>);

thread_local! {
    /// [`Patterned`] by the constraints as written: compiling a pattern costs more than a
    /// whole search for a simple rule, and a model repeats its patterns.
    static PATTERNED: RefCell<HashMap<String, Patterned>> = RefCell::new(HashMap::new());
}

fn patterned(constraints: &[Constraint]) -> Patterned {
    let key: Vec<String> = constraints.iter().map(ToString::to_string).collect();
    let key = key.join(" ");
    PATTERNED.with_borrow_mut(|cache| {
        let entry = cache.entry(key).or_insert_with(|| {
            let patterns = constraints.iter().filter_map(|c| match c {
                Constraint::Pattern { regex, .. } => regex::Regex::new(regex).ok(),
                _ => None,
            });
            (string_sample(constraints), patterns.collect())
        });
        entry.clone()
    })
}

/// What a field's constraints allow: all of them at once (a named type's and the field's own).
#[derive(Debug)]
struct Allowed {
    low: Option<Number>,
    high: Option<Number>,
    min_len: u64,
    max_len: u64,
}

impl Allowed {
    fn of(constraints: &[Constraint]) -> Allowed {
        let mut allowed = Allowed {
            low: None,
            high: None,
            min_len: 0,
            max_len: u64::MAX,
        };
        let tighter = |a: Option<Number>, b: Option<Number>, low: bool| match (a, b) {
            (Some(a), Some(b)) if (a.as_f64() < b.as_f64()) == low => Some(b),
            (Some(a), _) => Some(a),
            (None, b) => b,
        };
        for constraint in constraints {
            match constraint {
                Constraint::Range { min, max, .. } => {
                    allowed.low = tighter(allowed.low, *min, true);
                    allowed.high = tighter(allowed.high, *max, false);
                }
                Constraint::Len { min, max, .. } => {
                    allowed.min_len = allowed.min_len.max(min.unwrap_or(0));
                    allowed.max_len = allowed.max_len.min(max.unwrap_or(u64::MAX));
                }
                Constraint::Pattern { .. } => {}
            }
        }
        allowed
    }

    fn len_fits(&self, len: u64) -> bool {
        (self.min_len..=self.max_len).contains(&len)
    }

    /// The length `Scope::sample` gives a list: 1 where allowed.
    fn sample_len(&self) -> u64 {
        1.clamp(self.min_len, self.max_len.max(self.min_len))
    }

    fn ints(&self, ty: &Type, hints: &Hints) -> Vec<Value> {
        let Some((mut low, mut high)) = ty.integer_bounds() else {
            return Vec::new();
        };
        #[expect(clippy::cast_possible_truncation, reason = "a bound, rounded inwards")]
        let whole = |n: Number, round: fn(f64) -> f64| match n {
            Number::Int(v) => v,
            Number::Float(v) => round(v) as i128,
        };
        if let Some(min) = self.low {
            low = low.max(whole(min, f64::ceil));
        }
        if let Some(max) = self.high {
            high = high.min(whole(max, f64::floor));
        }
        let sample = 1.clamp(low, high.max(low));
        let all = [sample, 0, low, high, -1]
            .into_iter()
            .chain(hints.ints.iter().copied());
        distinct(all.filter(|v| (low..=high).contains(v)).map(Value::Int))
    }

    fn floats(&self, sample: f64, hints: &Hints) -> Vec<Value> {
        let low = self.low.map_or(f64::NEG_INFINITY, Number::as_f64);
        let high = self.high.map_or(f64::INFINITY, Number::as_f64);
        let sample = sample.max(low).min(high);
        let all = [sample, 0.0, 1.0, -1.0, low, high].into_iter();
        let all = all.chain(hints.floats.iter().copied());
        distinct(
            all.filter(|v| v.is_finite() && (low..=high).contains(v))
                .map(Value::Float),
        )
    }

    fn strings(&self, constraints: &[Constraint], hints: &Hints) -> Vec<Value> {
        let (Some(sample), patterns) = patterned(constraints) else {
            return Vec::new();
        };
        let made = |n: u64, c: &str| c.repeat(usize::try_from(n.min(MAX_MADE_LENGTH)).unwrap_or(0));
        let sample_len = sample.chars().count() as u64;
        let lengths = hints.lengths().chain([self.min_len, self.max_len]);
        let all = [sample, String::new(), made(sample_len, "b")]
            .into_iter()
            .chain(hints.strings.iter().cloned())
            .chain(lengths.map(|n| made(n, "a")));
        let fits = |text: &String| {
            self.len_fits(text.chars().count() as u64) && patterns.iter().all(|p| p.is_match(text))
        };
        distinct(all.filter(fits).map(Value::Str))
    }
}

/// The first [`MAX_CHOICES`] distinct values, in order.
fn distinct(values: impl Iterator<Item = Value>) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for value in values {
        if out.len() == MAX_CHOICES {
            break;
        }
        if !out.contains(&value) {
            out.push(value);
        }
    }
    out
}

/// Makes the values a field may take.
#[derive(Debug)]
struct Chooser<'a> {
    system: &'a System,
    hints: Hints,
}

impl Chooser<'_> {
    /// Values of `ty` that keep `constraints`, the sample first; none when no simple value
    /// keeps them.
    fn choices(&self, ty: &Type, constraints: &[Constraint], depth: usize) -> Vec<Value> {
        let allowed = Allowed::of(constraints);
        let mut choices = match ty {
            Type::Bool => vec![Value::Bool(true), Value::Bool(false)],
            Type::F32 | Type::F64 => allowed.floats(1.0, &self.hints),
            // `Scope::sample` writes `Default::default()`: zero.
            Type::Decimal => allowed.floats(0.0, &self.hints),
            Type::String => allowed.strings(constraints, &self.hints),
            Type::Uuid => IDS.map(Value::Uuid).to_vec(),
            Type::Id(_) => IDS.map(Value::Id).to_vec(),
            Type::DateTime | Type::Date | Type::Json | Type::Named(_) => vec![Value::Opaque],
            Type::Option(inner) => {
                let mut inner = self.choices(inner, constraints, depth);
                inner.truncate(2);
                let mut options: Vec<Value> = inner
                    .into_iter()
                    .map(|v| Value::Some(Box::new(v)))
                    .collect();
                options.insert(options.len().min(1), Value::None);
                options
            }
            Type::Vec(item) => self.lists(item, &allowed, depth),
            Type::Map(item) => self.maps(item, &allowed, depth),
            Type::Enum(path) => variants(self.system, path)
                .into_iter()
                .map(Value::Variant)
                .collect(),
            Type::Value(path) | Type::Entity(path) => self.records(path, depth),
            integer => allowed.ints(integer, &self.hints),
        };
        if depth >= MAX_DEPTH {
            choices.truncate(1);
        }
        choices
    }

    fn lists(&self, item: &Type, allowed: &Allowed, depth: usize) -> Vec<Value> {
        let items = self.choices(item, &[], depth + 1);
        let Some(first) = items.first() else {
            let empty = allowed.len_fits(0).then(|| Value::List(Vec::new()));
            return empty.into_iter().collect();
        };
        let second = items.get(1).unwrap_or(first);
        let repeat = |n: u64| {
            let n = usize::try_from(n)
                .ok()
                .filter(|&n| n as u64 <= MAX_MADE_LENGTH)?;
            Some(vec![first.clone(); n])
        };
        let lengths = [allowed.sample_len(), 0].into_iter();
        let mut lists: Vec<Vec<Value>> = lengths.filter_map(repeat).collect();
        lists.push(vec![first.clone(), second.clone()]);
        lists.push(vec![second.clone()]);
        lists.extend(self.hints.lengths().filter_map(repeat));
        distinct(
            lists
                .into_iter()
                .filter(|l| allowed.len_fits(l.len() as u64))
                .map(Value::List),
        )
    }

    fn maps(&self, item: &Type, allowed: &Allowed, depth: usize) -> Vec<Value> {
        let items = self.choices(item, &[], depth + 1);
        let map = |values: &[&Value]| {
            let entries = values.iter().enumerate();
            Value::Map(
                entries
                    .map(|(n, v)| (format!("key{n}"), (*v).clone()))
                    .collect(),
            )
        };
        let mut maps = vec![map(&[])];
        if let Some(first) = items.first() {
            let second = items.get(1).unwrap_or(first);
            let sample_len = allowed.sample_len().min(MAX_MADE_LENGTH);
            let sample: Vec<&Value> = (0..sample_len).map(|_| first).collect();
            maps.insert(0, map(&sample));
            maps.push(map(&[first, second]));
            maps.push(map(&[second]));
        }
        let fits = |m: &Value| matches!(m, Value::Map(e) if allowed.len_fits(e.len() as u64));
        distinct(maps.into_iter().filter(fits))
    }

    /// The sample record, then records that differ from it in one field.
    fn records(&self, path: &TypePath, depth: usize) -> Vec<Value> {
        let Some(record) = self.system.record(path) else {
            return Vec::new();
        };
        let fields: Vec<Vec<Value>> = (record.fields.iter())
            .map(|f| self.choices(&f.ty, &f.constraints, depth + 1))
            .collect();
        if fields.iter().any(Vec::is_empty) {
            return Vec::new();
        }
        let lens: Vec<usize> = fields.iter().map(Vec::len).collect();
        variations(&lens, MAX_CHOICES)
            .into_iter()
            .map(|pick| {
                let values = record.fields.iter().zip(&fields).zip(pick);
                Value::Record(
                    values
                        .map(|((f, choices), i)| (f.name.clone(), choices[i].clone()))
                        .collect(),
                )
            })
            .collect()
    }
}

/// Picks (an index into each list) for lists of these lengths: every combination, those
/// closest to the samples first, when there are at most `cap`; else [`variations`].
fn combinations(lens: &[usize], cap: usize) -> Vec<Vec<usize>> {
    let total = lens.iter().try_fold(1_usize, |n, &len| n.checked_mul(len));
    if total.is_none_or(|total| total > cap) {
        return variations(lens, cap);
    }
    let mut all: Vec<Vec<usize>> = vec![Vec::new()];
    for &len in lens {
        all = all
            .into_iter()
            .flat_map(|pick| {
                (0..len).map(move |i| {
                    let mut pick = pick.clone();
                    pick.push(i);
                    pick
                })
            })
            .collect();
    }
    all.sort_by_key(|pick| {
        let changed = pick.iter().filter(|&&i| i > 0).count();
        (changed, pick.iter().sum::<usize>())
    });
    all
}

/// The samples, then the samples with one list's pick changed; at most `cap`.
fn variations(lens: &[usize], cap: usize) -> Vec<Vec<usize>> {
    if lens.contains(&0) {
        return Vec::new();
    }
    let samples = vec![0; lens.len()];
    let mut out = vec![samples.clone()];
    let longest = lens.iter().copied().max().unwrap_or(0);
    for i in 1..longest {
        for (at, _) in lens.iter().enumerate().filter(|&(_, &len)| i < len) {
            let mut pick = samples.clone();
            pick[at] = i;
            out.push(pick);
        }
    }
    out.truncate(cap);
    out
}

// ---------------------------------------------------------------------------------------
// Search

/// What a search looks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Goal {
    /// A met and a broken case of the rule at this index.
    Rule(usize, Strictness),
    /// One case that passes the whole guard: the lifecycle and every rule.
    Accepted,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Strictness {
    /// Cases the whole guard decides by this rule where there are any, else any.
    Prefer,
    /// Only cases the whole guard decides by this rule.
    Require,
}

/// Where an event field's value comes from in a history.
#[derive(Debug)]
enum Fill<'a> {
    Choices(Vec<Value>),
    /// The state before the event, as the emitting command's plan reads it.
    State(&'a Name, &'a Conversion),
}

/// An event that may come next in a history, and the values it may carry.
#[derive(Debug)]
struct Step<'a> {
    event: &'a Event,
    fills: Vec<Fill<'a>>,
    conversions: &'a [RecordConversion],
    variants: Vec<Vec<usize>>,
}

impl Step<'_> {
    fn apply(&self, system: &System, parent: &Node, variant: &[usize]) -> Option<Node> {
        let fields = (self.event.fields.iter().zip(&self.fills).zip(variant))
            .map(|((field, fill), &i)| {
                let value = match fill {
                    Fill::Choices(choices) => choices.get(i)?.clone(),
                    Fill::State(name, conversion) => convert(
                        get(&parent.state, name)?.clone(),
                        conversion,
                        self.conversions,
                    ),
                };
                Some((field.name.clone(), value))
            })
            .collect::<Option<Fields>>()?;
        let mut state = parent.state.clone();
        apply(system, self.event, &fields, &mut state)?;
        let history = History {
            last: Given {
                event: self.event.name.clone(),
                fields,
            },
            before: parent.history.clone(),
        };
        Some(Node {
            history: Some(Rc::new(history)),
            state,
        })
    }
}

/// The part of `state` at `at` (what the checks see), as a number: a state with the same
/// fingerprint as one reached before, by a shorter or earlier history, is skipped. The
/// hasher has fixed keys, so the search is the same on every run.
fn fingerprint(state: &[(Name, Value)], at: &[usize]) -> u64 {
    fn value(v: &Value, hasher: &mut DefaultHasher) {
        std::mem::discriminant(v).hash(hasher);
        match v {
            Value::Bool(b) => b.hash(hasher),
            Value::Int(n) => n.hash(hasher),
            Value::Float(x) => x.to_bits().hash(hasher),
            Value::Str(text) => text.hash(hasher),
            Value::Uuid(n) | Value::Id(n) => n.hash(hasher),
            Value::Some(inner) => value(inner, hasher),
            Value::List(items) => {
                items.len().hash(hasher);
                items.iter().for_each(|item| value(item, hasher));
            }
            Value::Map(entries) => {
                entries.len().hash(hasher);
                entries.iter().for_each(|(k, v)| {
                    k.hash(hasher);
                    value(v, hasher);
                });
            }
            Value::Record(fields) => fields.iter().for_each(|(_, v)| value(v, hasher)),
            Value::Variant(name) => name.as_str().hash(hasher),
            Value::None | Value::Opaque => {}
        }
    }
    let mut hasher = DefaultHasher::new();
    at.iter().for_each(|&i| value(&state[i].1, &mut hasher));
    hasher.finish()
}

/// The events of a history, the last first: histories share what came before.
#[derive(Debug)]
struct History {
    last: Given,
    before: Option<Rc<History>>,
}

fn given(history: Option<&Rc<History>>) -> Vec<Given> {
    let mut events = Vec::new();
    let mut at = history;
    while let Some(history) = at {
        events.push(history.last.clone());
        at = history.before.as_ref();
    }
    events.reverse();
    events
}

/// A history and the state it leaves.
#[derive(Debug, Clone)]
struct Node {
    history: Option<Rc<History>>,
    state: Fields,
}

/// A case found, and how good it is: 0 is decided by this rule with no overflow; +1 for an
/// overflow; +2 when the rest of the guard would decide first.
#[derive(Debug)]
struct Found {
    rank: u8,
    given: Vec<Given>,
    params: Fields,
}

/// The names of `scope` that the expressions read.
fn names_read<'t>(
    exprs: impl IntoIterator<Item = &'t Typed>,
    scope: NameScope,
) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for expr in exprs {
        expr.visit(&mut |node| {
            if let TypedKind::Name { scope: s, name } = &node.kind
                && *s == scope
            {
                names.insert(name.to_string());
            }
        });
    }
    names
}

/// The event fields that reach one of the state fields `relevant` when `event` is applied.
fn feeding(event: &Event, relevant: &BTreeSet<String>) -> BTreeSet<String> {
    let mut fields = BTreeSet::new();
    for update in &event.apply.updates {
        if relevant.contains(update.field.as_str()) {
            fields.insert(update.from.to_string());
        }
    }
    for append in &event.apply.appends {
        if relevant.contains(append.field.as_str()) {
            fields.extend(append.fields.iter().map(|f| f.field.to_string()));
        }
    }
    let sets = event
        .sets
        .iter()
        .filter(|s| relevant.contains(s.field.as_str()));
    fields.extend(names_read(
        sets.filter_map(|s| s.value.checked()),
        NameScope::Event,
    ));
    fields
}

/// Whether applying `event` can change one of the state fields `relevant`.
fn touches(event: &Event, relevant: &BTreeSet<String>) -> bool {
    let plan = &event.apply;
    (event.sets.iter().map(|s| &s.field))
        .chain(plan.moves.iter().map(|m| &m.field))
        .chain(plan.updates.iter().map(|u| &u.field))
        .chain(plan.appends.iter().map(|a| &a.field))
        .any(|field| relevant.contains(field.as_str()))
}

fn plan_source<'a>(emitter: &'a Command, event: &Event, field: &str) -> Option<&'a Source> {
    let plan = emitter.emit_plans.iter().find(|p| p.event == event.name)?;
    plan.fields
        .iter()
        .find(|f| f.field == field)
        .map(|f| &f.source)
}

/// The state fields the checks can see: those they read, and those the events that set
/// them read, until nothing more is added.
fn relevant_state(
    checks: &[&Typed],
    lifecycles: &[(&Name, &[Name])],
    events: &[(&Command, &Event)],
) -> BTreeSet<String> {
    let mut relevant = names_read(checks.iter().copied(), NameScope::State);
    relevant.extend(lifecycles.iter().map(|(field, _)| field.to_string()));
    loop {
        let before = relevant.len();
        for (emitter, event) in events {
            let sets = event
                .sets
                .iter()
                .filter(|s| relevant.contains(s.field.as_str()));
            let read = names_read(sets.filter_map(|s| s.value.checked()), NameScope::State);
            let from_state = feeding(event, &relevant).into_iter().filter_map(|field| {
                match plan_source(emitter, event, &field) {
                    Some(Source::StateField { field, .. }) => Some(field.to_string()),
                    _ => None,
                }
            });
            let from_state: Vec<String> = from_state.collect();
            relevant.extend(read);
            relevant.extend(from_state);
        }
        if relevant.len() == before {
            return relevant;
        }
    }
}

/// What one search knows and has found.
struct Search<'a> {
    system: &'a System,
    command: &'a Command,
    rules: Vec<Option<&'a Typed>>,
    goal: Goal,
    lifecycles: Vec<(&'a Name, &'a [Name])>,
    params: Vec<Vec<Value>>,
    combinations: Vec<Vec<usize>>,
    /// Events applied and rules evaluated so far.
    work: usize,
    met: Option<Found>,
    broken: Option<Found>,
}

impl Search<'_> {
    fn done(&self) -> bool {
        let best = |found: &Option<Found>| found.as_ref().is_some_and(|f| f.rank == 0);
        best(&self.met) && best(&self.broken)
    }

    fn out_of_budget(&self) -> bool {
        self.work >= MAX_WORK
    }

    /// Tries the parameters on the state `node` leaves; true when the search is over.
    fn visit(&mut self, node: &Node) -> bool {
        let lifecycle_met = lifecycle_met(&self.lifecycles, &node.state);
        let (rule, strictness) = match self.goal {
            Goal::Rule(rule, strictness) => (rule, strictness),
            Goal::Accepted => return lifecycle_met && self.visit_accepted(node),
        };
        if strictness == Strictness::Require && !lifecycle_met {
            return false;
        }
        let Some(target) = self.rules[rule] else {
            return true;
        };
        for c in 0..self.combinations.len() {
            if self.out_of_budget() {
                return true;
            }
            self.work += 1;
            let params = self.params_of(c);
            let env = Env::deciding(self.system, &node.state, &params);
            let met_before = |upto: usize| {
                (self.rules[..upto].iter().enumerate())
                    .filter(|(i, _)| *i != rule)
                    .all(|(_, rule)| rule.and_then(|r| env.outcome(r)) == Some(Outcome::Met))
            };
            let (slot, rank) = match env.outcome(target) {
                None => continue,
                Some(Outcome::Met) if !improves(&self.met, 0) => continue,
                Some(Outcome::Met) => {
                    let whole = lifecycle_met && met_before(self.rules.len());
                    (&mut self.met, if whole { 0 } else { 2 })
                }
                Some(outcome) => {
                    let overflow = u8::from(outcome == Outcome::Overflow);
                    if !improves(&self.broken, overflow) {
                        continue;
                    }
                    let first = lifecycle_met && met_before(rule);
                    (&mut self.broken, overflow + if first { 0 } else { 2 })
                }
            };
            let allowed = strictness == Strictness::Prefer || rank < 2;
            if allowed && improves(slot, rank) {
                *slot = Some(Found {
                    rank,
                    given: given(node.history.as_ref()),
                    params,
                });
                if self.done() {
                    return true;
                }
            }
        }
        false
    }
}

impl Search<'_> {
    /// The parameters of the combination at `c`.
    fn params_of(&self, c: usize) -> Fields {
        (self.command.params.iter().enumerate())
            .map(|(at, p)| {
                let pick = self.combinations[c][at];
                (p.name.clone(), self.params[at][pick].clone())
            })
            .collect()
    }

    /// Tries the parameters on a state the lifecycle allows until every rule is met.
    fn visit_accepted(&mut self, node: &Node) -> bool {
        for c in 0..self.combinations.len() {
            if self.out_of_budget() {
                return true;
            }
            self.work += 1;
            let params = self.params_of(c);
            let env = Env::deciding(self.system, &node.state, &params);
            if rules_met(&env, &self.rules) == Some(true) {
                self.met = Some(Found {
                    rank: 0,
                    given: given(node.history.as_ref()),
                    params,
                });
                return true;
            }
        }
        false
    }
}

/// Each lifecycle field `command` moves, and the states it may move it from.
fn lifecycles<'a>(aggregate: &'a Aggregate, command: &'a Command) -> Vec<(&'a Name, &'a [Name])> {
    aggregate
        .transitions_of(&command.name)
        .map(|(lifecycle, transition)| (&lifecycle.field, transition.from.as_slice()))
        .collect()
}

/// Whether every rule is met, in order; `None` where one before the first broken one cannot
/// be evaluated (a rule on the clock, a calculation the simulation does not model).
fn rules_met(env: &Env<'_>, rules: &[Option<&Typed>]) -> Option<bool> {
    for rule in rules {
        if env.outcome((*rule)?)? != Outcome::Met {
            return Some(false);
        }
    }
    Some(true)
}

fn lifecycle_met(lifecycles: &[(&Name, &[Name])], state: &[(Name, Value)]) -> bool {
    lifecycles.iter().all(
        |(field, from)| matches!(get(state, field), Some(Value::Variant(v)) if from.contains(v)),
    )
}

fn improves(found: &Option<Found>, rank: u8) -> bool {
    found.as_ref().is_none_or(|f| rank < f.rank)
}

fn search(
    system: &System,
    aggregate: &Aggregate,
    command: &Command,
    goal: Goal,
    fixed: &[(Name, Value)],
) -> (Option<Case>, Option<Case>) {
    let rules: Vec<Option<&Typed>> = command.requires.iter().map(|g| g.rule.checked()).collect();
    let checkable = match goal {
        Goal::Rule(rule, _) => rules.get(rule).copied().flatten().is_some(),
        Goal::Accepted => rules.iter().all(Option::is_some),
    };
    if !checkable {
        return (None, None);
    }
    let checks: Vec<&Typed> = rules.iter().copied().flatten().collect();
    let lifecycles = lifecycles(aggregate, command);
    let chooser = Chooser {
        system,
        hints: Hints::of(&checks),
    };

    let read = names_read(checks.iter().copied(), NameScope::Param);
    let mut params = Vec::new();
    for param in &command.params {
        if let Some(value) = get(fixed, &param.name) {
            params.push(vec![value.clone()]);
            continue;
        }
        let mut choices = chooser.choices(&param.ty, &param.constraints, 0);
        if !read.contains(param.name.as_str()) {
            choices.truncate(1);
        }
        if choices.is_empty() {
            return (None, None);
        }
        params.push(choices);
    }
    let lens: Vec<usize> = params.iter().map(Vec::len).collect();
    let mut search = Search {
        system,
        command,
        rules,
        goal,
        lifecycles,
        combinations: combinations(&lens, MAX_COMBINATIONS),
        params,
        work: 0,
        met: None,
        broken: None,
    };

    let root = Node {
        history: None,
        state: initial_state(system, aggregate),
    };
    if command.creates {
        search.visit(&root);
    } else {
        explore(&mut search, &chooser, aggregate, root, &checks);
    }
    let case = |found: Option<Found>| {
        found.map(|f| Case {
            given: f.given,
            params: f.params,
        })
    };
    (case(search.met), case(search.broken))
}

/// Breadth-first over histories from `root`: each creating event, then the events that can
/// change what the checks see.
fn explore(
    search: &mut Search<'_>,
    chooser: &Chooser<'_>,
    aggregate: &Aggregate,
    root: Node,
    checks: &[&Typed],
) {
    let creating: Vec<(&Command, &Event)> = (aggregate.commands.iter())
        .filter(|c| c.creates)
        .filter_map(|c| Some((c, aggregate.event(c.emits.first()?)?)))
        .collect();
    let later: Vec<(&Command, &Event)> = (aggregate.events.iter())
        .filter_map(|e| {
            let emitter =
                (aggregate.commands.iter()).find(|c| !c.creates && c.emits.contains(&e.name))?;
            Some((emitter, e))
        })
        .collect();
    let all: Vec<(&Command, &Event)> = creating.iter().chain(&later).copied().collect();
    let relevant = relevant_state(checks, &search.lifecycles, &all);
    let at: Vec<usize> = (aggregate.fields.iter().enumerate())
        .filter(|(_, f)| relevant.contains(f.name.as_str()))
        .map(|(i, _)| i)
        .collect();

    let first: Vec<Step<'_>> = (creating.iter())
        .filter_map(|(c, e)| step(chooser, c, e, &relevant))
        .collect();
    let next: Vec<Step<'_>> = (later.iter())
        .filter(|(_, e)| touches(e, &relevant))
        .filter_map(|(c, e)| step(chooser, c, e, &relevant))
        .collect();

    let mut seen: HashSet<u64> = HashSet::new();
    let mut level = vec![root];
    for depth in 0..=MAX_LATER_EVENTS {
        let steps = if depth == 0 { &first } else { &next };
        let mut children = Vec::new();
        for parent in &level {
            for step in steps {
                for variant in &step.variants {
                    if search.out_of_budget() {
                        return;
                    }
                    search.work += 1;
                    let Some(child) = step.apply(search.system, parent, variant) else {
                        continue;
                    };
                    if !seen.insert(fingerprint(&child.state, &at)) {
                        continue;
                    }
                    if search.visit(&child) || seen.len() >= MAX_STATES {
                        return;
                    }
                    if depth < MAX_LATER_EVENTS {
                        children.push(child);
                    }
                }
            }
        }
        level = children;
    }
}

/// `event` as the step of a history, its fields filled as `emitter` fills them where its
/// plan says, else from values of the field's type; only fields that reach `relevant` state
/// vary.
fn step<'a>(
    chooser: &Chooser<'_>,
    emitter: &'a Command,
    event: &'a Event,
    relevant: &BTreeSet<String>,
) -> Option<Step<'a>> {
    let plan = emitter.emit_plans.iter().find(|p| p.event == event.name);
    let conversions = plan.map_or(&[][..], |p| p.conversions.as_slice());
    let varying = feeding(event, relevant);
    let mut fills = Vec::new();
    for field in &event.fields {
        let fill = match plan_source(emitter, event, &field.name) {
            Some(Source::StateField { field, conversion }) => Fill::State(field, conversion),
            Some(Source::CommandField { field, conversion }) => {
                let param = emitter.params.iter().find(|p| p.name == *field)?;
                let choices = chooser.choices(&param.ty, &param.constraints, 0);
                Fill::Choices(
                    (choices.into_iter())
                        .map(|v| convert(v, conversion, conversions))
                        .collect(),
                )
            }
            Some(Source::AggregateId { conversion }) => Fill::Choices(vec![convert(
                Value::Id(AGGREGATE_ID),
                conversion,
                conversions,
            )]),
            Some(Source::Default) => match default_of(chooser.system, field) {
                Some(value) => Fill::Choices(vec![value]),
                None => Fill::Choices(chooser.choices(&field.ty, &field.constraints, 0)),
            },
            _ => Fill::Choices(chooser.choices(&field.ty, &field.constraints, 0)),
        };
        let fill = match fill {
            Fill::Choices(mut choices) => {
                if !varying.contains(field.name.as_str()) {
                    choices.truncate(1);
                }
                if choices.is_empty() {
                    return None;
                }
                Fill::Choices(choices)
            }
            state => state,
        };
        fills.push(fill);
    }
    let lens: Vec<usize> = (fills.iter())
        .map(|fill| match fill {
            Fill::Choices(choices) => choices.len(),
            Fill::State(..) => 1,
        })
        .collect();
    Some(Step {
        event,
        fills,
        conversions,
        variants: combinations(&lens, MAX_COMBINATIONS),
    })
}

// ---------------------------------------------------------------------------------------
// Whole commands, for the scenarios of policy chains

/// A history and parameters with which `command` passes its whole guard (its lifecycle and
/// every rule); the parameters named in `fixed` keep their values there, as a policy's
/// translation decides them.
pub(crate) fn accepted_case(
    system: &System,
    aggregate: &Aggregate,
    command: &Command,
    fixed: &[(Name, Value)],
) -> Option<Case> {
    search(system, aggregate, command, Goal::Accepted, fixed).0
}

/// The state `events` leave, from the state no event has changed.
pub(crate) fn replay(system: &System, aggregate: &Aggregate, events: &[Given]) -> Option<Fields> {
    let mut state = initial_state(system, aggregate);
    evolve(system, aggregate, &mut state, events)?;
    Some(state)
}

/// The value of `field`'s default (`cancelled_by: String = "customer"`): a literal, so
/// no state, parameter or event is in reach.
fn default_of(system: &System, field: &Field) -> Option<Value> {
    let env = Env {
        system,
        arithmetic: Arithmetic::Saturating,
        state: &[],
        params: &[],
        event: &[],
    };
    env.eval(field.default.as_ref()?.checked()?, &[]).ok()
}

/// Applies `events` to `state` in order.
pub(crate) fn evolve(
    system: &System,
    aggregate: &Aggregate,
    state: &mut Fields,
    events: &[Given],
) -> Option<()> {
    for given in events {
        apply(system, aggregate.event(&given.event)?, &given.fields, state)?;
    }
    Some(())
}

/// Whether `command` with `params` passes its whole guard on `state`; `None` where the
/// simulation cannot tell (a rule on the clock).
pub(crate) fn accepts(
    system: &System,
    aggregate: &Aggregate,
    command: &Command,
    state: &[(Name, Value)],
    params: &[(Name, Value)],
) -> Option<bool> {
    if !lifecycle_met(&lifecycles(aggregate, command), state) {
        return Some(false);
    }
    let rules: Vec<Option<&Typed>> = command.requires.iter().map(|g| g.rule.checked()).collect();
    rules_met(&Env::deciding(system, state, params), &rules)
}

/// The events `command` emits with `params` on `state`, by the aggregate whose id is `id`,
/// their fields filled as the generated `decide` fills them; `None` where a field needs
/// code or cannot be computed.
pub(crate) fn decide(
    system: &System,
    aggregate: &Aggregate,
    command: &Command,
    state: &[(Name, Value)],
    params: &[(Name, Value)],
    id: u128,
) -> Option<Vec<Given>> {
    let env = Env::deciding(system, state, params);
    let mut events = Vec::new();
    for name in &command.emits {
        let event = aggregate.event(name)?;
        let plan = command.emit_plans.iter().find(|p| p.event == *name)?;
        let conversions = &plan.conversions;
        let mut fields = Fields::new();
        for (field, fill) in event.fields.iter().zip(&plan.fields) {
            let value = match &fill.source {
                Source::CommandField { field, conversion } => {
                    convert(get(params, field)?.clone(), conversion, conversions)
                }
                Source::StateField { field, conversion } => {
                    convert(get(state, field)?.clone(), conversion, conversions)
                }
                Source::AggregateId { conversion } => {
                    convert(Value::Id(id), conversion, conversions)
                }
                Source::Default => default_of(system, field)?,
                Source::Computed { expr } => env.eval(expr.checked()?, &[]).ok()?,
                Source::EventField { .. } | Source::NeedsCode { .. } => return None,
            };
            fields.push((field.name.clone(), value));
        }
        events.push(Given {
            event: name.clone(),
            fields,
        });
    }
    Some(events)
}

/// The parameters a policy's `translation` gives its command from the event's `fields`;
/// `emitter` is the id of the aggregate that emitted the event. `None` where a person
/// writes the translation or the simulation cannot compute a field.
pub(crate) fn translate(
    system: &System,
    translation: &Translation,
    fields: &[(Name, Value)],
    emitter: u128,
) -> Option<Fields> {
    let env = Env {
        system,
        arithmetic: Arithmetic::Checked,
        state: &[],
        params: &[],
        event: fields,
    };
    let conversions = &translation.conversions;
    translation
        .fields
        .iter()
        .map(|plan| {
            let value = match &plan.source {
                Source::EventField { field, conversion } => {
                    convert(get(fields, field)?.clone(), conversion, conversions)
                }
                Source::AggregateId { conversion } => {
                    convert(Value::Id(emitter), conversion, conversions)
                }
                Source::Computed { expr } => env.eval(expr.checked()?, &[]).ok()?,
                Source::CommandField { .. }
                | Source::StateField { .. }
                | Source::Default
                | Source::NeedsCode { .. } => return None,
            };
            Some((plan.field.clone(), value))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use ddd_model::ir::Field;

    use super::*;
    use crate::rust::Crate;

    const SHOP: &str = include_str!("../../examples/shop/shop.ddd");

    /// Accounts with a limit, keyed entries and a balance: arithmetic, sums, widening,
    /// overflow, enums and a rule nothing can meet.
    const BOOKS: &str = r#"
system Books
context Accounts {
  enum Tier { Basic, Silver, Gold }
  aggregate Account {
    limit: u32
    tier: Tier
    balance: i64
    entries: Vec<Entry>
    entity Entry { code: String @key, cents: i64 @range(0..=1000), times: u8 }

    command Open(limit: u32 @range(0..=500), tier: Tier) creates emits Opened
    command Import(limit: u32 @range(0..=500), tier: Tier) creates
      requires limit >= 100 emits Opened
    command Book(code: String @len(1..=8), cents: i64 @range(0..=1000), times: u8) emits Booked
    command Check(extra: i64 @range(0..=1000))
      requires sum(entries, cents * times) + extra <= limit emits Checked
    command Audit() requires sum(entries, cents * times) > limit emits Audited
    command Raise(by: i64 @range(0..)) requires balance + by >= balance emits Raised
    command Double(by: i64 @range(0..)) requires by * 2 < 10 emits Doubled
    command Upgrade(to: Tier) requires to in {Silver, Gold} emits Upgraded
    command Downgrade() requires tier in {Silver, Gold} emits Downgraded
    command Close() requires count(entries) > 100 emits Closed
    command Merge() requires count(entries) > 1 emits Merged
    command Flip() requires tier == Gold requires tier != Gold emits Flipped

    event Opened(limit: u32, tier: Tier)
    event Booked(code: String, cents: i64, times: u8)
    event Checked(extra: i64)
    event Audited()
    event Raised(by: i64) sets balance = balance + by
    event Doubled(by: i64)
    event Upgraded(to: Tier) sets tier = to
    event Downgraded() sets tier = Basic
    event Closed()
    event Merged()
    event Flipped()
  }
}
"#;

    /// Maps and lists of plain values, changed by the built-ins in `sets`.
    const BOARDS: &str = r#"
system Boards
context Labels {
  aggregate Board {
    tags: Map<String, u32>
    names: Vec<String>
    command Create() creates emits Created
    command Tag(key: String @len(1..=10), weight: u32) emits Tagged
    command Untag(key: String @len(1..=10)) emits Untagged
    command Name(name: String @len(1..=10)) requires count(names) < 2 and len(name) > 4 emits Named
    command Forget(name: String @len(1..=10)) emits Forgot
    command Publish() requires count(tags) > 0 emits Published
    event Created()
    event Tagged(key: String, weight: u32) sets tags = insert(tags, key, weight)
    event Untagged(key: String) sets tags = delete(tags, key)
    event Named(name: String) sets names = append(names, name)
    event Forgot(name: String) sets names = remove(names, name)
    event Published()
  }
}
"#;

    /// A lifecycle: rules of commands that only run in a later state.
    const PAPERS: &str = r#"
system Papers
context Desk {
  enum Phase { Draft, Live, Gone }
  aggregate Paper {
    phase: Phase
    pages: u32
    lifecycle phase {
      Draft -> Live by Publish
      Live -> Gone by Retire
    }
    command Start() creates emits Started
    command Publish(size: u32) requires size > 0 emits Published
    command Retire(reason: String @len(1..=50)) requires len(reason) > 3 emits Retired
    event Started()
    event Published(size: u32)
    event Retired(reason: String)
  }
}
"#;

    fn load(text: &str) -> System {
        ddd_model::load(text, ddd_model::Format::Ddd)
            .map_err(|rejected| format!("{rejected:?}"))
            .expect("a valid model")
            .system
    }

    fn command<'s>(
        system: &'s System,
        aggregate: &str,
        name: &str,
    ) -> (&'s Aggregate, &'s Command) {
        let (_, aggregate) = system.aggregate(aggregate).expect("the aggregate");
        (aggregate, aggregate.command(name).expect("the command"))
    }

    fn requires(text: &str, aggregate: &str, name: &str) -> (Option<Case>, Option<Case>) {
        let system = load(text);
        let (aggregate, command) = command(&system, aggregate, name);
        requires_cases(&system, aggregate, command, 0)
    }

    /// The events of the met case and of the broken one.
    fn histories(cases: &(Case, Case)) -> (Vec<&str>, Vec<&str>) {
        (events(&cases.0), events(&cases.1))
    }

    fn events(case: &Case) -> Vec<&str> {
        case.given.iter().map(|g| g.event.as_str()).collect()
    }

    fn param<'c>(case: &'c Case, name: &str) -> &'c Value {
        get(&case.params, name).expect("the parameter")
    }

    fn field<'c>(given: &'c Given, name: &str) -> &'c Value {
        get(&given.fields, name).expect("the field")
    }

    fn both(cases: (Option<Case>, Option<Case>)) -> (Case, Case) {
        let (met, broken) = cases;
        (met.expect("a met case"), broken.expect("a broken case"))
    }

    /// The state `case` leaves, and whether the rule is met on it with its parameters.
    fn replay(
        system: &System,
        aggregate: &Aggregate,
        command: &Command,
        case: &Case,
        rule: usize,
    ) -> (Fields, Option<Outcome>) {
        let mut state = initial_state(system, aggregate);
        for given in &case.given {
            let event = aggregate
                .event(&given.event)
                .expect("an event of the aggregate");
            apply(system, event, &given.fields, &mut state).expect("applies");
        }
        let env = Env {
            system,
            arithmetic: Arithmetic::Checked,
            state: &state,
            params: &case.params,
            event: &[],
        };
        let outcome = env.outcome(command.requires[rule].rule.checked().expect("typed"));
        (state, outcome)
    }

    #[test]
    fn shop_rules_are_met_and_broken_by_the_shortest_histories() {
        let table: &[(&str, &str, &[&str], &[&str])] = &[
            // `not checked_out`
            (
                "ShoppingCart",
                "AddItem",
                &["CartOpened"],
                &["CartOpened", "CartCheckedOut"],
            ),
            // `not checked_out and count(items) > 0`
            (
                "ShoppingCart",
                "CheckOut",
                &["CartOpened", "ItemAdded"],
                &["CartOpened"],
            ),
            // `address != none and dispatched == none`
            (
                "Shipment",
                "Dispatch",
                &["ShipmentPrepared", "AddressSet"],
                &["ShipmentPrepared"],
            ),
            // `dispatched == none`
            (
                "Shipment",
                "SetAddress",
                &["ShipmentPrepared"],
                &["ShipmentPrepared", "ShipmentDispatched"],
            ),
            // `active`, which the creating event sets
            (
                "Product",
                "Discontinue",
                &["ProductCreated"],
                &["ProductCreated", "ProductDiscontinued"],
            ),
        ];
        for (aggregate, name, met, broken) in table {
            let cases = both(requires(SHOP, aggregate, name));
            assert_eq!(histories(&cases), (met.to_vec(), broken.to_vec()), "{name}");
        }
        // Parameters no rule reads keep their samples, which keep the constraints.
        let (met, _) = both(requires(SHOP, "ShoppingCart", "AddItem"));
        assert_eq!(param(&met, "quantity"), &Value::Int(1));
        assert_eq!(param(&met, "product"), &Value::Id(7));
    }

    #[test]
    fn every_rule_of_the_shop_has_both_cases_and_they_replay() {
        let system = load(SHOP);
        let mut rules = 0;
        for context in &system.contexts {
            for aggregate in &context.aggregates {
                for command in &aggregate.commands {
                    for rule in 0..command.requires.len() {
                        rules += 1;
                        let guard = guard_cases(&system, aggregate, command, rule);
                        assert_eq!(guard, requires_cases(&system, aggregate, command, rule));
                        let (met, broken) = both(guard);
                        let replayed = |case| replay(&system, aggregate, command, case, rule).1;
                        assert_eq!(replayed(&met), Some(Outcome::Met), "{}", command.name);
                        assert_eq!(replayed(&broken), Some(Outcome::Broken), "{}", command.name);
                    }
                }
            }
        }
        assert_eq!(rules, 8);
    }

    #[test]
    fn given_events_carry_what_their_commands_would_put_in_them() {
        let system = load(SHOP);
        let (aggregate, check_out) = command(&system, "ShoppingCart", "CheckOut");
        let chooser = Chooser {
            system: &system,
            hints: Hints::default(),
        };
        let event = aggregate.event("CartCheckedOut").expect("CartCheckedOut");
        let relevant = BTreeSet::from(["items".to_owned(), "checked_out".to_owned()]);
        let step = step(&chooser, check_out, event, &relevant).expect("a step");
        let item = Value::Record(vec![(Name::new("product"), Value::Id(8))]);
        let parent = Node {
            history: None,
            state: vec![
                (Name::new("customer"), Value::Uuid(9)),
                (Name::new("items"), Value::List(vec![item.clone()])),
                (Name::new("checked_out"), Value::Bool(false)),
            ],
        };
        // `CheckOut` fills the event from the state: a checked-out cart keeps its items.
        let child = step
            .apply(&system, &parent, &step.variants[0])
            .expect("applies");
        let given = &given(child.history.as_ref())[0];
        assert_eq!(field(given, "customer"), &Value::Uuid(9));
        assert_eq!(field(given, "items"), &Value::List(vec![item.clone()]));
        assert_eq!(get(&child.state, "items"), Some(&Value::List(vec![item])));
        assert_eq!(get(&child.state, "checked_out"), Some(&Value::Bool(true)));
    }

    #[test]
    fn sums_multiply_widened_fields_of_each_element() {
        let system = load(BOOKS);
        let (aggregate, command) = command(&system, "Account", "Audit");
        let (met, broken) = both(requires_cases(&system, aggregate, command, 0));
        assert_eq!(events(&broken), ["Opened"]);
        assert_eq!(events(&met), ["Opened", "Booked"]);
        let booked = &met.given[1];
        let (Value::Int(cents), Value::Int(times)) =
            (field(booked, "cents"), field(booked, "times"))
        else {
            panic!("integers: {booked:?}");
        };
        let Value::Int(limit) = field(&met.given[0], "limit") else {
            panic!("an integer limit");
        };
        assert!(cents * times > *limit, "{met:?}");
        let (state, outcome) = replay(&system, aggregate, command, &met, 0);
        assert_eq!(outcome, Some(Outcome::Met));
        assert!(matches!(get(&state, "entries"), Some(Value::List(entries)) if entries.len() == 1));

        let (aggregate, command) = (aggregate, aggregate.command("Check").expect("Check"));
        let (met, broken) = both(requires_cases(&system, aggregate, command, 0));
        assert_eq!(
            replay(&system, aggregate, command, &met, 0).1,
            Some(Outcome::Met)
        );
        assert_eq!(
            replay(&system, aggregate, command, &broken, 0).1,
            Some(Outcome::Broken)
        );
    }

    #[test]
    fn an_overflow_breaks_a_rule_but_a_plain_break_is_preferred() {
        let system = load(BOOKS);
        let (aggregate, command) = command(&system, "Account", "Double");
        let (met, broken) = both(requires_cases(&system, aggregate, command, 0));
        assert_eq!(param(&met, "by"), &Value::Int(1));
        // `i64::MAX` comes before 10 among the candidates, but overflows.
        let Value::Int(by) = param(&broken, "by") else {
            panic!("an integer");
        };
        assert!((5..i128::from(i64::MAX)).contains(by), "{broken:?}");
        assert_eq!(
            replay(&system, aggregate, command, &broken, 0).1,
            Some(Outcome::Broken)
        );

        // Only an overflow breaks `balance + by >= balance`: a balance raised to the top.
        let (aggregate, command) = (aggregate, aggregate.command("Raise").expect("Raise"));
        let (met, broken) = both(requires_cases(&system, aggregate, command, 0));
        assert_eq!(events(&met), ["Opened"]);
        assert_eq!(events(&broken), ["Opened", "Raised"]);
        let (_, outcome) = replay(&system, aggregate, command, &broken, 0);
        assert_eq!(outcome, Some(Outcome::Overflow));
    }

    #[test]
    fn sets_saturate_where_rules_overflow() {
        let system = load(BOOKS);
        let (aggregate, _) = command(&system, "Account", "Raise");
        let raised = aggregate.event("Raised").expect("Raised");
        let mut state: Fields = vec![(Name::new("balance"), Value::Int(i64::MAX.into()))];
        let by = vec![(Name::new("by"), Value::Int(5))];
        apply(&system, raised, &by, &mut state).expect("applies");
        assert_eq!(state[0].1, Value::Int(i64::MAX.into()));
    }

    #[test]
    fn enums_are_tried_variant_by_variant() {
        let (met, broken) = both(requires(BOOKS, "Account", "Upgrade"));
        assert_eq!(param(&met, "to"), &Value::Variant(Name::new("Silver")));
        assert_eq!(param(&broken, "to"), &Value::Variant(Name::new("Basic")));
        assert_eq!(events(&met), ["Opened"]);

        let (met, broken) = both(requires(BOOKS, "Account", "Downgrade"));
        assert_eq!(events(&met), ["Opened"]);
        assert_eq!(
            field(&met.given[0], "tier"),
            &Value::Variant(Name::new("Silver"))
        );
        assert_eq!(events(&broken), ["Opened"]);
        assert_eq!(
            field(&broken.given[0], "tier"),
            &Value::Variant(Name::new("Basic"))
        );
    }

    #[test]
    fn a_creating_command_is_decided_on_the_empty_state() {
        let (met, broken) = both(requires(BOOKS, "Account", "Import"));
        assert!(met.given.is_empty() && broken.given.is_empty());
        assert!(matches!(param(&met, "limit"), Value::Int(limit) if *limit >= 100));
        assert_eq!(param(&broken, "limit"), &Value::Int(1));
    }

    #[test]
    fn maps_and_plain_lists_change_through_built_ins() {
        let publish = both(requires(BOARDS, "Board", "Publish"));
        assert_eq!(
            histories(&publish),
            (vec!["Created", "Tagged"], vec!["Created"])
        );
        let (met, broken) = both(requires(BOARDS, "Board", "Name"));
        assert_eq!(param(&met, "name"), &Value::Str("aaaaa".into()));
        assert_eq!(param(&broken, "name"), &Value::Str("aaa".into()));

        let system = load(BOARDS);
        let (board, _) = command(&system, "Board", "Publish");
        let mut state = initial_state(&system, board);
        let text = |name: &str, value: &str| vec![(Name::new(name), Value::Str(value.into()))];
        let tagged = |key: &str, weight: i128| {
            let mut fields = text("key", key);
            fields.push((Name::new("weight"), Value::Int(weight)));
            fields
        };
        for (event, fields) in [
            ("Tagged", tagged("a", 1)),
            ("Tagged", tagged("b", 2)),
            ("Tagged", tagged("a", 3)),
            ("Untagged", text("key", "b")),
            ("Named", text("name", "x")),
            ("Named", text("name", "y")),
            ("Named", text("name", "x")),
            ("Forgot", text("name", "x")),
        ] {
            let event = board.event(event).expect("the event");
            apply(&system, event, &fields, &mut state).expect("applies");
        }
        let tags = BTreeMap::from([("a".to_owned(), Value::Int(3))]);
        assert_eq!(get(&state, "tags"), Some(&Value::Map(tags)));
        let names = vec![Value::Str("y".into())];
        assert_eq!(get(&state, "names"), Some(&Value::List(names)));
    }

    #[test]
    fn a_rule_nothing_meets_has_no_met_case() {
        let (met, broken) = requires(BOOKS, "Account", "Close");
        assert_eq!(met, None);
        assert_eq!(events(&broken.expect("a broken case")), ["Opened"]);
    }

    #[test]
    fn two_elements_need_two_keys() {
        let (met, _) = both(requires(BOOKS, "Account", "Merge"));
        assert_eq!(events(&met), ["Opened", "Booked", "Booked"]);
        assert_ne!(field(&met.given[1], "code"), field(&met.given[2], "code"));
    }

    #[test]
    fn the_guard_needs_the_rules_before_the_broken_one() {
        let system = load(BOOKS);
        let (aggregate, command) = command(&system, "Account", "Flip");
        // `tier == Gold` then `tier != Gold`: the second rule can be broken only where the
        // first holds, and the guard is never passed as a whole.
        let (met, broken) = guard_cases(&system, aggregate, command, 1);
        assert_eq!(met, None);
        let broken = broken.expect("a broken case");
        assert_eq!(
            field(&broken.given[0], "tier"),
            &Value::Variant(Name::new("Gold"))
        );
        // Without the guard's order, either side of the rule alone will do.
        let (met, broken) = both(requires_cases(&system, aggregate, command, 1));
        assert_eq!(
            replay(&system, aggregate, command, &met, 1).1,
            Some(Outcome::Met)
        );
        assert_eq!(
            field(&broken.given[0], "tier"),
            &Value::Variant(Name::new("Gold"))
        );
        let (met, broken) = guard_cases(&system, aggregate, command, 0);
        assert_eq!(met, None);
        assert!(broken.is_some());
    }

    #[test]
    fn the_guard_checks_the_lifecycle_first() {
        let system = load(PAPERS);
        let (aggregate, command) = command(&system, "Paper", "Retire");
        let (met, broken) = both(guard_cases(&system, aggregate, command, 0));
        assert_eq!(events(&met), ["Started", "Published"]);
        assert_eq!(events(&broken), ["Started", "Published"]);
        assert_eq!(param(&met, "reason"), &Value::Str("aaaa".into()));
        assert_eq!(param(&broken, "reason"), &Value::Str("aaa".into()));
        let (state, _) = replay(&system, aggregate, command, &met, 0);
        assert_eq!(
            get(&state, "phase"),
            Some(&Value::Variant(Name::new("Live")))
        );

        let (aggregate, command) = (aggregate, aggregate.command("Publish").expect("Publish"));
        let (met, broken) = both(guard_cases(&system, aggregate, command, 0));
        assert_eq!(
            (events(&met), param(&met, "size")),
            (vec!["Started"], &Value::Int(1))
        );
        assert_eq!(
            (events(&broken), param(&broken, "size")),
            (vec!["Started"], &Value::Int(0))
        );
    }

    #[test]
    fn applying_upserts_by_key_and_removes_by_key() {
        let system = load(SHOP);
        let (aggregate, _) = command(&system, "ShoppingCart", "AddItem");
        let money = Value::Record(vec![
            (Name::new("amount_cents"), Value::Int(1)),
            (Name::new("currency"), Value::Str("EUR".into())),
        ]);
        let added = |product: u128, quantity: i128| {
            vec![
                (Name::new("product"), Value::Id(product)),
                (Name::new("quantity"), Value::Int(quantity)),
                (Name::new("unit_price"), money.clone()),
            ]
        };
        let mut state = initial_state(&system, aggregate);
        let event = |name: &str| aggregate.event(name).expect("the event");
        for (name, fields) in [
            ("ItemAdded", added(7, 1)),
            ("ItemAdded", added(8, 1)),
            ("ItemAdded", added(7, 3)),
            ("ItemRemoved", vec![(Name::new("product"), Value::Id(8))]),
        ] {
            apply(&system, event(name), &fields, &mut state).expect("applies");
        }
        let Some(Value::List(items)) = get(&state, "items") else {
            panic!("a list of items");
        };
        assert_eq!(items.len(), 1);
        assert_eq!(field_of(&items[0], "quantity"), Some(&Value::Int(3)));
    }

    static NO_CONTRACT_TYPES: BTreeSet<TypePath> = BTreeSet::new();

    fn scope<'s>(system: &'s System, context: &'s str, module: &str) -> Scope<'s> {
        Scope::new(system, Crate::Service(context), module, &NO_CONTRACT_TYPES)
    }

    #[test]
    fn the_first_choice_is_the_sample_and_renders_like_it() {
        let system = load(SHOP);
        let scope = scope(&system, "Cart", "crate::shopping_cart");
        let chooser = Chooser {
            system: &system,
            hints: Hints::default(),
        };
        let mut fields: Vec<&Field> = Vec::new();
        for context in &system.contexts {
            for aggregate in &context.aggregates {
                fields.extend(aggregate.commands.iter().flat_map(|c| &c.params));
                fields.extend(aggregate.events.iter().flat_map(|e| &e.fields));
            }
        }
        assert!(fields.len() > 30);
        for field in fields {
            let first = chooser.choices(&field.ty, &field.constraints, 0);
            let first = first.first().expect("a value");
            let sample = scope
                .sample(&field.ty, &field.constraints)
                .expect("a sample");
            assert_eq!(rust(&scope, first, &field.ty), sample, "{}", field.name);
        }
    }

    #[test]
    fn values_render_as_rust() {
        let system = load(SHOP);
        let scope = scope(&system, "Shipping", "crate::shipment");
        let (_, shipment) = system.aggregate("Shipment").expect("Shipment");
        let ty = |name: &str| shipment.field(name).expect("the field").ty.clone();
        let address = Value::Record(vec![
            (Name::new("street"), Value::Str("Main".into())),
            (Name::new("city"), Value::Str("Bern".into())),
            (Name::new("zip"), Value::Str("3000".into())),
        ]);
        assert_eq!(
            rust(&scope, &Value::Some(Box::new(address)), &ty("address")),
            r#"Some(Address { street: "Main".to_owned(), city: "Bern".to_owned(), zip: "3000".to_owned() })"#
        );
        assert_eq!(rust(&scope, &Value::None, &ty("dispatched")), "None");
        assert_eq!(
            rust(
                &scope,
                &Value::Some(Box::new(Value::Opaque)),
                &ty("dispatched")
            ),
            "Some(Default::default())"
        );
        assert_eq!(
            rust(&scope, &Value::Id(0), &ty("order")),
            "OrderId::from(Uuid::nil())"
        );
        assert_eq!(
            rust(&scope, &Value::Id(8), &ty("order")),
            "OrderId::from(Uuid::from_u128(8))"
        );

        let list = Type::Vec(Box::new(Type::I64));
        assert_eq!(rust(&scope, &Value::List(Vec::new()), &list), "Vec::new()");
        let three = Value::List(vec![Value::Int(2); 3]);
        assert_eq!(rust(&scope, &three, &list), "vec![2; 3]");
        let extremes = Value::List(vec![
            Value::Int(i64::MIN.into()),
            Value::Int(i64::MAX.into()),
        ]);
        assert_eq!(rust(&scope, &extremes, &list), "vec![i64::MIN, i64::MAX]");
        let map = Type::Map(Box::new(Type::Bool));
        let entries = Value::Map(BTreeMap::from([("k".to_owned(), Value::Bool(true))]));
        assert_eq!(
            rust(&scope, &entries, &map),
            r#"BTreeMap::from([("k".to_owned(), true)])"#
        );
        assert_eq!(
            rust(&scope, &Value::Map(BTreeMap::new()), &map),
            "BTreeMap::new()"
        );
        assert_eq!(
            rust(&scope, &Value::Float(1.0), &Type::Decimal),
            "Decimal::from(1_i64)"
        );
        assert_eq!(
            rust(&scope, &Value::Float(0.0), &Type::Decimal),
            "Default::default()"
        );
        assert_eq!(rust(&scope, &Value::Float(-1.5), &Type::F64), "-1.5");
        assert!(rust(&scope, &Value::Bool(true), &Type::String).starts_with("compile_error!"));
        assert!(
            scope.uses().contains(&"use uuid::Uuid;".to_owned()),
            "{:?}",
            scope.uses()
        );
    }

    #[test]
    fn candidates_keep_every_constraint() {
        let system = load(BOOKS);
        let (_, account) = system.aggregate("Account").expect("Account");
        let chooser = Chooser {
            system: &system,
            hints: Hints {
                ints: vec![2_000, -5, 3],
                floats: Vec::new(),
                strings: vec!["far too long a code".into(), "ok".into()],
            },
        };
        let book = account.command("Book").expect("Book");
        for param in &book.params {
            let choices = chooser.choices(&param.ty, &param.constraints, 0);
            assert!(choices.len() > 1, "{}: {choices:?}", param.name);
            for choice in &choices {
                let ok = match (param.name.as_str(), choice) {
                    ("code", Value::Str(code)) => (1..=8).contains(&code.chars().count()),
                    ("cents", Value::Int(cents)) => (0..=1000).contains(cents),
                    ("times", Value::Int(times)) => (0..=255).contains(times),
                    _ => false,
                };
                assert!(ok, "{}: {choice:?}", param.name);
            }
        }
        let code = &book.params[0];
        let codes = chooser.choices(&code.ty, &code.constraints, 0);
        assert!(codes.contains(&Value::Str("ok".into())), "{codes:?}");
        assert!(codes.contains(&Value::Str("aaa".into())), "{codes:?}");
    }
}
