//! Rules on what contexts publish and the policies they run.

use super::{at, context_path};
use crate::diagnostic::{Code, Diagnostic, Location};
use crate::ir::{Context, Policy, System};
use crate::resolve::Index;
use crate::suggest;

pub(super) fn check(system: &System, index: &Index, out: &mut Vec<Diagnostic>) {
    for (c, context) in system.contexts.iter().enumerate() {
        check_publishes(system, context, c, out);
        for (p, policy) in context.policies.iter().enumerate() {
            let path = format!("{}.policies[{p}]", context_path(c));
            if context.policies[..p]
                .iter()
                .any(|earlier| earlier.on == policy.on && earlier.run == policy.run)
            {
                out.push(
                    Diagnostic::error(Code::DuplicateName, "this policy is declared twice")
                        .at(Location::new(policy.origin.span(), path.clone()))
                        .with_label("same event, same command"),
                );
            }
            check_policy_source(system, index, policy, &path, out);
            check_policy_target(system, context, policy, &path, out);
        }
    }
}

// `publishes` lists events of this context, each once.
fn check_publishes(system: &System, context: &Context, c: usize, out: &mut Vec<Diagnostic>) {
    for (i, event) in context.publishes.iter().enumerate() {
        let location = at(event, format!("{}.publishes[{i}]", context_path(c)));
        if context.publishes[..i].contains(event) {
            out.push(
                Diagnostic::error(Code::DuplicateName, format!("`{event}` is published twice"))
                    .at(location),
            );
            continue;
        }
        if context.event(event).is_some() {
            continue;
        }
        let mut diagnostic =
            Diagnostic::error(Code::UnknownEvent, format!("unknown event `{event}`"))
                .at(location)
                .with_label(format!("not an event of context `{}`", context.name));
        let owner = system
            .contexts
            .iter()
            .find(|other| other.event(event).is_some());
        diagnostic = match owner {
            Some(owner) => diagnostic.with_note(format!(
                "`{event}` is an event of context `{}`; a context publishes only its own events",
                owner.name
            )),
            None => {
                let names = context
                    .aggregates
                    .iter()
                    .flat_map(|a| a.events.iter().map(|e| e.name.as_str()));
                diagnostic.suggest(suggest::closest(event, names))
            }
        };
        out.push(diagnostic);
    }
}

// `on C.E`: context `C` exists, has an event `E`, and publishes it.
fn check_policy_source(
    system: &System,
    index: &Index,
    policy: &Policy,
    path: &str,
    out: &mut Vec<Diagnostic>,
) {
    let source = &policy.on;
    let Some(c) = index.context(&source.context) else {
        let names = system.contexts.iter().map(|c| c.name.as_str());
        out.push(
            Diagnostic::error(
                Code::UnknownContext,
                format!("unknown context `{}`", source.context),
            )
            .at(at(&source.context, format!("{path}.on.context")))
            .with_label("no context of this name")
            .suggest(suggest::closest(&source.context, names)),
        );
        return;
    };
    let context = &system.contexts[c];
    let location = at(&source.event, format!("{path}.on.event"));
    let Some((_, event)) = context.event(&source.event) else {
        let names = context
            .aggregates
            .iter()
            .flat_map(|a| a.events.iter().map(|e| e.name.as_str()));
        out.push(
            Diagnostic::error(
                Code::UnknownEvent,
                format!("unknown event `{}`", source.event),
            )
            .at(location)
            .with_label(format!("not an event of context `{}`", context.name))
            .suggest(suggest::closest(&source.event, names)),
        );
        return;
    };
    if !context.publishes(&source.event) {
        out.push(
            Diagnostic::error(
                Code::UnpublishedEvent,
                format!(
                    "context `{}` does not publish `{}`",
                    context.name, source.event
                ),
            )
            .at(location)
            .with_label("not published")
            .with_related(event.name.span().map(Location::span), "declared here")
            .with_help(format!(
                "add `{}` to `publishes` in context `{}`",
                source.event, context.name
            )),
        );
    }
}

// `run A.Cmd`: `A` is an aggregate of this context, with a command `Cmd`.
fn check_policy_target(
    system: &System,
    context: &Context,
    policy: &Policy,
    path: &str,
    out: &mut Vec<Diagnostic>,
) {
    let target = &policy.run;
    let Some(aggregate) = context.aggregate(&target.aggregate) else {
        let location = at(&target.aggregate, format!("{path}.run.aggregate"));
        let mut diagnostic = Diagnostic::error(
            Code::UnknownAggregate,
            format!("unknown aggregate `{}`", target.aggregate),
        )
        .at(location)
        .with_label(format!("not an aggregate of context `{}`", context.name));
        diagnostic = match system.aggregate(&target.aggregate) {
            Some((home, _)) => diagnostic.with_help(format!(
                "`{}` belongs to context `{}`: a policy runs a command of its own context, so move this `on` into `{}`",
                target.aggregate, home.name, home.name
            )),
            None => {
                let names = context.aggregates.iter().map(|a| a.name.as_str());
                diagnostic.suggest(suggest::closest(&target.aggregate, names))
            }
        };
        out.push(diagnostic);
        return;
    };
    if aggregate.command(&target.command).is_none() {
        let names = aggregate.commands.iter().map(|c| c.name.as_str());
        out.push(
            Diagnostic::error(
                Code::UnknownCommand,
                format!("unknown command `{}`", target.command),
            )
            .at(at(&target.command, format!("{path}.run.command")))
            .with_label(format!("not a command of `{}`", aggregate.name))
            .suggest(suggest::closest(&target.command, names)),
        );
    }
}
