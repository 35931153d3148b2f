//! What the templates see of the read side: each view of a context as a row type, the
//! `ddd_core::View` it implements (key, fold, row, indexed columns) and its route.

use std::collections::BTreeSet;

use ddd_model::System;
use ddd_model::ir::{
    Aggregate, Context, Delivery, NameScope, Type, TypeDef, TypePath, View, ViewField, ViewHandler,
    ViewSource,
};
use serde::Serialize;

use super::expr::{Arithmetic, Writer};
use super::rust::{Crate, Scope, is_copy};
use ddd_names as names;

/// The views of one context: `services/<context>/src/views.rs`.
#[derive(Debug, Serialize)]
pub(crate) struct ViewsFile {
    pub(crate) views: Vec<ReadView>,
    uses: Vec<String>,
    std: std::collections::BTreeMap<&'static str, String>,
    /// A test per view: sample events in, the rows they make.
    tests: Vec<FoldTest>,
    test_uses: Vec<String>,
    /// The other contexts whose published events the views read, copied into this store.
    copies: Vec<CopyView>,
}

/// Copies of one other context's published events, for the views that read them.
#[derive(Debug, Serialize)]
struct CopyView {
    context: String,
    /// `contracts::<context>::Published`.
    published: String,
    consumer: String,
    /// The events' subjects after the namespace: `Payments.PaymentCaptured`.
    subjects: Vec<String>,
}

/// `given` sample events of two aggregates (or one), `then` how many rows and the version
/// of the row `key`.
#[derive(Debug, Serialize)]
struct FoldTest {
    name: String,
    view: String,
    /// `(aggregate type, aggregate id, event literal)`, folded in order.
    given: Vec<(String, String, String)>,
    rows: usize,
    key: String,
    version: u64,
}

#[derive(Debug, Serialize)]
pub(crate) struct ReadView {
    name: String,
    doc: Option<String>,
    /// The field of `Views` holding its handle: `order_summary`.
    field: String,
    /// `/order-summaries`.
    route: String,
    /// The table, without the store's prefix: `order_summary`.
    table: String,
    /// `from` an aggregate (state kept beside the row) or `by` a key (the row is the state).
    from: bool,
    key: String,
    key_column: String,
    /// The fold's state type and the event type it reads.
    state: String,
    event: String,
    /// The aggregate a `from` view shows, as the store names its streams.
    aggregate: Option<String>,
    fields: Vec<RowField>,
    columns: Vec<ColumnView>,
    handlers: Vec<HandlerView>,
    /// A `by` view fed by several aggregates reads an enum of their events.
    sources: Vec<SourceView>,
    /// `Default` (a `by` view's fresh row) derived, or written out when a field is an id
    /// (ids have no default).
    derive_default: bool,
    manual_default: Vec<(String, String)>,
    /// Whether the handlers match every event the view's event type holds (no `_` arm).
    exhaustive: bool,
}

#[derive(Debug, Serialize)]
struct RowField {
    name: String,
    doc: Option<String>,
    ty: String,
    /// In `row()` of a `from` view: the value, over `state`, `key` and `meta`.
    value: String,
}

#[derive(Debug, Serialize)]
struct ColumnView {
    name: String,
    ty: String,
    filter: bool,
    sort: bool,
    /// The `ColumnValue` of `row.<name>`.
    value: String,
}

#[derive(Debug, Serialize)]
struct HandlerView {
    /// `OrderEvent::OrderPlaced { customer, total, .. }` (behind the view's event enum's
    /// variant when it has one).
    pattern: String,
    /// The same, binding only the key.
    key_pattern: String,
    /// The key, from the event's field of the key's name: an `Option<String>`.
    key: String,
    /// `state.<key> = ...`: the row carries its key.
    key_value: String,
    /// What the handler sets, in order; every value is computed from the row before the
    /// event, into a local, before any field is assigned.
    sets: Vec<SetView>,
}

/// `field = value` in a view's handler.
#[derive(Debug, Serialize)]
struct SetView {
    field: String,
    /// The local holding the new value: the field's name, escaped where it would be one of
    /// the generated code's own (`state` is the row).
    local: String,
    value: String,
}

/// One aggregate whose events a `by` view reads.
#[derive(Debug, Serialize)]
struct SourceView {
    /// The enum's variant: the aggregate's name.
    variant: String,
    /// Its event type.
    event: String,
    /// The event types the view handles from it.
    handled: Vec<String>,
}

/// The views of `context`, or `None` when it has none.
pub(crate) fn views_file(
    system: &System,
    context: &Context,
    contract_types: &BTreeSet<TypePath>,
) -> Option<ViewsFile> {
    if context.views.is_empty() {
        return None;
    }
    let mut scope = Scope::new(
        system,
        Crate::Service(&context.name),
        "crate::views",
        contract_types,
    );
    for view in &context.views {
        scope.define(view.name.to_string());
        scope.define(format!("{}Event", view.name));
    }
    let views = context
        .views
        .iter()
        .map(|view| read_view(&scope, context, view))
        .collect();
    for item in [
        "serde::Serialize",
        "serde::Deserialize",
        "ddd_core::Envelope",
    ] {
        scope.name(item);
    }
    let mut test_scope = Scope::new(
        system,
        Crate::Service(&context.name),
        "crate::views::tests",
        contract_types,
    );
    for view in &context.views {
        test_scope.define(view.name.to_string());
        test_scope.define(format!("{}Event", view.name));
    }
    let tests = context
        .views
        .iter()
        .filter_map(|view| fold_test(&test_scope, context, view))
        .collect();
    let copies = copies(&scope, context);
    Some(ViewsFile {
        views,
        uses: scope.uses(),
        std: scope.std_names(),
        tests,
        test_uses: test_scope.uses(),
        copies,
    })
}

/// The published events of other contexts that this context's views read.
fn copies(scope: &Scope<'_>, context: &Context) -> Vec<CopyView> {
    let mut copies: Vec<CopyView> = Vec::new();
    let bus_events = context
        .views
        .iter()
        .flat_map(|view| &view.handlers)
        .filter_map(|handler| handler.resolved.as_ref())
        .filter(|event| event.delivery == Delivery::Bus);
    for event in bus_events {
        let subject = format!("{}.{}", event.context, event.event);
        match copies
            .iter_mut()
            .find(|copy| copy.context == event.context.as_str())
        {
            Some(copy) if copy.subjects.contains(&subject) => {}
            Some(copy) => copy.subjects.push(subject),
            None => copies.push(CopyView {
                context: event.context.to_string(),
                published: published(scope, &event.context),
                consumer: names::view_copy_consumer(&context.name, &event.context),
                subjects: vec![subject],
            }),
        }
    }
    copies
}

/// The type of `context`'s published events.
fn published(scope: &Scope<'_>, context: &str) -> String {
    scope.name(&format!("contracts::{}::Published", names::module(context)))
}

/// The field of a context's `Views` that holds the view's handle: `order_summary` (escaped
/// where a view's name is a keyword: `Type` → `type_`).
pub(crate) fn handle_field(view: &View) -> String {
    names::ident(&view.name)
}

fn read_view(scope: &Scope<'_>, context: &Context, view: &View) -> ReadView {
    let common = |from: bool, key: &str, key_column: String| ReadView {
        name: view.name.to_string(),
        doc: view.doc.clone(),
        field: handle_field(view),
        route: view.route(),
        table: names::snake(&view.name),
        from,
        key: key.to_owned(),
        key_column,
        state: String::new(),
        event: String::new(),
        aggregate: None,
        fields: Vec::new(),
        columns: columns(scope, view),
        handlers: Vec::new(),
        sources: Vec::new(),
        derive_default: false,
        manual_default: Vec::new(),
        exhaustive: false,
    };
    match &view.source {
        ViewSource::From(name) => {
            let Some(aggregate) = context.aggregate(name) else {
                return common(true, "id", column_type(scope, &Type::Uuid));
            };
            let module = names::module(&aggregate.name);
            ReadView {
                state: scope.name(&format!("crate::{module}::{}", aggregate.name)),
                event: scope.name(&format!("crate::{module}::{}Event", aggregate.name)),
                aggregate: Some(aggregate.name.to_string()),
                fields: from_fields(scope, context, aggregate, view),
                ..common(true, "id", column_type(scope, &Type::Uuid))
            }
        }
        ViewSource::By(key) => {
            let sources = sources(scope, view);
            let event = match sources.as_slice() {
                [only] => only.event.clone(),
                _ => format!("{}Event", view.name),
            };
            let several = sources.len() > 1;
            let typed: Vec<(&str, &Type)> = std::iter::once((key.name.as_str(), &key.ty))
                .chain(view.fields.iter().map(|f| (f.name.as_str(), &f.ty)))
                .collect();
            let has_id = typed.iter().any(|(_, ty)| mentions_id(ty));
            let manual_default = if has_id {
                typed
                    .iter()
                    .map(|(name, ty)| ((*name).to_owned(), scope.default_value(ty)))
                    .chain([
                        ("version".to_owned(), "0".to_owned()),
                        (
                            "updated_at".to_owned(),
                            scope.default_value(&Type::DateTime),
                        ),
                    ])
                    .collect()
            } else {
                Vec::new()
            };
            let exhaustive = view
                .handlers
                .iter()
                .filter_map(|h| h.resolved.as_ref())
                .all(|event| {
                    let (variant, _) = source_of(scope, event);
                    let handled = sources
                        .iter()
                        .find(|source| source.variant == variant)
                        .map_or(0, |source| source.handled.len());
                    source_size(scope.system, event) == Some(handled)
                });
            ReadView {
                exhaustive,
                derive_default: !has_id,
                manual_default,
                state: "Self".to_owned(),
                event,
                fields: by_fields(scope, view, key),
                handlers: view
                    .handlers
                    .iter()
                    .filter_map(|h| handler(scope, view, key, h, several))
                    .collect(),
                sources,
                ..common(false, &key.name, column_type(scope, &key.ty))
            }
        }
    }
}

/// The row of a `from` view: the implicit `id`, `version`, `created_at`, `updated_at`, then
/// its fields, each the state field of its name or its `= EXPR`.
fn from_fields(
    scope: &Scope<'_>,
    context: &Context,
    aggregate: &Aggregate,
    view: &View,
) -> Vec<RowField> {
    let reads_id = view.fields.iter().any(|field| {
        field
            .value
            .as_ref()
            .and_then(|expr| expr.checked())
            .is_some_and(|typed| typed.reads_name(NameScope::State, "id"))
    }) && aggregate.field("id").is_none();
    let id_expr = if reads_id {
        let id = Type::id(&context.name, &aggregate.name);
        format!(
            "key.parse::<{}>().unwrap_or_else(|_| {})",
            scope.ty(&id),
            scope.default_value(&id)
        )
    } else {
        String::new()
    };
    let datetime = scope.ty(&Type::DateTime);
    let implicit: Vec<(&str, String)> = [
        ("id", id_expr),
        ("version", "meta.version".to_owned()),
        ("created_at", "meta.created_at".to_owned()),
        ("updated_at", "meta.updated_at".to_owned()),
    ]
    .into_iter()
    .filter(|(name, _)| !aggregate.fields.iter().any(|f| f.name == *name))
    .collect();
    let writer = Writer::new(scope, Arithmetic::Saturating, "state").implicit(&implicit);
    let mut fields = vec![
        row_field(
            "id",
            "The aggregate's id.",
            "String".to_owned(),
            "key.to_owned()",
        ),
        row_field(
            "version",
            "How many of its events the row shows.",
            "u64".to_owned(),
            "meta.version",
        ),
        row_field(
            "created_at",
            "When its first event was recorded.",
            datetime.clone(),
            "meta.created_at",
        ),
        row_field(
            "updated_at",
            "When its last event was recorded.",
            datetime,
            "meta.updated_at",
        ),
    ];
    for field in &view.fields {
        let value = match (&field.value, &field.copy) {
            (Some(expr), _) => expr.checked().map_or_else(
                || scope.default_value(&field.ty),
                |typed| writer.value(typed),
            ),
            (None, Some(conversion)) => {
                let state = aggregate.field(&field.name).map(|f| &f.ty);
                let read = match state {
                    Some(ty) if is_copy(ty) => format!("state.{}", field.name),
                    _ => format!("state.{}.clone()", field.name),
                };
                scope.convert(&read, conversion, &[], 0)
            }
            (None, None) => scope.default_value(&field.ty),
        };
        fields.push(RowField {
            name: field.name.to_string(),
            doc: field.doc.clone(),
            ty: scope.ty(&field.ty),
            value,
        });
    }
    fields
}

fn row_field(name: &str, doc: &str, ty: String, value: &str) -> RowField {
    RowField {
        name: name.to_owned(),
        doc: Some(doc.to_owned()),
        ty,
        value: value.to_owned(),
    }
}

/// The row of a `by` view: its key, its fields, then the implicit `version` and
/// `updated_at` the runtime keeps.
fn by_fields(scope: &Scope<'_>, view: &View, key: &ddd_model::ir::Field) -> Vec<RowField> {
    let mut fields = vec![RowField {
        name: key.name.to_string(),
        doc: key
            .doc
            .clone()
            .or_else(|| Some("The row's key.".to_owned())),
        ty: scope.ty(&key.ty),
        value: String::new(),
    }];
    fields.extend(view.fields.iter().map(|field| RowField {
        name: field.name.to_string(),
        doc: field.doc.clone(),
        ty: scope.ty(&field.ty),
        value: String::new(),
    }));
    fields.push(row_field(
        "version",
        "How many events the row folded.",
        "u64".to_owned(),
        "meta.version",
    ));
    fields.push(row_field(
        "updated_at",
        "When its last event was recorded.",
        scope.ty(&Type::DateTime),
        "meta.updated_at",
    ));
    fields
}

/// The aggregates (of this context) and the other contexts (their published events) whose
/// events a `by` view reads, in the order its handlers name them.
fn sources(scope: &Scope<'_>, view: &View) -> Vec<SourceView> {
    let mut sources: Vec<SourceView> = Vec::new();
    for event in view.handlers.iter().filter_map(|h| h.resolved.as_ref()) {
        let (variant, ty) = source_of(scope, event);
        match sources.iter_mut().find(|source| source.variant == variant) {
            Some(source) => source.handled.push(event.event.to_string()),
            None => sources.push(SourceView {
                event: ty,
                variant,
                handled: vec![event.event.to_string()],
            }),
        }
    }
    sources
}

/// How many events the type holding `event` has: its aggregate's, or its context's
/// published ones.
fn source_size(system: &System, event: &ddd_model::ir::HandledEvent) -> Option<usize> {
    let context = system.context(&event.context)?;
    match event.delivery {
        Delivery::Local => Some(context.aggregate(&event.aggregate)?.events.len()),
        Delivery::Bus => Some(context.publishes.len()),
    }
}

/// The variant of a view's event enum that holds `event`, and the type it wraps: the
/// aggregate's events for a local event, the context's published events for one over the
/// bus.
fn source_of(scope: &Scope<'_>, event: &ddd_model::ir::HandledEvent) -> (String, String) {
    match event.delivery {
        Delivery::Local => (
            event.aggregate.to_string(),
            scope.name(&format!(
                "crate::{}::{}Event",
                names::module(&event.aggregate),
                event.aggregate
            )),
        ),
        Delivery::Bus => (
            format!("{}Published", event.context),
            published(scope, &event.context),
        ),
    }
}

fn handler(
    scope: &Scope<'_>,
    view: &View,
    key: &ddd_model::ir::Field,
    handler: &ViewHandler,
    several: bool,
) -> Option<HandlerView> {
    let resolved = handler.resolved.as_ref()?;
    let source = scope.system.context(&resolved.context)?;
    let event = source
        .aggregate(&resolved.aggregate)?
        .event(&resolved.event)?;
    let key_var = names::var(&key.name);
    let read = |name: &str| {
        handler.sets.iter().any(|set| {
            set.value
                .checked()
                .is_some_and(|typed| typed.reads_name(NameScope::Event, name))
        })
    };
    let binding = |f: &ddd_model::ir::Field| match names::var(&f.name) {
        var if var == f.name.as_str() => var,
        var => format!("{}: {var}", f.name),
    };
    let (variant_name, enum_path) = source_of(scope, resolved);
    let pattern_of = |wanted: &dyn Fn(&str) -> bool| {
        let mut fields: Vec<String> = event
            .fields
            .iter()
            .filter(|f| wanted(&f.name))
            .map(binding)
            .collect();
        if fields.len() < event.fields.len() {
            fields.push("..".to_owned());
        }
        let variant = if fields.is_empty() {
            format!("{enum_path}::{}", event.name)
        } else {
            format!("{enum_path}::{} {{ {} }}", event.name, fields.join(", "))
        };
        if several {
            format!("{}Event::{variant_name}({variant})", view.name)
        } else {
            variant
        }
    };
    let pattern = pattern_of(&|name| name == key.name.as_str() || read(name));
    let key_pattern = pattern_of(&|name| name == key.name.as_str());
    let key_ty = event
        .fields
        .iter()
        .find(|f| f.name == key.name)
        .map_or(&key.ty, |f| &f.ty);
    let key_owned = scope.convert(&owned_ref(&key_var, key_ty), &resolved.key, &[], 0);
    let writer = Writer::new(scope, Arithmetic::Saturating, "state");
    let sets = handler
        .sets
        .iter()
        .map(|set| {
            let value = set.value.checked().map_or_else(
                || format!("state.{}", set.field),
                |typed| writer.value(typed),
            );
            SetView {
                field: set.field.to_string(),
                local: names::var(&set.field),
                value,
            }
        })
        .collect();
    Some(HandlerView {
        pattern,
        key_pattern,
        key: key_string(scope, &key_var, &key.ty),
        key_value: key_owned,
        sets,
    })
}

/// Whether a field of this type needs its default written out: a bare id has none (an
/// option or a list of ids starts empty).
fn mentions_id(ty: &Type) -> bool {
    matches!(ty, Type::Id(_))
}

/// An owned copy of a field bound by reference in a `match` on `&payload`.
fn owned_ref(var: &str, ty: &Type) -> String {
    if is_copy(ty) {
        format!("*{var}")
    } else {
        format!("{var}.clone()")
    }
}

/// The row key as text, as `ViewSchema::parse_key` reads it back from a path.
/// The row key of `var` (an event field bound by reference), as an `Option<String>`, in the
/// text `ViewSchema::parse_key` reads from a path: a variant's name, a time's microseconds.
fn key_string(scope: &Scope<'_>, var: &str, ty: &Type) -> String {
    let some = scope.std("Some");
    match ty {
        Type::String => format!("{some}({var}.clone())"),
        Type::Enum(_) => format!("ddd_core::view::variant_name({var})"),
        Type::DateTime => format!("{some}({var}.timestamp_micros().to_string())"),
        _ => format!("{some}({var}.to_string())"),
    }
}

fn columns(scope: &Scope<'_>, view: &View) -> Vec<ColumnView> {
    view.fields
        .iter()
        .filter(|field| field.filter || field.sort)
        .map(|field| column(scope, field))
        .collect()
}

fn column(scope: &Scope<'_>, field: &ViewField) -> ColumnView {
    let read = format!("row.{}", field.name);
    ColumnView {
        name: field.name.to_string(),
        ty: column_type(scope, &field.ty),
        filter: field.filter,
        sort: field.sort,
        value: column_value(&read, &field.ty),
    }
}

/// The `ColumnType` a field is indexed as.
fn column_type(scope: &Scope<'_>, ty: &Type) -> String {
    let kind = match ty {
        Type::Bool => "Bool".to_owned(),
        Type::F32 | Type::F64 | Type::Decimal => "Real".to_owned(),
        Type::Uuid | Type::Id(_) => "Uuid".to_owned(),
        Type::DateTime => "Timestamp".to_owned(),
        Type::Date => "Date".to_owned(),
        Type::Enum(path) => match scope.system.type_def(path) {
            Some(TypeDef::Enum(e)) => {
                let variants: Vec<String> = e
                    .variants
                    .iter()
                    .map(|v| format!("{:?}", v.name.as_str()))
                    .collect();
                format!("Enum(&[{}])", variants.join(", "))
            }
            _ => "Text".to_owned(),
        },
        ty => match ty.integer_bounds() {
            Some((min, max)) => {
                let bound = |value: i128| match value {
                    v if v <= i128::from(i64::MIN) => "i64::MIN".to_owned(),
                    v if v >= i128::from(i64::MAX) => "i64::MAX".to_owned(),
                    v => v.to_string(),
                };
                format!("Integer {{ min: {}, max: {} }}", bound(min), bound(max))
            }
            None => "Text".to_owned(),
        },
    };
    format!("ddd_core::ColumnType::{kind}")
}

/// The `ColumnValue` of `read` (a field of the row).
fn column_value(read: &str, ty: &Type) -> String {
    let value = match ty {
        Type::Bool => format!("Bool({read})"),
        Type::F32 => format!("Real(f64::from({read}))"),
        Type::F64 => format!("Real({read})"),
        Type::Decimal => {
            format!("Real(rust_decimal::prelude::ToPrimitive::to_f64(&{read}).unwrap_or_default())")
        }
        Type::U64 => format!("Int(i64::try_from({read}).unwrap_or(i64::MAX))"),
        Type::I64 => format!("Int({read})"),
        Type::DateTime => return format!("ddd_core::ColumnValue::timestamp({read})"),
        Type::Enum(_) => return format!("ddd_core::ColumnValue::variant(&{read})"),
        Type::String => format!("Text({read}.clone())"),
        ty if ty.integer_bounds().is_some() => format!("Int(i64::from({read}))"),
        _ => return format!("ddd_core::ColumnValue::text({read})"),
    };
    format!("ddd_core::ColumnValue::{value}")
}

/// A `from` view: the creating event of one aggregate makes its row, at version 1. A `by`
/// view: its first handler's event from two aggregates, carrying one key, makes one row
/// that folded both.
fn fold_test(scope: &Scope<'_>, context: &Context, view: &View) -> Option<FoldTest> {
    let sample = |aggregate: &Aggregate, event: &ddd_model::ir::Event| {
        Some(format!(
            "{}::{} {{ {} }}",
            scope.name(&format!(
                "crate::{}::{}Event",
                names::module(&aggregate.name),
                aggregate.name
            )),
            event.name,
            scope.sample_fields(&event.fields)?
        ))
    };
    let name = format!("{}_folds_its_events", names::snake(&view.name));
    match &view.source {
        ViewSource::From(shown) => {
            let aggregate = context.aggregate(shown)?;
            let creating = aggregate.commands.iter().find(|c| c.creates)?;
            let event = aggregate.event(creating.emits.first()?)?;
            let literal = sample(aggregate, event)?;
            Some(FoldTest {
                name,
                view: view.name.to_string(),
                given: vec![(aggregate.name.to_string(), "a".to_owned(), literal)],
                rows: 1,
                key: "a".to_owned(),
                version: 1,
            })
        }
        ViewSource::By(key) => {
            let resolved = view.handlers.iter().find_map(|h| h.resolved.as_ref())?;
            let source = scope.system.context(&resolved.context)?;
            let event = source
                .aggregate(&resolved.aggregate)?
                .event(&resolved.event)?;
            let (variant, ty) = source_of(scope, resolved);
            let fields = scope.sample_fields(&event.fields)?;
            let mut literal = format!("{ty}::{} {{ {fields} }}", event.name);
            if sources(scope, view).len() > 1 {
                literal = format!("{}Event::{variant}({literal})", view.name);
            }
            let key_field = event.fields.iter().find(|f| f.name == key.name)?;
            let stream = resolved.aggregate.to_string();
            Some(FoldTest {
                name,
                view: view.name.to_string(),
                given: vec![
                    (stream.clone(), "a".to_owned(), literal.clone()),
                    (stream, "b".to_owned(), literal),
                ],
                rows: 1,
                key: key_text(scope, &key_field.ty)?,
                version: 2,
            })
        }
    }
}

/// The row key a sample value of `ty` makes, as `key()` writes it.
fn key_text(scope: &Scope<'_>, ty: &Type) -> Option<String> {
    match ty {
        // `uuid::Uuid::from_u128(7)`, the sample every generated test uses.
        Type::Uuid | Type::Id(_) => Some("00000000-0000-0000-0000-000000000007".to_owned()),
        Type::String => {
            let sample = scope.sample(ty, &[])?;
            sample
                .strip_suffix(".to_owned()")
                .and_then(|quoted| serde_json::from_str::<String>(quoted).ok())
        }
        // The first variant, the sample of an enum.
        Type::Enum(path) => match scope.system.type_def(path)? {
            ddd_model::ir::TypeDef::Enum(e) => Some(e.variants.first()?.name.to_string()),
            _ => None,
        },
        ty if ty.integer_bounds().is_some() || *ty == Type::Bool => {
            let sample = scope.sample(ty, &[])?;
            sample
                .parse::<i64>()
                .map(|n| n.to_string())
                .ok()
                .or_else(|| matches!(sample.as_str(), "true" | "false").then_some(sample))
        }
        _ => None,
    }
}
