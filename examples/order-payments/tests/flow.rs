//! Each aggregate and policy alone, then the whole flow across both contexts.

use std::time::Duration;

use ddd_core::testing::{AggregateTest, PolicyTest};
use ddd_core::{BoundedContext, Reaction};
use order_payments::ordering::{MarkOrderPaid, Order, OrderCommand, OrderEvent, OrderId, Ordering};
use order_payments::payments::{
    Payment, PaymentCommand, PaymentEvent, PaymentId, Payments, RequestPayment,
};
use order_payments::system::Shop;

#[test]
fn an_order_is_placed_once_and_paid_once() {
    let placed = OrderEvent::Placed {
        customer: "Ada".into(),
        total_cents: 10,
    };
    let payment = PaymentId::new();
    AggregateTest::<Order>::new()
        .given([placed.clone()])
        .when(OrderCommand::MarkPaid { payment })
        .then([OrderEvent::Paid { payment }]);
    AggregateTest::<Order>::new()
        .given([placed.clone(), OrderEvent::Paid { payment }])
        .when(OrderCommand::MarkPaid { payment })
        .then_nothing();
    AggregateTest::<Order>::new()
        .given([placed.clone(), OrderEvent::Paid { payment }])
        .when(OrderCommand::MarkPaid {
            payment: PaymentId::new(),
        })
        .then_error_message("the order was paid by another payment");
    AggregateTest::<Order>::new()
        .when(OrderCommand::Place {
            customer: String::new(),
            total_cents: 0,
        })
        .then_invalid(&["customer", "total_cents"]);
}

#[test]
fn a_payment_is_captured_once() {
    let order = OrderId::new();
    let requested = PaymentEvent::Requested {
        order,
        amount_cents: 10,
    };
    AggregateTest::<Payment>::new()
        .given([requested.clone()])
        .when(PaymentCommand::Capture)
        .then([PaymentEvent::Captured { order }]);
    AggregateTest::<Payment>::new()
        .given([requested, PaymentEvent::Captured { order }])
        .when(PaymentCommand::Capture)
        .then_error_message("the payment was captured already");
}

#[test]
fn policies_translate_between_the_contexts() {
    let order = OrderId::new();
    let test = PolicyTest::new(RequestPayment);
    let placed = OrderEvent::Placed {
        customer: "Ada".into(),
        total_cents: 99,
    };
    let when = test.when("Order", order.to_string(), placed);
    let payment = RequestPayment::payment_for(when.event().event_id);
    when.then([Reaction::create(
        payment,
        PaymentCommand::Request {
            order,
            amount_cents: 99,
        },
    )]);

    PolicyTest::new(MarkOrderPaid)
        .when(
            "Payment",
            payment.to_string(),
            PaymentEvent::Captured { order },
        )
        .then([Reaction::new(order, OrderCommand::MarkPaid { payment })]);
    PolicyTest::new(MarkOrderPaid)
        .when("Payment", "not-a-uuid", PaymentEvent::Captured { order })
        .then_error_containing("is not a UUID");
}

#[test]
fn the_contexts_declare_what_they_publish() {
    assert_eq!(Ordering::NAME, "Ordering");
    assert_eq!(Ordering::published_events(), ["OrderPlaced"]);
    assert_eq!(
        Payments::published_events(),
        ["PaymentRequested", "PaymentCaptured"]
    );
    assert_eq!(
        Ordering::policies()[0].reacts_to,
        ["PaymentRequested", "PaymentCaptured"]
    );
    assert_eq!(Payments::aggregates()[0].name, "Payment");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_order_is_paid_across_the_bus_with_one_correlation() {
    let shop = Shop::start().await.unwrap();
    let order = OrderId::new();
    let placed = shop
        .orders
        .execute(
            &order,
            OrderCommand::Place {
                customer: "Ada".into(),
                total_cents: 500,
            },
        )
        .await
        .unwrap();
    let payment = RequestPayment::payment_for(placed.events[0].event_id);
    wait_until(|| async { shop.payments.load(&payment).await.unwrap().is_some() }).await;
    shop.payments
        .execute(&payment, PaymentCommand::Capture)
        .await
        .unwrap();
    wait_until(|| async {
        let order = shop.orders.load(&order).await.unwrap().unwrap();
        order.state().paid_by() == Some(payment)
    })
    .await;

    let correlation = placed.events[0].correlation_id;
    let requested = &shop.payments.events(&payment, 0).await.unwrap()[0];
    assert_eq!(
        requested.correlation_id, correlation,
        "the request carries the order's correlation"
    );
    assert_eq!(
        requested.causation_id,
        Some(placed.events[0].event_id),
        "caused by OrderPlaced"
    );
    let paid = shop.orders.events(&order, 1).await.unwrap();
    assert_eq!(paid.len(), 1, "paid exactly once");
    shop.shutdown().await.unwrap();
}

async fn wait_until<F, Fut>(check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    for _ in 0..1_000 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("the flow did not complete within 10 s");
}
