//! Names in generated code: cases, Rust keywords, and the guard that keeps generated paths
//! inside the output directory.

use std::path::{Component, Path, PathBuf};

use heck::{ToKebabCase, ToSnakeCase, ToUpperCamelCase};

/// Words that cannot name a module, a field or a crate in Rust 2024.
const KEYWORDS: &[&str] = &[
    "as",
    "async",
    "await",
    "break",
    "const",
    "continue",
    "crate",
    "dyn",
    "else",
    "enum",
    "extern",
    "false",
    "fn",
    "for",
    "gen",
    "if",
    "impl",
    "in",
    "let",
    "loop",
    "match",
    "mod",
    "move",
    "mut",
    "pub",
    "ref",
    "return",
    "self",
    "static",
    "struct",
    "super",
    "trait",
    "true",
    "try",
    "type",
    "unsafe",
    "use",
    "where",
    "while",
    "abstract",
    "become",
    "box",
    "do",
    "final",
    "macro",
    "override",
    "priv",
    "typeof",
    "unsized",
    "virtual",
    "yield",
    "union",
    "core",
    "std",
    "alloc",
    "proc_macro",
    "test",
    "contracts",
    "ddd_core",
    "serde",
    "axum",
    "tokio",
];

pub(crate) fn snake(name: &str) -> String {
    name.to_snake_case()
}

pub(crate) fn kebab(name: &str) -> String {
    name.to_kebab_case()
}

pub(crate) fn pascal(name: &str) -> String {
    name.to_upper_camel_case()
}

/// A module name for a model name: snake case, with `_` appended when that is a keyword or
/// a crate the generated code names (`Type` → `type_`, `Core` → `core_`).
pub(crate) fn module(name: &str) -> String {
    let snake = snake(name);
    if KEYWORDS.contains(&snake.as_str()) {
        format!("{snake}_")
    } else {
        snake
    }
}

/// The plural of a kebab-case noun, for HTTP paths: `order` → `orders`, `address` →
/// `addresses`, `category` → `categories`.
pub(crate) fn plural(kebab: &str) -> String {
    if let Some(stem) = kebab.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if kebab.ends_with(['s', 'x', 'z']) || kebab.ends_with("ch") || kebab.ends_with("sh") {
        return format!("{kebab}es");
    }
    format!("{kebab}s")
}

/// A relative path made of plain components only, so that joining it to the output
/// directory can never leave that directory (no `..`, no root, no prefix, not empty).
pub(crate) fn guarded(relative: &str) -> Option<PathBuf> {
    let path = Path::new(relative);
    let plain = path
        .components()
        .all(|component| matches!(component, Component::Normal(_)));
    (plain && !relative.is_empty() && !relative.contains('\\')).then(|| path.to_path_buf())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modules_never_are_keywords() {
        assert_eq!(module("Type"), "type_");
        assert_eq!(module("Core"), "core_");
        assert_eq!(module("ShoppingCart"), "shopping_cart");
    }

    #[test]
    fn plurals() {
        assert_eq!(plural("order"), "orders");
        assert_eq!(plural("address"), "addresses");
        assert_eq!(plural("category"), "categories");
        assert_eq!(plural("day"), "days");
    }

    #[test]
    fn the_guard_rejects_escapes() {
        assert!(guarded("services/a/src/lib.rs").is_some());
        for bad in ["../x", "/etc/passwd", "a/../../b", "", "a\\..\\b"] {
            assert!(guarded(bad).is_none(), "{bad}");
        }
    }
}
