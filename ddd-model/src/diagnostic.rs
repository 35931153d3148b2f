//! Diagnostics: what went wrong, where, and what to do about it; rendered like rustc's.

use std::borrow::Cow;
use std::fmt;
use std::io;

use codespan_reporting::diagnostic::{Diagnostic as Report, Label, LabelStyle};
use codespan_reporting::files::SimpleFiles;
use codespan_reporting::term::termcolor::{Color, ColorSpec, WriteColor};
use codespan_reporting::term::{self, Config, DisplayStyle};

use crate::name::Span;
use crate::sources::Sources;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Something ddd can do for you but you may want to know about (a policy stub to fill).
    Note,
    /// Accepted, but probably not what you meant.
    Warning,
    /// The model is rejected.
    Error,
}

macro_rules! codes {
    ($($(#[$doc:meta])* $variant:ident = $text:literal,)*) => {
        /// A stable, greppable name for each kind of diagnostic (`error[unknown-type]`).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum Code {
            $($(#[$doc])* $variant,)*
        }

        impl Code {
            pub const ALL: &[Code] = &[$(Code::$variant,)*];

            pub fn as_str(self) -> &'static str {
                match self {
                    $(Code::$variant => $text,)*
                }
            }
        }
    };
}

codes! {
    /// The text does not follow the grammar (or the JSON/YAML is malformed).
    Syntax = "syntax",
    /// No `system` item.
    MissingSystem = "missing-system",
    /// `system` is not the first item, appears twice, or stands in an imported file.
    SystemPlacement = "system-placement",
    UnknownType = "unknown-type",
    UnknownEvent = "unknown-event",
    UnknownCommand = "unknown-command",
    UnknownContext = "unknown-context",
    UnknownAggregate = "unknown-aggregate",
    /// A field named in a `with` mapping does not exist.
    UnknownField = "unknown-field",
    UnknownConstraint = "unknown-constraint",
    UnknownRelationKind = "unknown-relation-kind",
    /// A context's kind that is not `core`, `supporting` or `generic`.
    UnknownSubdomainKind = "unknown-subdomain-kind",
    /// An unknown function in an expression.
    UnknownFunction = "unknown-function",
    /// An expression whose types do not fit.
    TypeMismatch = "type-mismatch",
    /// A bare name that more than one scope defines.
    AmbiguousName = "ambiguous-name",
    /// A lifecycle that is malformed: over a non-enum field, an unknown state, a command in two transitions.
    InvalidLifecycle = "invalid-lifecycle",
    /// A lifecycle transition whose source states can never be reached.
    UnreachableState = "unreachable-state",
    /// A state field that no event ever changes.
    UnmaintainedState = "unmaintained-state",
    /// A policy between two contexts the context map does not relate.
    UnrelatedContexts = "unrelated-contexts",
    /// An `import` that cannot be read, is not of a `.ddd` file, closes a cycle, or stands in a
    /// text read alone (with no file to be relative to).
    Import = "import",
    /// Two things with one name in a scope.
    DuplicateName = "duplicate-name",
    /// A Rust keyword, `id`/`version` as a field, a built-in type name, or an `<Aggregate>Id`.
    ReservedName = "reserved-name",
    /// A name not in the case its kind requires.
    BadCase = "bad-case",
    /// A type expression that is malformed (`Vec<A, B>`, `Map<u32, T>`) or names the wrong kind.
    InvalidType = "invalid-type",
    /// `emits` names an event of another aggregate.
    ForeignEvent = "foreign-event",
    /// `on C.E` where context `C` does not publish `E`.
    UnpublishedEvent = "unpublished-event",
    /// A constraint on a type it does not fit (`@len` on `u32`).
    ConstraintMismatch = "constraint-mismatch",
    /// A constraint whose argument is wrong in itself (`@range(9..=1)`, a bad regex).
    InvalidConstraint = "invalid-constraint",
    /// `shared-kernel`/`partnership` without `<->`, or another kind with it.
    RelationDirection = "relation-direction",
    /// A context related to itself.
    InvalidRelation = "invalid-relation",
    /// Values or entities that contain each other by value (an infinitely large type).
    ValueCycle = "value-cycle",
    /// An aggregate without a `creates` command can never exist.
    NoCreates = "no-creates",
    /// A `with` mapping between fields whose types do not match.
    MappingMismatch = "mapping-mismatch",
    EmptyEnum = "empty-enum",
    /// A doc comment with nothing after it to document.
    UnusedDoc = "unused-doc",
    /// An event that no command emits.
    NeverEmitted = "never-emitted",
    /// A command that emits no event changes nothing.
    EmitsNothing = "emits-nothing",
    /// A type that hides one of the same name in an enclosing scope.
    ShadowedType = "shadowed-type",
    /// `Option<Option<T>>` cannot be told apart from `Option<T>` in JSON.
    NestedOption = "nested-option",
    /// Part of a policy translation or of an event the generator cannot derive: it writes a stub.
    NeedsCode = "needs-code",
    /// `view V from A` where `A` is an aggregate of another context.
    ForeignAggregate = "foreign-aggregate",
    /// A field of a `from` view without `= EXPR` whose type the state field of its name does
    /// not fit.
    ViewFieldMismatch = "view-field-mismatch",
    /// A view whose HTTP route is that of an aggregate or another view of its context.
    RouteCollision = "route-collision",
    /// `@filter` on a type that does not compare exactly, or such a type as a view's key.
    FilterMismatch = "filter-mismatch",
    /// `@sort` on a type without an order.
    SortMismatch = "sort-mismatch",
    /// What only the other kind of view has: `on` in a `from` view, `= EXPR` in a `by` view.
    ViewKindMismatch = "view-kind-mismatch",
    /// A `by` view without an `on`: no event ever makes a row.
    UnfedView = "unfed-view",
    /// An `on` whose event has no field named like the view's key, of a type the key takes.
    MissingKey = "missing-key",
    /// `sets` of a view's key, which identifies the row.
    KeyAssignment = "key-assignment",
    /// A field of a `by` view that no `on` sets.
    UnmaintainedViewField = "unmaintained-view-field",
    /// Between two models (`ddd diff`): an event's version lower than before.
    Evolution = "evolution",
}

impl fmt::Display for Code {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a diagnostic points: a span of a `.ddd` (or JSON/YAML) text, a path into the IR, or
/// both. IR read from JSON/YAML has no spans, so the path is what its diagnostics show.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Location {
    pub span: Option<Span>,
    /// JSONPath-like address in the IR, e.g. `$.contexts[2].aggregates[0].fields[1].type`.
    pub path: Option<String>,
}

impl Location {
    pub fn span(span: Span) -> Location {
        Location {
            span: Some(span),
            path: None,
        }
    }

    pub fn new(span: Option<Span>, path: String) -> Location {
        Location {
            span,
            path: Some(path),
        }
    }
}

impl From<Span> for Location {
    fn from(span: Span) -> Location {
        Location::span(span)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    pub code: Code,
    pub message: String,
    /// `None` only for what concerns the whole file (no `system`).
    pub location: Option<Location>,
    /// Text under the caret.
    pub label: Option<String>,
    /// What to do, e.g. "did you mean `OrderLine`?".
    pub help: Option<String>,
    pub notes: Vec<String>,
    /// Other places worth showing, e.g. where a duplicate was first defined.
    pub related: Vec<(Location, String)>,
}

impl Diagnostic {
    pub fn new(severity: Severity, code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            severity,
            code,
            message: message.into(),
            location: None,
            label: None,
            help: None,
            notes: Vec::new(),
            related: Vec::new(),
        }
    }

    pub fn error(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Error, code, message)
    }

    pub fn warning(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Warning, code, message)
    }

    pub fn note(code: Code, message: impl Into<String>) -> Diagnostic {
        Diagnostic::new(Severity::Note, code, message)
    }

    #[must_use]
    pub fn at(mut self, location: impl Into<Location>) -> Diagnostic {
        self.location = Some(location.into());
        self
    }

    #[must_use]
    pub fn with_label(mut self, label: impl Into<String>) -> Diagnostic {
        self.label = Some(label.into());
        self
    }

    #[must_use]
    pub fn with_help(mut self, help: impl Into<String>) -> Diagnostic {
        self.help = Some(help.into());
        self
    }

    /// Sets the help to "did you mean `x`?" when there is a suggestion.
    #[must_use]
    pub fn suggest(self, suggestion: Option<impl fmt::Display>) -> Diagnostic {
        match suggestion {
            Some(name) => self.with_help(format!("did you mean `{name}`?")),
            None => self,
        }
    }

    #[must_use]
    pub fn with_note(mut self, note: impl Into<String>) -> Diagnostic {
        self.notes.push(note.into());
        self
    }

    #[must_use]
    pub fn with_related(
        mut self,
        location: Option<Location>,
        label: impl Into<String>,
    ) -> Diagnostic {
        match location {
            Some(location) if location.span.is_some() => {
                self.related.push((location, label.into()))
            }
            // Without a span there is nothing to underline: keep the information as a note.
            Some(Location {
                path: Some(path), ..
            }) => self.notes.push(format!("{}: {path}", label.into())),
            _ => {}
        }
        self
    }

    /// Moves every span by `base` (see [`crate::lexer::lex_at`]).
    pub fn shift(&mut self, base: u32) {
        let locations = self
            .location
            .iter_mut()
            .chain(self.related.iter_mut().map(|(location, _)| location));
        for location in locations {
            location.span = location.span.map(|span| span.shift(base));
        }
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }

    /// 1-based line and column (in characters) of the primary span in `text`, the one text the
    /// model was read from; [`Sources::line_col`] also tells the file of a model of several.
    pub fn line_col(&self, text: &str) -> Option<(usize, usize)> {
        let span = self.location.as_ref()?.span?;
        Some(line_col(text, span.start as usize))
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |at| at + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// Byte offset of a 1-based line and column (in characters); clamped to the text.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let line_start = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum::<usize>();
    let rest = &text[line_start..];
    let line_text = rest.split('\n').next().unwrap_or("");
    line_start
        + line_text
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(line_text.len(), |(at, _)| at)
}

fn floor_char_boundary(text: &str, mut offset: usize) -> usize {
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    offset
}

/// The text diagnostics point into.
#[derive(Debug, Clone, Copy)]
pub struct SourceFile<'a> {
    pub name: &'a str,
    pub text: &'a str,
}

/// How much to show per diagnostic.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Style {
    /// Header, `file:line:col`, the source line, a caret, help and notes.
    #[default]
    Rich,
    /// One line: `file:line:col: error[code]: message`.
    Short,
}

/// What diagnostics point into: a single text, or the files of a model ([`Sources`]).
#[derive(Debug, Clone, Copy)]
pub enum Files<'a> {
    One(SourceFile<'a>),
    Many(&'a Sources),
}

impl<'a> From<SourceFile<'a>> for Files<'a> {
    fn from(file: SourceFile<'a>) -> Files<'a> {
        Files::One(file)
    }
}

impl<'a> From<&'a Sources> for Files<'a> {
    fn from(sources: &'a Sources) -> Files<'a> {
        Files::Many(sources)
    }
}

/// Renders diagnostics (colors if the writer supports them), each located in its file.
pub fn render<'a>(
    out: &mut dyn WriteColor,
    files: impl Into<Files<'a>>,
    diagnostics: &[Diagnostic],
    style: Style,
) -> io::Result<()> {
    let sources = match files.into() {
        // A copy of the text, so that one text renders exactly as a model's files do.
        Files::One(file) => Cow::Owned(Sources::single(file.name, file.text)),
        Files::Many(sources) => Cow::Borrowed(sources),
    };
    let mut files = SimpleFiles::new();
    for file in sources.files() {
        files.add(file.name(), file.text());
    }
    // Diagnostics of IR read from JSON/YAML name the one file it was read from.
    let name = sources.root().map_or("", |file| file.name());
    let config = Config {
        display_style: match style {
            Style::Rich => DisplayStyle::Rich,
            Style::Short => DisplayStyle::Short,
        },
        ..Config::default()
    };
    for diagnostic in diagnostics {
        let report = to_report(diagnostic, &sources);
        let located = report
            .labels
            .iter()
            .any(|label| label.style == LabelStyle::Primary);
        if located
            || diagnostic
                .location
                .as_ref()
                .and_then(|l| l.path.as_ref())
                .is_none()
        {
            term::emit_to_write_style(out, &config, &files, &report).map_err(io::Error::other)?;
        } else {
            render_at_path(out, name, diagnostic, style)?;
        }
    }
    Ok(())
}

/// Renders without colors, e.g. for tests and snapshots.
pub fn render_to_string<'a>(files: impl Into<Files<'a>>, diagnostics: &[Diagnostic]) -> String {
    let mut out = codespan_reporting::term::termcolor::NoColor::new(Vec::new());
    // Writing to a Vec cannot fail, and every span was checked against its file.
    if let Err(error) = render(&mut out, files, diagnostics, Style::Rich) {
        return format!("failed to render diagnostics: {error}");
    }
    String::from_utf8_lossy(&out.into_inner()).into_owned()
}

/// `(errors, warnings)`.
pub fn count(diagnostics: &[Diagnostic]) -> (usize, usize) {
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    let warnings = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .count();
    (errors, warnings)
}

fn to_report(diagnostic: &Diagnostic, sources: &Sources) -> Report<usize> {
    let mut report = match diagnostic.severity {
        Severity::Error => Report::error(),
        Severity::Warning => Report::warning(),
        Severity::Note => Report::note(),
    }
    .with_code(diagnostic.code.as_str())
    .with_message(&diagnostic.message);
    if let Some((file, range)) = diagnostic
        .location
        .as_ref()
        .and_then(|l| l.span)
        .and_then(|span| sources.locate(span))
    {
        let label = Label::primary(file, range);
        report.labels.push(match &diagnostic.label {
            Some(text) => label.with_message(text),
            None => label,
        });
    }
    for (location, message) in &diagnostic.related {
        if let Some((file, range)) = location.span.and_then(|span| sources.locate(span)) {
            report
                .labels
                .push(Label::secondary(file, range).with_message(message));
        }
    }
    report.notes = notes(diagnostic);
    report
}

fn notes(diagnostic: &Diagnostic) -> Vec<String> {
    let mut notes: Vec<String> = diagnostic
        .notes
        .iter()
        .map(|note| format!("note: {note}"))
        .collect();
    if let Some(help) = &diagnostic.help {
        notes.push(format!("help: {help}"));
    }
    notes
}

/// For IR read from JSON/YAML: the same layout as a located diagnostic, with the IR path in
/// place of `line:col`.
fn render_at_path(
    out: &mut dyn WriteColor,
    file: &str,
    diagnostic: &Diagnostic,
    style: Style,
) -> io::Result<()> {
    let path = diagnostic
        .location
        .as_ref()
        .and_then(|l| l.path.as_deref())
        .unwrap_or("$");
    let (severity, color) = match diagnostic.severity {
        Severity::Error => ("error", Color::Red),
        Severity::Warning => ("warning", Color::Yellow),
        Severity::Note => ("note", Color::Green),
    };
    let border = ColorSpec::new().set_fg(Some(Color::Cyan)).clone();
    if style == Style::Short {
        write!(out, "{file}: {path}: ")?;
    }
    out.set_color(ColorSpec::new().set_fg(Some(color)).set_bold(true))?;
    write!(out, "{severity}[{}]", diagnostic.code)?;
    out.set_color(ColorSpec::new().set_bold(true))?;
    write!(out, ": {}", diagnostic.message)?;
    out.reset()?;
    writeln!(out)?;
    if style == Style::Short {
        return Ok(());
    }
    out.set_color(&border)?;
    write!(out, "  ┌─ ")?;
    out.reset()?;
    writeln!(out, "{file} at {path}")?;
    if let Some(label) = &diagnostic.label {
        out.set_color(&border)?;
        write!(out, "  │ ")?;
        out.reset()?;
        writeln!(out, "{label}")?;
    }
    for note in notes(diagnostic) {
        out.set_color(&border)?;
        write!(out, "  = ")?;
        out.reset()?;
        writeln!(out, "{note}")?;
    }
    writeln!(out)
}
