//! What the templates see: the model turned into names, Rust types and expressions, one view
//! per generated file. The division of labour: Rust *expressions* (a type, a conversion, a
//! sample value, an event literal) are computed here, where the model's types are known;
//! statements and items (guards, `let` bindings, function bodies, tests) are laid out by the
//! templates from these views.

use std::collections::{BTreeMap, BTreeSet};

use ddd_model::System;
use ddd_model::ir::{
    Aggregate, Command, Constraint, Context, Conversion, EmitPlan, Enum, Event, Field, NameScope,
    Number, Policy, Record, Source, Target, Type, TypePath,
};
use serde::Serialize;

use super::evolution::{self, ChainView, DefaultView};
use super::expr::{Arithmetic, Writer};
use super::history::History;
use super::rust::{Crate, Scope, is_copy, owned};
use super::simulate;
use ddd_names as names;

#[derive(Debug, Serialize)]
pub(crate) struct RecordView {
    name: String,
    doc: Option<String>,
    fields: Vec<FieldView>,
    /// Fields and their initial values when `Default` cannot be derived (an id field).
    manual_default: Option<Vec<(String, String)>>,
}

#[derive(Debug, Serialize)]
pub(crate) struct EnumView {
    name: String,
    doc: Option<String>,
    variants: Vec<(String, Option<String>)>,
}

#[derive(Debug, Serialize)]
pub(crate) struct FieldView {
    name: String,
    doc: Option<String>,
    ty: String,
    /// `#[command(len(1..=120))]` and the like; empty without constraints.
    attr: String,
    /// An event field's `#[serde(default = "...")]`; empty otherwise.
    serde: String,
}

/// Names every file needs.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Names {
    pub(crate) system: String,
    pub(crate) system_kebab: String,
    pub(crate) system_snake: String,
}

impl Names {
    pub(crate) fn of(system: &System) -> Names {
        Names {
            system: system.name.to_string(),
            system_kebab: names::kebab(&system.name),
            system_snake: names::snake(&system.name),
        }
    }
}

fn constraint_attr(namespace: &str, constraints: &[Constraint]) -> String {
    let parts: Vec<String> = constraints
        .iter()
        .map(|c| match c {
            Constraint::Len { min, max, .. } => format!(
                "len({})",
                bounds(min.map(|m| m.to_string()), max.map(|m| m.to_string()))
            ),
            Constraint::Range { min, max, .. } => {
                let show = |n: Number| n.to_string();
                format!("range({})", bounds(min.map(show), max.map(show)))
            }
            Constraint::Pattern { regex, .. } => format!("pattern({regex:?})"),
        })
        .collect();
    if parts.is_empty() {
        String::new()
    } else {
        format!("#[{namespace}({})]", parts.join(", "))
    }
}

fn bounds(min: Option<String>, max: Option<String>) -> String {
    match (min, max) {
        (Some(min), Some(max)) if min == max => min,
        (Some(min), Some(max)) => format!("{min}..={max}"),
        (Some(min), None) => format!("{min}.."),
        (None, Some(max)) => format!("..={max}"),
        (None, None) => "..".into(),
    }
}

fn fields(scope: &Scope<'_>, namespace: &str, fields: &[Field]) -> Vec<FieldView> {
    fields
        .iter()
        .map(|f| FieldView {
            name: f.name.to_string(),
            doc: f.doc.clone(),
            ty: scope.ty(&f.ty),
            attr: constraint_attr(namespace, &f.constraints),
            serde: String::new(),
        })
        .collect()
}

/// An event's fields, those with a default read through it when an older payload lacks
/// them, and the functions the defaults are.
pub(crate) fn event_fields(scope: &Scope<'_>, event: &Event) -> (Vec<FieldView>, Vec<DefaultView>) {
    let (defaults, attrs) = evolution::defaults(scope, event);
    let mut views = fields(scope, "", &event.fields);
    for (view, attr) in views.iter_mut().zip(attrs) {
        view.serde = attr;
    }
    (views, defaults)
}

pub(crate) fn record(scope: &Scope<'_>, record: &Record) -> RecordView {
    let has_id = record.fields.iter().any(|f| matches!(f.ty, Type::Id(_)));
    RecordView {
        name: record.name.to_string(),
        doc: record.doc.clone(),
        fields: fields(scope, "value", &record.fields),
        manual_default: has_id.then(|| {
            record
                .fields
                .iter()
                .map(|f| (f.name.to_string(), scope.default_value(&f.ty)))
                .collect()
        }),
    }
}

pub(crate) fn enumeration(e: &Enum) -> EnumView {
    EnumView {
        name: e.name.to_string(),
        doc: e.doc.clone(),
        variants: e
            .variants
            .iter()
            .map(|v| (v.name.to_string(), v.doc.clone()))
            .collect(),
    }
}

/// The records that published events carry, transitively: the published language, which
/// lives in the contracts crate so that other contexts can read it.
pub(crate) fn contract_types(system: &System) -> BTreeSet<TypePath> {
    let mut found = BTreeSet::new();
    let mut stack: Vec<Type> = Vec::new();
    for context in &system.contexts {
        for name in &context.publishes {
            if let Some((_, event)) = context.event(name) {
                stack.extend(event.fields.iter().map(|f| f.ty.clone()));
            }
        }
    }
    while let Some(ty) = stack.pop() {
        match ty {
            Type::Option(inner) | Type::Vec(inner) | Type::Map(inner) => stack.push(*inner),
            Type::Value(path) | Type::Entity(path) | Type::Enum(path) => {
                if path.context.is_some()
                    && found.insert(path.clone())
                    && let Some(record) = system.record(&path)
                {
                    stack.extend(record.fields.iter().map(|f| f.ty.clone()));
                }
            }
            _ => {}
        }
    }
    // System-level records stay in the kernel; only the records they reference matter.
    for record in &system.values {
        for field in &record.fields {
            collect_nested(system, &field.ty, &mut found);
        }
    }
    found
}

fn collect_nested(system: &System, ty: &Type, found: &mut BTreeSet<TypePath>) {
    match ty {
        Type::Option(inner) | Type::Vec(inner) | Type::Map(inner) => {
            collect_nested(system, inner, found)
        }
        Type::Value(path) | Type::Entity(path) | Type::Enum(path) if path.context.is_some() => {
            if found.insert(path.clone())
                && let Some(record) = system.record(path)
            {
                for field in &record.fields {
                    collect_nested(system, &field.ty, found);
                }
            }
        }
        _ => {}
    }
}

// ---------------------------------------------------------------------------------------
// Aggregates

#[derive(Debug, Serialize)]
pub(crate) struct AggregateView {
    pub(crate) name: String,
    pub(crate) module: String,
    /// Snake case, for prefixes (`type_` is the module, `type` the prefix).
    pub(crate) snake: String,
    pub(crate) doc: Option<String>,
    pub(crate) route: String,
    pub(crate) id: String,
    pub(crate) records: Vec<RecordView>,
    pub(crate) enums: Vec<EnumView>,
    pub(crate) state: Vec<FieldView>,
    pub(crate) manual_default: Option<Vec<(String, String)>>,
    pub(crate) commands: Vec<CommandView>,
    pub(crate) events: Vec<EventView>,
    pub(crate) uses: Vec<String>,
    /// How the module writes the prelude's names and the ddd items templates name.
    pub(crate) std: BTreeMap<&'static str, String>,
    pub(crate) tests: Vec<TestView>,
    /// Tests of the `may_*` guards: lifecycle transitions allowed and refused, rules met and
    /// broken.
    pub(crate) guard_tests: Vec<GuardTestView>,
    /// The states the guard tests start from, each built once by a function of the tests
    /// module from the events that lead there.
    pub(crate) histories: Vec<HistoryView>,
    pub(crate) test_uses: Vec<String>,
    /// Stubs for the user file: commands whose behaviour cannot be derived.
    pub(crate) stubs: Vec<usize>,
    /// The upcast chains of its events no other context reads (`mod upcast`).
    pub(crate) upcasts: Vec<ChainView>,
    /// Tests that a payload of an older version, lacking the fields with a default, reads
    /// with them.
    pub(crate) default_tests: Vec<DefaultTestView>,
}

/// An event with defaults, a sample of it, and the fields an older payload lacks.
#[derive(Debug, Serialize)]
pub(crate) struct DefaultTestView {
    name: String,
    /// The event with sample values and its defaults.
    event: String,
    missing: Vec<String>,
    /// The stored version the payload claims: the one before the event's.
    older: u32,
}

/// For each event with a default and no upcaster: its older payload, lacking the fields
/// with a default, reads as the event with them.
fn default_tests(
    scope: &Scope<'_>,
    context: &Context,
    aggregate: &Aggregate,
    history: &History,
) -> Vec<DefaultTestView> {
    aggregate
        .events
        .iter()
        .filter(|e| evolution::chain(history, context, &aggregate.name, e).is_none())
        .filter_map(|event| {
            let missing: Vec<String> = event
                .fields
                .iter()
                .filter(|f| f.default.is_some())
                .map(|f| f.name.to_string())
                .collect();
            if missing.is_empty() {
                return None;
            }
            let fields = event
                .fields
                .iter()
                .map(|f| {
                    let value = if f.default.is_some() {
                        format!(
                            "default_{}_{}()",
                            names::snake(&event.name),
                            names::snake(&f.name)
                        )
                    } else {
                        scope.sample(&f.ty, &f.constraints)?
                    };
                    Some(format!("{}: {value}", f.name))
                })
                .collect::<Option<Vec<_>>>()?;
            Some(DefaultTestView {
                name: format!(
                    "{}_of_an_older_version_reads_with_its_defaults",
                    names::snake(&event.name)
                ),
                event: format!(
                    "{}Event::{} {{ {} }}",
                    aggregate.name,
                    event.name,
                    fields.join(", ")
                ),
                missing,
                older: event.version.saturating_sub(1).max(1),
            })
        })
        .collect()
}

#[derive(Debug, Serialize)]
pub(crate) struct CommandView {
    name: String,
    snake: String,
    /// The method the `Command` derive dispatches to (`handle_return` for `Return`).
    handler: String,
    kebab: String,
    doc: Option<String>,
    creates: bool,
    params: Vec<FieldView>,
    /// `customer: Uuid, lines: Vec<OrderLine>`.
    signature: String,
    /// The same, with `_` before parameters the default body does not use.
    default_signature: String,
    args: String,
    /// Whether the model says enough to decide it (else a stub in the user's file).
    derived: bool,
    /// The events the default decision emits, as Rust expressions.
    events: Vec<String>,
    /// Whether the decision reads the aggregate's id.
    uses_id: bool,
    /// The aggregate as rejections name it: `shopping cart`.
    noun: String,
    reason: Option<String>,
    emits: Vec<String>,
    /// The rules the model gives the command, checked before it is decided.
    guard: Option<GuardView>,
}

/// `may_<command>`: the command's lifecycle states and `requires` rules.
#[derive(Debug, Serialize)]
pub(crate) struct GuardView {
    method: String,
    /// `, product: ProductId, name: &str`: `Copy` parameters by value, the rest by reference.
    signature: String,
    /// `, product, &name`: how the handler passes them.
    args: String,
    lifecycles: Vec<LifecycleCheckView>,
    rules: Vec<RuleView>,
}

#[derive(Debug, Serialize)]
pub(crate) struct LifecycleCheckView {
    field: String,
    /// `OrderStatus::Placed | OrderStatus::Paid`
    pattern: String,
    /// `"Placed", "Paid"`
    allowed: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct RuleView {
    /// The Rust `bool` expression.
    condition: String,
    /// Whether it calculates (and may overflow): it runs inside `require_checked`.
    checked: bool,
    /// The rule as written in the model.
    rule: String,
    /// What the rejection says.
    message: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct EventView {
    name: String,
    snake: String,
    /// The method the `DomainEvent` derive dispatches to (`apply_<snake>`).
    applier: String,
    doc: Option<String>,
    /// `#[event(version = 2)]`, with its upcaster when it has one; empty for a plain v1.
    attr: String,
    fields: Vec<FieldView>,
    /// The functions of the fields' defaults.
    defaults: Vec<DefaultView>,
    signature: String,
    default_signature: String,
    args: String,
    /// State fields applying the event sets: `(field, value)`.
    updates: Vec<(String, String)>,
    /// Elements applying the event appends to a `Vec` state field.
    appends: Vec<AppendView>,
    /// `sets field = EXPR` and lifecycle moves: `(field, value)`, computed from the state
    /// before the event.
    sets: Vec<(String, String)>,
}

#[derive(Debug, Serialize)]
pub(crate) struct AppendView {
    field: String,
    ty: String,
    values: Vec<(String, String)>,
    /// The entity's `@key`: an element with the same key is replaced.
    key: Option<String>,
}

/// `fn <name>() -> Aggregate`: the state after `events`.
#[derive(Debug, Serialize)]
pub(crate) struct HistoryView {
    name: String,
    /// The events' names, for its doc.
    summary: String,
    events: String,
}

/// Given events, the guard of a command decides: `ok`, refused for its `state`, refused for
/// a broken `rule`, or (`not_state`) whatever the rules say but not refused for its state.
#[derive(Debug, Serialize)]
pub(crate) struct GuardTestView {
    name: String,
    given: Option<String>,
    method: String,
    args: Vec<String>,
    expect: &'static str,
    /// For `state`: the field, its current state and the allowed ones (`"Placed", "Paid"`).
    field: Option<String>,
    current: Option<String>,
    allowed: Option<String>,
    /// For `rule`: the rule as written.
    rule: Option<String>,
}

#[derive(Debug, Serialize)]
pub(crate) struct TestView {
    name: String,
    given: Option<String>,
    /// `(name, value)` of the parameters the expected events read too.
    lets: Vec<(String, String)>,
    method: String,
    args: Vec<String>,
    expected: Vec<String>,
}

pub(crate) fn aggregate(
    system: &System,
    context: &Context,
    aggregate: &Aggregate,
    contract_types: &BTreeSet<TypePath>,
    history: &History,
) -> AggregateView {
    let module = names::module(&aggregate.name);
    let local = |path: &TypePath| {
        !contract_types.contains(path) && path.aggregate.as_deref() == Some(aggregate.name.as_str())
    };
    let scope = module_scope(system, context, aggregate, contract_types);
    let records: Vec<RecordView> = aggregate
        .values
        .iter()
        .chain(&aggregate.entities)
        .filter(|r| {
            local(&TypePath::aggregate(
                context.name.clone(),
                aggregate.name.clone(),
                r.name.clone(),
            ))
        })
        .map(|r| record(&scope, r))
        .collect();
    let enums = aggregate
        .enums
        .iter()
        .filter(|e| {
            local(&TypePath::aggregate(
                context.name.clone(),
                aggregate.name.clone(),
                e.name.clone(),
            ))
        })
        .map(enumeration)
        .collect();
    let has_id = aggregate.fields.iter().any(|f| matches!(f.ty, Type::Id(_)));
    let id = scope.ty(&Type::id(&context.name, &aggregate.name));
    let state = fields(&scope, "", &aggregate.fields);
    let manual_default = has_id.then(|| {
        aggregate
            .fields
            .iter()
            .map(|f| (f.name.to_string(), scope.default_value(&f.ty)))
            .collect()
    });
    let commands: Vec<CommandView> = aggregate
        .commands
        .iter()
        .map(|c| command(&scope, aggregate, c))
        .collect();
    let events = aggregate
        .events
        .iter()
        .map(|e| {
            let attr = evolution::event_attr(history, context, &aggregate.name, e, false);
            event(&scope, aggregate, e, attr)
        })
        .collect();
    let stubs = commands
        .iter()
        .enumerate()
        .filter(|(_, c)| !c.derived)
        .map(|(i, _)| i)
        .collect();
    for derive in [
        "serde::Serialize",
        "serde::Deserialize",
        "ddd_core::Rejection",
        "ddd_core::Aggregate",
        "ddd_core::Command",
        "ddd_core::DomainEvent",
    ] {
        scope.name(derive);
    }
    if !records.is_empty() {
        scope.name("ddd_core::ValueObject");
    }
    let uses = scope.uses();
    let std = scope.std_names();

    // The tests module names what it uses itself: its own `use` lines.
    let test_scope = module_scope(system, context, aggregate, contract_types);
    let tests = aggregate
        .commands
        .iter()
        .filter_map(|c| command_test(&test_scope, aggregate, c))
        .collect();
    let mut guard_tests = lifecycle_tests(&test_scope, aggregate);
    guard_tests.extend(rule_tests(&test_scope, aggregate));
    let histories = histories(aggregate, &mut guard_tests);
    let default_tests = default_tests(&test_scope, context, aggregate, history);
    if guard_tests.iter().any(|t| t.expect != "ok") {
        test_scope.name("ddd_core::Cause");
    }
    let test_uses = test_scope.uses();
    AggregateView {
        name: aggregate.name.to_string(),
        route: names::route(&aggregate.name),
        snake: names::snake(&aggregate.name),
        module,
        doc: aggregate.doc.clone(),
        id,
        records,
        enums,
        state,
        manual_default,
        commands,
        events,
        uses,
        std,
        tests,
        guard_tests,
        histories,
        test_uses,
        stubs,
        upcasts: evolution::aggregate_chains(history, context, aggregate),
        default_tests,
    }
}

/// One function per distinct history the guard tests start from (named by its events:
/// `after_order_placed_order_paid`), which each test then calls instead of repeating it.
fn histories(aggregate: &Aggregate, tests: &mut [GuardTestView]) -> Vec<HistoryView> {
    let mut histories: Vec<HistoryView> = Vec::new();
    for test in tests.iter_mut() {
        let Some(events) = test.given.take() else {
            continue;
        };
        let name = match histories.iter().find(|h| h.events == events) {
            Some(history) => history.name.clone(),
            None => {
                let names = event_names(aggregate, &events);
                let base = format!(
                    "after_{}",
                    names
                        .iter()
                        .map(|n| names::snake(n))
                        .collect::<Vec<_>>()
                        .join("_")
                );
                let taken = |name: &str| histories.iter().any(|h| h.name == name);
                let name = (1..)
                    .map(|n| {
                        if n == 1 {
                            base.clone()
                        } else {
                            format!("{base}_{n}")
                        }
                    })
                    .find(|name| !taken(name))
                    .unwrap_or(base);
                histories.push(HistoryView {
                    name: name.clone(),
                    summary: names.join(", "),
                    events,
                });
                name
            }
        };
        test.given = Some(name);
    }
    histories
}

/// The event variants a rendered history names, in order.
fn event_names(aggregate: &Aggregate, events: &str) -> Vec<String> {
    let prefix = format!("{}Event::", aggregate.name);
    events
        .match_indices(&prefix)
        .filter_map(|(at, _)| {
            let rest = &events[at + prefix.len()..];
            let end = rest.find(|c: char| !c.is_ascii_alphanumeric() && c != '_')?;
            Some(rest[..end].to_owned())
        })
        .collect()
}

/// For every lifecycle transition: its command is allowed from each source state, and refused
/// from a reachable state that is not one (with the current and allowed states named).
fn lifecycle_tests(scope: &Scope<'_>, aggregate: &Aggregate) -> Vec<GuardTestView> {
    let mut tests = Vec::new();
    let Some(start) = creating_event(scope, aggregate) else {
        return tests;
    };
    for lifecycle in &aggregate.lifecycles {
        let Some(paths) = state_paths(scope, aggregate, lifecycle) else {
            continue;
        };
        let given = |state: &str| {
            let mut events = vec![start.clone()];
            events.extend(paths.iter().find(|(s, _)| s == state)?.1.iter().cloned());
            Some(events.join(", "))
        };
        for transition in &lifecycle.transitions {
            for command_name in &transition.by {
                let Some(command) = aggregate.command(command_name) else {
                    continue;
                };
                let Some(args) = guard_args(scope, command) else {
                    continue;
                };
                let test = |name: String, given: String, expect: &'static str| GuardTestView {
                    name,
                    given: Some(given),
                    method: names::guard(&command.name),
                    args: args.clone(),
                    expect,
                    field: None,
                    current: None,
                    allowed: None,
                    rule: None,
                };
                let snake = names::snake(&command.name);
                let field = names::snake(&lifecycle.field);
                for from in &transition.from {
                    let Some(given) = given(from) else { continue };
                    let expect = if command.requires.is_empty() {
                        "ok"
                    } else {
                        "not_state"
                    };
                    tests.push(test(
                        format!("{snake}_is_allowed_when_{field}_is_{}", names::snake(from)),
                        given,
                        expect,
                    ));
                }
                let refused = paths
                    .iter()
                    .map(|(state, _)| state)
                    .find(|state| !transition.from.iter().any(|from| from == state.as_str()));
                if let Some(state) = refused
                    && let Some(given) = given(state)
                {
                    let allowed: Vec<String> = transition
                        .from
                        .iter()
                        .map(|f| format!("{f:?}.into()"))
                        .collect();
                    tests.push(GuardTestView {
                        field: Some(lifecycle.field.to_string()),
                        current: Some(state.clone()),
                        allowed: Some(allowed.join(", ")),
                        ..test(
                            format!("{snake}_is_refused_when_{field}_is_{}", names::snake(state)),
                            given,
                            "state",
                        )
                    });
                }
            }
        }
    }
    tests
}

/// The first event of the first creating command, with sample fields.
fn creating_event(scope: &Scope<'_>, aggregate: &Aggregate) -> Option<String> {
    let creating = aggregate.commands.iter().find(|c| c.creates)?;
    let event = aggregate.event(creating.emits.first()?)?;
    sample_event(scope, aggregate, event)
}

fn sample_event(scope: &Scope<'_>, aggregate: &Aggregate, event: &Event) -> Option<String> {
    Some(format!(
        "{}Event::{} {{ {} }}",
        aggregate.name,
        event.name,
        scope.sample_fields(&event.fields)?
    ))
}

/// Every state of the lifecycle reachable from the first, with the events that lead there
/// (breadth first: the shortest way), in the order they are reached.
fn state_paths(
    scope: &Scope<'_>,
    aggregate: &Aggregate,
    lifecycle: &ddd_model::ir::Lifecycle,
) -> Option<Vec<(String, Vec<String>)>> {
    let field = aggregate.field(&lifecycle.field)?;
    let Type::Enum(path) = &field.ty else {
        return None;
    };
    let ddd_model::ir::TypeDef::Enum(enumeration) = scope.system.type_def(path)? else {
        return None;
    };
    let first = enumeration.variants.first()?.name.to_string();
    let mut paths: Vec<(String, Vec<String>)> = vec![(first, Vec::new())];
    let mut next = 0;
    while next < paths.len() {
        let (state, events) = paths[next].clone();
        next += 1;
        for transition in &lifecycle.transitions {
            if !transition.from.iter().any(|from| *from == state.as_str())
                || paths
                    .iter()
                    .any(|(reached, _)| *reached == transition.to.as_str())
            {
                continue;
            }
            let command = transition.by.iter().find_map(|by| aggregate.command(by))?;
            let event = aggregate.event(command.emits.first()?)?;
            let mut events = events.clone();
            events.push(sample_event(scope, aggregate, event)?);
            paths.push((transition.to.to_string(), events));
        }
    }
    Some(paths)
}

/// Sample arguments for a command's guard: `Copy` values, references to the rest.
fn guard_args(scope: &Scope<'_>, command: &Command) -> Option<Vec<String>> {
    command
        .params
        .iter()
        .map(|param| {
            let sample = scope.sample(&param.ty, &param.constraints)?;
            Some(guard_arg(sample, &param.ty))
        })
        .collect()
}

/// A value as a guard takes it: `Copy` types by value, strings as `&str`, lists as slices,
/// the rest by reference.
fn guard_arg(value: String, ty: &Type) -> String {
    if is_copy(ty) {
        return value;
    }
    match ty {
        Type::String => value
            .strip_suffix(".to_owned()")
            .map_or_else(|| format!("&{value}"), str::to_owned),
        // `vec![a, b]` is a slice `&[a, b]`; `vec![x; n]` stays a `Vec` (an array of `n`
        // copies needs `x: Copy`).
        Type::Vec(_) => match value.strip_prefix("vec!") {
            Some(items) if !items.contains(';') => format!("&{items}"),
            Some(_) => format!("&{value}"),
            None => "&[]".to_owned(),
        },
        _ => format!("&{value}"),
    }
}

/// For every `requires`: a history and parameters that break it (after the lifecycle and
/// the rules before it are met: the rejection names it), and one that meets every rule of
/// the command. The simulator finds them from the model's own events; a rule it finds no
/// such case for (the clock, a pattern none of its strings match) gets no test.
fn rule_tests(scope: &Scope<'_>, aggregate: &Aggregate) -> Vec<GuardTestView> {
    let mut tests = Vec::new();
    for command in &aggregate.commands {
        let several = command.requires.len() > 1;
        let snake = names::snake(&command.name);
        let mut met_written = false;
        for (r, guard) in command.requires.iter().enumerate() {
            let (met, broken) = simulate::guard_cases(scope.system, aggregate, command, r);
            let suffix = if several {
                format!("_{}", r + 1)
            } else {
                String::new()
            };
            let view = |case: &simulate::Case, name: String, expect: &'static str| {
                Some(GuardTestView {
                    name,
                    given: given_events(scope, aggregate, case),
                    method: names::guard(&command.name),
                    args: case_args(scope, command, case)?,
                    expect,
                    field: None,
                    current: None,
                    allowed: None,
                    rule: (expect == "rule").then(|| guard.rule.source.clone()),
                })
            };
            if !met_written
                && let Some(case) = &met
                && let Some(test) = view(
                    case,
                    format!("{snake}_is_allowed_when_its_rules_are_met"),
                    "ok",
                )
            {
                tests.push(test);
                met_written = true;
            }
            if let Some(case) = &broken
                && let Some(test) = view(
                    case,
                    format!("{snake}_is_refused_when_its_rule{suffix}_is_broken"),
                    "rule",
                )
            {
                tests.push(test);
            }
        }
    }
    tests
}

fn given_events(scope: &Scope<'_>, aggregate: &Aggregate, case: &simulate::Case) -> Option<String> {
    let path = format!("{}Event", aggregate.name);
    let events: Vec<String> = (case.given.iter())
        .filter_map(|given| simulate::event_literal(scope, &path, aggregate, given))
        .collect();
    (!events.is_empty()).then(|| events.join(", "))
}

fn case_args(scope: &Scope<'_>, command: &Command, case: &simulate::Case) -> Option<Vec<String>> {
    command
        .params
        .iter()
        .map(|param| {
            let (_, value) = case.params.iter().find(|(name, _)| *name == param.name)?;
            Some(guard_arg(
                simulate::rust(scope, value, &param.ty),
                &param.ty,
            ))
        })
        .collect()
}

/// A scope for the aggregate's module (or its tests module, which sees the same names).
fn module_scope<'a>(
    system: &'a System,
    context: &'a Context,
    aggregate: &Aggregate,
    contract_types: &'a BTreeSet<TypePath>,
) -> Scope<'a> {
    let mut scope = Scope::new(
        system,
        Crate::Service(&context.name),
        format!("crate::{}", names::module(&aggregate.name)),
        contract_types,
    );
    for name in local_names(context, aggregate, contract_types) {
        scope.define(name);
    }
    scope
}

fn local_names(
    context: &Context,
    aggregate: &Aggregate,
    contract_types: &BTreeSet<TypePath>,
) -> Vec<String> {
    let mut names: Vec<String> = aggregate
        .values
        .iter()
        .chain(&aggregate.entities)
        .map(|r| &r.name)
        .chain(aggregate.enums.iter().map(|e| &e.name))
        .filter(|name| {
            !contract_types.contains(&TypePath::aggregate(
                context.name.clone(),
                aggregate.name.clone(),
                (*name).clone(),
            ))
        })
        .map(ToString::to_string)
        .collect();
    names.push(aggregate.name.to_string());
    names.push(format!("{}Command", aggregate.name));
    names.push(format!("{}Event", aggregate.name));
    names.push(format!("{}Behaviour", aggregate.name));
    names
}

fn signature(
    scope: &Scope<'_>,
    params: &[Field],
    used: &dyn Fn(&str) -> bool,
    by_ref: bool,
) -> String {
    params
        .iter()
        .map(|p| {
            let prefix = if used(&p.name) { "" } else { "_" };
            let ty = if by_ref {
                scope.ref_ty(&p.ty)
            } else {
                scope.ty(&p.ty)
            };
            format!("{prefix}{}: {ty}", names::var(&p.name))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn args(params: &[Field]) -> String {
    params
        .iter()
        .map(|p| names::var(&p.name))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Command parameters the emit plans read, with how many times.
fn command_uses(plans: &[EmitPlan]) -> BTreeMap<String, usize> {
    let mut uses = BTreeMap::new();
    for plan in plans {
        for field in &plan.fields {
            if let Source::CommandField { field, .. } = &field.source {
                *uses.entry(field.to_string()).or_insert(0) += 1;
            }
        }
    }
    uses
}

fn needs_code(plans: &[EmitPlan]) -> Option<String> {
    plans.iter().find_map(|plan| {
        plan.fields.iter().find_map(|f| match &f.source {
            Source::NeedsCode { reason } => Some(format!("`{}.{}`: {reason}", plan.event, f.field)),
            _ => None,
        })
    })
}

/// The events of a command as Rust expressions; `value` names a command parameter's value.
fn emitted(
    scope: &Scope<'_>,
    aggregate: &Aggregate,
    command: &Command,
    value: &mut dyn FnMut(&str, &Type) -> String,
    state: &str,
) -> Vec<String> {
    let event_enum = format!("{}Event", aggregate.name);
    command
        .emit_plans
        .iter()
        .map(|plan| {
            let fields: Vec<String> = plan
                .fields
                .iter()
                .map(|f| {
                    let expr = match &f.source {
                        Source::CommandField { field, conversion } => {
                            let ty = &command
                                .params
                                .iter()
                                .find(|p| p.name == *field)
                                .map(|p| p.ty.clone())
                                .unwrap_or(Type::Bool);
                            scope.convert(&value(field, ty), conversion, &plan.conversions, 0)
                        }
                        Source::StateField { field, conversion } => {
                            let ty = aggregate
                                .field(field)
                                .map(|f| f.ty.clone())
                                .unwrap_or(Type::Bool);
                            let read = if is_copy(&ty) {
                                format!("{state}.{field}")
                            } else {
                                format!("{state}.{field}.clone()")
                            };
                            scope.convert(&read, conversion, &plan.conversions, 0)
                        }
                        Source::AggregateId { conversion } => {
                            scope.convert("id", conversion, &plan.conversions, 0)
                        }
                        Source::Default => default_value(scope, aggregate, plan, &f.field),
                        Source::EventField { .. }
                        | Source::Computed { .. }
                        | Source::NeedsCode { .. } => "todo".into(),
                    };
                    if expr == f.field.as_str() {
                        expr
                    } else {
                        format!("{}: {expr}", f.field)
                    }
                })
                .collect();
            format!("{event_enum}::{} {{ {} }}", plan.event, fields.join(", "))
        })
        .collect()
}

fn uses_id(command: &Command) -> bool {
    command
        .emit_plans
        .iter()
        .flat_map(|p| &p.fields)
        .any(|f| matches!(f.source, Source::AggregateId { .. }))
}

fn command(scope: &Scope<'_>, aggregate: &Aggregate, command: &Command) -> CommandView {
    let uses = command_uses(&command.emit_plans);
    let reason = needs_code(&command.emit_plans);
    let derived = reason.is_none();
    let events = if derived {
        let mut remaining = uses.clone();
        let mut value = |field: &str, ty: &Type| moved_or_cloned(&mut remaining, field, ty);
        emitted(scope, aggregate, command, &mut value, "state")
    } else {
        Vec::new()
    };
    let used = |name: &str| derived && uses.contains_key(name);
    CommandView {
        name: command.name.to_string(),
        snake: names::ident(&command.name),
        handler: names::handler(&command.name),
        kebab: names::command_path(&command.name),
        doc: command.doc.clone(),
        creates: command.creates,
        params: fields(scope, "command", &command.params),
        signature: signature(scope, &command.params, &|_| true, false),
        default_signature: signature(scope, &command.params, &used, false),
        args: args(&command.params),
        derived,
        events,
        uses_id: uses_id(command),
        noun: names::snake(&aggregate.name).replace('_', " "),
        reason,
        emits: command.emits.iter().map(ToString::to_string).collect(),
        guard: guard(scope, aggregate, command),
    }
}

fn guard(scope: &Scope<'_>, aggregate: &Aggregate, command: &Command) -> Option<GuardView> {
    let lifecycles: Vec<LifecycleCheckView> = aggregate
        .transitions_of(&command.name)
        .filter_map(|(lifecycle, transition)| {
            let ty = aggregate.field(&lifecycle.field)?.ty.clone();
            let ty_name = scope.ty(&ty);
            let pattern: Vec<String> = transition
                .from
                .iter()
                .map(|state| format!("{ty_name}::{state}"))
                .collect();
            let allowed: Vec<String> = transition.from.iter().map(|s| format!("{s:?}")).collect();
            Some(LifecycleCheckView {
                field: lifecycle.field.to_string(),
                pattern: pattern.join(" | "),
                allowed: allowed.join(", "),
            })
        })
        .collect();
    let writer = Writer::new(scope, Arithmetic::Checked, "state");
    let rules: Vec<RuleView> = command
        .requires
        .iter()
        .filter_map(|guard| {
            let typed = guard.rule.checked()?;
            Some(RuleView {
                condition: writer.value(typed),
                checked: typed.has_arithmetic(),
                rule: guard.rule.source.clone(),
                message: guard.message.clone().unwrap_or_else(|| {
                    format!("`{}` requires `{}`", command.name, guard.rule.source)
                }),
            })
        })
        .collect();
    if lifecycles.is_empty() && rules.is_empty() {
        return None;
    }
    let read = |name: &str| {
        command.requires.iter().any(|guard| {
            (guard.rule.checked()).is_some_and(|typed| typed.reads_name(NameScope::Param, name))
        })
    };
    let mut signature = String::new();
    let mut args = String::new();
    for param in &command.params {
        let prefix = if read(&param.name) { "" } else { "_" };
        let var = names::var(&param.name);
        let (ty, arg) = if is_copy(&param.ty) {
            (scope.ty(&param.ty), var.clone())
        } else {
            (scope.ref_ty(&param.ty), format!("&{var}"))
        };
        signature.push_str(&format!(", {prefix}{var}: {ty}"));
        args.push_str(&format!(", {arg}"));
    }
    Some(GuardView {
        method: names::guard(&command.name),
        signature,
        args,
        lifecycles,
        rules,
    })
}

fn event(scope: &Scope<'_>, aggregate: &Aggregate, event: &Event, attr: String) -> EventView {
    // The event field `name` (a reference in `apply`), owned and converted.
    let from_event = |name: &str, conversion: &Conversion| {
        let ty = event
            .fields
            .iter()
            .find(|f| f.name == *name)
            .map_or(Type::Bool, |f| f.ty.clone());
        scope.convert(
            &owned(&names::var(name), &ty),
            conversion,
            &event.apply.conversions,
            0,
        )
    };
    let updates: Vec<(String, String)> = event
        .apply
        .updates
        .iter()
        .map(|u| (u.field.to_string(), from_event(&u.from, &u.conversion)))
        .collect();
    let appends: Vec<AppendView> = event
        .apply
        .appends
        .iter()
        .filter_map(|append| {
            let state_field = aggregate.fields.iter().find(|f| f.name == append.field)?;
            let Type::Vec(element) = &state_field.ty else {
                return None;
            };
            Some(AppendView {
                field: append.field.to_string(),
                ty: scope.ty(element),
                values: append
                    .fields
                    .iter()
                    .map(|f| (f.field.to_string(), from_event(&f.field, &f.conversion)))
                    .collect(),
                key: append.key.as_ref().map(ToString::to_string),
            })
        })
        .collect();
    let writer = Writer::new(scope, Arithmetic::Saturating, "state");
    let mut sets: Vec<(String, String)> = event
        .sets
        .iter()
        .filter_map(|set| Some((set.field.to_string(), writer.value(set.value.checked()?))))
        .collect();
    for step in &event.apply.moves {
        if let Some(field) = aggregate.field(&step.field) {
            sets.push((
                step.field.to_string(),
                format!("{}::{}", scope.ty(&field.ty), step.to),
            ));
        }
    }
    let read_by_sets = |name: &str| {
        event.sets.iter().any(|set| {
            (set.value.checked()).is_some_and(|typed| typed.reads_name(NameScope::Event, name))
        })
    };
    let used = |name: &str| {
        event.apply.updates.iter().any(|u| u.from == *name)
            || event
                .apply
                .appends
                .iter()
                .any(|a| a.fields.iter().any(|f| f.field == *name))
            || read_by_sets(name)
    };
    let state = if updates.is_empty() && appends.is_empty() && sets.is_empty() {
        "_state"
    } else {
        "state"
    };
    let (fields, defaults) = event_fields(scope, event);
    EventView {
        name: event.name.to_string(),
        snake: names::ident(&event.name),
        applier: names::applier(&event.name),
        doc: event.doc.clone(),
        attr,
        fields,
        defaults,
        signature: signature(scope, &event.fields, &|_| true, true),
        default_signature: format!(
            "{state}: &mut {}{}",
            aggregate.name,
            prefix_comma(&signature(scope, &event.fields, &used, true))
        ),
        args: args(&event.fields),
        updates,
        appends,
        sets,
    }
}

fn prefix_comma(text: &str) -> String {
    if text.is_empty() {
        String::new()
    } else {
        format!(", {text}")
    }
}

/// A test of a command's derived behaviour: given the first creating event (for commands on
/// an existing aggregate), the command decides the events its plans describe.
fn command_test(scope: &Scope<'_>, aggregate: &Aggregate, command: &Command) -> Option<TestView> {
    if needs_code(&command.emit_plans).is_some() || uses_id(command) {
        return None;
    }
    let given = if command.creates {
        None
    } else {
        let creating = aggregate.commands.iter().find(|c| c.creates)?;
        let event = aggregate.event(creating.emits.first()?)?;
        Some(format!(
            "{}Event::{} {{ {} }}",
            aggregate.name,
            event.name,
            scope.sample_fields(&event.fields)?
        ))
    };
    let uses = command_uses(&command.emit_plans);
    let mut lets = Vec::new();
    let mut call_args = Vec::new();
    for param in &command.params {
        let sample = scope.sample(&param.ty, &param.constraints)?;
        if uses.contains_key(param.name.as_str()) {
            lets.push((names::var(&param.name), sample));
            call_args.push(if is_copy(&param.ty) {
                names::var(&param.name)
            } else {
                format!("{}.clone()", names::var(&param.name))
            });
        } else {
            call_args.push(sample);
        }
    }
    let mut remaining = uses.clone();
    let mut value = |field: &str, ty: &Type| moved_or_cloned(&mut remaining, field, ty);
    let expected = emitted(scope, aggregate, command, &mut value, "state");
    Some(TestView {
        name: format!(
            "{}_emits_{}",
            names::snake(&command.name),
            command
                .emits
                .iter()
                .map(|e| names::snake(e))
                .collect::<Vec<_>>()
                .join("_and_")
        ),
        given,
        lets,
        method: names::ident(&command.name),
        args: call_args,
        expected,
    })
}

// ---------------------------------------------------------------------------------------
// Policies

#[derive(Debug, Serialize)]
pub(crate) struct PolicyView {
    pub(crate) name: String,
    pub(crate) module: String,
    pub(crate) consumer: String,
    pub(crate) summary: String,
    pub(crate) subject: String,
    pub(crate) event_ty: String,
    pub(crate) target_ty: String,
    /// The translation, when the model says enough to write it (else a stub of yours).
    pub(crate) translation: Option<TranslationView>,
    pub(crate) reason: Option<String>,
    pub(crate) test: Option<PolicyTestView>,
}

/// A translation of a published event into a command, as the template writes it.
#[derive(Debug, Serialize)]
pub(crate) struct TranslationView {
    /// The event's variant in the published enum.
    event: String,
    /// Whether the source context publishes only this event (no other variant to skip).
    single: bool,
    /// The event fields the translation reads, bound by the pattern.
    bound: Vec<String>,
    /// Whether the event has fields the pattern leaves out (`..`).
    rest: bool,
    /// The type of the emitting aggregate's id, when the translation reads it.
    emitter_id: Option<String>,
    emitter: String,
    /// The target aggregate's id.
    target: String,
    /// `create` for a creating command, else `new`.
    make: &'static str,
    command_ty: String,
    command: String,
    /// `field: expression` (or `field` alone) for each command field.
    fields: Vec<String>,
    reaction: String,
    policy_error: String,
}

#[derive(Debug, Serialize)]
pub(crate) struct PolicyTestView {
    lets: Vec<String>,
    aggregate: String,
    event: String,
    target: String,
    reaction: String,
}

pub(crate) fn policy_name(policy: &Policy) -> String {
    format!("{}On{}", policy.run.command, policy.on.event)
}

pub(crate) fn consumer_name(context: &Context, policy: &Policy) -> String {
    names::policy_consumer(
        &context.name,
        &policy.on.context,
        &policy.on.event,
        &policy.run.aggregate,
        &policy.run.command,
    )
}

pub(crate) fn policy(
    scope: &Scope<'_>,
    test_scope: &Scope<'_>,
    system: &System,
    context: &Context,
    policy: &Policy,
    name: String,
) -> Option<PolicyView> {
    let source = system.context(&policy.on.context)?;
    let (emitter, event) = source.event(&policy.on.event)?;
    let target = context.aggregate(&policy.run.aggregate)?;
    let command = target.command(&policy.run.command)?;
    let translation = policy.translation.as_ref()?;
    let published = format!("contracts::{}::Published", names::module(&source.name));
    let event_ty = scope.name(&published);
    let target_ty = scope.name(&format!(
        "crate::{}::{}",
        names::module(&target.name),
        target.name
    ));
    let reason = translation.target_reason().or_else(|| {
        translation.fields.iter().find_map(|f| match &f.source {
            Source::NeedsCode { reason } => Some(format!("`{}`: {reason}", f.field)),
            _ => None,
        })
    });
    let translated = reason.is_none().then(|| {
        let used: BTreeSet<&str> = translation
            .fields
            .iter()
            .filter_map(|f| match &f.source {
                Source::EventField { field, .. } => Some(field.as_str()),
                _ => None,
            })
            .chain(match &translation.target {
                Target::EventField { field } => Some(field.as_str()),
                _ => None,
            })
            .collect();
        let computed = |name: &str| computed_reads(translation, name);
        let bound: Vec<String> = event
            .fields
            .iter()
            .map(|f| f.name.as_str())
            .filter(|f| used.contains(*f) || computed(f))
            .map(|f| match names::var(f) {
                var if var == f => var,
                var => format!("{f}: {var}"),
            })
            .collect();
        let needs_emitter = matches!(translation.target, Target::EmittingAggregate)
            || translation
                .fields
                .iter()
                .any(|f| matches!(f.source, Source::AggregateId { .. }));
        let target_expr = match &translation.target {
            Target::NewFromEventId => format!(
                "{}::derived_from(&event.event_id, Self::NAME.as_bytes())",
                scope.ty(&Type::id(&context.name, &target.name))
            ),
            Target::EventField { field } => format!("*{}", names::var(field)),
            Target::EmittingAggregate => "emitter".into(),
            Target::NeedsCode { .. } => unreachable_target(),
        };
        let fields: Vec<String> = translation
            .fields
            .iter()
            .map(|f| {
                let expr = match &f.source {
                    Source::EventField { field, conversion } => {
                        let ty = event
                            .fields
                            .iter()
                            .find(|e| e.name == *field)
                            .map_or(Type::Bool, |e| e.ty.clone());
                        scope.convert(
                            &owned(&names::var(field), &ty),
                            conversion,
                            &translation.conversions,
                            0,
                        )
                    }
                    Source::AggregateId { conversion } => {
                        scope.convert("emitter", conversion, &translation.conversions, 0)
                    }
                    Source::Computed { expr } => match expr.checked() {
                        Some(typed) => {
                            Writer::new(scope, Arithmetic::Saturating, "state").value(typed)
                        }
                        None => format!("{}::default()", scope.std("Default")),
                    },
                    _ => format!("{}::default()", scope.std("Default")),
                };
                if expr == f.field.as_str() {
                    expr
                } else {
                    format!("{}: {expr}", f.field)
                }
            })
            .collect();
        TranslationView {
            event: event.name.to_string(),
            single: source.publishes.len() == 1,
            rest: bound.len() < event.fields.len(),
            bound,
            emitter_id: needs_emitter.then(|| scope.ty(&Type::id(&source.name, &emitter.name))),
            emitter: emitter.name.to_string(),
            target: target_expr,
            make: if command.creates { "create" } else { "new" },
            command_ty: scope.name(&format!(
                "crate::{}::{}Command",
                names::module(&target.name),
                target.name
            )),
            command: command.name.to_string(),
            fields,
            reaction: scope.name("ddd_core::Reaction"),
            policy_error: scope.name("ddd_core::PolicyError"),
        }
    });
    let test = translated.as_ref().and_then(|_| {
        policy_test(
            test_scope,
            (source, context),
            emitter,
            event,
            target,
            command,
            translation,
            &published,
            &name,
        )
    });
    Some(PolicyView {
        module: names::module(&name),
        name,
        consumer: consumer_name(context, policy),
        summary: format!(
            "{}.{} → {}.{}",
            policy.on.context, policy.on.event, policy.run.aggregate, policy.run.command
        ),
        subject: format!("{}.{}", source.name, event.name),
        event_ty,
        target_ty,
        translation: translated,
        reason,
        test,
    })
}

fn unreachable_target() -> String {
    "compile_error!(\"no target\")".into()
}

trait TargetReason {
    fn target_reason(&self) -> Option<String>;
}

impl TargetReason for ddd_model::ir::Translation {
    fn target_reason(&self) -> Option<String> {
        match &self.target {
            Target::NeedsCode { reason } => Some(format!("the target: {reason}")),
            _ => None,
        }
    }
}

#[expect(
    clippy::too_many_arguments,
    reason = "the parts of one policy, each needed"
)]
fn policy_test(
    scope: &Scope<'_>,
    (source, context): (&Context, &Context),
    emitter: &Aggregate,
    event: &Event,
    target: &Aggregate,
    command: &Command,
    translation: &ddd_model::ir::Translation,
    published: &str,
    name: &str,
) -> Option<PolicyTestView> {
    let mut uses: BTreeMap<String, usize> = BTreeMap::new();
    for f in &translation.fields {
        if let Source::EventField { field, .. } = &f.source {
            *uses.entry(field.to_string()).or_insert(0) += 1;
        }
    }
    if let Target::EventField { field } = &translation.target {
        *uses.entry(field.to_string()).or_insert(0) += 1;
    }
    // A computed field reads its event fields besides: the event is built from clones.
    for f in &event.fields {
        if computed_reads(translation, &f.name) {
            *uses.entry(f.name.to_string()).or_insert(0) += 2;
        }
    }
    let mut lets = Vec::new();
    let mut event_fields = Vec::new();
    for f in &event.fields {
        let sample = scope.sample(&f.ty, &f.constraints)?;
        if uses.contains_key(f.name.as_str()) {
            let var = names::var(&f.name);
            lets.push(format!("let {var} = {sample};"));
            event_fields.push(if is_copy(&f.ty) && var == f.name.as_str() {
                var
            } else if is_copy(&f.ty) {
                format!("{}: {var}", f.name)
            } else {
                format!("{}: {var}.clone()", f.name)
            });
        } else {
            event_fields.push(format!("{}: {sample}", f.name));
        }
    }
    let emitter_id = || {
        format!(
            "{}::from({}::from_u128(7))",
            scope.ty(&Type::id(&source.name, &emitter.name)),
            scope.name("uuid::Uuid")
        )
    };
    let mut remaining = uses.clone();
    let mut value = |field: &str, ty: &Type| moved_or_cloned(&mut remaining, field, ty);
    let target_expr = match &translation.target {
        Target::NewFromEventId => format!(
            "{}::derived_from(&when.event().event_id, {name}::NAME.as_bytes())",
            scope.ty(&Type::id(&context.name, &target.name))
        ),
        Target::EventField { field } => {
            let ty = event
                .fields
                .iter()
                .find(|e| e.name == *field)
                .map(|e| e.ty.clone())?;
            value(field, &ty)
        }
        Target::EmittingAggregate => emitter_id(),
        Target::NeedsCode { .. } => return None,
    };
    let fields: Vec<String> = translation
        .fields
        .iter()
        .map(|f| {
            let expr = match &f.source {
                Source::EventField { field, conversion } => {
                    let ty = event
                        .fields
                        .iter()
                        .find(|e| e.name == *field)
                        .map(|e| e.ty.clone())
                        .unwrap_or(Type::Bool);
                    scope.convert(&value(field, &ty), conversion, &translation.conversions, 0)
                }
                Source::AggregateId { conversion } => {
                    scope.convert(&emitter_id(), conversion, &translation.conversions, 0)
                }
                Source::Computed { expr } => match expr.checked() {
                    Some(typed) => Writer::new(scope, Arithmetic::Saturating, "state")
                        .owned_events()
                        .value(typed),
                    None => "Default::default()".into(),
                },
                _ => "Default::default()".into(),
            };
            if expr == f.field.as_str() {
                expr
            } else {
                format!("{}: {expr}", f.field)
            }
        })
        .collect();
    let make = if command.creates { "create" } else { "new" };
    Some(PolicyTestView {
        lets,
        aggregate: emitter.name.to_string(),
        event: format!(
            "{}::{} {{ {} }}",
            scope.name(published),
            event.name,
            event_fields.join(", ")
        ),
        target: target_expr,
        reaction: format!(
            "{}::{make}(target, {}::{} {{ {} }})",
            scope.name("ddd_core::Reaction"),
            scope.name(&format!(
                "crate::{}::{}Command",
                names::module(&target.name),
                target.name
            )),
            command.name,
            fields.join(", ")
        ),
    })
}

/// The default (`= EXPR`) of the event field `field`, as a value.
fn default_value(scope: &Scope<'_>, aggregate: &Aggregate, plan: &EmitPlan, field: &str) -> String {
    let typed = aggregate
        .event(&plan.event)
        .and_then(|event| event.fields.iter().find(|f| f.name == *field))
        .and_then(|f| f.default.as_ref())
        .and_then(|default| default.checked());
    match typed {
        Some(typed) => Writer::new(scope, Arithmetic::Saturating, "state").value(typed),
        None => format!("{}::default()", scope.std("Default")),
    }
}

/// A variable for the command or event field `field`, moved at its last use and cloned
/// before (`remaining` counts the uses still to come).
fn moved_or_cloned(remaining: &mut BTreeMap<String, usize>, field: &str, ty: &Type) -> String {
    let left = remaining.entry(field.to_owned()).or_insert(1);
    *left -= 1;
    if *left > 0 && !is_copy(ty) {
        format!("{}.clone()", names::var(field))
    } else {
        names::var(field)
    }
}

/// Whether a computed field of the translation (`with total = ...`) reads the event field
/// `name`.
fn computed_reads(translation: &ddd_model::ir::Translation, name: &str) -> bool {
    translation.fields.iter().any(|plan| match &plan.source {
        Source::Computed { expr } => expr
            .checked()
            .is_some_and(|typed| typed.reads_name(NameScope::Event, name)),
        _ => false,
    })
}
