//! Behaviour of aggregates: `requires` guards, `sets` on events, lifecycles, event field
//! defaults. Types every expression (keeping the typed tree in the model for the generator)
//! and checks the lifecycles.

use std::collections::{BTreeSet, VecDeque};

use super::{aggregate_path, at, list};
use crate::diagnostic::{Code, Diagnostic, Location};
use crate::ir::{Aggregate, Command, Lifecycle, NameScope, System, Type, TypeDef, Typed};
use crate::name::Name;
use crate::resolve::Index;
use crate::suggest;
use crate::typing::{self, Env, Visible};
use crate::walk::Scope;

/// Typed trees found, by where they go: filled into the model after the checks.
#[derive(Default)]
struct Found {
    guards: Vec<((usize, usize, usize, usize), Typed)>,
    sets: Vec<((usize, usize, usize, usize), Typed)>,
    defaults: Vec<((usize, usize, usize, usize), Typed)>,
}

pub(super) fn check(system: &mut System, index: &Index, out: &mut Vec<Diagnostic>) {
    let mut found = Found::default();
    for (c, context) in system.contexts.iter().enumerate() {
        for (a, aggregate) in context.aggregates.iter().enumerate() {
            let scope = Scope {
                context: Some(c),
                aggregate: Some(a),
            };
            guards(system, index, scope, aggregate, &mut found, out);
            sets(system, index, scope, aggregate, &mut found, out);
            defaults(system, index, scope, aggregate, &mut found, out);
            for (l, lifecycle) in aggregate.lifecycles.iter().enumerate() {
                // A second lifecycle of a field is reported as such, not checked on its own.
                let again = aggregate.lifecycles[..l]
                    .iter()
                    .any(|other| other.field == lifecycle.field);
                if !again {
                    check_lifecycle(system, aggregate, lifecycle, (c, a, l), out);
                }
            }
            lifecycle_overlaps(aggregate, (c, a), out);
        }
    }
    for ((c, a, k, g), typed) in found.guards {
        system.contexts[c].aggregates[a].commands[k].requires[g]
            .rule
            .typed = Some(Box::new(typed));
    }
    for ((c, a, e, s), typed) in found.sets {
        system.contexts[c].aggregates[a].events[e].sets[s]
            .value
            .typed = Some(Box::new(typed));
    }
    for ((c, a, e, f), typed) in found.defaults {
        if let Some(default) = &mut system.contexts[c].aggregates[a].events[e].fields[f].default {
            default.typed = Some(Box::new(typed));
        }
    }
}

// `requires EXPR`: a `bool` over the command's parameters and the state before it; a
// creating command runs before there is a state, so it reads its parameters only.
fn guards(
    system: &System,
    index: &Index,
    scope: Scope,
    aggregate: &Aggregate,
    found: &mut Found,
    out: &mut Vec<Diagnostic>,
) {
    let (c, a) = (scope.context.unwrap_or(0), scope.aggregate.unwrap_or(0));
    for (k, command) in aggregate.commands.iter().enumerate() {
        for (g, guard) in command.requires.iter().enumerate() {
            let mut names = vec![Visible::new(NameScope::Param, &command.params)];
            let mut unreadable = None;
            if command.creates {
                unreadable = Some((
                    aggregate.fields.as_slice(),
                    "a creating command runs before there is a state to read",
                ));
            } else {
                names.push(Visible::new(NameScope::State, &aggregate.fields));
            }
            let env = Env {
                system,
                index,
                scope,
                names,
                unreadable,
                path: format!("{}.commands[{k}].requires[{g}].rule", aggregate_path(c, a)),
            };
            if let Some(typed) = typing::check(&env, &guard.rule, Some(&Type::Bool), out) {
                found.guards.push(((c, a, k, g), typed));
            }
        }
    }
}

// `sets field = EXPR`: `field` is a state field, set at most once per event; EXPR is over
// the event's fields and the state before it, of the field's type.
fn sets(
    system: &System,
    index: &Index,
    scope: Scope,
    aggregate: &Aggregate,
    found: &mut Found,
    out: &mut Vec<Diagnostic>,
) {
    let (c, a) = (scope.context.unwrap_or(0), scope.aggregate.unwrap_or(0));
    for (e, event) in aggregate.events.iter().enumerate() {
        for (s, set) in event.sets.iter().enumerate() {
            let path = format!("{}.events[{e}].sets[{s}]", aggregate_path(c, a));
            let Some(target) = aggregate.field(&set.field) else {
                out.push(no_state_field(
                    aggregate,
                    &set.field,
                    format!("{path}.field"),
                ));
                continue;
            };
            if event.sets[..s]
                .iter()
                .any(|earlier| earlier.field == set.field)
            {
                out.push(
                    Diagnostic::error(Code::DuplicateName, format!("`{}` is set twice", set.field))
                        .at(at(&set.field, format!("{path}.field"))),
                );
                continue;
            }
            let env = Env {
                system,
                index,
                scope,
                names: vec![
                    Visible::new(NameScope::Event, &event.fields),
                    Visible::new(NameScope::State, &aggregate.fields),
                ],
                unreadable: None,
                path: format!("{path}.value"),
            };
            if let Some(typed) = typing::check(&env, &set.value, Some(&target.ty), out) {
                found.sets.push(((c, a, e, s), typed));
            }
        }
    }
}

// `field: T = EXPR` on an event: a constant of the field's type (it fills older payloads,
// which have nothing else to read from).
fn defaults(
    system: &System,
    index: &Index,
    scope: Scope,
    aggregate: &Aggregate,
    found: &mut Found,
    out: &mut Vec<Diagnostic>,
) {
    let (c, a) = (scope.context.unwrap_or(0), scope.aggregate.unwrap_or(0));
    for (e, event) in aggregate.events.iter().enumerate() {
        for (f, field) in event.fields.iter().enumerate() {
            let Some(default) = &field.default else {
                continue;
            };
            let env = Env {
                system,
                index,
                scope,
                names: Vec::new(),
                unreadable: Some((
                    &event.fields,
                    "a default is a constant: an older payload has nothing else to read from",
                )),
                path: format!("{}.events[{e}].fields[{f}].default", aggregate_path(c, a)),
            };
            if let Some(typed) = typing::check(&env, default, Some(&field.ty), out) {
                found.defaults.push(((c, a, e, f), typed));
            }
        }
    }
}

// A lifecycle is over an enum-typed state field; its states are variants of that enum, its
// commands commands of the aggregate that do not create it (the creating command starts at
// the enum's first variant), each in one transition; every transition can be reached from
// the first variant.
fn check_lifecycle(
    system: &System,
    aggregate: &Aggregate,
    lifecycle: &Lifecycle,
    (c, a, l): (usize, usize, usize),
    out: &mut Vec<Diagnostic>,
) {
    let path = format!("{}.lifecycles[{l}]", aggregate_path(c, a));
    let Some(field) = aggregate.field(&lifecycle.field) else {
        out.push(no_state_field(
            aggregate,
            &lifecycle.field,
            format!("{path}.field"),
        ));
        return;
    };
    let enumeration = match &field.ty {
        Type::Enum(enum_path) => match system.type_def(enum_path) {
            Some(TypeDef::Enum(e)) => e,
            _ => return,
        },
        other => {
            out.push(
                Diagnostic::error(
                    Code::InvalidLifecycle,
                    format!(
                        "a lifecycle needs an enum-typed field; `{}` is `{other}`",
                        field.name
                    ),
                )
                .at(at(&lifecycle.field, format!("{path}.field")))
                .with_label("not an enum")
                .with_help("declare an enum of the states and give the field that type"),
            );
            return;
        }
    };
    let variants: Vec<&str> = enumeration
        .variants
        .iter()
        .map(|v| v.name.as_str())
        .collect();
    let mut ok = true;
    for (t, transition) in lifecycle.transitions.iter().enumerate() {
        let t_path = format!("{path}.transitions[{t}]");
        // The syntax always has one; JSON and YAML may list none.
        if transition.from.is_empty() {
            ok = false;
            out.push(
                Diagnostic::error(
                    Code::InvalidLifecycle,
                    format!("the transition to `{}` starts from no state", transition.to),
                )
                .at(at(&transition.to, format!("{t_path}.from")))
                .with_label("no source state")
                .with_help("list the states it may start from: `A, B -> C by Command`"),
            );
        }
        for state in transition.from.iter().chain([&transition.to]) {
            if !variants.contains(&state.as_str()) {
                ok = false;
                out.push(
                    Diagnostic::error(
                        Code::InvalidLifecycle,
                        format!("`{state}` is not a state of `{}`", enumeration.name),
                    )
                    .at(at(state, t_path.clone()))
                    .with_label("unknown state")
                    .with_note(format!("the states are {}", list(variants.iter().copied())))
                    .suggest(suggest::closest(state, variants.iter().copied())),
                );
            }
        }
        for (b, command_name) in transition.by.iter().enumerate() {
            let by_path = format!("{t_path}.by[{b}]");
            match aggregate.command(command_name) {
                None => out.push(
                    Diagnostic::error(
                        Code::UnknownCommand,
                        format!("aggregate `{}` has no command `{command_name}`", aggregate.name),
                    )
                    .at(at(command_name, by_path))
                    .with_label("unknown command")
                    .suggest(suggest::closest(
                        command_name,
                        aggregate.commands.iter().map(|k| k.name.as_str()),
                    )),
                ),
                Some(command) if command.creates => out.push(
                    Diagnostic::error(
                        Code::InvalidLifecycle,
                        format!("`{command_name}` creates the aggregate: it starts at `{}`, the first state, and makes no transition", variants.first().copied().unwrap_or("?")),
                    )
                    .at(at(command_name, by_path))
                    .with_label("creates the aggregate")
                    .with_help("list the commands that move an existing aggregate"),
                ),
                Some(_) => {}
            }
            let location = at(command_name, format!("{t_path}.by[{b}]"));
            if let Some(first) = transition.by[..b].iter().find(|n| *n == command_name) {
                out.push(
                    Diagnostic::error(
                        Code::DuplicateName,
                        format!("`{command_name}` is listed twice in this transition"),
                    )
                    .at(location)
                    .with_label("again")
                    .with_related(first.span().map(Location::span), "first listed here"),
                );
            } else if let Some(first) = lifecycle.transitions[..t]
                .iter()
                .flat_map(|other| &other.by)
                .find(|n| *n == command_name)
            {
                out.push(
                    Diagnostic::error(
                        Code::InvalidLifecycle,
                        format!("`{command_name}` is in two transitions of `{}`", lifecycle.field),
                    )
                    .at(location)
                    .with_label("second transition")
                    .with_related(first.span().map(Location::span), "first transition")
                    .with_help("list every state it may start from in one transition: `A, B -> C by Command`"),
                );
            }
        }
    }
    if ok {
        unreachable_transitions(lifecycle, &variants, &path, out);
    }
}

fn unreachable_transitions(
    lifecycle: &Lifecycle,
    variants: &[&str],
    path: &str,
    out: &mut Vec<Diagnostic>,
) {
    let Some(first) = variants.first() else {
        return;
    };
    let mut reached: BTreeSet<&str> = BTreeSet::from([*first]);
    let mut queue = VecDeque::from([*first]);
    while let Some(state) = queue.pop_front() {
        for transition in &lifecycle.transitions {
            if transition.from.iter().any(|f| f == state) && reached.insert(transition.to.as_str())
            {
                queue.push_back(transition.to.as_str());
            }
        }
    }
    for (t, transition) in lifecycle.transitions.iter().enumerate() {
        if transition.from.iter().any(|f| reached.contains(f.as_str())) {
            continue;
        }
        let Some(first_from) = transition.from.first() else {
            continue;
        };
        let from: Vec<&str> = transition.from.iter().map(Name::as_str).collect();
        out.push(
            Diagnostic::error(
                Code::UnreachableState,
                format!(
                    "this transition can never happen: no transition leads from `{first}` to {}",
                    list(from.iter().copied()).replace(", ", " or ")
                ),
            )
            .at(at(first_from, format!("{path}.transitions[{t}]")))
            .with_label("never reached")
            .with_note(format!(
                "an aggregate starts at `{first}`, the first variant; reachable: {}",
                list(reached.iter().copied())
            )),
        );
    }
}

// One lifecycle per field; an event emitted by commands of different transitions of one
// lifecycle would not know which state to move to.
fn lifecycle_overlaps(aggregate: &Aggregate, (c, a): (usize, usize), out: &mut Vec<Diagnostic>) {
    for (l, lifecycle) in aggregate.lifecycles.iter().enumerate() {
        if let Some(first) = aggregate.lifecycles[..l]
            .iter()
            .find(|other| other.field == lifecycle.field)
        {
            out.push(
                Diagnostic::error(
                    Code::InvalidLifecycle,
                    format!("`{}` has two lifecycles", lifecycle.field),
                )
                .at(at(
                    &lifecycle.field,
                    format!("{}.lifecycles[{l}]", aggregate_path(c, a)),
                ))
                .with_label("second lifecycle")
                .with_related(first.field.span().map(Location::span), "first lifecycle")
                .with_help("put every transition of a field in one `lifecycle`"),
            );
            continue;
        }
        // A lifecycle over something else than an enum field is reported as such.
        let over_an_enum = aggregate
            .field(&lifecycle.field)
            .is_some_and(|field| matches!(field.ty, Type::Enum(_)));
        if !over_an_enum {
            continue;
        }
        for (e, event) in aggregate.events.iter().enumerate() {
            let emitters = || {
                aggregate
                    .commands
                    .iter()
                    .filter(|command| command.emits.contains(&event.name))
            };
            let transition_of = |command: &Command| {
                lifecycle
                    .transitions
                    .iter()
                    .find(|t| t.by.contains(&command.name))
            };
            let targets: BTreeSet<&str> = emitters()
                .filter_map(transition_of)
                .map(|t| t.to.as_str())
                .collect();
            let outside: Vec<&str> = emitters()
                .filter(|command| transition_of(command).is_none())
                .map(|command| command.name.as_str())
                .collect();
            let location = || {
                at(
                    &event.name,
                    format!("{}.events[{e}].name", aggregate_path(c, a)),
                )
            };
            if targets.len() == 1 && !outside.is_empty() {
                // Applying the event moves the state whoever emitted it: a command outside the
                // lifecycle would move it from any state, or start a new aggregate elsewhere
                // than at the first state.
                let target = targets.first().copied().unwrap_or_default();
                out.push(
                    Diagnostic::error(
                        Code::InvalidLifecycle,
                        format!(
                            "event `{}` moves `{}` to `{target}`, but {} {} it outside the lifecycle",
                            event.name,
                            lifecycle.field,
                            list(outside.iter().copied()).replace(", ", " and "),
                            if outside.len() == 1 { "emits" } else { "emit" }
                        ),
                    )
                    .at(location())
                    .with_label(format!("also emitted by {}", list(outside.iter().copied())))
                    .with_help("give those commands an event of their own, or list them in a transition"),
                );
            }
            if targets.len() > 1 {
                out.push(
                    Diagnostic::error(
                        Code::InvalidLifecycle,
                        format!(
                            "event `{}` would move `{}` to {}, depending on the command",
                            event.name,
                            lifecycle.field,
                            list(targets.iter().copied()).replace(", ", " or ")
                        ),
                    )
                    .at(location())
                    .with_label("emitted by commands of different transitions")
                    .with_help("give each transition's command an event of its own"),
                );
            }
        }
    }
}

fn no_state_field(aggregate: &Aggregate, name: &Name, path: String) -> Diagnostic {
    Diagnostic::error(
        Code::UnknownField,
        format!("aggregate `{}` has no state field `{name}`", aggregate.name),
    )
    .at(at(name, path))
    .with_label("not a state field")
    .suggest(suggest::closest(
        name,
        aggregate.fields.iter().map(|f| f.name.as_str()),
    ))
}
