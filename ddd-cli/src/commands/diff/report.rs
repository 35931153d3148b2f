//! How `ddd diff` prints its changes: grouped for a person, or as one JSON object for tools
//! (its shape is documented in docs/diff.md and kept stable).

use std::fmt::Write as _;

use ddd_model::Span;
use ddd_model::diff::{Audiences, Change, ChangeKind, Diff, Item};
use ddd_model::sources::LineIndex;
use serde_json::{Value, json};

use super::Side;

/// What a change means for the gate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Breaking,
    /// Breaking, but a new version of its event allows it.
    Allowed,
    Safe,
}

impl Verdict {
    const ALL: [Verdict; 3] = [Verdict::Breaking, Verdict::Allowed, Verdict::Safe];

    fn of(change: &Change) -> Verdict {
        if change.is_breaking() {
            Verdict::Breaking
        } else if !change.allowed.is_empty() {
            Verdict::Allowed
        } else {
            Verdict::Safe
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Verdict::Breaking => "breaking",
            Verdict::Allowed => "allowed",
            Verdict::Safe => "safe",
        }
    }
}

fn count(diff: &Diff, verdict: Verdict) -> usize {
    diff.changes
        .iter()
        .filter(|c| Verdict::of(c) == verdict)
        .count()
}

/// One model as the report shows it: its name, and where the lines of its files start.
pub(super) struct Shown<'a> {
    name: &'a str,
    lines: LineIndex<'a>,
}

impl<'a> Shown<'a> {
    pub(super) fn new(side: &'a Side) -> Shown<'a> {
        Shown {
            name: &side.name,
            lines: side.sources.line_index(),
        }
    }
}

/// `file:line:col` of a span in one side's files.
fn position<'a>(side: &'a Shown<'_>, span: Option<Span>) -> Option<(&'a str, usize, usize)> {
    side.lines.position(span?)
}

fn audiences(set: Audiences) -> String {
    let names: Vec<String> = set.iter().map(|a| a.to_string()).collect();
    names.join(", ")
}

/// Breaking changes first, then those a new event version allows, then the safe ones; each
/// with where it stands in both models, whom it breaks, and what changed.
pub(super) fn human(diff: &Diff, old: &Shown<'_>, new: &Shown<'_>) -> String {
    let mut out = String::new();
    if diff.changes.is_empty() {
        let _ = writeln!(out, "no changes from `{}` to `{}`", old.name, new.name);
        return out;
    }
    for verdict in Verdict::ALL {
        for change in diff.changes.iter().filter(|c| Verdict::of(c) == verdict) {
            entry(&mut out, change, verdict, old, new);
        }
    }
    let _ = writeln!(
        out,
        "{} change(s) from `{}` to `{}`: {} breaking, {} allowed by a new event version, {} safe",
        diff.changes.len(),
        old.name,
        new.name,
        count(diff, Verdict::Breaking),
        count(diff, Verdict::Allowed),
        count(diff, Verdict::Safe)
    );
    out
}

fn entry(out: &mut String, change: &Change, verdict: Verdict, old: &Shown<'_>, new: &Shown<'_>) {
    let _ = writeln!(
        out,
        "{}: {} `{}` {}",
        verdict.as_str(),
        change.item.label(),
        change.path,
        change.kind.as_str()
    );
    let (old_label, new_label) = match change.kind {
        ChangeKind::Added => ("old, where it is added", "new"),
        ChangeKind::Removed => ("old", "new, where it was"),
        ChangeKind::Changed => ("old", "new"),
    };
    for (label, side, span) in [(old_label, old, change.old), (new_label, new, change.new)] {
        if let Some((file, line, column)) = position(side, span) {
            let _ = writeln!(out, "  --> {file}:{line}:{column} ({label})");
        }
    }
    for detail in &change.details {
        let _ = writeln!(out, "  = {detail}");
    }
    if change.is_breaking() {
        let _ = writeln!(out, "  = breaks: {}", audiences(change.breaks));
        if let Some(help) = help(change) {
            let _ = writeln!(out, "  = help: {help}");
        }
    }
    if !change.allowed.is_empty() {
        let _ = writeln!(
            out,
            "  = allowed by a new event version for: {}",
            audiences(change.allowed)
        );
    }
    out.push('\n');
}

/// What would make a change to an event's payload allowed.
fn help(change: &Change) -> Option<&'static str> {
    let bridgeable = Audiences::STORED.union(Audiences::CONTEXTS);
    let payload = matches!(
        change.item,
        Item::EventField | Item::RecordField | Item::Variant
    );
    let bridged = change
        .breaks
        .iter()
        .any(|audience| bridgeable.contains(audience));
    (payload && bridged).then_some(
        "raise the version of the event that carries it (`event E v2(...)`): old payloads \
             are then read through a default or an upcaster",
    )
}

/// The whole diff as one JSON object (see docs/diff.md).
pub(super) fn json(diff: &Diff, old: &Shown<'_>, new: &Shown<'_>) -> String {
    let changes: Vec<Value> = diff
        .changes
        .iter()
        .map(|change| change_json(change, old, new))
        .collect();
    let value = json!({
        "old": old.name,
        "new": new.name,
        "breaking": diff.is_breaking(),
        "summary": {
            "changes": diff.changes.len(),
            "breaking": count(diff, Verdict::Breaking),
            "allowed": count(diff, Verdict::Allowed),
            "safe": count(diff, Verdict::Safe),
        },
        "changes": changes,
    });
    // A `Value` always serializes: its keys are strings.
    let mut text = serde_json::to_string_pretty(&value).unwrap_or_default();
    text.push('\n');
    text
}

fn change_json(change: &Change, old: &Shown<'_>, new: &Shown<'_>) -> Value {
    let location = |side: &Shown<'_>, span: Option<Span>| match position(side, span) {
        Some((file, line, column)) => json!({ "file": file, "line": line, "column": column }),
        None => Value::Null,
    };
    let list = |set: Audiences| -> Vec<&str> { set.iter().map(|a| a.as_str()).collect() };
    json!({
        "item": change.item.as_str(),
        "path": change.path,
        "change": change.kind.as_str(),
        "verdict": Verdict::of(change).as_str(),
        "breaks": list(change.breaks),
        "allowed": list(change.allowed),
        "details": change.details,
        "old": location(old, change.old),
        "new": location(new, change.new),
    })
}
