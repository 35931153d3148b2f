//! Derives what the generator writes by itself (see [`crate::ir::plan`]), following the
//! contract's rules, and reports `with` mappings that cannot hold.

use std::fmt::Write as _;

use crate::convert::{Converter, is_unresolved};
use crate::diagnostic::{Code, Diagnostic, Location};
use crate::ir::{
    Aggregate, ApplyPlan, Command, Context, Conversion, EmitPlan, Event, Expr, Field,
    FieldConversion, FieldPlan, NameScope, Policy, Source, StateAppend, StateMove, StateUpdate,
    System, Target, Translation, Type, TypeDef, TypeKind, TypedKind, field,
};
use crate::name::Name;
use crate::resolve::Index;
use crate::suggest;
use crate::typing::{self, Env, Visible};
use crate::walk::Scope;

pub(crate) fn derive(system: &mut System, index: &Index, out: &mut Vec<Diagnostic>) {
    let mut translations = Vec::new();
    let mut emit_plans = Vec::new();
    let mut apply_plans = Vec::new();
    {
        let system = &*system;
        for (c, context) in system.contexts.iter().enumerate() {
            for (p, policy) in context.policies.iter().enumerate() {
                let path = || format!("$.contexts[{c}].policies[{p}]");
                let translation = translate(system, index, c, policy, &path, out);
                translations.push(((c, p), translation));
            }
            for (a, aggregate) in context.aggregates.iter().enumerate() {
                for (k, command) in aggregate.commands.iter().enumerate() {
                    let path = || format!("$.contexts[{c}].aggregates[{a}].commands[{k}]");
                    let plans = emits(system, context, aggregate, command, &path, out);
                    emit_plans.push(((c, a, k), plans));
                }
                for (e, event) in aggregate.events.iter().enumerate() {
                    apply_plans.push(((c, a, e), apply(system, context, aggregate, event)));
                }
            }
        }
    }
    for ((c, p), translation) in translations {
        system.contexts[c].policies[p].translation = translation;
    }
    for ((c, a, k), plans) in emit_plans {
        system.contexts[c].aggregates[a].commands[k].emit_plans = plans;
    }
    for ((c, a, e), plan) in apply_plans {
        system.contexts[c].aggregates[a].events[e].apply = plan;
    }
}

/// `on C.E run A.Cmd`: which aggregate, and where each command field comes from. `None` when
/// the policy's references do not resolve (already reported).
fn translate(
    system: &System,
    index: &Index,
    c: usize,
    policy: &Policy,
    path: &dyn Fn() -> String,
    out: &mut Vec<Diagnostic>,
) -> Option<Translation> {
    let context = &system.contexts[c];
    let source_context = &system.contexts[index.context(&policy.on.context)?];
    let (emitter, event) = source_context.event(&policy.on.event)?;
    let target = context.aggregate(&policy.run.aggregate)?;
    let command = target.command(&policy.run.command)?;
    let event_name = format!("{}.{}", source_context.name, event.name);
    let env = Env {
        system,
        index,
        scope: Scope {
            context: Some(c),
            aggregate: None,
        },
        names: vec![Visible::new(NameScope::Event, &event.fields)],
        unreadable: None,
        path: String::new(),
    };
    let mapped = check_mappings(&env, policy, command, path, out);
    let mut converter = Converter::new(system);
    let fields = command
        .params
        .iter()
        .map(|param| {
            let explicit = mapped
                .iter()
                .find(|(field, _)| **field == param.name)
                .map(|(_, from)| from);
            FieldPlan {
                field: param.name.clone(),
                source: match explicit {
                    Some(expr) => mapped_source(&mut converter, expr, event, param),
                    None => policy_source(
                        &mut converter,
                        param,
                        event,
                        source_context,
                        emitter,
                        &event_name,
                    ),
                },
            }
        })
        .collect::<Vec<_>>();
    let translation = Translation {
        target: policy_target(
            context,
            target,
            command,
            source_context,
            emitter,
            event,
            &event_name,
        ),
        fields,
        conversions: converter.into_conversions(),
    };
    if translation.needs_code() {
        out.push(needs_code_note(policy, &translation, path));
    }
    Some(translation)
}

// `with field = EXPR`: `field` is a parameter of the command, mapped at most once; EXPR is
// over the event's fields and of the parameter's type (a record converts into one with the
// same fields, element-wise; a `T` fills an `Option<T>`; an integer widens). Returns the
// mappings that hold, typed.
fn check_mappings<'p>(
    env: &Env<'_>,
    policy: &'p Policy,
    command: &Command,
    path: &dyn Fn() -> String,
    out: &mut Vec<Diagnostic>,
) -> Vec<(&'p Name, Expr)> {
    let mut valid = Vec::new();
    for (m, mapping) in policy.mappings.iter().enumerate() {
        let mapping_path = || format!("{}.with[{m}]", path());
        if policy.mappings[..m]
            .iter()
            .any(|earlier| earlier.field == mapping.field)
        {
            out.push(
                Diagnostic::error(
                    Code::DuplicateName,
                    format!("`{}` is mapped twice", mapping.field),
                )
                .at(Location::new(
                    mapping.field.span(),
                    format!("{}.field", mapping_path()),
                )),
            );
            continue;
        }
        let Some(target) = field(&command.params, &mapping.field) else {
            out.push(unknown_field(
                &mapping.field,
                &command.params,
                &format!("command `{}`", command.name),
                format!("{}.field", mapping_path()),
            ));
            continue;
        };
        if is_unresolved(&target.ty) {
            continue;
        }
        let env = Env {
            path: format!("{}.from", mapping_path()),
            names: env.names.clone(),
            ..*env
        };
        let mut typed_out = Vec::new();
        let typed = typing::check(&env, &mapping.from, Some(&target.ty), &mut typed_out);
        let whole = format!("expected `{}`, found ", target.ty);
        for diagnostic in &mut typed_out {
            if diagnostic.code == Code::TypeMismatch {
                diagnostic.code = Code::MappingMismatch;
                // The mapping as a whole does not fit (not a part of its expression): say
                // which parameter from what.
                if let Some(found) = diagnostic.message.strip_prefix(&whole) {
                    diagnostic.message = format!(
                        "`{}: {}` cannot be filled from `{}` ({found})",
                        target.name, target.ty, mapping.from
                    );
                }
                diagnostic.notes.push(format!(
                    "`{}` is `{}`; mapped records must have the same field names and types (element-wise inside `Vec`, `Map` and `Option`); a `T` also fills an `Option<T>`",
                    target.name, target.ty
                ));
            }
        }
        out.append(&mut typed_out);
        if let Some(typed) = typed {
            let mut expr = mapping.from.clone();
            expr.typed = Some(Box::new(typed));
            valid.push((&mapping.field, expr));
        }
    }
    valid
}

/// A plain event field (converted as needed) keeps the simple plan; anything else is
/// computed.
fn mapped_source(
    converter: &mut Converter<'_>,
    expr: &Expr,
    event: &Event,
    param: &Field,
) -> Source {
    let plain = expr.checked().and_then(|typed| {
        let named = match &typed.kind {
            TypedKind::Convert { value, .. } => value,
            _ => typed,
        };
        match &named.kind {
            TypedKind::Name {
                scope: NameScope::Event,
                name,
            } => field(&event.fields, name),
            _ => None,
        }
    });
    if let Some(from) = plain
        && let Some(conversion) = converter.convert(&from.ty, &param.ty)
    {
        return Source::EventField {
            field: from.name.clone(),
            conversion,
        };
    }
    Source::Computed { expr: expr.clone() }
}

fn unknown_field(name: &Name, fields: &[Field], owner: &str, path: String) -> Diagnostic {
    Diagnostic::error(Code::UnknownField, format!("{owner} has no field `{name}`"))
        .at(Location::new(name.span(), path))
        .with_label("no such field")
        .suggest(suggest::closest(
            name,
            fields.iter().map(|f| f.name.as_str()),
        ))
}

fn policy_target(
    context: &Context,
    target: &Aggregate,
    command: &Command,
    source_context: &Context,
    emitter: &Aggregate,
    event: &Event,
    event_name: &str,
) -> Target {
    if command.creates {
        return Target::NewFromEventId;
    }
    let id = Type::id(&context.name, &target.name);
    let id_fields: Vec<&Field> = event.fields.iter().filter(|f| f.ty == id).collect();
    match id_fields.as_slice() {
        [only] => Target::EventField {
            field: only.name.clone(),
        },
        [] if Type::id(&source_context.name, &emitter.name) == id => Target::EmittingAggregate,
        [] => Target::NeedsCode {
            reason: format!(
                "event `{event_name}` has no field of type `{id}` and is emitted by `{}`, not `{}`: which `{}` should run `{}`?",
                emitter.name, target.name, target.name, command.name
            ),
        },
        several => Target::NeedsCode {
            reason: format!(
                "event `{event_name}` has {} fields of type `{id}` ({}): which one names the `{}`?",
                several.len(),
                several
                    .iter()
                    .map(|f| format!("`{}`", f.name))
                    .collect::<Vec<_>>()
                    .join(", "),
                target.name
            ),
        },
    }
}

/// The explicit mapping, else the event field of the same name (if its type fits), else the
/// emitting aggregate's id for a field of its id type, else a stub.
fn policy_source(
    converter: &mut Converter<'_>,
    param: &Field,
    event: &Event,
    source_context: &Context,
    emitter: &Aggregate,
    event_name: &str,
) -> Source {
    let same_name = field(&event.fields, &param.name);
    if let Some(from) = same_name
        && let Some(conversion) = converter.convert(&from.ty, &param.ty)
    {
        return Source::EventField {
            field: from.name.clone(),
            conversion,
        };
    }
    if let Some(conversion) =
        converter.convert(&Type::id(&source_context.name, &emitter.name), &param.ty)
    {
        return Source::AggregateId { conversion };
    }
    let reason = match same_name {
        Some(from) => format!(
            "`{}: {}` cannot be filled from the event field `{}: {}` of `{event_name}`",
            param.name, param.ty, from.name, from.ty
        ),
        None => format!(
            "event `{event_name}` has no field `{}` of type `{}`",
            param.name, param.ty
        ),
    };
    Source::NeedsCode { reason }
}

fn needs_code_note(
    policy: &Policy,
    translation: &Translation,
    path: &dyn Fn() -> String,
) -> Diagnostic {
    let mut missing = Vec::new();
    let mut notes = Vec::new();
    if let Target::NeedsCode { reason } = &translation.target {
        missing.push("the target aggregate".to_owned());
        notes.push(format!("the target aggregate: {reason}"));
    }
    for plan in &translation.fields {
        if let Source::NeedsCode { reason } = &plan.source {
            missing.push(format!("`{}`", plan.field));
            notes.push(format!("`{}`: {reason}", plan.field));
        }
    }
    let mut diagnostic = Diagnostic::note(
        Code::NeedsCode,
        format!(
            "policy `on {}.{} run {}.{}` needs code for {}",
            policy.on.context,
            policy.on.event,
            policy.run.aggregate,
            policy.run.command,
            missing.join(", ")
        ),
    )
    .at(Location::new(policy.origin.span(), path()))
    .with_label("the generator writes a stub for this policy");
    for note in notes {
        diagnostic = diagnostic.with_note(note);
    }
    diagnostic
        .with_help("map a field with `with <command field> = <event field>`, or fill in the stub")
}

/// How `command` fills each event it emits: each event field from the command parameter of
/// the same name, else (not for `creates`) from the state field of the same name, else the
/// aggregate's id for a field of its id type, else a stub.
fn emits(
    system: &System,
    context: &Context,
    aggregate: &Aggregate,
    command: &Command,
    path: &dyn Fn() -> String,
    out: &mut Vec<Diagnostic>,
) -> Vec<EmitPlan> {
    let mut plans = Vec::new();
    for name in &command.emits {
        let Some(event) = aggregate.event(name) else {
            continue;
        };
        let mut converter = Converter::new(system);
        let fields: Vec<FieldPlan> = event
            .fields
            .iter()
            .map(|target| FieldPlan {
                field: target.name.clone(),
                source: emit_source(&mut converter, context, aggregate, command, target),
            })
            .collect();
        let missing: Vec<String> = fields
            .iter()
            .filter(|plan| plan.needs_code())
            .map(|plan| format!("`{}`", plan.field))
            .collect();
        if !missing.is_empty() {
            out.push(
                Diagnostic::note(
                    Code::NeedsCode,
                    format!(
                        "command `{}` cannot fill {} of event `{}` by itself; the generator writes a stub",
                        command.name,
                        missing.join(", "),
                        event.name
                    ),
                )
                .at(Location::new(command.name.span(), format!("{}.name", path())))
                .with_help(if command.creates {
                    "add parameters of the same names and types to the command".to_owned()
                } else {
                    "add parameters (or state fields) of the same names and types".to_owned()
                }),
            );
        }
        plans.push(EmitPlan {
            event: event.name.clone(),
            fields,
            conversions: converter.into_conversions(),
        });
    }
    plans
}

fn emit_source(
    converter: &mut Converter<'_>,
    context: &Context,
    aggregate: &Aggregate,
    command: &Command,
    target: &Field,
) -> Source {
    if let Some(param) = field(&command.params, &target.name)
        && let Some(conversion) = converter.convert(&param.ty, &target.ty)
    {
        return Source::CommandField {
            field: param.name.clone(),
            conversion,
        };
    }
    if !command.creates
        && let Some(state) = aggregate.field(&target.name)
        && let Some(conversion) = converter.convert(&state.ty, &target.ty)
    {
        return Source::StateField {
            field: state.name.clone(),
            conversion,
        };
    }
    if let Some(conversion) =
        converter.convert(&Type::id(&context.name, &aggregate.name), &target.ty)
    {
        return Source::AggregateId { conversion };
    }
    if target.default.is_some() {
        return Source::Default;
    }
    let mut reason = format!(
        "command `{}` has no parameter `{}: {}`",
        command.name, target.name, target.ty
    );
    if !command.creates {
        let _ = write!(
            reason,
            " and the state of `{}` no field of that name and type",
            aggregate.name
        );
    }
    Source::NeedsCode { reason }
}

/// What applying an event does to the state: the lifecycle move of the command that emits
/// it, its `sets`, and the state fields sharing a name and a fitting type with one of its
/// fields (unless a `sets` or a move sets them).
fn apply(system: &System, context: &Context, aggregate: &Aggregate, event: &Event) -> ApplyPlan {
    let _ = context;
    let moves = moves(aggregate, event);
    let set_here = |name: &Name| {
        event.sets.iter().any(|set| set.field == *name) || moves.iter().any(|m| m.field == *name)
    };
    let mut converter = Converter::new(system);
    let updates = aggregate
        .fields
        .iter()
        .filter(|state| !set_here(&state.name))
        .filter_map(|state| {
            let from = field(&event.fields, &state.name)?;
            let conversion: Conversion = converter.convert(&from.ty, &state.ty)?;
            Some(StateUpdate {
                field: state.name.clone(),
                from: from.name.clone(),
                conversion,
            })
        })
        .collect();
    let appends = appends(system, aggregate, event, &mut converter)
        .into_iter()
        .filter(|append| !set_here(&append.field))
        .collect();
    ApplyPlan {
        updates,
        appends,
        moves,
        conversions: converter.into_conversions(),
    }
}

/// The lifecycle states an event moves to: the target of the transition of a command that
/// emits it (validation makes sure all such commands agree).
fn moves(aggregate: &Aggregate, event: &Event) -> Vec<StateMove> {
    let mut moves: Vec<StateMove> = Vec::new();
    for command in &aggregate.commands {
        if !command.emits.contains(&event.name) {
            continue;
        }
        for (lifecycle, transition) in aggregate.transitions_of(&command.name) {
            if !moves.iter().any(|m| m.field == lifecycle.field) {
                moves.push(StateMove {
                    field: lifecycle.field.clone(),
                    to: transition.to.clone(),
                });
            }
        }
    }
    moves
}

/// The `Vec<Record>` state fields an event adds one record to: the event does not name the
/// field, and carries every field of the record with a fitting type. For an entity with a
/// `@key`, the record replaces the element with the same key.
fn appends(
    system: &System,
    aggregate: &Aggregate,
    event: &Event,
    converter: &mut Converter<'_>,
) -> Vec<StateAppend> {
    aggregate
        .fields
        .iter()
        .filter(|state| field(&event.fields, &state.name).is_none())
        .filter_map(|state| {
            let Type::Vec(element) = &state.ty else {
                return None;
            };
            let (kind, path) = element.path()?;
            let record = match (kind, system.type_def(path)?) {
                (TypeKind::Value | TypeKind::Entity, TypeDef::Value(r) | TypeDef::Entity(r)) => r,
                _ => return None,
            };
            if record.fields.is_empty() {
                return None;
            }
            let fields = record
                .fields
                .iter()
                .map(|target| {
                    let from = field(&event.fields, &target.name)?;
                    Some(FieldConversion {
                        field: target.name.clone(),
                        conversion: converter.convert(&from.ty, &target.ty)?,
                    })
                })
                .collect::<Option<Vec<_>>>()?;
            Some(StateAppend {
                field: state.name.clone(),
                record: path.clone(),
                key: record.fields.iter().find(|f| f.key).map(|f| f.name.clone()),
                fields,
            })
        })
        .collect()
}

/// Warning `unmaintained-state`: a state field that no event changes, by copy, `sets`, an
/// append or a lifecycle, keeps its first value forever.
pub(crate) fn unmaintained(system: &System, out: &mut Vec<Diagnostic>) {
    for (c, context) in system.contexts.iter().enumerate() {
        for (a, aggregate) in context.aggregates.iter().enumerate() {
            for (f, state) in aggregate.fields.iter().enumerate() {
                let name = &state.name;
                let maintained = aggregate.events.iter().any(|event| {
                    event.sets.iter().any(|set| set.field == *name)
                        || event.apply.updates.iter().any(|u| u.field == *name)
                        || event.apply.appends.iter().any(|p| p.field == *name)
                        || event.apply.moves.iter().any(|m| m.field == *name)
                });
                if maintained {
                    continue;
                }
                let mut ways = vec![
                    format!("a field `{name}: {}`", state.ty),
                    format!("a `sets {name} = ...`"),
                ];
                match &state.ty {
                    Type::Enum(_) => ways.push(format!("a `lifecycle {name}`")),
                    Type::Vec(element) if matches!(element.path(), Some((kind, _)) if kind != TypeKind::Enum) =>
                    {
                        ways.push(format!("every field of `{element}` (to append one)"));
                    }
                    _ => {}
                }
                let last = ways.pop().unwrap_or_default();
                let mut diagnostic = Diagnostic::warning(
                    Code::UnmaintainedState,
                    format!("no event ever changes `{name}`"),
                )
                .at(Location::new(
                    name.span(),
                    format!("$.contexts[{c}].aggregates[{a}].fields[{f}]"),
                ))
                .with_label("keeps its first value forever")
                .with_help(format!("give an event {}, or {last}", ways.join(", ")));
                // The same name with another type is not copied: say so, it looks like a copy.
                for event in &aggregate.events {
                    if let Some(other) = field(&event.fields, name) {
                        diagnostic = diagnostic.with_note(format!(
                            "`{}.{name}` is `{}`, which does not fit `{}`: it is not copied",
                            event.name, other.ty, state.ty
                        ));
                    }
                }
                out.push(diagnostic);
            }
        }
    }
}
