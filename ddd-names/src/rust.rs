//! Rust's own names: keywords, the prelude and the crates every program can name.

/// Words that cannot name a module, a field or a function in Rust 2024: the strict and the
/// reserved keywords. (Weak keywords such as `union` are identifiers where names stand.)
const KEYWORDS: &[&str] = &[
    "Self", "abstract", "as", "async", "await", "become", "box", "break", "const", "continue",
    "crate", "do", "dyn", "else", "enum", "extern", "false", "final", "fn", "for", "gen", "if",
    "impl", "in", "let", "loop", "macro", "match", "mod", "move", "mut", "override", "priv", "pub",
    "ref", "return", "self", "static", "struct", "super", "trait", "true", "try", "type", "typeof",
    "unsafe", "unsized", "use", "virtual", "where", "while", "yield",
];

/// Crates that generated code names by their bare name: a module of the same name would
/// shadow them (`Core` → `core_`).
pub const RESERVED_CRATES: &[&str] = &[
    "alloc",
    "axum",
    "chrono",
    "contracts",
    "core",
    "ddd_core",
    "ddd_service",
    "proc_macro",
    "serde",
    "serde_json",
    "std",
    "test",
    "tokio",
    "tower",
    "tracing",
    "uuid",
];

/// Type and trait names of Rust's prelude and of std that generated code writes unqualified
/// where no model name shadows them. A model type of one of these names is legal; the
/// generator then writes the std item by its full path ([`prelude_path`]).
pub const PRELUDE: &[(&str, &str)] = &[
    ("Box", "::std::boxed::Box"),
    ("Clone", "::core::clone::Clone"),
    ("Debug", "::core::fmt::Debug"),
    ("Default", "::core::default::Default"),
    ("Err", "::core::result::Result::Err"),
    ("Error", "::std::error::Error"),
    ("None", "::core::option::Option::None"),
    ("Ok", "::core::result::Result::Ok"),
    ("Option", "::core::option::Option"),
    ("Ordering", "::core::cmp::Ordering"),
    ("Result", "::core::result::Result"),
    ("Send", "::core::marker::Send"),
    ("Some", "::core::option::Option::Some"),
    ("String", "::std::string::String"),
    ("Sync", "::core::marker::Sync"),
    ("ToOwned", "::std::borrow::ToOwned"),
    ("ToString", "::std::string::ToString"),
    ("Vec", "::std::vec::Vec"),
];

/// Whether `word` is a Rust keyword (and so cannot be an identifier without escaping).
pub fn is_keyword(word: &str) -> bool {
    KEYWORDS.contains(&word)
}

/// Whether `name` is one of [`PRELUDE`]'s names.
pub fn is_prelude_name(name: &str) -> bool {
    PRELUDE.iter().any(|(short, _)| *short == name)
}

/// The full path of a [`PRELUDE`] name (`Result` → `::core::result::Result`).
pub fn prelude_path(name: &str) -> Option<&'static str> {
    PRELUDE
        .iter()
        .find(|(short, _)| *short == name)
        .map(|(_, path)| *path)
}

/// A snake-case word as an identifier: `_` appended to a keyword or a reserved crate name.
pub(crate) fn escape(snake: String) -> String {
    if is_keyword(&snake) || RESERVED_CRATES.contains(&snake.as_str()) {
        format!("{snake}_")
    } else {
        snake
    }
}

/// A module name for a model name: snake case, escaped (`Type` → `type_`, `Core` →
/// `core_`).
pub fn module(name: &str) -> String {
    escape(crate::snake(name))
}
