//! Formatting generated Rust in process, with prettyplease: the same model gives the same
//! bytes on every machine, whatever `rustfmt` (or none) is on its PATH, and formatting
//! costs milliseconds instead of a `rustfmt` process per crate.
//!
//! prettyplease keeps doc comments and attributes but not `//` comments, so a file's
//! leading `//` block (the generated-file header, the note at the top of a user's file) is
//! set aside and put back above the formatted code; templates say the rest in doc comments.
//! Generated files mark themselves `#![cfg_attr(rustfmt, rustfmt::skip)]`: a `cargo fmt` in
//! the workspace leaves them as ddd wrote them, so the manifest's hashes keep holding.

use std::path::Path;

/// `source` formatted, or a syn error located in it (a template that writes invalid Rust).
pub fn rust(source: &str) -> Result<String, syn::Error> {
    let (head, body) = leading_comments(source);
    let file = syn::parse_file(body)?;
    let formatted = spaced(&prettyplease::unparse(&file));
    if head.is_empty() {
        return Ok(formatted);
    }
    let mut out = String::with_capacity(head.len() + formatted.len() + 1);
    out.push_str(head.trim_end());
    out.push('\n');
    if !formatted.starts_with("//!") && !formatted.starts_with("#!") {
        out.push('\n');
    }
    out.push_str(&formatted);
    Ok(out)
}

/// prettyplease writes items back to back; a reader expects a blank line between items
/// (and between a block of `use` or `mod` lines and what follows), as rustfmt keeps them.
fn spaced(code: &str) -> String {
    let mut out = String::with_capacity(code.len() + code.len() / 16);
    let mut previous: Option<&str> = None;
    for line in code.lines() {
        if let Some(before) = previous
            && separates(before, line)
        {
            out.push('\n');
        }
        out.push_str(line);
        out.push('\n');
        previous = Some(line);
    }
    out
}

fn separates(before: &str, line: &str) -> bool {
    let indent = |text: &str| text.len() - text.trim_start().len();
    let (before_trimmed, trimmed) = (before.trim(), line.trim());
    if trimmed.is_empty() || before_trimmed.is_empty() || indent(before) != indent(line) {
        return before_trimmed.starts_with("//!")
            && !trimmed.starts_with("//!")
            && !trimmed.is_empty();
    }
    let starts_item = ITEM_STARTS.iter().any(|start| trimmed.starts_with(start));
    if !starts_item {
        return false;
    }
    if before_trimmed.starts_with("//!") {
        return !trimmed.starts_with("//!");
    }
    if before_trimmed.ends_with('}') {
        return true;
    }
    // A `use` or `mod` declaration, a constant or a type alias: one line each, grouped by
    // kind.
    before_trimmed.ends_with(';') && kind(before_trimmed) != kind(trimmed)
}

const ITEM_STARTS: &[&str] = &[
    "///",
    "#[",
    "#![",
    "pub ",
    "pub(",
    "fn ",
    "async fn ",
    "impl",
    "mod ",
    "struct ",
    "enum ",
    "trait ",
    "const ",
    "static ",
    "type ",
    "use ",
    "unsafe ",
    "extern ",
    "macro_rules!",
];

fn kind(line: &str) -> &str {
    let line = line.strip_prefix("pub ").unwrap_or(line);
    line.split_whitespace().next().unwrap_or_default()
}

/// Whether the file at `path` is Rust that [`rust`] formats.
pub fn is_rust(path: &Path) -> bool {
    path.extension().is_some_and(|extension| extension == "rs")
}

/// The lines of plain `//` comments (and blank lines) at the top of `source`, and the rest.
fn leading_comments(source: &str) -> (&str, &str) {
    let mut end = 0;
    for line in source.split_inclusive('\n') {
        let trimmed = line.trim();
        let plain_comment =
            trimmed.starts_with("//") && !trimmed.starts_with("///") && !trimmed.starts_with("//!");
        if plain_comment || trimmed.is_empty() {
            end += line.len();
        } else {
            break;
        }
    }
    source.split_at(end)
}

/// A syn error as `file:line:col: message` with the offending line, for a template author.
pub fn describe(path: &Path, source: &str, error: &syn::Error) -> String {
    let start = error.span().start();
    let line = source
        .lines()
        .nth(start.line.saturating_sub(1))
        .unwrap_or_default();
    format!(
        "{}:{}:{}: {error}\n    {line}",
        path.display(),
        start.line,
        start.column + 1
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_leading_comment_block_survives() {
        let source = "// @generated\n// second\n\n//! Module docs.\nfn   f( ) {}\n";
        assert_eq!(
            rust(source).unwrap(),
            "// @generated\n// second\n//! Module docs.\n\nfn f() {}\n"
        );
        assert_eq!(rust("// note\nfn f(){}").unwrap(), "// note\n\nfn f() {}\n");
    }

    #[test]
    fn items_are_spaced_and_groups_kept() {
        let source = "use a::b;\nuse c::d;\nmod m;\nstruct S { x: u8, y: u8 }\nimpl S { fn f() {} fn g() { let x = 1; } }\n";
        assert_eq!(
            rust(source).unwrap(),
            "use a::b;\nuse c::d;\n\nmod m;\n\nstruct S {\n    x: u8,\n    y: u8,\n}\n\nimpl S {\n    fn f() {}\n\n    fn g() {\n        let x = 1;\n    }\n}\n"
        );
    }

    #[test]
    fn invalid_rust_is_located() {
        let source = "fn ok() {}\nfn broken( {}\n";
        let error = rust(source).unwrap_err();
        let text = describe(Path::new("a.rs"), source, &error);
        assert!(text.starts_with("a.rs:2:"), "{text}");
    }
}
