// Yours: the anticorruption layer between Cart and Ordering.

use contracts::cart::Published;
use contracts::ids::ordering::OrderId;
use contracts::kernel::Money;
use contracts::ordering::OrderLine;
use ddd_core::{Envelope, Policy as _, PolicyError, Reaction};

use crate::order::{Order, OrderCommand};

/// A checked-out cart becomes an order of the same lines; the total is what they cost.
pub(super) async fn react(event: &Envelope<Published>) -> Result<Vec<Reaction<Order>>, PolicyError> {
    let Published::CartCheckedOut { customer, items } = &event.payload;
    let Some(first) = items.first() else {
        return Err(PolicyError::Permanent("an empty cart was checked out".to_owned()));
    };
    let currency = first.unit_price.currency.clone();
    if items.iter().any(|item| item.unit_price.currency != currency) {
        return Err(PolicyError::Permanent("a cart in several currencies".to_owned()));
    }
    let amount_cents = items
        .iter()
        .map(|item| i64::from(item.quantity) * item.unit_price.amount_cents)
        .sum();
    let lines = items
        .iter()
        .map(|item| OrderLine {
            product: item.product,
            quantity: item.quantity,
            unit_price: item.unit_price.clone(),
        })
        .collect();
    let order = OrderId::derived_from(&event.event_id, super::PlaceOrderOnCartCheckedOut::NAME.as_bytes());
    Ok(vec![Reaction::create(
        order,
        OrderCommand::PlaceOrder { customer: *customer, lines, total: Money { amount_cents, currency } },
    )])
}
