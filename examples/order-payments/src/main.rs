//! Places an order and follows it across both contexts: Ordering publishes OrderPlaced,
//! Payments requests a payment, the payment is captured, Ordering marks the order paid.

#![allow(
    clippy::print_stdout,
    reason = "printing what happened is the point of this example"
)]

use std::time::Duration;

use ddd_core::Version;
use order_payments::ordering::OrderCommand;
use order_payments::payments::{PaymentCommand, RequestPayment};
use order_payments::system::Shop;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let shop = Shop::start().await?;
    let order = order_payments::ordering::OrderId::new();
    let place = OrderCommand::Place {
        customer: "Ada".into(),
        total_cents: 4_200,
    };
    let placed = shop.orders.execute(&order, place).await?;
    let payment = RequestPayment::payment_for(placed.events[0].event_id);

    eventually("the payment request", || async {
        shop.payments.load(&payment).await.map(|p| p.is_some())
    })
    .await?;
    shop.payments
        .execute(&payment, PaymentCommand::Capture)
        .await?;
    eventually("the order being paid", || async {
        shop.orders
            .load(&order)
            .await
            .map(|o| o.is_some_and(|o| o.state().paid_by() == Some(payment)))
    })
    .await?;

    println!("order {order}:");
    for event in shop.orders.events(&order, 0).await? {
        println!(
            "  v{} {:<16} correlation {}",
            event.version, event.event_type, event.correlation_id
        );
    }
    println!("payment {payment}:");
    for event in shop.payments.events(&payment, 0).await? {
        println!(
            "  v{} {:<16} correlation {}",
            event.version, event.event_type, event.correlation_id
        );
    }
    shop.shutdown().await?;
    Ok(())
}

async fn eventually<F, Fut>(what: &str, check: F) -> Result<Version, Box<dyn std::error::Error>>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<bool, ddd_core::StoreError>>,
{
    for waited in 0..500 {
        if check().await? {
            return Ok(waited);
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Err(format!("gave up waiting for {what}").into())
}
