//! Readers for `.ddd`, JSON and YAML into the same IR, and [`load`]: read + check in one call.

use std::fmt;
use std::path::Path;

use crate::diagnostic::{self, Code, Diagnostic, Severity};
use crate::ir::System;
use crate::name::Span;
use crate::{ast, lower, parser, validate};

/// Inputs larger than this are refused: spans are 32-bit, and no model is that big.
pub const MAX_INPUT_BYTES: usize = 64 << 20;

/// The notation a model is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// The domain language.
    Ddd,
    /// The IR as JSON (see `ddd schema`).
    Json,
    /// The IR as YAML.
    Yaml,
}

impl Format {
    /// By file extension: `.ddd`, `.json`, `.yaml` or `.yml` (any case).
    pub fn from_path(path: &Path) -> Option<Format> {
        let extension = path.extension()?.to_str()?.to_ascii_lowercase();
        match extension.as_str() {
            "ddd" => Some(Format::Ddd),
            "json" => Some(Format::Json),
            "yaml" | "yml" => Some(Format::Yaml),
            _ => None,
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Format::Ddd => "ddd",
            Format::Json => "json",
            Format::Yaml => "yaml",
        })
    }
}

/// A model that passed every check, with its warnings and notes.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub system: System,
    /// Warnings and notes (never errors), in source order.
    pub diagnostics: Vec<Diagnostic>,
}

/// A model with errors: every diagnostic of the run, in source order.
#[derive(Debug, Clone, thiserror::Error)]
#[error("the model has {} error(s)", diagnostic::count(&self.diagnostics).0)]
pub struct Rejected {
    pub diagnostics: Vec<Diagnostic>,
}

/// Reads and checks a model: the entry point for everything that consumes one. A `.ddd` text
/// read this way stands alone: its `import`s are errors, since only a model read from files
/// ([`crate::sources`]) has somewhere to find them.
pub fn load(text: &str, format: Format) -> Result<Loaded, Rejected> {
    let (system, diagnostics) = read(text, format);
    finish(system, diagnostics)
}

/// Checks what was read; `None` when reading gave nothing to check.
pub(crate) fn finish(
    system: Option<System>,
    mut diagnostics: Vec<Diagnostic>,
) -> Result<Loaded, Rejected> {
    if let Some(system) = system {
        let (system, more) = validate::check(system);
        diagnostics.extend(more);
        sort(&mut diagnostics);
        if !diagnostics.iter().any(Diagnostic::is_error) {
            return Ok(Loaded {
                system,
                diagnostics,
            });
        }
    }
    // What the generator would stub out is beside the point while the model is wrong, and
    // so is a state or view field nothing changes: the events or `on`s may be what did not
    // parse.
    diagnostics.retain(|d| {
        d.severity != Severity::Note
            && !matches!(
                d.code,
                Code::UnmaintainedState | Code::UnmaintainedViewField
            )
    });
    sort(&mut diagnostics);
    Err(Rejected { diagnostics })
}

/// [`load`] for raw bytes, which must be UTF-8.
pub fn load_bytes(bytes: &[u8], format: Format) -> Result<Loaded, Rejected> {
    match std::str::from_utf8(bytes) {
        Ok(text) => load(text, format),
        Err(error) => Err(Rejected {
            diagnostics: vec![not_utf8(&error)],
        }),
    }
}

pub(crate) fn not_utf8(error: &std::str::Utf8Error) -> Diagnostic {
    let at = error.valid_up_to();
    Diagnostic::error(Code::Syntax, "the file is not valid UTF-8")
        .at(Span::new(at, at))
        .with_label("invalid byte here")
}

/// Reads a model without checking it. `None` when nothing usable came out (malformed JSON or
/// YAML); a `.ddd` file always gives a system, so its semantic errors are reported together
/// with its syntax errors.
pub fn read(text: &str, format: Format) -> (Option<System>, Vec<Diagnostic>) {
    if text.len() > MAX_INPUT_BYTES {
        let message = format!("the model is larger than {} MiB", MAX_INPUT_BYTES >> 20);
        return (None, vec![Diagnostic::error(Code::Syntax, message)]);
    }
    match format {
        Format::Ddd => read_ddd(text),
        Format::Json => match serde_json::from_str::<System>(text) {
            Ok(system) => (Some(system), Vec::new()),
            Err(error) => (None, vec![json_error(text, &error)]),
        },
        Format::Yaml => match serde_saphyr::from_str::<System>(text) {
            Ok(system) => (Some(system), Vec::new()),
            Err(error) => (None, vec![yaml_error(text, &error)]),
        },
    }
}

fn read_ddd(text: &str) -> (Option<System>, Vec<Diagnostic>) {
    let (file, mut diagnostics) = parser::parse(text);
    for item in &file.items {
        if let ast::Item::Import(import) = item {
            diagnostics.push(
                Diagnostic::error(Code::Import, "`import` needs a model read from files")
                    .at(import.span)
                    .with_label("nothing to import from")
                    .with_help(
                        "read the model with `ddd_model::sources::load_file`, which finds the \
                         imported files beside this one",
                    ),
            );
        }
    }
    let (system, more) = lower::lower(&file, &|span| text[span.range()].to_owned());
    diagnostics.extend(more);
    (Some(system), diagnostics)
}

fn json_error(text: &str, error: &serde_json::Error) -> Diagnostic {
    let message = error.to_string();
    // serde_json appends " at line L column C"; the location is shown by the caret instead.
    let message = message
        .rsplit_once(" at line ")
        .map_or(message.as_str(), |(m, _)| m);
    located(
        text,
        format!("invalid JSON model: {message}"),
        error.line(),
        error.column(),
    )
}

fn yaml_error(text: &str, error: &serde_saphyr::Error) -> Diagnostic {
    let message = error.without_snippet().to_string();
    let message = message.lines().next().unwrap_or("invalid YAML");
    // The location is shown by the caret instead.
    let message = message
        .rsplit_once(" at line ")
        .map_or(message, |(m, _)| m)
        .to_owned();
    match error.location() {
        Some(location) => {
            let line = usize::try_from(location.line()).unwrap_or(usize::MAX);
            let column = usize::try_from(location.column()).unwrap_or(usize::MAX);
            located(text, format!("invalid YAML model: {message}"), line, column)
        }
        None => Diagnostic::error(Code::Syntax, format!("invalid YAML model: {message}")),
    }
}

fn located(text: &str, message: String, line: usize, column: usize) -> Diagnostic {
    let diagnostic = Diagnostic::error(Code::Syntax, message);
    if line == 0 {
        return diagnostic;
    }
    let start = diagnostic::offset_of(text, line, column.max(1));
    let end = text[start..]
        .chars()
        .next()
        .map_or(start, |c| start + c.len_utf8());
    diagnostic.at(Span::new(start, end))
}

/// Source order: by position (for a model of several files, the files in the order of
/// [`crate::sources`]' offsets); diagnostics without a span (IR paths) keep their order, after.
fn sort(diagnostics: &mut [Diagnostic]) {
    diagnostics.sort_by_key(|d| {
        let span = d.location.as_ref().and_then(|l| l.span);
        (
            span.is_none(),
            span.map_or(0, |s| s.start),
            d.severity == Severity::Note,
        )
    });
}
