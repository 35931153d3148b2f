//! Rust for the model's typed expressions (`requires`, `sets`, `with`, defaults).
//!
//! Names become reads of the place they live in: a command parameter is a variable, a state
//! field `state.<name>`, an event field a reference variable (`apply_*` and policies take
//! event fields by reference), a `sum` element `e<depth>`. Integer arithmetic is checked
//! while deciding (an overflow rejects the command, inside [`ddd_core::rules::checked`]) and
//! saturating while applying (applying never fails).

use std::cell::Cell;

use ddd_model::ir::{BinaryOp, Function, NameScope, Type, Typed, TypedKind, UnaryOp};

use crate::rust::{Scope, is_copy, owned};

/// How integer arithmetic behaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Arithmetic {
    /// `a.checked_add(b)?`: inside a calculation that yields `None` on overflow.
    Checked,
    /// `a.saturating_add(b)`: state changes cannot fail.
    Saturating,
}

pub(crate) struct Writer<'a> {
    scope: &'a Scope<'a>,
    arithmetic: Arithmetic,
    /// The variable the aggregate's state is in.
    state: &'a str,
    /// Whether command parameters are references (in `may_*` guards) or values.
    params_by_ref: bool,
    /// Whether event fields are references (in `apply_*` and policies) or values (tests).
    events_by_ref: bool,
    /// How many `sum`s enclose the node being written.
    sums: Cell<u32>,
    /// Names that read as state but are not fields of it (a view's `version`), and the
    /// expressions that hold them.
    implicit: &'a [(&'a str, String)],
}

impl<'a> Writer<'a> {
    pub(crate) fn new(scope: &'a Scope<'a>, arithmetic: Arithmetic, state: &'a str) -> Self {
        Writer {
            scope,
            arithmetic,
            state,
            params_by_ref: true,
            events_by_ref: true,
            sums: Cell::new(0),
            implicit: &[],
        }
    }

    /// Reads `name` (a state name that is no state field) as the expression beside it.
    pub(crate) fn implicit(mut self, implicit: &'a [(&'a str, String)]) -> Self {
        self.implicit = implicit;
        self
    }

    /// Event fields are owned variables (a test that builds the event from them).
    pub(crate) fn owned_events(mut self) -> Self {
        self.events_by_ref = false;
        self
    }

    /// An owned value of the expression.
    pub(crate) fn value(&self, t: &Typed) -> String {
        if let Some((place, by_ref)) = self.place(t) {
            return owned_read(&place, by_ref, &t.ty);
        }
        match &t.kind {
            TypedKind::Str(text) => format!("{text:?}.to_owned()"),
            _ => self.operand(t),
        }
    }

    /// The expression where only reading it is needed (comparisons, receivers): places are
    /// read in place, string literals stay `&str`.
    fn read(&self, t: &Typed) -> String {
        if let Some((place, by_ref)) = self.place(t) {
            return if by_ref && !matches!(t.ty, Type::String) && is_copy(&t.ty) {
                format!("*{place}")
            } else if by_ref && !matches!(t.ty, Type::String) {
                format!("(*{place})")
            } else {
                place
            };
        }
        match &t.kind {
            TypedKind::Str(text) => format!("{text:?}"),
            _ => self.operand(t),
        }
    }

    /// A place a name or field path reads from, and whether it is behind a reference.
    fn place(&self, t: &Typed) -> Option<(String, bool)> {
        match &t.kind {
            TypedKind::Name { scope, name } => Some(match scope {
                // Guards take parameters of `Copy` types by value, the rest by reference.
                NameScope::Param => (ddd_names::var(name), self.params_by_ref && !is_copy(&t.ty)),
                NameScope::State => match self.implicit.iter().find(|(n, _)| *n == name.as_str()) {
                    Some((_, expr)) => (expr.clone(), false),
                    None => (format!("{}.{name}", self.state), false),
                },
                NameScope::Event => (ddd_names::var(name), self.events_by_ref),
                NameScope::Element(depth) => (format!("e{depth}.{name}"), false),
            }),
            TypedKind::Field { base, field } => {
                let (base, _) = self.place(base)?;
                Some((format!("{base}.{field}"), false))
            }
            _ => None,
        }
    }

    /// Any other node, as an expression that can stand as an operand.
    fn operand(&self, t: &Typed) -> String {
        match &t.kind {
            TypedKind::Bool(value) => value.to_string(),
            TypedKind::Int(value) => self.int(*value, &t.ty),
            TypedKind::Float(value) => self.float(*value, &t.ty),
            TypedKind::Str(text) => format!("{text:?}.to_owned()"),
            TypedKind::None => self.scope.std("None"),
            TypedKind::Variant(variant) => format!("{}::{variant}", self.scope.ty(&t.ty)),
            TypedKind::Name { .. } | TypedKind::Field { .. } => self.read(t),
            TypedKind::Unary { op, operand } => self.unary(*op, operand, &t.ty),
            TypedKind::Binary { op, lhs, rhs } => self.binary(*op, lhs, rhs, &t.ty),
            TypedKind::In { value, set } => self.membership(value, set),
            TypedKind::Call { function, args } => self.call(*function, args, &t.ty),
            TypedKind::Record { path, fields } => {
                let values: Vec<String> = fields
                    .iter()
                    .map(|(name, value)| format!("{name}: {}", self.value(value)))
                    .collect();
                format!(
                    "{} {{ {} }}",
                    self.scope.ty(&Type::Value(path.clone())),
                    values.join(", ")
                )
            }
            TypedKind::Convert {
                value,
                conversion,
                records,
            } => self
                .scope
                .convert(&self.value(value), conversion, records, 0),
        }
    }

    /// An integer literal; the other operand gives it its type.
    fn int(&self, value: i128, ty: &Type) -> String {
        match ty {
            Type::Decimal => format!("{}::from({value})", self.scope.ty(ty)),
            Type::F32 | Type::F64 => format!("{value}.0"),
            _ => value.to_string(),
        }
    }

    /// An integer literal that says its type, where nothing else does.
    fn typed_int(&self, value: i128, ty: &Type) -> String {
        match ty.integer_bounds() {
            Some(_) => format!("{value}_{ty}"),
            None => self.int(value, ty),
        }
    }

    fn float(&self, value: f64, ty: &Type) -> String {
        match ty {
            Type::Decimal => format!(
                "{}::try_from({value:?}).unwrap_or_default()",
                self.scope.ty(ty)
            ),
            _ => format!("{value:?}_{ty}"),
        }
    }

    fn unary(&self, op: UnaryOp, operand: &Typed, ty: &Type) -> String {
        match op {
            UnaryOp::Not => format!("!{}", self.grouped(operand, Parent::Unary)),
            UnaryOp::Neg if ty.integer_bounds().is_some() => match self.arithmetic {
                Arithmetic::Checked => format!("{}.checked_neg()?", self.receiver(operand)),
                Arithmetic::Saturating => format!("{}.saturating_neg()", self.receiver(operand)),
            },
            UnaryOp::Neg => format!("-{}", self.grouped(operand, Parent::Unary)),
        }
    }

    /// An operand of `parent`, in parentheses where Rust's precedence would read it
    /// otherwise, or where a reader would have to think about it (`and` inside `or`).
    fn grouped(&self, t: &Typed, parent: Parent) -> String {
        let text = self.read(t);
        let needs = match (&t.kind, parent) {
            (TypedKind::Binary { op, .. }, _) if self.is_method_chain(*op, &t.ty) => false,
            (
                TypedKind::Binary {
                    op: BinaryOp::Or, ..
                },
                Parent::And | Parent::Or,
            ) => true,
            (
                TypedKind::Binary {
                    op: BinaryOp::And, ..
                },
                Parent::Or,
            ) => true,
            (TypedKind::Binary { .. }, Parent::And | Parent::Or) => false,
            (TypedKind::Binary { .. }, _) => true,
            (
                TypedKind::Unary {
                    op: UnaryOp::Not, ..
                }
                | TypedKind::In { .. },
                p,
            ) => {
                matches!(p, Parent::Compare | Parent::Arithmetic | Parent::Receiver)
            }
            _ => false,
        };
        if needs { format!("({text})") } else { text }
    }

    /// Integer arithmetic renders as method calls (`a.checked_add(b)?`), which need no
    /// parentheses.
    fn is_method_chain(&self, op: BinaryOp, ty: &Type) -> bool {
        matches!(op, BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul) && ty.integer_bounds().is_some()
    }

    fn binary(&self, op: BinaryOp, lhs: &Typed, rhs: &Typed, ty: &Type) -> String {
        match op {
            BinaryOp::And => format!(
                "{} && {}",
                self.grouped(lhs, Parent::And),
                self.grouped(rhs, Parent::And)
            ),
            BinaryOp::Or => format!(
                "{} || {}",
                self.grouped(lhs, Parent::Or),
                self.grouped(rhs, Parent::Or)
            ),
            BinaryOp::Eq | BinaryOp::Ne if is_none(rhs) || is_none(lhs) => {
                let other = if is_none(rhs) { lhs } else { rhs };
                let method = if op == BinaryOp::Eq {
                    "is_none"
                } else {
                    "is_some"
                };
                format!("{}.{method}()", self.receiver(other))
            }
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => {
                format!(
                    "{} {} {}",
                    self.grouped(lhs, Parent::Compare),
                    op.as_str(),
                    self.grouped(rhs, Parent::Compare)
                )
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul if ty.integer_bounds().is_some() => {
                let name = match op {
                    BinaryOp::Add => "add",
                    BinaryOp::Sub => "sub",
                    _ => "mul",
                };
                let (lhs, rhs) = (self.receiver(lhs), self.read(rhs));
                match self.arithmetic {
                    Arithmetic::Checked => format!("{lhs}.checked_{name}({rhs})?"),
                    Arithmetic::Saturating => format!("{lhs}.saturating_{name}({rhs})"),
                }
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul => {
                format!(
                    "{} {} {}",
                    self.grouped(lhs, Parent::Arithmetic),
                    op.as_str(),
                    self.grouped(rhs, Parent::Arithmetic)
                )
            }
        }
    }

    /// An expression a method can be called on: a literal says its type (`1_u32.min(x)`).
    fn receiver(&self, t: &Typed) -> String {
        match (&t.kind, self.place(t)) {
            (_, Some((place, _))) => place,
            (TypedKind::Int(value), None) => self.typed_int(*value, &t.ty),
            (_, None) => self.grouped(t, Parent::Receiver),
        }
    }

    fn membership(&self, value: &Typed, set: &[Typed]) -> String {
        if matches!(value.ty, Type::Enum(_)) {
            let variants: Vec<String> = set.iter().map(|v| self.operand(v)).collect();
            return format!("matches!({}, {})", self.read(value), variants.join(" | "));
        }
        let items: Vec<String> = set.iter().map(|v| self.read(v)).collect();
        format!("[{}].contains(&{})", items.join(", "), self.read(value))
    }

    fn call(&self, function: Function, args: &[Typed], ty: &Type) -> String {
        let rules = "ddd_core::rules";
        match (function, args) {
            (Function::Count, [list]) => format!("{rules}::count({}.len())", self.receiver(list)),
            (Function::Len, [text]) => {
                format!("{rules}::count({}.chars().count())", self.receiver(text))
            }
            (Function::Some, [value]) => {
                format!("{}({})", self.scope.std("Some"), self.value(value))
            }
            (Function::Sum, [list]) => self.sum(list, None, ty),
            (Function::Sum, [list, term]) => self.sum(list, Some(term), ty),
            (Function::Append, [list, item]) => {
                format!(
                    "{rules}::append({}, {})",
                    self.value(list),
                    self.value(item)
                )
            }
            (Function::Upsert, [list, item]) => format!(
                "{rules}::upsert({}, {}, |e| &e.{})",
                self.value(list),
                self.value(item),
                self.key(&list.ty)
            ),
            (Function::Remove, [list, key]) => {
                let matches = match element_record(&list.ty) {
                    true => format!("|e| e.{} == {}", self.key(&list.ty), self.read(key)),
                    false => format!("|e| *e == {}", self.read(key)),
                };
                format!("{rules}::remove({}, {matches})", self.value(list))
            }
            (Function::Insert, [map, key, value]) => format!(
                "{rules}::insert({}, {}, {})",
                self.value(map),
                self.value(key),
                self.value(value)
            ),
            (Function::Delete, [map, key]) => {
                format!("{rules}::delete({}, &{})", self.value(map), self.read(key))
            }
            _ => "compile_error!(\"a built-in called with the wrong arguments\")".to_owned(),
        }
    }

    /// `sum(list)` or `sum(list, term)`, the element bound as `e<depth>`.
    fn sum(&self, list: &Typed, term: Option<&Typed>, ty: &Type) -> String {
        let depth = self.sums.get();
        let list = self.receiver(list);
        let (var, term) = match term {
            Some(term) => {
                self.sums.set(depth + 1);
                let text = self.read(term);
                self.sums.set(depth);
                let var = if reads_element(term, depth) {
                    format!("e{depth}")
                } else {
                    "_".to_owned()
                };
                (var, text)
            }
            None => (format!("e{depth}"), format!("*e{depth}")),
        };
        if ty.integer_bounds().is_none() {
            return format!(
                "{list}.iter().map(|{var}| {term}).sum::<{}>()",
                self.scope.ty(ty)
            );
        }
        let zero = self.typed_int(0, ty);
        match self.arithmetic {
            Arithmetic::Checked => {
                format!("{list}.iter().try_fold({zero}, |sum, {var}| sum.checked_add({term}))?")
            }
            Arithmetic::Saturating => {
                format!("{list}.iter().fold({zero}, |sum, {var}| sum.saturating_add({term}))")
            }
        }
    }

    /// The `@key` field of the records a list holds.
    fn key(&self, list: &Type) -> String {
        let record = match list {
            Type::Vec(element) => match element.path() {
                Some((_, path)) => self.scope.system.record(path),
                None => None,
            },
            _ => None,
        };
        record
            .and_then(|r| r.fields.iter().find(|f| f.key))
            .map_or_else(|| "key".to_owned(), |f| f.name.to_string())
    }
}

/// What an operand stands in, for parentheses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Parent {
    And,
    Or,
    Compare,
    Arithmetic,
    Unary,
    Receiver,
}

fn is_none(t: &Typed) -> bool {
    matches!(t.kind, TypedKind::None)
}

fn element_record(list: &Type) -> bool {
    matches!(list, Type::Vec(element) if matches!(**element, Type::Value(_) | Type::Entity(_)))
}

/// Whether a `sum`'s term reads the element at `depth`.
fn reads_element(term: &Typed, depth: u32) -> bool {
    term.reads(NameScope::Element(depth))
}

/// An owned value read from a place.
fn owned_read(place: &str, by_ref: bool, ty: &Type) -> String {
    match ty {
        _ if by_ref => owned(place, ty),
        ty if is_copy(ty) => place.to_owned(),
        _ => format!("{place}.clone()"),
    }
}
