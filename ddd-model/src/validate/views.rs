//! The read side: where a view's rows come from, which of its fields can be filtered and
//! sorted, and the events that feed a `by` view. Types every `= EXPR` and `sets` (keeping the
//! typed trees in the model for the generator) and derives how each copied field and each
//! handled event is read. A view's names are checked with the others' (`names`).

use super::{at, list, types, view_path};
use crate::convert::{Converter, is_unresolved};
use crate::diagnostic::{Code, Diagnostic, Location};
use crate::ir::{
    Aggregate, Assignment, Context, Conversion, Delivery, Event, Expr, Field, HandledEvent,
    NameScope, System, Type, Typed, View, ViewField, ViewHandler, ViewSource, from_view_implicit,
};
use crate::name::Name;
use crate::resolve::Index;
use crate::typing::{self, Env, Visible};
use crate::{suggest, symbol};

pub(super) fn check(system: &mut System, index: &Index, out: &mut Vec<Diagnostic>) {
    let mut found = Found::default();
    for (c, context) in system.contexts.iter().enumerate() {
        check_routes(context, c, out);
        for (v, view) in context.views.iter().enumerate() {
            let place = Place {
                system,
                index,
                c,
                v,
                view,
            };
            check_fields(&place, out);
            match &view.source {
                ViewSource::From(aggregate) => from_view(&place, aggregate, &mut found, out),
                ViewSource::By(key) => by_view(&place, key, &mut found, out),
            }
        }
    }
    found.fill(system);
}

/// A view and where it stands.
struct Place<'a> {
    system: &'a System,
    index: &'a Index,
    c: usize,
    v: usize,
    view: &'a View,
}

impl<'a> Place<'a> {
    fn context(&self) -> &'a Context {
        &self.system.contexts[self.c]
    }

    fn path(&self) -> String {
        view_path(self.c, self.v)
    }

    fn handler_path(&self, h: usize) -> String {
        format!("{}.handlers[{h}]", self.path())
    }
}

/// What the checks derive, by where it goes: filled into the model after them.
#[derive(Default)]
struct Found {
    /// `(context, view, field)`: a `from` view field's typed `= EXPR`.
    values: Vec<((usize, usize, usize), Typed)>,
    /// `(context, view, field)`: how a `from` view field copies its state field.
    copies: Vec<((usize, usize, usize), Conversion)>,
    /// `(context, view, handler)`.
    handled: Vec<((usize, usize, usize), HandledEvent)>,
    /// `(context, view, handler, assignment)`.
    sets: Vec<((usize, usize, usize, usize), Typed)>,
}

impl Found {
    /// Derived parts are recomputed on every check: whatever the input said goes first.
    fn fill(self, system: &mut System) {
        for view in system.contexts.iter_mut().flat_map(|c| &mut c.views) {
            view.fields.iter_mut().for_each(|field| field.copy = None);
            view.handlers.iter_mut().for_each(|h| h.resolved = None);
        }
        for ((c, v, f), typed) in self.values {
            if let Some(value) = &mut system.contexts[c].views[v].fields[f].value {
                value.typed = Some(Box::new(typed));
            }
        }
        for ((c, v, f), conversion) in self.copies {
            system.contexts[c].views[v].fields[f].copy = Some(conversion);
        }
        for ((c, v, h), handled) in self.handled {
            system.contexts[c].views[v].handlers[h].resolved = Some(handled);
        }
        for ((c, v, h, s), typed) in self.sets {
            system.contexts[c].views[v].handlers[h].sets[s].value.typed = Some(Box::new(typed));
        }
    }
}

// A view is served at `/<views>` by its context's service, beside each aggregate's
// `/<aggregates>`: two of them on one route could not both be served. A view named in the
// plural keeps its name (`Orders` is `/orders`, like the aggregate `Order`). A view named like an
// aggregate is reported as a duplicate name, not here again.
fn check_routes(context: &Context, c: usize, out: &mut Vec<Diagnostic>) {
    for (v, view) in context.views.iter().enumerate() {
        let route = view.route();
        let aggregates = context.aggregates.iter().map(|a| ("aggregate", &a.name));
        let views = context.views[..v].iter().map(|w| ("view", &w.name));
        let clash = aggregates
            .chain(views)
            .filter(|(_, other)| **other != view.name)
            .find(|(_, other)| ddd_names::route(other) == route);
        if let Some((what, other)) = clash {
            out.push(
                Diagnostic::error(
                    Code::RouteCollision,
                    format!(
                        "view `{}` would be served at `{route}`, the route of {what} `{other}`",
                        view.name
                    ),
                )
                .at(at(&view.name, format!("{}.name", view_path(c, v))))
                .with_label(format!("served at `{route}`"))
                .with_related(other.span().map(Location::span), format!("`{route}` too"))
                .with_help("rename the view"),
            );
        }
    }
}

// `@filter` compares a field with a value given in a query: its type must compare exactly.
// `@sort` orders the rows by a field: its type must have an order. Types are seen through
// named types (`type Quantity = u32` sorts like `u32`).
fn check_fields(place: &Place<'_>, out: &mut Vec<Diagnostic>) {
    for (f, field) in place.view.fields.iter().enumerate() {
        let path = || format!("{}.fields[{f}]", place.path());
        types::check_nested_option(&field.as_field(), path, out);
        if is_unresolved(&field.ty) {
            continue;
        }
        let marks = [
            (
                field.filter,
                field.marks.filter,
                Code::FilterMismatch,
                symbol::FILTER,
            ),
            (
                field.sort,
                field.marks.sort,
                Code::SortMismatch,
                symbol::SORT,
            ),
        ];
        for (marked, origin, code, mark) in marks {
            let (label, why, fits) = match code {
                Code::FilterMismatch => (
                    "cannot be filtered by equality",
                    unfilterable(&field.ty),
                    FILTERABLE,
                ),
                _ => ("has no order to sort by", unsortable(&field.ty), SORTABLE),
            };
            let (true, Some(why)) = (marked, why) else {
                continue;
            };
            let span = origin.span().or(field.ty_origin.span());
            out.push(
                Diagnostic::error(code, format!("`@{mark}` does not fit `{}`", field.ty))
                    .at(Location::new(span, format!("{}.{mark}", path())))
                    .with_label(format!("`{}` {label}", field.ty))
                    .with_note(why)
                    .with_help(fits),
            );
        }
    }
}

const FILTERABLE: &str =
    "`@filter` fits `bool`, integers, `String`, `Uuid`, ids, enums, `Date` and `DateTime`";
const SORTABLE: &str = "`@sort` fits numbers, `String`, `Date` and `DateTime`";

/// Why `@filter` (or a view's key) cannot take a type, or `None` when it can. Every type is
/// named, so a new one must be decided on.
fn unfilterable(ty: &Type) -> Option<&'static str> {
    Some(match ty {
        Type::Bool
        | Type::I8
        | Type::I16
        | Type::I32
        | Type::I64
        | Type::U8
        | Type::U16
        | Type::U32
        | Type::U64
        | Type::String
        | Type::Uuid
        | Type::Id(_)
        | Type::Enum(_)
        | Type::Date
        | Type::DateTime
        // Reported where it was not resolved.
        | Type::Named(_) => return None,
        Type::F32 | Type::F64 => {
            "floats do not compare exactly: `NaN` equals nothing, and `0.1 + 0.2` is not `0.3`"
        }
        Type::Decimal => {
            "one `Decimal` has several spellings (`1.5`, `1.50`) that a query and a stored row need not share; use an integer in minor units"
        }
        Type::Option(_) => "an `Option` may be `none`, which an equality filter cannot ask for",
        Type::Vec(_) | Type::Map(_) => "a list or a map has no single value to compare",
        Type::Value(_) | Type::Entity(_) => {
            "a record has no single value to compare: give the part to filter on a field of its own"
        }
        Type::Json => "`Json` can hold anything: it has no single value to compare",
    })
}

/// Why `@sort` cannot take a type, or `None` when it can.
fn unsortable(ty: &Type) -> Option<&'static str> {
    Some(match ty {
        Type::I8
        | Type::I16
        | Type::I32
        | Type::I64
        | Type::U8
        | Type::U16
        | Type::U32
        | Type::U64
        | Type::F32
        | Type::F64
        | Type::Decimal
        | Type::String
        | Type::Date
        | Type::DateTime
        | Type::Named(_) => return None,
        Type::Bool => "a `bool` has two values and nothing to sort by: `@filter` on it instead",
        Type::Uuid | Type::Id(_) => "ids have no meaningful order",
        Type::Enum(_) => "an enum's variants have no order of their own: `@filter` on it instead",
        Type::Option(_) => "`none` has no place in an order",
        Type::Vec(_) | Type::Map(_) => "a list or a map has no single value to order by",
        Type::Value(_) | Type::Entity(_) => {
            "a record has no single value to order by: give the part to sort by a field of its own"
        }
        Type::Json => "`Json` can hold anything: it has no order",
    })
}

// `view V from A`: `A` is an aggregate of the view's context (another context's state lives
// in that context's store). A `from` view has no `on`: its rows follow the state. Each field
// is the state field of its name, of a type that field fits, or `= EXPR` over the state and
// the aggregate's `id`, `version`, `created_at` and `updated_at`.
fn from_view(place: &Place<'_>, aggregate: &Name, found: &mut Found, out: &mut Vec<Diagnostic>) {
    for (h, handler) in place.view.handlers.iter().enumerate() {
        let span = handler.origin.span().or(handler.on.scope.span());
        out.push(
            Diagnostic::error(
                Code::ViewKindMismatch,
                "a `from` view has no `on`: its rows follow the aggregate's state",
            )
            .at(Location::new(span, place.handler_path(h)))
            .with_label("in a `from` view")
            .with_help("declare the view `by key: Type` to build its rows from events"),
        );
    }
    let Some(a) = source_aggregate(place, aggregate, out) else {
        return;
    };
    let context = place.context();
    let aggregate = &context.aggregates[a];
    let implicit = from_view_implicit(&Type::id(&context.name, &aggregate.name));
    for (f, field) in place.view.fields.iter().enumerate() {
        match &field.value {
            Some(value) => value_of(place, aggregate, &implicit, (f, field, value), found, out),
            None => copy_of(place, aggregate, (f, field), found, out),
        }
    }
}

/// The index of the aggregate a `from` view shows, in the view's context.
fn source_aggregate(place: &Place<'_>, name: &Name, out: &mut Vec<Diagnostic>) -> Option<usize> {
    if let Some(a) = place.index.aggregate_in(place.c, name) {
        return Some(a);
    }
    let context = place.context();
    let location = at(name, format!("{}.source.from", place.path()));
    let diagnostic = match place.index.aggregates_named(name).first() {
        Some(&(home, _)) => {
            let home = &place.system.contexts[home].name;
            Diagnostic::error(
                Code::ForeignAggregate,
                format!("`{name}` is an aggregate of context `{home}`"),
            )
            .at(location)
            .with_label(format!("not of context `{}`", context.name))
            .with_note("a `from` view shows aggregates of its own context: another context's state lives in that context's store")
            .with_help(format!(
                "move the view into `{home}`, or build it `by` a key from events `{home}` publishes"
            ))
        }
        None => Diagnostic::error(
            Code::UnknownAggregate,
            format!("unknown aggregate `{name}`"),
        )
        .at(location)
        .with_label(format!("not an aggregate of context `{}`", context.name))
        .suggest(suggest::closest(
            name,
            context.aggregates.iter().map(|a| a.name.as_str()),
        )),
    };
    out.push(diagnostic);
    None
}

/// `name: T = EXPR`: EXPR over the state and the implicit fields, of a type that fits `T`.
fn value_of(
    place: &Place<'_>,
    aggregate: &Aggregate,
    implicit: &[Field],
    (f, field, value): (usize, &ViewField, &Expr),
    found: &mut Found,
    out: &mut Vec<Diagnostic>,
) {
    if is_unresolved(&field.ty) {
        return;
    }
    let env = Env {
        system: place.system,
        index: place.index,
        scope: place.index.view_scope(place.c, place.view),
        names: vec![
            Visible::new(NameScope::State, &aggregate.fields),
            Visible::new(NameScope::State, implicit).called("aggregate's implicit field"),
        ],
        unreadable: None,
        path: format!("{}.fields[{f}].value", place.path()),
    };
    if let Some(typed) = typing::check(&env, value, Some(&field.ty), out) {
        found.values.push(((place.c, place.v, f), typed));
    }
}

/// `name: T` alone: the state field `name`, whose type fits `T` without converting records
/// (`= name` does that).
fn copy_of(
    place: &Place<'_>,
    aggregate: &Aggregate,
    (f, field): (usize, &ViewField),
    found: &mut Found,
    out: &mut Vec<Diagnostic>,
) {
    // An implicit name is reported as such.
    if place.view.implicit_fields().contains(&field.name.as_str()) {
        return;
    }
    let path = || format!("{}.fields[{f}]", place.path());
    let Some(state) = aggregate.field(&field.name) else {
        let names = aggregate.fields.iter().map(|s| s.name.as_str());
        out.push(
            Diagnostic::error(
                Code::UnknownField,
                format!(
                    "aggregate `{}` has no state field `{}`",
                    aggregate.name, field.name
                ),
            )
            .at(at(&field.name, format!("{}.name", path())))
            .with_label("not a state field")
            .with_note("a field of a `from` view without `= EXPR` is the state field of its name")
            .suggest(suggest::closest(&field.name, names)),
        );
        return;
    };
    if is_unresolved(&state.ty) || is_unresolved(&field.ty) {
        return;
    }
    let mut converter = Converter::new(place.system);
    let conversion = converter.convert(&state.ty, &field.ty);
    match conversion {
        Some(conversion) if converter.into_conversions().is_empty() => {
            found.copies.push(((place.c, place.v, f), conversion));
        }
        _ => out.push(
            Diagnostic::error(
                Code::ViewFieldMismatch,
                format!(
                    "`{}` is `{}` in the state of `{}`, which does not fit `{}`",
                    field.name, state.ty, aggregate.name, field.ty
                ),
            )
            .at(Location::new(
                field.ty_origin.span().or(field.name.span()),
                format!("{}.type", path()),
            ))
            .with_label(format!("`{}` here", field.ty))
            .with_related(state.name.span().map(Location::span), "the state field")
            .with_help(format!(
                "declare `{}: {}`, or compute the field with `= EXPR`",
                field.name, state.ty
            )),
        ),
    }
}

// `view V by key: T`: a row is found by its key, which must compare exactly. The view is fed
// by at least one `on`, and its fields are set by those, not by `= EXPR`.
fn by_view(place: &Place<'_>, key: &Field, found: &mut Found, out: &mut Vec<Diagnostic>) {
    if !is_unresolved(&key.ty)
        && let Some(why) = unfilterable(&key.ty)
    {
        out.push(
            Diagnostic::error(
                Code::FilterMismatch,
                format!("a view's key must compare exactly; `{}` does not", key.ty),
            )
            .at(Location::new(
                key.ty_origin.span().or(key.name.span()),
                format!("{}.source.by.type", place.path()),
            ))
            .with_label("a row is found by its key")
            .with_note(why)
            .with_help("a key is a `bool`, an integer, a `String`, a `Uuid`, an id, an enum, a `Date` or a `DateTime`"),
        );
    }
    for (f, field) in place.view.fields.iter().enumerate() {
        if let Some(value) = &field.value {
            out.push(
                Diagnostic::error(
                    Code::ViewKindMismatch,
                    "`= EXPR` is for the fields of a `from` view",
                )
                .at(Location::new(
                    value.origin.span(),
                    format!("{}.fields[{f}].value", place.path()),
                ))
                .with_label("in a `by` view")
                .with_help(format!(
                    "a `by` view's fields are set by its `on`s: `on Aggregate.Event sets {} = ...`",
                    field.name
                )),
            );
        }
    }
    if place.view.handlers.is_empty() {
        out.push(unfed(place));
        return;
    }
    let row: Vec<Field> = std::iter::once(key.clone())
        .chain(place.view.fields.iter().map(ViewField::as_field))
        .collect();
    for (h, handler) in place.view.handlers.iter().enumerate() {
        handler_of(place, key, &row, (h, handler), found, out);
    }
    unmaintained(place, out);
}

fn unfed(place: &Place<'_>) -> Diagnostic {
    Diagnostic::error(
        Code::UnfedView,
        format!("view `{}` is fed by no event", place.view.name),
    )
    .at(at(&place.view.name, format!("{}.name", place.path())))
    .with_label("no `on`: no row is ever made")
    .with_help("add `on Aggregate.Event sets ...` (an event of this context) or `on Context.Event sets ...` (one another context publishes)")
}

// `on Scope.Event sets ...`: each event once per view; the event carries the key; each
// `sets` is typed over the row and the event.
fn handler_of(
    place: &Place<'_>,
    key: &Field,
    row: &[Field],
    (h, handler): (usize, &ViewHandler),
    found: &mut Found,
    out: &mut Vec<Diagnostic>,
) {
    if let Some(first) = place.view.handlers[..h]
        .iter()
        .find(|earlier| earlier.on == handler.on)
    {
        out.push(
            Diagnostic::error(
                Code::DuplicateName,
                format!(
                    "view `{}` handles `{}.{}` twice",
                    place.view.name, handler.on.scope, handler.on.event
                ),
            )
            .at(Location::new(handler.origin.span(), place.handler_path(h)))
            .with_label("again")
            .with_related(
                first.origin.span().map(Location::span),
                "first handled here",
            )
            .with_help("set everything the event changes in one `on`: `sets a = ..., b = ...`"),
        );
        return;
    }
    let targets = check_targets(place, key, (h, handler), out);
    let event = match find_event(place, h, handler) {
        Ok(event) => event,
        Err(diagnostic) => {
            out.push(*diagnostic);
            return;
        }
    };
    if let Some(key) = key_of(place, key, (h, handler), &event, out) {
        found.handled.push((
            (place.c, place.v, h),
            HandledEvent {
                context: event.context.name.clone(),
                aggregate: event.aggregate.name.clone(),
                event: event.event.name.clone(),
                delivery: event.delivery,
                key,
            },
        ));
    }
    let fields: Vec<Field> = (event.event.fields.iter())
        .filter(|field| field.name != key.name)
        .cloned()
        .collect();
    let names = vec![
        Visible::new(NameScope::State, row).called("view's field"),
        Visible::new(NameScope::Event, &fields),
    ];
    for (s, set, target) in targets {
        let env = Env {
            system: place.system,
            index: place.index,
            scope: place.index.view_scope(place.c, place.view),
            names: names.clone(),
            unreadable: None,
            path: format!("{}.sets[{s}].value", place.handler_path(h)),
        };
        if let Some(typed) = typing::check(&env, &set.value, Some(&target.ty), out) {
            found.sets.push(((place.c, place.v, h, s), typed));
        }
    }
}

/// The assignments whose target is a field of the view, set once in this `on`, and not the
/// key (which identifies the row); reports the others.
fn check_targets<'v>(
    place: &Place<'v>,
    key: &Field,
    (h, handler): (usize, &'v ViewHandler),
    out: &mut Vec<Diagnostic>,
) -> Vec<(usize, &'v Assignment, &'v ViewField)> {
    let mut targets = Vec::new();
    for (s, set) in handler.sets.iter().enumerate() {
        let location = || {
            at(
                &set.field,
                format!("{}.sets[{s}].field", place.handler_path(h)),
            )
        };
        if set.field == key.name {
            out.push(
                Diagnostic::error(
                    Code::KeyAssignment,
                    format!("`{}` is the view's key: it is never set", set.field),
                )
                .at(location())
                .with_label("the key")
                .with_note("the key identifies the row: it is the event's field of that name"),
            );
            continue;
        }
        if handler.sets[..s]
            .iter()
            .any(|earlier| earlier.field == set.field)
        {
            out.push(
                Diagnostic::error(Code::DuplicateName, format!("`{}` is set twice", set.field))
                    .at(location()),
            );
            continue;
        }
        match place.view.field(&set.field) {
            Some(target) => targets.push((s, set, target)),
            None => {
                let names = place.view.fields.iter().map(|f| f.name.as_str());
                out.push(
                    Diagnostic::error(
                        Code::UnknownField,
                        format!("view `{}` has no field `{}`", place.view.name, set.field),
                    )
                    .at(location())
                    .with_label("not a field of the view")
                    .suggest(suggest::closest(&set.field, names)),
                );
            }
        }
    }
    targets
}

/// The event an `on` names, found.
struct Feed<'s> {
    context: &'s Context,
    aggregate: &'s Aggregate,
    event: &'s Event,
    delivery: Delivery,
}

// `on A.E`, `A` an aggregate of the view's context: one of its events, from the context's
// own store. `on C.E`, `C` another context: an event `C` publishes, over the bus. The
// aggregate wins where a name is both.
fn find_event<'s>(
    place: &Place<'s>,
    h: usize,
    handler: &ViewHandler,
) -> Result<Feed<'s>, Box<Diagnostic>> {
    let on = &handler.on;
    let context = place.context();
    if let Some(a) = place.index.aggregate_in(place.c, &on.scope) {
        let aggregate = &context.aggregates[a];
        return match aggregate.event(&on.event) {
            Some(event) => Ok(Feed {
                context,
                aggregate,
                event,
                delivery: Delivery::Local,
            }),
            None => Err(Box::new(not_an_event_of(place, h, aggregate))),
        };
    }
    match place.index.context(&on.scope) {
        Some(c) if c != place.c => published(place, h, &place.system.contexts[c]),
        _ => Err(Box::new(unknown_scope(place, h))),
    }
}

fn published<'s>(
    place: &Place<'s>,
    h: usize,
    context: &'s Context,
) -> Result<Feed<'s>, Box<Diagnostic>> {
    let on = &place.view.handlers[h].on;
    let location = at(&on.event, format!("{}.on.event", place.handler_path(h)));
    let suggestion = suggest::closest(&on.event, context.publishes.iter().map(Name::as_str));
    let Some((aggregate, event)) = context.event(&on.event) else {
        return Err(Box::new(
            Diagnostic::error(
                Code::UnknownEvent,
                format!("context `{}` has no event `{}`", context.name, on.event),
            )
            .at(location)
            .with_label(format!("not an event of `{}`", context.name))
            .suggest(suggestion),
        ));
    };
    if !context.publishes(&on.event) {
        let help = format!(
            "add `{}` to `publishes` in context `{}`",
            on.event, context.name
        );
        return Err(Box::new(
            Diagnostic::error(
                Code::UnpublishedEvent,
                format!(
                    "context `{}` does not publish `{}`: the view may not consume it",
                    context.name, on.event
                ),
            )
            .at(location)
            .with_label("not published")
            .with_related(event.name.span().map(Location::span), "declared here")
            .with_note(
                "a view consumes another context's events only when that context publishes them",
            )
            .with_help(help)
            .suggest(suggestion),
        ));
    }
    Ok(Feed {
        context,
        aggregate,
        event,
        delivery: Delivery::Bus,
    })
}

fn not_an_event_of(place: &Place<'_>, h: usize, aggregate: &Aggregate) -> Diagnostic {
    let on = &place.view.handlers[h].on;
    let diagnostic = Diagnostic::error(
        Code::UnknownEvent,
        format!("aggregate `{}` has no event `{}`", aggregate.name, on.event),
    )
    .at(at(&on.event, format!("{}.on.event", place.handler_path(h))))
    .with_label(format!("not an event of `{}`", aggregate.name));
    match place.context().event(&on.event) {
        Some((owner, _)) => diagnostic.with_help(format!(
            "`{}` is an event of `{}`: write `on {}.{}`",
            on.event, owner.name, owner.name, on.event
        )),
        None => diagnostic.suggest(suggest::closest(
            &on.event,
            aggregate.events.iter().map(|e| e.name.as_str()),
        )),
    }
}

/// `on X.E` where `X` is neither an aggregate of the view's context nor another context.
fn unknown_scope(place: &Place<'_>, h: usize) -> Diagnostic {
    let on = &place.view.handlers[h].on;
    let context = place.context();
    let location = at(&on.scope, format!("{}.on.scope", place.handler_path(h)));
    if on.scope == context.name {
        let help = match context.event(&on.event) {
            Some((aggregate, _)) => format!(
                "name an event of this context by its aggregate: `on {}.{}`",
                aggregate.name, on.event
            ),
            None => "name an event of this context by its aggregate: `on Aggregate.Event`".into(),
        };
        return Diagnostic::error(
            Code::UnknownAggregate,
            format!("`{}` is the view's own context, not an aggregate", on.scope),
        )
        .at(location)
        .with_label("its own context")
        .with_help(help);
    }
    if let Some(&(home, _)) = place.index.aggregates_named(&on.scope).first() {
        let home = &place.system.contexts[home];
        let written = format!("on {}.{}", home.name, on.event);
        let help = if home.publishes(&on.event) {
            format!("another context's events are named by the context: `{written}`")
        } else {
            format!(
                "another context's events are named by the context: `{written}`, once `{}` publishes it",
                home.name
            )
        };
        return Diagnostic::error(
            Code::ForeignAggregate,
            format!("`{}` is an aggregate of context `{}`", on.scope, home.name),
        )
        .at(location)
        .with_label(format!("not of context `{}`", context.name))
        .with_help(help);
    }
    let aggregates = context.aggregates.iter().map(|a| a.name.as_str());
    let contexts = (place.system.contexts.iter())
        .filter(|other| other.name != context.name)
        .map(|other| other.name.as_str());
    Diagnostic::error(
        Code::UnknownAggregate,
        format!("unknown aggregate or context `{}`", on.scope),
    )
    .at(location)
    .with_label(format!(
        "neither an aggregate of `{}` nor a context",
        context.name
    ))
    .suggest(suggest::closest(&on.scope, aggregates.chain(contexts)))
}

// The row an event changes is the one of the event's field named like the view's key, whose
// type the key takes.
fn key_of(
    place: &Place<'_>,
    key: &Field,
    (h, handler): (usize, &ViewHandler),
    feed: &Feed<'_>,
    out: &mut Vec<Diagnostic>,
) -> Option<Conversion> {
    let location = Location::new(
        handler.origin.span(),
        format!("{}.on", place.handler_path(h)),
    );
    let event = feed.event;
    let Some(field) = event.fields.iter().find(|f| f.name == key.name) else {
        let carried = list(event.fields.iter().map(|f| f.name.as_str()));
        out.push(
            Diagnostic::error(
                Code::MissingKey,
                format!(
                    "event `{}` has no field `{}`, the key of view `{}`",
                    event.name, key.name, place.view.name
                ),
            )
            .at(location)
            .with_label("a key the event lacks")
            .with_note(if carried.is_empty() {
                format!("`{}` carries no fields", event.name)
            } else {
                format!("`{}` carries {carried}", event.name)
            })
            .with_help(format!(
                "give the event a field `{}: {}`, or feed the view from an event that has one",
                key.name, key.ty
            )),
        );
        return None;
    };
    if is_unresolved(&field.ty) || is_unresolved(&key.ty) {
        return None;
    }
    let mut converter = Converter::new(place.system);
    let conversion = converter.convert(&field.ty, &key.ty);
    match conversion {
        Some(conversion) if converter.into_conversions().is_empty() => Some(conversion),
        _ => {
            out.push(
                Diagnostic::error(
                    Code::MissingKey,
                    format!(
                        "`{}.{}` is `{}`, which does not fit the key `{}: {}`",
                        event.name, field.name, field.ty, key.name, key.ty
                    ),
                )
                .at(location)
                .with_label("a key of another type")
                .with_related(field.name.span().map(Location::span), "the event's field")
                .with_help(format!(
                    "declare the key `{}: {}`, or feed the view from events whose `{}` fits it",
                    key.name, field.ty, key.name
                )),
            );
            None
        }
    }
}

// Warning: a field of a `by` view that no `on` sets keeps its type's default forever.
fn unmaintained(place: &Place<'_>, out: &mut Vec<Diagnostic>) {
    for (f, field) in place.view.fields.iter().enumerate() {
        let set =
            (place.view.handlers.iter()).any(|h| h.sets.iter().any(|s| s.field == field.name));
        // `= EXPR` in a `by` view is reported as such.
        if set || field.value.is_some() {
            continue;
        }
        out.push(
            Diagnostic::warning(
                Code::UnmaintainedViewField,
                format!(
                    "no `on` of view `{}` sets `{}`",
                    place.view.name, field.name
                ),
            )
            .at(at(
                &field.name,
                format!("{}.fields[{f}].name", place.path()),
            ))
            .with_label("keeps its default forever")
            .with_help(format!(
                "set it where an event changes it: `on Aggregate.Event sets {} = ...`",
                field.name
            )),
        );
    }
}
