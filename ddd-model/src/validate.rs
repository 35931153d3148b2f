//! Validation on the IR, separate from parsing, so a model read from JSON or YAML gets exactly
//! the checks a `.ddd` file gets. Every rule is a named `check` in a submodule, preceded by the
//! rule in prose; all of them run, so one run reports every error.

mod aggregates;
mod behaviour;
mod contexts;
mod cycles;
mod names;
mod relations;
mod types;
mod views;

use crate::diagnostic::{Diagnostic, Location};
use crate::ir::System;
use crate::name::Name;
use crate::plans;
use crate::resolve::{self, Index};

/// Resolves, validates and derives: returns the model with every type reference qualified and
/// the policy translations, emit plans and apply plans filled in, and every diagnostic.
/// The model is usable only if no diagnostic is an error.
pub fn check(mut system: System) -> (System, Vec<Diagnostic>) {
    let mut diagnostics = Vec::new();
    let index = Index::new(&system);
    resolve::resolve(&mut system, &index, &mut diagnostics);
    names::check(&system, &index, &mut diagnostics);
    types::check(&system, &mut diagnostics);
    aggregates::check(&system, &mut diagnostics);
    contexts::check(&system, &index, &mut diagnostics);
    relations::check(&system, &index, &mut diagnostics);
    cycles::check(&system, &mut diagnostics);
    behaviour::check(&mut system, &index, &mut diagnostics);
    views::check(&mut system, &index, &mut diagnostics);
    plans::derive(&mut system, &index, &mut diagnostics);
    // What the events change is derived from plans that errors leave incomplete (a field
    // whose type did not resolve is copied from no event): only a valid model can tell.
    if !diagnostics.iter().any(Diagnostic::is_error) {
        plans::unmaintained(&system, &mut diagnostics);
    }
    (system, diagnostics)
}

/// The location of a name at an IR path.
fn at(name: &Name, path: String) -> Location {
    Location::new(name.span(), path)
}

fn context_path(c: usize) -> String {
    format!("$.contexts[{c}]")
}

fn aggregate_path(c: usize, a: usize) -> String {
    format!("$.contexts[{c}].aggregates[{a}]")
}

fn view_path(c: usize, v: usize) -> String {
    format!("$.contexts[{c}].views[{v}]")
}

/// Backticked, comma-separated names for messages.
fn list<'a>(names: impl IntoIterator<Item = &'a str>) -> String {
    let quoted: Vec<String> = names.into_iter().map(|name| format!("`{name}`")).collect();
    quoted.join(", ")
}
