//! The vocabulary of the language in one place: its contextual keywords, built-in type names
//! and the names it reserves.

// system Shop
pub const SYSTEM: &str = "system";
// value Money { ... }
pub const VALUE: &str = "value";
// enum Currency { Eur, Usd }
pub const ENUM: &str = "enum";
// entity OrderLine { ... }   (inside an aggregate)
pub const ENTITY: &str = "entity";
// context Ordering { ... }
pub const CONTEXT: &str = "context";
// aggregate Order { ... }    (inside a context)
pub const AGGREGATE: &str = "aggregate";
// command PlaceOrder(...) creates emits OrderPlaced
pub const COMMAND: &str = "command";
pub const CREATES: &str = "creates";
pub const EMITS: &str = "emits";
// event OrderPlaced(...)
pub const EVENT: &str = "event";
// publishes OrderPlaced, OrderCancelled
pub const PUBLISHES: &str = "publishes";
// on Payments.PaymentCaptured run Order.MarkPaid with payment = id
pub const ON: &str = "on";
pub const RUN: &str = "run";
pub const WITH: &str = "with";
// map { Catalog -> Ordering : customer-supplier }
pub const MAP: &str = "map";

/// Items allowed at the top of a file.
pub const TOP_LEVEL_ITEMS: &[&str] = &[SYSTEM, VALUE, ENUM, CONTEXT, MAP];
/// Members of a `context { }` block (besides nothing else: fields live in aggregates).
pub const CONTEXT_MEMBERS: &[&str] = &[VALUE, ENUM, AGGREGATE, PUBLISHES, ON];
/// Members of an `aggregate { }` block, besides state fields (`name: Type`).
pub const AGGREGATE_MEMBERS: &[&str] = &[ENTITY, VALUE, ENUM, COMMAND, EVENT];
/// Every keyword that starts a member; a list (`emits A, B`) ends before one of these.
pub const MEMBER_KEYWORDS: &[&str] = &[
    SYSTEM, VALUE, ENUM, ENTITY, CONTEXT, AGGREGATE, COMMAND, EVENT, PUBLISHES, ON, MAP,
];

// @len(3), @len(1..=120)
pub const LEN: &str = "len";
// @range(1..=99), @range(0..), @range(..=10)
pub const RANGE: &str = "range";
// @pattern("^[0-9]{5}$")
pub const PATTERN: &str = "pattern";
pub const CONSTRAINTS: &[&str] = &[LEN, RANGE, PATTERN];

/// The constraint meant by a name other tools use for it (`@size` → `@len`).
pub fn constraint_synonym(name: &str) -> Option<&'static str> {
    match name {
        "size" | "length" | "min_length" | "max_length" | "min_len" | "max_len" | "count" => {
            Some(LEN)
        }
        "min" | "max" | "between" | "value" | "bounds" => Some(RANGE),
        "regex" | "matches" | "format" | "re" => Some(PATTERN),
        _ => None,
    }
}

pub const OPTION: &str = "Option";
pub const VEC: &str = "Vec";
pub const MAP_TYPE: &str = "Map";
/// Built-in scalar type names, spelled as in the language.
pub const SCALARS: &[&str] = &[
    "bool", "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "f32", "f64", "String", "Uuid",
    "DateTime", "Date", "Decimal", "Json",
];
/// Built-in generic type names.
pub const GENERICS: &[&str] = &[OPTION, VEC, MAP_TYPE];
/// Suffix of the identity type every aggregate has: `Order` → `OrderId`.
pub const ID_SUFFIX: &str = "Id";

/// Field names every aggregate and event envelope already has.
pub const IMPLICIT_FIELDS: &[&str] = &["id", "version"];

/// Rust's strict and reserved keywords (edition 2024; `ddd-names` owns the list): not usable
/// as field names in generated code without raw identifiers, which we do not want in code a
/// person owns.
pub fn is_rust_keyword(name: &str) -> bool {
    ddd_names::is_keyword(name)
}

pub fn is_builtin_type(name: &str) -> bool {
    SCALARS.contains(&name) || GENERICS.contains(&name)
}
