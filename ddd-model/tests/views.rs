//! The read side in the model: views lowered, checked and typed, the events that feed them
//! found, and what the contract leaves to us held to what `docs/language.md` says.

use ddd_model::ir::{
    Context, Conversion, Delivery, Function, HandledEvent, NameScope, System, Type, TypePath,
    Typed, TypedKind, View, ViewField, ViewSource,
};
use ddd_model::{Code, Format, Severity, graph, load};

const SHOP: &str = include_str!("../../examples/shop/shop.ddd");
const VIEWS: &str = include_str!("models/good/views.ddd");

fn accepted(name: &str, text: &str) -> ddd_model::Loaded {
    load(text, Format::Ddd).unwrap_or_else(|rejected| {
        let rendered = ddd_model::diagnostic::render_to_string(
            ddd_model::SourceFile { name, text },
            &rejected.diagnostics,
        );
        panic!("{name} must be accepted:\n{rendered}")
    })
}

fn context<'s>(system: &'s System, name: &str) -> &'s Context {
    system
        .context(name)
        .unwrap_or_else(|| panic!("context {name}"))
}

fn view<'s>(system: &'s System, context_name: &str, name: &str) -> &'s View {
    context(system, context_name)
        .view(name)
        .unwrap_or_else(|| panic!("view {name}"))
}

fn field<'v>(view: &'v View, name: &str) -> &'v ViewField {
    view.field(name)
        .unwrap_or_else(|| panic!("field {name} of {}", view.name))
}

fn typed(field: &ViewField) -> &Typed {
    field
        .value
        .as_ref()
        .and_then(|value| value.checked())
        .unwrap_or_else(|| panic!("a typed value for {}", field.name))
}

/// `(name, filter, sort)` of each field.
fn marks(view: &View) -> Vec<(&str, bool, bool)> {
    view.fields
        .iter()
        .map(|f| (f.name.as_str(), f.filter, f.sort))
        .collect()
}

fn path(text: &str) -> TypePath {
    TypePath::parse(text).expect("a path")
}

/// `(severity, code, line:col, message)` of every warning and error (not notes).
fn problems(model: &str) -> Vec<(Severity, Code, (usize, usize), String)> {
    match load(model, Format::Ddd) {
        Ok(loaded) => loaded.diagnostics,
        Err(rejected) => rejected.diagnostics,
    }
    .into_iter()
    .filter(|d| d.severity != Severity::Note)
    .map(|d| {
        let at = d.line_col(model).unwrap_or_default();
        (d.severity, d.code, at, d.message)
    })
    .collect()
}

#[test]
fn the_shops_five_views_are_in_the_model() {
    let system = accepted("shop.ddd", SHOP).system;
    let views: Vec<(&str, &str)> = system
        .contexts
        .iter()
        .flat_map(|c| {
            c.views
                .iter()
                .map(move |v| (c.name.as_str(), v.name.as_str()))
        })
        .collect();
    assert_eq!(
        views,
        [
            ("Catalog", "ProductListing"),
            ("Ordering", "OrderSummary"),
            ("Ordering", "CustomerTotals"),
            ("Payments", "PaymentBoard"),
            ("Shipping", "ShipmentBoard"),
        ]
    );
    let listing = view(&system, "Catalog", "ProductListing");
    assert_eq!(listing.aggregate().map(|a| a.as_str()), Some("Product"));
    assert_eq!(
        listing.doc.as_deref(),
        Some(
            "What the shop window lists: filter on `active`, cheapest first with `sort=price_cents`."
        )
    );
    assert_eq!(
        marks(listing),
        [
            ("name", false, false),
            ("price", false, false),
            ("active", true, false),
            ("price_cents", false, true),
        ]
    );
    assert_eq!(listing.route(), "/product-listings");
    assert!(listing.handlers.is_empty());
    let summary = view(&system, "Ordering", "OrderSummary");
    assert_eq!(
        marks(summary),
        [
            ("customer", true, false),
            ("status", true, false),
            ("total", false, false),
            ("line_count", false, false),
            ("placed_at", false, true),
        ]
    );
    assert_eq!(
        field(summary, "status").ty,
        Type::Enum(path("Ordering.OrderStatus"))
    );
    assert_eq!(summary.route(), "/order-summaries");
    assert_eq!(
        view(&system, "Ordering", "CustomerTotals").route(),
        "/customer-totals",
        "a plural stays"
    );
    let board = view(&system, "Shipping", "ShipmentBoard");
    assert_eq!(
        field(board, "order").ty,
        Type::Id(path("Ordering.Order")),
        "an id of another context, found by scope"
    );
    assert_eq!(
        field(board, "address").ty,
        Type::Option(Box::new(Type::Value(path("Shipping.Address"))))
    );
}

#[test]
fn fields_without_a_value_copy_the_state_field_of_their_name() {
    let system = accepted("shop.ddd", SHOP).system;
    let listing = view(&system, "Catalog", "ProductListing");
    for name in ["name", "price", "active"] {
        let copied = field(listing, name);
        assert_eq!(copied.copy, Some(Conversion::Same), "{name}");
        assert!(copied.value.is_none());
    }
    assert_eq!(
        field(listing, "price_cents").copy,
        None,
        "computed, not copied"
    );
    let payments = view(&system, "Payments", "PaymentBoard");
    assert!(
        payments
            .fields
            .iter()
            .all(|f| f.copy == Some(Conversion::Same))
    );
}

#[test]
fn values_of_from_views_are_typed_over_the_state_and_the_implicit_fields() {
    let system = accepted("shop.ddd", SHOP).system;
    let listing = view(&system, "Catalog", "ProductListing");
    // `price.amount_cents`: a field of the `Money` state field.
    let cents = typed(field(listing, "price_cents"));
    assert_eq!(cents.ty, Type::I64);
    let TypedKind::Field { base, field: name } = &cents.kind else {
        panic!("{cents:?}")
    };
    assert_eq!(name.as_str(), "amount_cents");
    assert!(matches!(
        &base.kind,
        TypedKind::Name { scope: NameScope::State, name } if name.as_str() == "price"
    ));
    let summary = view(&system, "Ordering", "OrderSummary");
    let lines = typed(field(summary, "line_count"));
    assert_eq!(lines.ty, Type::U32);
    assert!(matches!(
        lines.kind,
        TypedKind::Call {
            function: Function::Count,
            ..
        }
    ));
    // `created_at` is the aggregate's, not a state field.
    let placed = typed(field(summary, "placed_at"));
    assert_eq!(placed.ty, Type::DateTime);
    assert!(matches!(
        &placed.kind,
        TypedKind::Name { scope: NameScope::State, name } if name.as_str() == "created_at"
    ));
}

#[test]
fn customer_totals_is_fed_by_the_orders_placed_in_its_own_context() {
    let system = accepted("shop.ddd", SHOP).system;
    let totals = view(&system, "Ordering", "CustomerTotals");
    let ViewSource::By(key) = &totals.source else {
        panic!("a `by` view")
    };
    assert_eq!((key.name.as_str(), &key.ty), ("customer", &Type::Uuid));
    assert_eq!(
        marks(totals),
        [("orders", false, false), ("spent_cents", false, true)]
    );
    let [handler] = totals.handlers.as_slice() else {
        panic!("one `on`")
    };
    assert_eq!(
        handler.resolved,
        Some(HandledEvent {
            context: "Ordering".into(),
            aggregate: "Order".into(),
            event: "OrderPlaced".into(),
            delivery: Delivery::Local,
            key: Conversion::Same,
        })
    );
    let targets: Vec<&str> = handler.sets.iter().map(|s| s.field.as_str()).collect();
    assert_eq!(targets, ["orders", "spent_cents"]);
    // `orders + 1` reads the row before the event; `total.amount_cents` the event.
    let orders = handler.sets[0].value.checked().expect("typed");
    assert_eq!(orders.ty, Type::U32);
    assert!(orders.reads_name(NameScope::State, "orders"));
    assert!(orders.has_arithmetic());
    let spent = handler.sets[1].value.checked().expect("typed");
    assert_eq!(spent.ty, Type::I64);
    assert!(spent.reads_name(NameScope::State, "spent_cents"));
    assert!(spent.reads_name(NameScope::Event, "total"));
}

#[test]
fn a_by_view_may_be_fed_by_an_event_another_context_publishes() {
    let loaded = accepted("views.ddd", VIEWS);
    assert!(
        loaded
            .diagnostics
            .iter()
            .all(|d| d.severity == Severity::Note),
        "{:#?}",
        loaded.diagnostics
    );
    let system = &loaded.system;
    let payments = view(system, "Ordering", "OrderPayments");
    assert_eq!(
        payments.handlers[0].resolved,
        Some(HandledEvent {
            context: "Payments".into(),
            aggregate: "Payment".into(),
            event: "Captured".into(),
            delivery: Delivery::Bus,
            key: Conversion::Same,
        })
    );
    let sets = &payments.handlers[0].sets;
    let last = sets[2].value.checked().expect("typed");
    assert!(last.reads_name(NameScope::Event, "attempts"));
    assert_eq!(
        field(payments, "captures").doc.as_deref(),
        Some("How many payments were captured.")
    );
    // A `u32` key of the event widens into the view's `u64`.
    let attempts = view(system, "Ordering", "ByAttempts");
    let handled = attempts.handlers[0].resolved.as_ref().expect("found");
    assert_eq!(handled.key, Conversion::Widen(Type::U64));
    // `sold + quantity`: the event's `u32` widens to the row's `u64`.
    let sales = view(system, "Ordering", "SkuSales");
    let sold = sales.handlers[0].sets[0].value.checked().expect("typed");
    assert_eq!(sold.ty, Type::U64);
    assert_eq!(
        sales.key().map(|k| &k.ty),
        Some(&Type::String),
        "a named type's type"
    );
}

#[test]
fn copies_widen_wrap_and_see_through_named_types() {
    let system = accepted("views.ddd", VIEWS).system;
    let board = view(&system, "Ordering", "OrderBoard");
    assert_eq!(field(board, "sku").copy, Some(Conversion::Same));
    assert_eq!(field(board, "sku").ty, Type::String);
    assert_eq!(
        field(board, "stock").copy,
        Some(Conversion::Widen(Type::U64))
    );
    assert_eq!(
        field(board, "note").copy,
        Some(Conversion::Some(Box::new(Conversion::Same)))
    );
    let order = typed(field(board, "order"));
    assert_eq!(order.ty, Type::Id(path("Ordering.Order")));
    assert_eq!(typed(field(board, "revision")).ty, Type::U64);
    let value = typed(field(board, "value_cents"));
    assert!(matches!(
        value.kind,
        TypedKind::Call {
            function: Function::Sum,
            ..
        }
    ));
    assert_eq!(typed(field(board, "paid")).ty, Type::Bool);
}

#[test]
fn the_context_map_draws_views_fed_by_another_context() {
    let system = accepted("views.ddd", VIEWS).system;
    let mermaid = graph::mermaid(&system);
    assert!(
        mermaid.contains("ctx_Payments -.->|\"Captured → view OrderPayments\"| ctx_Ordering"),
        "{mermaid}"
    );
    assert!(
        mermaid.contains("Captured → view ByAttempts"),
        "one line per view: {mermaid}"
    );
    assert!(
        !mermaid.contains("SkuSales"),
        "a local event is no dependency"
    );
    let dot = graph::dot(&system);
    assert!(
        dot.contains(
            "\"Payments\" -> \"Ordering\" [label=\"Captured → view OrderPayments\", style=dashed];"
        ),
        "{dot}"
    );
}

#[test]
fn derived_parts_of_views_read_from_json_are_recomputed() {
    let system = accepted("views.ddd", VIEWS).system;
    let mut json = serde_json::to_value(&system).expect("serializes");
    let views = &mut json["contexts"][1]["views"];
    views[0]["fields"][1]["copy"] = serde_json::json!("same");
    views[1]["handlers"][0]["resolved"]["context"] = "Elsewhere".into();
    views[1]["handlers"][0]["resolved"]["delivery"] = "local".into();
    let checked = load(&json.to_string(), Format::Json)
        .unwrap_or_else(|r| panic!("{:#?}", r.diagnostics))
        .system;
    assert_eq!(checked, system);
    let handled = checked.contexts[1].views[1].handlers[0]
        .resolved
        .as_ref()
        .expect("found again");
    assert_eq!(
        (handled.context.as_str(), handled.delivery),
        ("Payments", Delivery::Bus)
    );
}

const TWO_CONTEXTS: &str = "system S
context Payment {
  aggregate Charge {
    order: Uuid
    command Open(order: Uuid) creates emits Opened
    event Opened(order: Uuid)
  }
  publishes Opened
}
context Ordering {
  aggregate Payment {
    order: Uuid
    command Open(order: Uuid) creates emits Opened
    event Opened(order: Uuid)
  }
  view PaymentCounts by order: Uuid {
    count: u32
    on Payment.Opened sets count = count + 1
  }
}
";

#[test]
fn an_aggregate_of_the_views_context_wins_over_a_context_of_that_name() {
    let system = accepted("two contexts", TWO_CONTEXTS).system;
    let payments = view(&system, "Ordering", "PaymentCounts");
    let handled = payments.handlers[0].resolved.as_ref().expect("found");
    assert_eq!(
        (handled.context.as_str(), handled.delivery),
        ("Ordering", Delivery::Local)
    );
}

#[test]
fn a_view_fed_by_a_context_the_map_does_not_relate_is_a_warning() {
    let unrelated = VIEWS.replace("Payments -> Ordering", "Ordering -> Payments");
    assert!(problems(&unrelated).is_empty(), "either direction relates");
    let unrelated = VIEWS.replace(
        "  Payments -> Ordering : customer-supplier\n",
        "  Ordering <-> Ordering2 : partnership\n",
    );
    let unrelated = unrelated.replace(
        "map {",
        "context Ordering2 { aggregate X { command Make() creates emits Made, event Made() } }\nmap {",
    );
    let found = problems(&unrelated);
    let warnings: Vec<_> = found
        .iter()
        .filter(|(_, code, ..)| *code == Code::UnrelatedContexts)
        .collect();
    // Two views of Ordering consume `Payments.Captured`.
    assert_eq!(warnings.len(), 2, "{found:#?}");
    assert!(
        warnings
            .iter()
            .all(|(severity, ..)| *severity == Severity::Warning)
    );
}

#[test]
fn unmaintained_view_fields_wait_until_the_model_has_no_errors() {
    let model = "system S
context C {
  aggregate A {
    k: Uuid
    command Make(k: Uuid) creates emits Made
    event Made(k: Uuid)
  }
  view V by k: Uuid {
    n: u32
    never: u32
    on A.Made sets n = n + 1
  }
}
";
    let found = problems(model);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1, Code::UnmaintainedViewField);
    assert_eq!(found[0].2, (10, 5));
    let broken = model.replace("n = n + 1", "n = n + zzz");
    let codes: Vec<Code> = problems(&broken).iter().map(|p| p.1).collect();
    assert_eq!(codes, [Code::UnknownField]);
}

#[test]
fn named_types_are_filtered_and_sorted_like_what_they_name() {
    let model = "system S
type Sku = String
type Weight = f64
context C {
  aggregate A {
    sku: Sku
    weight: Weight
    command Make(sku: Sku, weight: Weight) creates emits Made
    event Made(sku: Sku, weight: Weight)
  }
  view V from A {
    sku: Sku @filter @sort
    weight: Weight @sort
  }
}
";
    assert!(problems(model).is_empty(), "{:#?}", problems(model));
    let filtered = model.replace("weight: Weight @sort", "weight: Weight @filter");
    let found = problems(&filtered);
    assert_eq!(found.len(), 1, "{found:#?}");
    assert_eq!(found[0].1, Code::FilterMismatch);
    assert_eq!(found[0].2, (13, 20), "at the `@filter`");
}

#[test]
fn every_view_error_of_a_model_is_reported_in_one_run() {
    let model = "system S
context C {
  aggregate A {
    k: Uuid
    command Make(k: Uuid) creates emits Made
    event Made(k: Uuid)
  }
  view V from B {
    x: f64 @filter
  }
  view W by k: f64 {
    n: u32 = 1
  }
  view X from A {
    k: String
    id: u32
    on A.Made sets n = 1
  }
}
";
    let codes: Vec<Code> = problems(model).iter().map(|p| p.1).collect();
    assert_eq!(
        codes,
        [
            Code::UnknownAggregate,
            Code::FilterMismatch,
            Code::UnfedView,
            Code::FilterMismatch,
            Code::ViewKindMismatch,
            Code::ViewFieldMismatch,
            Code::ReservedName,
            Code::ViewKindMismatch,
        ]
    );
}
