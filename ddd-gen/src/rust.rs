//! Rust source for model types and the derived plans: type names (with the `use` lines a
//! file needs), conversions, defaults and sample values for generated tests.

use std::cell::RefCell;
use std::collections::{BTreeMap, BTreeSet};

use ddd_model::System;
use ddd_model::ir::{Constraint, Conversion, Number, RecordConversion, Type, TypePath};

use ddd_names as names;

/// Items of ddd and serde that templates name; a file imports those it uses.
const TEMPLATE_ITEMS: &[(&str, &str)] = &[
    ("Aggregate", "ddd_core::Aggregate"),
    ("Command", "ddd_core::Command"),
    ("Deserialize", "serde::Deserialize"),
    ("DomainEvent", "ddd_core::DomainEvent"),
    ("Envelope", "ddd_core::Envelope"),
    ("Policy", "ddd_core::Policy"),
    ("PolicyError", "ddd_core::PolicyError"),
    ("Reaction", "ddd_core::Reaction"),
    ("Rejection", "ddd_core::Rejection"),
    ("Serialize", "serde::Serialize"),
    ("ValueObject", "ddd_core::ValueObject"),
];

/// Which crate a file belongs to: type paths differ between the two.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Crate<'a> {
    Contracts,
    /// The service of this context.
    Service(&'a str),
    /// The workspace's scenarios, which name every service's items by its library.
    Scenarios,
}

/// The names one generated file uses, and the `use` lines that bring them into scope. A
/// short name is imported once; a second type with the same short name keeps its full path,
/// so model names can never clash with each other or with Rust's own.
#[derive(Debug)]
pub(crate) struct Scope<'a> {
    pub(crate) system: &'a System,
    krate: Crate<'a>,
    /// The module the file is (`crate::order`): its own items need no import.
    module: String,
    /// Records that published events carry: they live in the contracts crate.
    contract_types: &'a BTreeSet<TypePath>,
    /// Short names defined in the file itself.
    local: BTreeSet<String>,
    imports: RefCell<BTreeMap<String, String>>,
}

impl<'a> Scope<'a> {
    pub(crate) fn new(
        system: &'a System,
        krate: Crate<'a>,
        module: impl Into<String>,
        contract_types: &'a BTreeSet<TypePath>,
    ) -> Self {
        Scope {
            system,
            krate,
            module: module.into(),
            contract_types,
            local: BTreeSet::new(),
            imports: RefCell::new(BTreeMap::new()),
        }
    }

    /// Names defined in the file, which imports must not shadow.
    pub(crate) fn define(&mut self, name: impl Into<String>) {
        self.local.insert(name.into());
    }

    /// The name to write for the item at `full` (`contracts::ids::OrderId`). A name of
    /// Rust's prelude is never imported (it would shadow the prelude's item for the whole
    /// file), and a name defined in the file is written by its full path.
    pub(crate) fn name(&self, full: &str) -> String {
        let (parent, short) = full.rsplit_once("::").unwrap_or(("", full));
        if parent == self.module {
            return short.to_owned();
        }
        if self.local.contains(short) || ddd_names::is_prelude_name(short) {
            return full.to_owned();
        }
        let mut imports = self.imports.borrow_mut();
        match imports.get(short) {
            Some(existing) if existing == full => short.to_owned(),
            Some(_) => full.to_owned(),
            None => {
                imports.insert(short.to_owned(), full.to_owned());
                short.to_owned()
            }
        }
    }

    /// How to write a name of Rust's prelude in this file: by its short name unless the
    /// model defines a type of that name here (`Result`, `Option`), then by its full path.
    pub(crate) fn std(&self, short: &str) -> String {
        match ddd_names::prelude_path(short) {
            Some(path) if self.local.contains(short) => path.to_owned(),
            _ => short.to_owned(),
        }
    }

    /// What templates write for the prelude's names and for the ddd and serde items they
    /// name, in this file: `{{ a.std.Result }}`. Items the file did not import are written
    /// by their full path.
    pub(crate) fn std_names(&self) -> BTreeMap<&'static str, String> {
        let mut names: BTreeMap<&'static str, String> = ddd_names::PRELUDE
            .iter()
            .map(|(short, _)| (*short, self.std(short)))
            .collect();
        let imports = self.imports.borrow();
        for (short, full) in TEMPLATE_ITEMS {
            let imported = imports.get(*short).is_some_and(|path| path == full);
            names.insert(
                short,
                if imported {
                    (*short).to_owned()
                } else {
                    (*full).to_owned()
                },
            );
        }
        names
    }

    /// The `use` lines, sorted.
    pub(crate) fn uses(&self) -> Vec<String> {
        let mut lines: Vec<String> = self
            .imports
            .borrow()
            .values()
            .map(|full| format!("use {full};"))
            .collect();
        lines.sort();
        lines
    }

    fn contracts(&self) -> &'static str {
        match self.krate {
            Crate::Contracts => "crate",
            Crate::Service(_) | Crate::Scenarios => "contracts",
        }
    }

    /// How this file names the service crate of `context`.
    pub(crate) fn service(&self, context: &str) -> String {
        match self.krate {
            Crate::Scenarios => names::service_lib(&self.system.name, context),
            Crate::Contracts | Crate::Service(_) => "crate".to_owned(),
        }
    }

    /// The full path of an aggregate's id type: `contracts::ids::ordering::OrderId`.
    pub(crate) fn id_path(&self, aggregate: &TypePath) -> String {
        let context = aggregate.context.as_deref().unwrap_or_default();
        format!(
            "{}::ids::{}::{}Id",
            self.contracts(),
            names::module(context),
            aggregate.name
        )
    }

    /// The full path of a value, entity or enum.
    pub(crate) fn type_path(&self, path: &TypePath) -> String {
        let name = path.name.as_str();
        let contracts = self.contracts();
        match (&path.context, &path.aggregate) {
            (None, _) => format!("{contracts}::kernel::{name}"),
            (Some(context), _) if self.contract_types.contains(path) => {
                format!("{contracts}::{}::{name}", names::module(context))
            }
            (Some(context), Some(aggregate)) => format!(
                "{}::{}::{name}",
                self.service(context),
                names::module(aggregate)
            ),
            (Some(context), None) => format!("{}::values::{name}", self.service(context)),
        }
    }

    /// The Rust type of a model type.
    pub(crate) fn ty(&self, ty: &Type) -> String {
        match ty {
            Type::Bool => "bool".into(),
            Type::I8 => "i8".into(),
            Type::I16 => "i16".into(),
            Type::I32 => "i32".into(),
            Type::I64 => "i64".into(),
            Type::U8 => "u8".into(),
            Type::U16 => "u16".into(),
            Type::U32 => "u32".into(),
            Type::U64 => "u64".into(),
            Type::F32 => "f32".into(),
            Type::F64 => "f64".into(),
            Type::String => self.std("String"),
            Type::Uuid => self.name("uuid::Uuid"),
            Type::DateTime => format!(
                "{}<{}>",
                self.name("chrono::DateTime"),
                self.name("chrono::Utc")
            ),
            Type::Date => self.name("chrono::NaiveDate"),
            Type::Decimal => self.name("rust_decimal::Decimal"),
            Type::Json => "serde_json::Value".into(),
            Type::Option(inner) => format!("{}<{}>", self.std("Option"), self.ty(inner)),
            Type::Vec(inner) => format!("{}<{}>", self.std("Vec"), self.ty(inner)),
            Type::Map(inner) => format!(
                "{}<{}, {}>",
                self.name("std::collections::BTreeMap"),
                self.std("String"),
                self.ty(inner)
            ),
            Type::Id(aggregate) => self.name(&self.id_path(aggregate)),
            Type::Value(path) | Type::Entity(path) | Type::Enum(path) => {
                self.name(&self.type_path(path))
            }
            // A checked model has no unresolved names; keep the name as written.
            Type::Named(name) => name.to_string(),
        }
    }

    /// The parameter type an `apply_*` method takes a field by: `&str`, `&[T]`, `&T`.
    pub(crate) fn ref_ty(&self, ty: &Type) -> String {
        match ty {
            Type::String => "&str".into(),
            Type::Vec(inner) => format!("&[{}]", self.ty(inner)),
            other => format!("&{}", self.ty(other)),
        }
    }

    /// The value of a state or record field before anything set it: ids are nil (ids have
    /// no `Default`, on purpose), the rest is `Default`.
    pub(crate) fn default_value(&self, ty: &Type) -> String {
        match ty {
            Type::Id(_) => format!("{}::from({}::nil())", self.ty(ty), self.name("uuid::Uuid")),
            _ => format!("{}::default()", self.std("Default")),
        }
    }

    /// `expr` (owned, of the source type) converted as `conversion` says.
    pub(crate) fn convert(
        &self,
        expr: &str,
        conversion: &Conversion,
        records: &[RecordConversion],
        depth: usize,
    ) -> String {
        let var = format!("v{depth}");
        let inner = |c: &Conversion| {
            if *c == Conversion::Some(Box::new(Conversion::Same)) {
                self.std("Some")
            } else {
                format!("|{var}| {}", self.convert(&var, c, records, depth + 1))
            }
        };
        match conversion {
            Conversion::Same => expr.to_owned(),
            Conversion::Some(c) => format!(
                "{}({})",
                self.std("Some"),
                self.convert(expr, c, records, depth)
            ),
            Conversion::Option(c) => format!("{expr}.map({})", inner(c)),
            Conversion::Vec(c) => format!("{expr}.into_iter().map({}).collect()", inner(c)),
            Conversion::Map(c) => format!(
                "{expr}.into_iter().map(|(k{depth}, {var})| (k{depth}, {})).collect()",
                self.convert(&var, c, records, depth + 1)
            ),
            Conversion::Record(pair) => {
                self.convert_record(expr, &pair.from, &pair.to, records, depth)
            }
            Conversion::Widen(to) => format!("{}::from({expr})", self.ty(to)),
        }
    }

    fn convert_record(
        &self,
        expr: &str,
        from: &TypePath,
        to: &TypePath,
        records: &[RecordConversion],
        depth: usize,
    ) -> String {
        let Some(plan) = records.iter().find(|r| r.from == *from && r.to == *to) else {
            return expr.to_owned();
        };
        let var = format!("r{depth}");
        let fields: Vec<String> = plan
            .fields
            .iter()
            .map(|field| {
                let source = format!("{var}.{}", field.field);
                format!(
                    "{}: {}",
                    field.field,
                    self.convert(&source, &field.conversion, records, depth + 1)
                )
            })
            .collect();
        format!(
            "{{ let {var} = {expr}; {} {{ {} }} }}",
            self.ty(&Type::Value(to.clone())),
            fields.join(", ")
        )
    }

    /// `name: sample, ...` for each of `fields`, the inside of a struct or variant literal.
    pub(crate) fn sample_fields(&self, fields: &[ddd_model::ir::Field]) -> Option<String> {
        let fields = fields
            .iter()
            .map(|f| {
                Some(format!(
                    "{}: {}",
                    f.name,
                    self.sample(&f.ty, &f.constraints)?
                ))
            })
            .collect::<Option<Vec<_>>>()?;
        Some(fields.join(", "))
    }

    /// A value of `ty` that satisfies `constraints`, for generated tests; `None` when no
    /// simple value does (a pattern none of the candidates matches).
    pub(crate) fn sample(&self, ty: &Type, constraints: &[Constraint]) -> Option<String> {
        Some(match ty {
            Type::Bool => "true".into(),
            Type::F32 | Type::F64 => float_sample(constraints),
            Type::String => format!("{:?}.to_owned()", string_sample(constraints)?),
            Type::Uuid => format!("{}::from_u128(7)", self.name("uuid::Uuid")),
            Type::Id(_) => format!(
                "{}::from({}::from_u128(7))",
                self.ty(ty),
                self.name("uuid::Uuid")
            ),
            Type::DateTime | Type::Date | Type::Decimal | Type::Json => {
                format!("{}::default()", self.std("Default"))
            }
            Type::Option(inner) => {
                format!("{}({})", self.std("Some"), self.sample(inner, constraints)?)
            }
            Type::Vec(inner) => {
                let item = self.sample(inner, &[])?;
                match len_sample(constraints) {
                    0 => format!("{}::new()", self.std("Vec")),
                    1 => format!("vec![{item}]"),
                    n => format!("vec![{item}; {n}]"),
                }
            }
            Type::Map(inner) => {
                let item = self.sample(inner, &[])?;
                let entries: Vec<String> = (0..len_sample(constraints))
                    .map(|n| format!("(\"key{n}\".to_owned(), {item})"))
                    .collect();
                format!(
                    "{}::from([{}])",
                    self.name("std::collections::BTreeMap"),
                    entries.join(", ")
                )
            }
            Type::Enum(path) => {
                let first = match self.system.type_def(path)? {
                    ddd_model::ir::TypeDef::Enum(e) => e.variants.first()?.name.to_string(),
                    _ => return None,
                };
                format!("{}::{first}", self.ty(ty))
            }
            Type::Value(path) | Type::Entity(path) => {
                let record = self.system.record(path)?;
                format!(
                    "{} {{ {} }}",
                    self.ty(ty),
                    self.sample_fields(&record.fields)?
                )
            }
            Type::Named(_) => return None,
            integer => int_sample(integer, constraints),
        })
    }
}

/// Whether values of the type are `Copy` in generated code (enums derive it).
pub(crate) fn is_copy(ty: &Type) -> bool {
    match ty {
        Type::String | Type::Json | Type::Vec(_) | Type::Map(_) => false,
        Type::Value(_) | Type::Entity(_) | Type::Named(_) => false,
        Type::Option(inner) => is_copy(inner),
        _ => true,
    }
}

/// An owned value from a reference of [`Scope::ref_ty`].
pub(crate) fn owned(var: &str, ty: &Type) -> String {
    match ty {
        Type::String => format!("{var}.to_owned()"),
        Type::Vec(_) => format!("{var}.to_vec()"),
        ty if is_copy(ty) => format!("*{var}"),
        _ => format!("{var}.clone()"),
    }
}

fn range(constraints: &[Constraint]) -> (Option<Number>, Option<Number>) {
    constraints
        .iter()
        .find_map(|c| match c {
            Constraint::Range { min, max, .. } => Some((*min, *max)),
            _ => None,
        })
        .unwrap_or((None, None))
}

fn int_sample(ty: &Type, constraints: &[Constraint]) -> String {
    let (min, max) = range(constraints);
    let (low, high) = ty.integer_bounds().unwrap_or((0, 1));
    let as_int = |n: Number| match n {
        Number::Int(v) => v,
        #[expect(
            clippy::cast_possible_truncation,
            reason = "a sample, any value in range"
        )]
        Number::Float(v) => v.ceil() as i128,
    };
    let low = min.map_or(low, as_int).max(low);
    let high = max.map_or(high, as_int).min(high);
    1_i128.clamp(low, high.max(low)).to_string()
}

fn float_sample(constraints: &[Constraint]) -> String {
    let (min, max) = range(constraints);
    let mut value = 1.0_f64;
    if let Some(min) = min {
        value = value.max(min.as_f64());
    }
    if let Some(max) = max {
        value = value.min(max.as_f64());
    }
    format!("{value:?}")
}

fn len_bounds(constraints: &[Constraint]) -> (u64, u64) {
    constraints
        .iter()
        .find_map(|c| match c {
            Constraint::Len { min, max, .. } => Some((min.unwrap_or(0), max.unwrap_or(u64::MAX))),
            _ => None,
        })
        .unwrap_or((0, u64::MAX))
}

fn len_sample(constraints: &[Constraint]) -> u64 {
    let (min, max) = len_bounds(constraints);
    1.clamp(min, max.max(min))
}

const CANDIDATES: &[&str] = &[
    "abc",
    "ABC",
    "123",
    "12345",
    "abc123",
    "AB-12",
    "a",
    "A",
    "sample",
    "ab@cd.ef",
    "2024-01-01",
];

pub(crate) fn string_sample(constraints: &[Constraint]) -> Option<String> {
    let (min, max) = len_bounds(constraints);
    let patterns: Vec<regex::Regex> = constraints
        .iter()
        .filter_map(|c| match c {
            Constraint::Pattern { regex, .. } => regex::Regex::new(regex).ok(),
            _ => None,
        })
        .collect();
    let fits = |s: &str| {
        let len = s.chars().count() as u64;
        len >= min && len <= max && patterns.iter().all(|p| p.is_match(s))
    };
    let length = if max < 3 { max } else { min.max(3) };
    let sized = "a".repeat(usize::try_from(length.min(1024)).ok()?);
    std::iter::once(sized.as_str())
        .chain(CANDIDATES.iter().copied())
        .find(|s| fits(s))
        .map(str::to_owned)
}
