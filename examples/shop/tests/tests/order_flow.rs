//! Yours (not generated): the shop's whole flow as scenarios, every context in one process.
//! A checked-out cart becomes an order through our translation (the order's total), its
//! payment is requested, captured, the shipment prepared, addressed and dispatched, and the
//! order shipped; the views of each context follow.

use contracts::ids::cart::ShoppingCartId;
use contracts::ids::catalog::ProductId;
use contracts::ids::payments::PaymentId;
use contracts::ids::shipping::ShipmentId;
use contracts::kernel::Money;
use serde_json::json;
use shop_cart::shopping_cart::{ShoppingCartCommand, ShoppingCartEvent};
use shop_payments::payment::PaymentCommand;
use shop_scenarios::{Contexts, Expect, Recorded, Scenario};
use shop_shipping::shipment::ShipmentCommand;
use shop_shipping::values::Address;
use uuid::Uuid;

const CUSTOMER: Uuid = Uuid::from_u128(0xADA);

fn euros(amount_cents: i64) -> Money {
    Money {
        amount_cents,
        currency: "EUR".to_owned(),
    }
}

/// A cart with two teas at 4.50 and a jam at 3.20: 12.20 in all.
async fn cart_with_items(shop: &mut Scenario<Contexts>) -> ShoppingCartId {
    let cart = ShoppingCartId::new();
    let item = |product: u128, quantity, cents| ShoppingCartEvent::ItemAdded {
        product: ProductId::from(Uuid::from_u128(product)),
        quantity,
        unit_price: euros(cents),
    };
    shop.given(
        |s| &s.cart.shopping_cart,
        &cart,
        [
            ShoppingCartEvent::CartOpened { customer: CUSTOMER },
            item(1, 2, 450),
            item(2, 1, 320),
        ],
    )
    .await;
    cart
}

/// The one event of `aggregate_type` among `recorded`, by its aggregate's id.
fn id_of<T: std::str::FromStr>(recorded: &[Recorded], aggregate_type: &str) -> T {
    let ids: Vec<&str> = recorded
        .iter()
        .filter(|event| event.aggregate_type == aggregate_type)
        .map(|event| event.aggregate_id.as_str())
        .collect();
    let [id] = ids[..] else {
        panic!("one {aggregate_type} expected, found {ids:?}");
    };
    id.parse().unwrap_or_else(|_| panic!("{id} is not an id"))
}

/// The shop once the cart of [`cart_with_items`] was checked out.
async fn checked_out() -> Scenario<Contexts> {
    let mut shop = shop_scenarios::scenario().await;
    let cart = cart_with_items(&mut shop).await;
    shop.when(
        |s| &s.cart.shopping_cart,
        &cart,
        ShoppingCartCommand::CheckOut {},
    )
    .await
    .expect("a cart with items checks out");
    shop
}

#[tokio::test]
async fn a_checked_out_cart_becomes_an_order_whose_payment_is_requested() {
    let shop = checked_out().await;
    shop.then()
        .events("Cart", [Expect::event("CartCheckedOut")])
        .events(
            "Ordering",
            [Expect::event("OrderPlaced").with(json!({
                "customer": CUSTOMER,
                "total": {"amount_cents": 1220, "currency": "EUR"},
            }))],
        )
        .events(
            "Payments",
            [Expect::event("PaymentRequested").with(json!({"amount": {"amount_cents": 1220}}))],
        )
        .rows(
            "Ordering",
            "OrderSummary",
            [json!({"customer": CUSTOMER, "status": "Placed", "line_count": 2})],
        )
        .rows(
            "Ordering",
            "CustomerTotals",
            [json!({"customer": CUSTOMER, "orders": 1, "spent_cents": 1220})],
        )
        .rows("Payments", "PaymentBoard", [json!({"status": "Requested"})])
        .assert()
        .await;
    shop.stop().await;
}

#[tokio::test]
async fn a_captured_payment_ships_the_order_once_the_shipment_leaves() {
    let mut shop = checked_out().await;
    let payment: PaymentId = id_of(&shop.recorded("Payments").await, "Payment");

    shop.when(
        |s| &s.payments.payment,
        &payment,
        PaymentCommand::Capture {},
    )
    .await
    .expect("a requested payment is captured");
    shop.then()
        .events("Payments", [Expect::event("PaymentCaptured")])
        .events("Ordering", [Expect::event("OrderPaid")])
        .events("Shipping", [Expect::event("ShipmentPrepared")])
        .rows("Ordering", "OrderSummary", [json!({"status": "Paid"})])
        .rows(
            "Shipping",
            "ShipmentBoard",
            [json!({"address": null, "dispatched": null})],
        )
        .assert()
        .await;
    let shipment: ShipmentId = id_of(&shop.recorded("Shipping").await, "Shipment");

    let address = Address {
        street: "1 Long Lane".to_owned(),
        city: "Leeds".to_owned(),
        zip: "LS1 4AP".to_owned(),
    };
    shop.when(
        |s| &s.shipping.shipment,
        &shipment,
        ShipmentCommand::SetAddress { address },
    )
    .await
    .expect("an address before dispatch");
    shop.then()
        .events("Shipping", [Expect::event("AddressSet")])
        .assert()
        .await;

    let dispatched_at = chrono::Utc::now();
    shop.when(
        |s| &s.shipping.shipment,
        &shipment,
        ShipmentCommand::Dispatch { dispatched_at },
    )
    .await
    .expect("an addressed shipment leaves");
    shop.then()
        .events("Shipping", [Expect::event("ShipmentDispatched")])
        .events("Ordering", [Expect::event("OrderShipped")])
        .rows("Ordering", "OrderSummary", [json!({"status": "Shipped"})])
        .rows(
            "Ordering",
            "CustomerTotals",
            [json!({"orders": 1, "spent_cents": 1220})],
        )
        .assert()
        .await;
    shop.stop().await;
}
