//! The contract's example model: accepted, with its policies translated exactly as the
//! contract's "Policies" section says.

use ddd_model::ir::{
    Conversion, Policy, RecordPair, Source, System, Target, Translation, Type, TypePath,
};
use ddd_model::{Code, Format, Name, Severity, load};

const SHOP: &str = include_str!("../../examples/shop/shop.ddd");

fn shop() -> ddd_model::Loaded {
    load(SHOP, Format::Ddd).unwrap_or_else(|rejected| {
        let rendered = ddd_model::diagnostic::render_to_string(
            ddd_model::SourceFile {
                name: "shop.ddd",
                text: SHOP,
            },
            &rejected.diagnostics,
        );
        panic!("shop.ddd must be accepted:\n{rendered}")
    })
}

fn policy<'s>(system: &'s System, context: &str, event: &str) -> &'s Policy {
    system
        .context(context)
        .and_then(|c| c.policies.iter().find(|p| p.on.event == event))
        .unwrap_or_else(|| panic!("policy on {event} in {context}"))
}

fn translation<'s>(system: &'s System, context: &str, event: &str) -> &'s Translation {
    policy(system, context, event)
        .translation
        .as_ref()
        .expect("a translation")
}

fn sources(translation: &Translation) -> Vec<(&str, &Source)> {
    translation
        .fields
        .iter()
        .map(|f| (f.field.as_str(), &f.source))
        .collect()
}

fn event_field(field: &str) -> Source {
    Source::EventField {
        field: Name::new(field),
        conversion: Conversion::Same,
    }
}

fn path(text: &str) -> TypePath {
    TypePath::parse(text).expect("a path")
}

#[test]
fn shop_has_no_errors_and_no_warnings() {
    let loaded = shop();
    let severities: Vec<(Severity, Code)> = loaded
        .diagnostics
        .iter()
        .map(|d| (d.severity, d.code))
        .collect();
    // The one thing the generator cannot derive: `total` of `PlaceOrder`.
    assert_eq!(severities, [(Severity::Note, Code::NeedsCode)]);
    assert_eq!(loaded.diagnostics[0].line_col(SHOP), Some((132, 3)));
    let system = &loaded.system;
    assert_eq!(system.name, "Shop");
    let contexts: Vec<&str> = system.contexts.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(
        contexts,
        ["Catalog", "Cart", "Ordering", "Payments", "Shipping"]
    );
    assert_eq!(system.relations.len(), 7);
    assert_eq!(
        system.values[0].doc.as_deref(),
        Some("Money in minor units, shared by every context.")
    );
}

#[test]
fn types_resolve_to_qualified_paths() {
    let loaded = shop();
    let (_, order) = loaded.system.aggregate("Order").expect("Order");
    let types: Vec<(&str, &Type)> = order
        .fields
        .iter()
        .map(|f| (f.name.as_str(), &f.ty))
        .collect();
    assert_eq!(
        types,
        [
            ("customer", &Type::Uuid),
            (
                "lines",
                &Type::Vec(Box::new(Type::Entity(path("Ordering.Order.OrderLine"))))
            ),
            ("total", &Type::Value(path("Money"))),
            ("status", &Type::Enum(path("Ordering.OrderStatus"))),
        ]
    );
    let line = &order.entities[0].fields[0];
    assert_eq!(line.ty, Type::Id(path("Catalog.Product")));
    let (_, shipment) = loaded.system.aggregate("Shipment").expect("Shipment");
    assert_eq!(
        shipment.fields[1].ty,
        Type::Option(Box::new(Type::Value(path("Shipping.Address"))))
    );
}

// `on Cart.CartCheckedOut run Order.PlaceOrder with lines = items`: a new order whose id
// derives from the event id; `customer` by name, `lines` from `items` record by record,
// `total` needs code.
#[test]
fn checked_out_cart_places_an_order_and_total_needs_code() {
    let loaded = shop();
    let translation = translation(&loaded.system, "Ordering", "CartCheckedOut");
    assert_eq!(translation.target, Target::NewFromEventId);
    let pair = RecordPair {
        from: path("Cart.ShoppingCart.CartItem"),
        to: path("Ordering.Order.OrderLine"),
    };
    assert_eq!(
        sources(translation),
        [
            ("customer", &event_field("customer")),
            (
                "lines",
                &Source::EventField {
                    field: Name::new("items"),
                    conversion: Conversion::Vec(Box::new(Conversion::Record(Box::new(
                        pair.clone()
                    )))),
                }
            ),
            (
                "total",
                &Source::NeedsCode {
                    reason: "event `Cart.CartCheckedOut` has no field `total` of type `Money`"
                        .into()
                }
            ),
        ]
    );
    assert_eq!(translation.conversions.len(), 1);
    let conversion = &translation.conversions[0];
    assert_eq!((&conversion.from, &conversion.to), (&pair.from, &pair.to));
    let fields: Vec<&str> = conversion.fields.iter().map(|f| f.field.as_str()).collect();
    assert_eq!(fields, ["product", "quantity", "unit_price"]);
    assert!(
        conversion
            .fields
            .iter()
            .all(|f| f.conversion == Conversion::Same)
    );
    assert!(translation.needs_code());
}

// `on Ordering.OrderPlaced run Payment.RequestPayment with amount = total`: `order` is the
// emitting `Order`'s id.
#[test]
fn placed_order_requests_a_payment() {
    let loaded = shop();
    let translation = translation(&loaded.system, "Payments", "OrderPlaced");
    assert_eq!(translation.target, Target::NewFromEventId);
    assert_eq!(
        sources(translation),
        [
            (
                "order",
                &Source::AggregateId {
                    conversion: Conversion::Same
                }
            ),
            ("amount", &event_field("total")),
        ]
    );
    assert!(!translation.needs_code());
}

// `on Payments.PaymentCaptured run Order.MarkPaid`: the order is the event's only `OrderId`
// field; `payment` is the emitting `Payment`'s id.
#[test]
fn captured_payment_marks_the_order_paid() {
    let loaded = shop();
    let translation = translation(&loaded.system, "Ordering", "PaymentCaptured");
    assert_eq!(
        translation.target,
        Target::EventField {
            field: Name::new("order")
        }
    );
    assert_eq!(
        sources(translation),
        [(
            "payment",
            &Source::AggregateId {
                conversion: Conversion::Same
            }
        )]
    );
}

#[test]
fn dispatched_shipment_marks_the_order_shipped() {
    let loaded = shop();
    let translation = translation(&loaded.system, "Ordering", "ShipmentDispatched");
    assert_eq!(
        translation.target,
        Target::EventField {
            field: Name::new("order")
        }
    );
    assert_eq!(
        sources(translation),
        [(
            "shipment",
            &Source::AggregateId {
                conversion: Conversion::Same
            }
        )]
    );
}

// `on Ordering.OrderPaid run Shipment.PrepareShipment`: creates, with an id derived from the
// event id, and `order` from the emitting aggregate's id.
#[test]
fn paid_order_prepares_a_shipment() {
    let loaded = shop();
    let translation = translation(&loaded.system, "Shipping", "OrderPaid");
    assert_eq!(translation.target, Target::NewFromEventId);
    assert_eq!(
        sources(translation),
        [(
            "order",
            &Source::AggregateId {
                conversion: Conversion::Same
            }
        )]
    );
    assert!(translation.conversions.is_empty());
}

#[test]
fn every_event_is_filled_by_its_command_or_the_state() {
    let loaded = shop();
    for context in &loaded.system.contexts {
        for aggregate in &context.aggregates {
            for command in &aggregate.commands {
                assert_eq!(
                    command.emit_plans.len(),
                    command.emits.len(),
                    "{}",
                    command.name
                );
                for plan in &command.emit_plans {
                    assert!(
                        plan.fields.iter().all(|f| !f.needs_code()),
                        "{}.{}: {plan:?}",
                        command.name,
                        plan.event
                    );
                }
            }
        }
    }
    let (_, cart) = loaded.system.aggregate("ShoppingCart").expect("cart");
    let check_out = cart.command("CheckOut").expect("CheckOut");
    let sources: Vec<(&str, &Source)> = check_out.emit_plans[0]
        .fields
        .iter()
        .map(|f| (f.field.as_str(), &f.source))
        .collect();
    let state = |field: &str| Source::StateField {
        field: Name::new(field),
        conversion: Conversion::Same,
    };
    assert_eq!(
        sources,
        [("customer", &state("customer")), ("items", &state("items"))]
    );
}

#[test]
fn apply_sets_state_fields_of_the_same_name_and_wraps_options() {
    let loaded = shop();
    let (_, shipment) = loaded.system.aggregate("Shipment").expect("Shipment");
    let updates = &shipment
        .event("AddressSet")
        .expect("AddressSet")
        .apply
        .updates;
    assert_eq!(updates.len(), 1);
    assert_eq!(updates[0].field, "address");
    assert_eq!(
        updates[0].conversion,
        Conversion::Some(Box::new(Conversion::Same))
    );
    // `sets dispatched = dispatched_at`: the `Option<DateTime>` from a `DateTime`.
    let dispatched = shipment.event("ShipmentDispatched").expect("dispatched");
    let fields: Vec<&str> = dispatched
        .apply
        .updates
        .iter()
        .map(|u| u.field.as_str())
        .collect();
    assert_eq!(fields, ["order"]);
    assert_eq!(dispatched.sets[0].field, "dispatched");
    let typed = dispatched.sets[0].value.checked().expect("typed");
    assert_eq!(
        typed.ty,
        Type::Option(Box::new(Type::DateTime)),
        "wrapped in `Some`"
    );
}
