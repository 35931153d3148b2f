//! Every list of fields in a system, with its scope and its path in the IR, for the passes
//! that look at all fields alike (resolution, constraints, cycles).

use crate::ir::{Field, System, TypePath};
use crate::name::Name;

/// Which list of fields: indices into the system.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Owner {
    SystemValue(usize),
    ContextValue(usize, usize),
    State(usize, usize),
    Entity(usize, usize, usize),
    AggregateValue(usize, usize, usize),
    Command(usize, usize, usize),
    Event(usize, usize, usize),
}

/// Where names are looked up from: `(context, aggregate)` indices.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Scope {
    pub(crate) context: Option<usize>,
    pub(crate) aggregate: Option<usize>,
}

impl Owner {
    /// Every field list, in source order of their owners.
    pub(crate) fn all(system: &System) -> Vec<Owner> {
        let mut owners: Vec<Owner> = (0..system.values.len()).map(Owner::SystemValue).collect();
        for (c, context) in system.contexts.iter().enumerate() {
            owners.extend((0..context.values.len()).map(|i| Owner::ContextValue(c, i)));
            for (a, aggregate) in context.aggregates.iter().enumerate() {
                owners.push(Owner::State(c, a));
                owners.extend((0..aggregate.entities.len()).map(|i| Owner::Entity(c, a, i)));
                owners.extend((0..aggregate.values.len()).map(|i| Owner::AggregateValue(c, a, i)));
                owners.extend((0..aggregate.commands.len()).map(|i| Owner::Command(c, a, i)));
                owners.extend((0..aggregate.events.len()).map(|i| Owner::Event(c, a, i)));
            }
        }
        owners
    }

    pub(crate) fn scope(self) -> Scope {
        match self {
            Owner::SystemValue(_) => Scope::default(),
            Owner::ContextValue(c, _) => Scope {
                context: Some(c),
                aggregate: None,
            },
            Owner::State(c, a)
            | Owner::Entity(c, a, _)
            | Owner::AggregateValue(c, a, _)
            | Owner::Command(c, a, _)
            | Owner::Event(c, a, _) => Scope {
                context: Some(c),
                aggregate: Some(a),
            },
        }
    }

    /// The IR path of the list, e.g. `$.contexts[1].aggregates[0].commands[2].params`.
    pub(crate) fn path(self) -> String {
        match self {
            Owner::SystemValue(i) => format!("$.values[{i}].fields"),
            Owner::ContextValue(c, i) => format!("$.contexts[{c}].values[{i}].fields"),
            Owner::State(c, a) => format!("$.contexts[{c}].aggregates[{a}].fields"),
            Owner::Entity(c, a, i) => {
                format!("$.contexts[{c}].aggregates[{a}].entities[{i}].fields")
            }
            Owner::AggregateValue(c, a, i) => {
                format!("$.contexts[{c}].aggregates[{a}].values[{i}].fields")
            }
            Owner::Command(c, a, i) => {
                format!("$.contexts[{c}].aggregates[{a}].commands[{i}].params")
            }
            Owner::Event(c, a, i) => format!("$.contexts[{c}].aggregates[{a}].events[{i}].fields"),
        }
    }

    pub(crate) fn field_path(self, index: usize) -> String {
        format!("{}[{index}]", self.path())
    }

    pub(crate) fn fields(self, system: &System) -> &[Field] {
        let aggregate = |c: usize, a: usize| &system.contexts[c].aggregates[a];
        match self {
            Owner::SystemValue(i) => &system.values[i].fields,
            Owner::ContextValue(c, i) => &system.contexts[c].values[i].fields,
            Owner::State(c, a) => &aggregate(c, a).fields,
            Owner::Entity(c, a, i) => &aggregate(c, a).entities[i].fields,
            Owner::AggregateValue(c, a, i) => &aggregate(c, a).values[i].fields,
            Owner::Command(c, a, i) => &aggregate(c, a).commands[i].params,
            Owner::Event(c, a, i) => &aggregate(c, a).events[i].fields,
        }
    }

    pub(crate) fn fields_mut(self, system: &mut System) -> &mut Vec<Field> {
        let contexts = &mut system.contexts;
        match self {
            Owner::SystemValue(i) => &mut system.values[i].fields,
            Owner::ContextValue(c, i) => &mut contexts[c].values[i].fields,
            Owner::State(c, a) => &mut contexts[c].aggregates[a].fields,
            Owner::Entity(c, a, i) => &mut contexts[c].aggregates[a].entities[i].fields,
            Owner::AggregateValue(c, a, i) => &mut contexts[c].aggregates[a].values[i].fields,
            Owner::Command(c, a, i) => &mut contexts[c].aggregates[a].commands[i].params,
            Owner::Event(c, a, i) => &mut contexts[c].aggregates[a].events[i].fields,
        }
    }

    /// "value `Money`", "command `PlaceOrder`", "the state of aggregate `Order`".
    pub(crate) fn describe(self, system: &System) -> String {
        let aggregate = |c: usize, a: usize| &system.contexts[c].aggregates[a];
        match self {
            Owner::SystemValue(i) => format!("value `{}`", system.values[i].name),
            Owner::ContextValue(c, i) => format!("value `{}`", system.contexts[c].values[i].name),
            Owner::State(c, a) => format!("the state of aggregate `{}`", aggregate(c, a).name),
            Owner::Entity(c, a, i) => format!("entity `{}`", aggregate(c, a).entities[i].name),
            Owner::AggregateValue(c, a, i) => format!("value `{}`", aggregate(c, a).values[i].name),
            Owner::Command(c, a, i) => format!("command `{}`", aggregate(c, a).commands[i].name),
            Owner::Event(c, a, i) => format!("event `{}`", aggregate(c, a).events[i].name),
        }
    }

    /// The qualified path of the record owning these fields, for values and entities.
    pub(crate) fn record_path(self, system: &System) -> Option<TypePath> {
        let context = |c: usize| system.contexts[c].name.clone();
        let aggregate = |c: usize, a: usize| system.contexts[c].aggregates[a].name.clone();
        let record = |list: &[crate::ir::Record], i: usize| list[i].name.clone();
        Some(match self {
            Owner::SystemValue(i) => TypePath::system(record(&system.values, i)),
            Owner::ContextValue(c, i) => {
                TypePath::context(context(c), record(&system.contexts[c].values, i))
            }
            Owner::Entity(c, a, i) => TypePath::aggregate(
                context(c),
                aggregate(c, a),
                record(&system.contexts[c].aggregates[a].entities, i),
            ),
            Owner::AggregateValue(c, a, i) => TypePath::aggregate(
                context(c),
                aggregate(c, a),
                record(&system.contexts[c].aggregates[a].values, i),
            ),
            Owner::State(..) | Owner::Command(..) | Owner::Event(..) => return None,
        })
    }
}

/// The names visible from a scope, innermost first: for "did you mean" and shadowing.
pub(crate) fn scope_names(system: &System, scope: Scope) -> Vec<&Name> {
    let mut names = Vec::new();
    if let (Some(c), Some(a)) = (scope.context, scope.aggregate) {
        let aggregate = &system.contexts[c].aggregates[a];
        names.extend(aggregate.entities.iter().map(|r| &r.name));
        names.extend(aggregate.values.iter().map(|r| &r.name));
        names.extend(aggregate.enums.iter().map(|e| &e.name));
    }
    if let Some(c) = scope.context {
        let context = &system.contexts[c];
        names.extend(context.values.iter().map(|r| &r.name));
        names.extend(context.enums.iter().map(|e| &e.name));
    }
    names.extend(system.values.iter().map(|r| &r.name));
    names.extend(system.enums.iter().map(|e| &e.name));
    names
}
