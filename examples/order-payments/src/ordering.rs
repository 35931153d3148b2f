//! The Ordering context.

use ddd_core::{
    Aggregate, BoundedContext, Command, DomainEvent, Envelope, Policy, PolicyError, Reaction,
    Rejection,
};
use serde::{Deserialize, Serialize};

use crate::payments::{PaymentEvent, PaymentId};

ddd_core::aggregate_id! {
    /// Identifies an order.
    pub OrderId
}

/// Orders: placed, then paid.
#[derive(Debug, BoundedContext)]
#[bounded_context(
    name = "Ordering",
    aggregates(Order),
    publishes(OrderEvent::Placed),
    policies(MarkOrderPaid)
)]
pub struct Ordering;

/// What can be asked of an order.
#[derive(Clone, Debug, PartialEq, Command)]
#[command(aggregate = Order)]
pub enum OrderCommand {
    /// Places the order.
    Place {
        /// Who buys.
        #[command(len(1..=80))]
        customer: String,
        /// The total, in cents.
        #[command(range(1..))]
        total_cents: i64,
    },
    /// Records that the payment was captured.
    MarkPaid {
        /// The payment that paid it.
        payment: PaymentId,
    },
}

/// What happened to an order.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(aggregate = Order)]
pub enum OrderEvent {
    /// The order was placed.
    #[event(rename = "OrderPlaced")]
    Placed {
        /// Who buys.
        customer: String,
        /// The total, in cents.
        total_cents: i64,
    },
    /// The order was paid.
    #[event(rename = "OrderPaid")]
    Paid {
        /// The payment that paid it.
        payment: PaymentId,
    },
}

/// An order.
#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = OrderId, command = OrderCommand, event = OrderEvent)]
pub struct Order {
    placed: bool,
    paid_by: Option<PaymentId>,
}

impl Order {
    /// The payment that paid it, once paid.
    pub fn paid_by(&self) -> Option<PaymentId> {
        self.paid_by
    }

    fn handle_place(&self, customer: String, total_cents: i64) -> Result<OrderEvent, Rejection> {
        if self.placed {
            return Err(Rejection::new("the order was placed already"));
        }
        Ok(OrderEvent::Placed {
            customer,
            total_cents,
        })
    }

    fn handle_mark_paid(&self, payment: PaymentId) -> Result<Option<OrderEvent>, Rejection> {
        match self.paid_by {
            _ if !self.placed => Err(Rejection::new("no such order")),
            // The same payment reported twice changes nothing.
            Some(paid_by) if paid_by == payment => Ok(None),
            Some(_) => Err(Rejection::new("the order was paid by another payment")),
            None => Ok(Some(OrderEvent::Paid { payment })),
        }
    }

    fn apply_placed(&mut self, _customer: &str, _total_cents: &i64) {
        self.placed = true;
    }

    fn apply_paid(&mut self, payment: &PaymentId) {
        self.paid_by = Some(*payment);
    }
}

/// Payments → Ordering: a captured payment marks its order paid.
#[derive(Debug, Default)]
pub struct MarkOrderPaid;

impl Policy for MarkOrderPaid {
    type Event = PaymentEvent;
    type Target = Order;
    const NAME: &'static str = "ordering-mark-order-paid";

    async fn react(
        &self,
        event: &Envelope<PaymentEvent>,
    ) -> Result<Vec<Reaction<Order>>, PolicyError> {
        let PaymentEvent::Captured { order } = &event.payload else {
            return Ok(Vec::new());
        };
        let payment: PaymentId = event.aggregate_id.parse().map_err(|_| {
            PolicyError::Permanent(format!("payment id `{}` is not a UUID", event.aggregate_id))
        })?;
        Ok(vec![Reaction::new(
            *order,
            OrderCommand::MarkPaid { payment },
        )])
    }
}
