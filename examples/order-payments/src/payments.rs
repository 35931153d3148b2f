//! The Payments context.

use ddd_core::{
    Aggregate, BoundedContext, Command, DomainEvent, Envelope, Policy, PolicyError, Reaction,
    Rejection,
};
use serde::{Deserialize, Serialize};

use crate::ordering::{OrderEvent, OrderId};

ddd_core::aggregate_id! {
    /// Identifies a payment.
    pub PaymentId
}

/// Payments: requested for an order, then captured.
#[derive(Debug, BoundedContext)]
#[bounded_context(
    name = "Payments",
    aggregates(Payment),
    publishes_all(PaymentEvent),
    policies(RequestPayment)
)]
pub struct Payments;

/// What can be asked of a payment.
#[derive(Clone, Debug, PartialEq, Command)]
#[command(aggregate = Payment)]
pub enum PaymentCommand {
    /// Requests the money for an order.
    Request {
        /// The order to pay.
        order: OrderId,
        /// How much, in cents.
        #[command(range(1..))]
        amount_cents: i64,
    },
    /// Takes the money.
    Capture,
}

/// What happened to a payment.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(aggregate = Payment)]
pub enum PaymentEvent {
    /// A payment was requested.
    #[event(rename = "PaymentRequested")]
    Requested {
        /// The order to pay.
        order: OrderId,
        /// How much, in cents.
        amount_cents: i64,
    },
    /// The money was taken.
    #[event(rename = "PaymentCaptured")]
    Captured {
        /// The order it paid.
        order: OrderId,
    },
}

/// A payment.
#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = PaymentId, command = PaymentCommand, event = PaymentEvent)]
pub struct Payment {
    order: Option<OrderId>,
    amount_cents: i64,
    captured: bool,
}

impl Payment {
    /// The order it pays.
    pub fn order(&self) -> Option<OrderId> {
        self.order
    }

    /// Whether the money was taken.
    pub fn is_captured(&self) -> bool {
        self.captured
    }

    fn handle_request(&self, order: OrderId, amount_cents: i64) -> Result<PaymentEvent, Rejection> {
        if self.order.is_some() {
            return Err(Rejection::new("the payment was requested already"));
        }
        Ok(PaymentEvent::Requested {
            order,
            amount_cents,
        })
    }

    fn handle_capture(&self) -> Result<PaymentEvent, Rejection> {
        let order = self.order.ok_or(Rejection::new("no such payment"))?;
        if self.captured {
            return Err(Rejection::new("the payment was captured already"));
        }
        Ok(PaymentEvent::Captured { order })
    }

    fn apply_requested(&mut self, order: &OrderId, amount_cents: &i64) {
        self.order = Some(*order);
        self.amount_cents = *amount_cents;
    }

    fn apply_captured(&mut self, _order: &OrderId) {
        self.captured = true;
    }
}

/// Ordering → Payments: every placed order gets a payment request. The payment's id is
/// derived from the event's id, so a redelivered event cannot request two payments.
#[derive(Debug, Default)]
pub struct RequestPayment;

impl RequestPayment {
    /// The id of the payment requested for the order event `event_id`.
    pub fn payment_for(event_id: uuid::Uuid) -> PaymentId {
        PaymentId::derived_from(&event_id, b"payment")
    }
}

impl Policy for RequestPayment {
    type Event = OrderEvent;
    type Target = Payment;
    const NAME: &'static str = "payments-request-payment";

    async fn react(
        &self,
        event: &Envelope<OrderEvent>,
    ) -> Result<Vec<Reaction<Payment>>, PolicyError> {
        let OrderEvent::Placed { total_cents, .. } = &event.payload else {
            return Ok(Vec::new());
        };
        let order: OrderId = event.aggregate_id.parse().map_err(|_| {
            PolicyError::Permanent(format!("order id `{}` is not a UUID", event.aggregate_id))
        })?;
        let command = PaymentCommand::Request {
            order,
            amount_cents: *total_cents,
        };
        Ok(vec![Reaction::create(
            Self::payment_for(event.event_id),
            command,
        )])
    }
}
