//! Rules on aggregates: how they are created and which events their commands emit.

use super::{aggregate_path, at, list};
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::{Aggregate, System};
use crate::suggest;

pub(super) fn check(system: &System, out: &mut Vec<Diagnostic>) {
    for (c, context) in system.contexts.iter().enumerate() {
        for (a, aggregate) in context.aggregates.iter().enumerate() {
            let prefix = || aggregate_path(c, a);
            check_creates(aggregate, prefix, out);
            check_emits(system, aggregate, prefix, out);
            check_emitted(aggregate, prefix, out);
            check_versions(aggregate, prefix, out);
        }
    }
}

// Each aggregate has at least one `creates` command: without one it can never exist.
fn check_creates(aggregate: &Aggregate, prefix: impl Fn() -> String, out: &mut Vec<Diagnostic>) {
    if aggregate.commands.iter().any(|command| command.creates) {
        return;
    }
    let help = match aggregate.commands.first() {
        Some(command) => format!(
            "mark the command that makes a new `{}` with `creates`, e.g. `command {}(...) creates emits ...`",
            aggregate.name, command.name
        ),
        None => format!(
            "add one, e.g. `command Open{}(...) creates emits {}Opened`",
            aggregate.name, aggregate.name
        ),
    };
    out.push(
        Diagnostic::error(
            Code::NoCreates,
            format!("aggregate `{}` has no `creates` command", aggregate.name),
        )
        .at(at(&aggregate.name, format!("{}.name", prefix())))
        .with_label("can never be created")
        .with_help(help),
    );
}

// `emits` lists events of the command's own aggregate, each once. A command that emits
// nothing changes nothing (a warning).
fn check_emits(
    system: &System,
    aggregate: &Aggregate,
    prefix: impl Fn() -> String,
    out: &mut Vec<Diagnostic>,
) {
    for (i, command) in aggregate.commands.iter().enumerate() {
        let command_path = || format!("{}.commands[{i}]", prefix());
        if command.emits.is_empty() {
            out.push(
                Diagnostic::warning(
                    Code::EmitsNothing,
                    format!("command `{}` emits no event", command.name),
                )
                .at(at(&command.name, format!("{}.name", command_path())))
                .with_help(
                    "an event-sourced aggregate changes only through events; add `emits <Event>`",
                ),
            );
        }
        for (e, event) in command.emits.iter().enumerate() {
            let location = || at(event, format!("{}.emits[{e}]", command_path()));
            if command.emits[..e].contains(event) {
                out.push(
                    Diagnostic::error(
                        Code::DuplicateName,
                        format!("`{event}` is listed twice in `emits`"),
                    )
                    .at(location()),
                );
            } else if aggregate.event(event).is_some() {
                // Its own event: fine.
            } else if let Some((owner_context, owner, _)) = find_event(system, event) {
                out.push(
                    Diagnostic::error(
                        Code::ForeignEvent,
                        format!("`{event}` is an event of aggregate `{owner}` (context `{owner_context}`), not of `{}`", aggregate.name),
                    )
                    .at(location())
                    .with_label("another aggregate's event")
                    .with_help(format!(
                        "a command emits events of its own aggregate: declare an event in `{}`, or react to `{event}` with a policy",
                        aggregate.name
                    )),
                );
            } else {
                let names = aggregate.events.iter().map(|e| e.name.as_str());
                out.push(
                    Diagnostic::error(Code::UnknownEvent, format!("unknown event `{event}`"))
                        .at(location())
                        .with_label(format!("not an event of `{}`", aggregate.name))
                        .suggest(suggest::closest(event, names)),
                );
            }
        }
    }
}

/// `(context, aggregate, event)` names of an event declared anywhere.
fn find_event<'s>(system: &'s System, event: &str) -> Option<(&'s str, &'s str, &'s str)> {
    system.contexts.iter().find_map(|context| {
        context.event(event).map(|(aggregate, event)| {
            (
                context.name.as_str(),
                aggregate.name.as_str(),
                event.name.as_str(),
            )
        })
    })
}

// An event no command emits can never happen (a warning).
fn check_emitted(aggregate: &Aggregate, prefix: impl Fn() -> String, out: &mut Vec<Diagnostic>) {
    for (i, event) in aggregate.events.iter().enumerate() {
        let emitted = aggregate
            .commands
            .iter()
            .any(|command| command.emits.contains(&event.name));
        if !emitted {
            let commands = list(aggregate.commands.iter().map(|c| c.name.as_str()));
            out.push(
                Diagnostic::warning(
                    Code::NeverEmitted,
                    format!("no command emits `{}`", event.name),
                )
                .at(at(&event.name, format!("{}.events[{i}].name", prefix())))
                .with_help(if commands.is_empty() {
                    "add a command that emits it".to_owned()
                } else {
                    format!("add it to the `emits` of one of {commands}")
                }),
            );
        }
    }
}

// Event versions count from 1 (`v2` is the second schema of an event); `.ddd` cannot say
// `v0`, JSON and YAML can.
fn check_versions(aggregate: &Aggregate, prefix: impl Fn() -> String, out: &mut Vec<Diagnostic>) {
    for (i, event) in aggregate.events.iter().enumerate() {
        if event.version == 0 {
            out.push(
                Diagnostic::error(Code::Syntax, "an event version is a number from 1")
                    .at(at(&event.name, format!("{}.events[{i}].version", prefix())))
                    .with_help("leave `version` out for the first schema of an event"),
            );
        }
    }
}
