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
// map { Catalog [open-host] -> [conformist] Cart : customer-supplier }
pub const MAP: &str = "map";
// type Quantity = u32 @range(1..=99)
pub const TYPE: &str = "type";
// import "catalog.ddd"
pub const IMPORT: &str = "import";
// command AddItem(...) requires not checked_out else "the cart is checked out" emits ItemAdded
pub const REQUIRES: &str = "requires";
pub const ELSE: &str = "else";
// event CartCheckedOut(...) sets checked_out = true
pub const SETS: &str = "sets";
// lifecycle status { Placed -> Paid by MarkPaid }
pub const LIFECYCLE: &str = "lifecycle";
pub const BY: &str = "by";
// view ProductListing from Product { ... }, view CustomerTotals by customer: Uuid { ... }
pub const VIEW: &str = "view";
pub const FROM: &str = "from";
// context Ordering : core { ... }
pub const SUBDOMAIN_KINDS: &[&str] = &["core", "supporting", "generic"];
// product: ProductId @key
pub const KEY: &str = "key";
// active: bool @filter, price_cents: i64 @sort
pub const FILTER: &str = "filter";
pub const SORT: &str = "sort";

// Words of expressions: `not checked_out and count(items) > 0`, `status in {A, B}`.
pub const AND: &str = "and";
pub const OR: &str = "or";
pub const NOT: &str = "not";
pub const IN: &str = "in";
pub const TRUE: &str = "true";
pub const FALSE: &str = "false";
pub const NONE: &str = "none";

/// Items allowed at the top of a file.
pub const TOP_LEVEL_ITEMS: &[&str] = &[SYSTEM, IMPORT, VALUE, ENUM, TYPE, CONTEXT, MAP];
/// Members of a `context { }` block (besides nothing else: fields live in aggregates).
pub const CONTEXT_MEMBERS: &[&str] = &[VALUE, ENUM, TYPE, AGGREGATE, VIEW, PUBLISHES, ON];
/// Members of an `aggregate { }` block, besides state fields (`name: Type`).
pub const AGGREGATE_MEMBERS: &[&str] = &[ENTITY, VALUE, ENUM, TYPE, LIFECYCLE, COMMAND, EVENT];
/// Every keyword that starts a member; a list (`emits A, B`) ends before one of these.
pub const MEMBER_KEYWORDS: &[&str] = &[
    SYSTEM, VALUE, ENUM, ENTITY, CONTEXT, AGGREGATE, COMMAND, EVENT, PUBLISHES, ON, MAP, TYPE,
    VIEW, LIFECYCLE,
];

// @len(3), @len(1..=120)
pub const LEN: &str = "len";
// @range(1..=99), @range(0..), @range(..=10)
pub const RANGE: &str = "range";
// @pattern("^[0-9]{5}$")
pub const PATTERN: &str = "pattern";
pub const CONSTRAINTS: &[&str] = &[LEN, RANGE, PATTERN, KEY];

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
/// The fields a `from` view's row has without declaring them: its aggregate's.
pub const FROM_VIEW_IMPLICIT: &[&str] = &["id", "version", "created_at", "updated_at"];
/// The fields a `by` view's row has besides its declared key.
pub const BY_VIEW_IMPLICIT: &[&str] = &["version", "updated_at"];

/// Rust's strict and reserved keywords (edition 2024; `ddd-names` owns the list): not usable
/// as field names in generated code without raw identifiers, which we do not want in code a
/// person owns.
pub fn is_rust_keyword(name: &str) -> bool {
    ddd_names::is_keyword(name)
}

pub fn is_builtin_type(name: &str) -> bool {
    SCALARS.contains(&name) || GENERICS.contains(&name)
}
