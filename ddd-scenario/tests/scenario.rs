//! The kit on a real two-context system (the order-payments example): a scenario passes
//! when the system does what it says, and fails, readably, when a policy is broken.

use std::sync::Arc;
use std::time::Duration;

use ddd_core::memory::{InMemoryEventStore, InProcessBus};
use ddd_core::{
    BoundedContext, Envelope, EventBus as _, Policy, PolicyError, PolicyRunner, Reaction, Relay,
    Repository,
};
use ddd_scenario::{Expect, Member, Scenario, Starting, System};
use ddd_service::Background;
use order_payments::ordering::{MarkOrderPaid, Order, OrderCommand, OrderEvent, OrderId, Ordering};
use order_payments::payments::{
    Payment, PaymentCommand, PaymentEvent, PaymentId, Payments, RequestPayment,
};
use order_payments::system::SYSTEM;
use serde_json::json;

/// Ordering and Payments on their own stores, Payments reacting to placed orders with `P`.
struct Contexts {
    orders: Arc<Repository<Order, InMemoryEventStore>>,
    payments: Arc<Repository<Payment, InMemoryEventStore>>,
    request_payment: Requests,
}

impl Contexts {
    fn new(request_payment: Requests) -> Self {
        Self {
            orders: Arc::new(Repository::new(InMemoryEventStore::new())),
            payments: Arc::new(Repository::new(InMemoryEventStore::new())),
            request_payment,
        }
    }
}

impl System for Contexts {
    fn contexts(&self) -> Vec<Member> {
        vec![
            Member::new(Ordering::NAME, self.orders.store().clone()),
            Member::new(Payments::NAME, self.payments.store().clone()),
        ]
    }

    fn start<'a>(&'a self, bus: &'a InProcessBus, background: &'a mut Background) -> Starting<'a> {
        Box::pin(async move {
            let subject = |context: &str| format!("{SYSTEM}.{context}.>");
            let runner = PolicyRunner::new(MarkOrderPaid, Arc::clone(&self.orders));
            let subscription = bus
                .subscribe(PolicyRunner::<MarkOrderPaid, InMemoryEventStore>::consumer(
                    [subject(Payments::NAME)],
                ))
                .await?;
            let stopped = background.stopped();
            background.spawn("mark paid", async move {
                runner
                    .consume(subscription, stopped)
                    .await
                    .map_err(|error| error.to_string())
            });
            let runner = PolicyRunner::new(self.request_payment, Arc::clone(&self.payments));
            let subscription = bus
                .subscribe(
                    PolicyRunner::<Requests, InMemoryEventStore>::consumer([subject(
                        Ordering::NAME,
                    )])
                    .max_deliver(2),
                )
                .await?;
            let stopped = background.stopped();
            background.spawn("request payment", async move {
                runner
                    .consume(subscription, stopped)
                    .await
                    .map_err(|error| error.to_string())
            });
            for (store, routing) in [
                (self.orders.store().clone(), Ordering::routing(SYSTEM)),
                (self.payments.store().clone(), Payments::routing(SYSTEM)),
            ] {
                let relay = Relay::new(store, bus.clone(), routing);
                let stopped = background.stopped();
                background.spawn("relay", async move {
                    relay
                        .run(Duration::from_millis(5), stopped)
                        .await
                        .map_err(|error| error.to_string())
                });
            }
            Ok(())
        })
    }
}

/// Payments' policy on placed orders: the example's own, or broken as someone might.
#[derive(Clone, Copy, Debug)]
enum Requests {
    AsWritten,
    /// Half the amount.
    HalfPrice,
    /// Gives up on every event.
    Refuses,
}

impl Policy for Requests {
    type Event = OrderEvent;
    type Target = Payment;
    const NAME: &'static str = RequestPayment::NAME;

    async fn react(
        &self,
        event: &Envelope<OrderEvent>,
    ) -> Result<Vec<Reaction<Payment>>, PolicyError> {
        let mut reactions = match self {
            Self::Refuses => {
                return Err(PolicyError::Permanent("no payment provider".to_owned()));
            }
            Self::AsWritten | Self::HalfPrice => RequestPayment.react(event).await?,
        };
        if let Self::HalfPrice = self {
            for reaction in &mut reactions {
                if let PaymentCommand::Request { amount_cents, .. } = &mut reaction.command {
                    *amount_cents /= 2;
                }
            }
        }
        Ok(reactions)
    }
}

fn place(total_cents: i64) -> OrderCommand {
    OrderCommand::Place {
        customer: "Ada".into(),
        total_cents,
    }
}

fn placed_order_requests_payment(
    scenario: &Scenario<Contexts>,
) -> ddd_scenario::Then<'_, Contexts> {
    scenario
        .then()
        .events(
            "Ordering",
            [Expect::event("OrderPlaced").with(json!({"total_cents": 4200}))],
        )
        .events(
            "Payments",
            [Expect::event("PaymentRequested")
                .of("Payment")
                .with(json!({"amount_cents": 4200}))],
        )
}

#[tokio::test]
async fn a_placed_order_gets_its_payment_requested_in_the_other_context() {
    let mut scenario = Scenario::new(Contexts::new(Requests::AsWritten)).await;
    let order = OrderId::new();
    scenario
        .when(|s| &*s.orders, &order, place(4200))
        .await
        .expect("accepted");
    placed_order_requests_payment(&scenario).assert().await;
    scenario.stop().await;
}

#[tokio::test]
async fn given_history_is_not_reacted_to_and_the_chain_continues_from_it() {
    let mut scenario = Scenario::new(Contexts::new(Requests::AsWritten)).await;
    let order = OrderId::new();
    let payment = PaymentId::new();
    scenario
        .given(
            |s| &*s.orders,
            &order,
            [OrderEvent::Placed {
                customer: "Ada".into(),
                total_cents: 4200,
            }],
        )
        .await
        .given(
            |s| &*s.payments,
            &payment,
            [PaymentEvent::Requested {
                order,
                amount_cents: 4200,
            }],
        )
        .await;
    scenario
        .when(|s| &*s.payments, &payment, PaymentCommand::Capture)
        .await
        .expect("accepted");
    // Had the given OrderPlaced been published, Payments would record a second request.
    scenario
        .then()
        .events("Payments", [Expect::event("PaymentCaptured")])
        .events(
            "Ordering",
            [Expect::event("OrderPaid").with(json!({"payment": payment.to_string()}))],
        )
        .assert()
        .await;
    scenario.stop().await;
}

/// A scenario whose Payments reacts with `policy`, after an order of 42.00 was placed; it
/// gives up waiting after half a second.
async fn order_placed_with(policy: Requests) -> Scenario<Contexts> {
    let mut scenario = Scenario::new(Contexts::new(policy))
        .await
        .timeout(Duration::from_millis(500));
    scenario
        .when(|s| &*s.orders, &OrderId::new(), place(4200))
        .await
        .expect("accepted");
    scenario
}

#[tokio::test]
async fn a_broken_policy_fails_the_scenario_with_what_differs() {
    let scenario = order_placed_with(Requests::HalfPrice).await;
    let mismatch = placed_order_requests_payment(&scenario)
        .verify()
        .await
        .expect_err("half the price is not what the scenario expects");
    assert_eq!(mismatch.contexts(), ["Payments"]);
    let report = mismatch.to_string();
    for line in [
        "the system did not do what the scenario expects within",
        "  Payments:",
        r#"- expected, not recorded: Payment.PaymentRequested with {"amount_cents":4200}"#,
        "+ recorded, not expected: Payment.PaymentRequested of ",
        r#""amount_cents":2100"#,
    ] {
        assert!(report.contains(line), "no `{line}` in:\n{report}");
    }
    assert!(!report.contains("Ordering:"), "{report}");
    scenario.stop().await;
}

#[tokio::test]
async fn a_policy_that_gives_up_shows_its_dead_letter() {
    let scenario = order_placed_with(Requests::Refuses).await;
    let mismatch = placed_order_requests_payment(&scenario)
        .verify()
        .await
        .expect_err("no payment is requested");
    let report = mismatch.to_string();
    assert!(
        report.contains("(it recorded no event)"),
        "the Payments section says it recorded nothing:\n{report}"
    );
    assert!(
        report.contains(&format!(
            "{} gave up on OrderPlaced (shop.Ordering.OrderPlaced) after 1 attempt(s): no payment provider",
            RequestPayment::NAME
        )),
        "{report}"
    );

    // Expected, the dead letter passes.
    scenario
        .then()
        .events("Ordering", [Expect::event("OrderPlaced")])
        .dead_letter(RequestPayment::NAME)
        .assert()
        .await;
    scenario.stop().await;
}

#[tokio::test]
async fn a_reaction_nobody_expected_fails_even_when_everything_expected_happened() {
    let scenario = order_placed_with(Requests::AsWritten).await;
    let mismatch = scenario
        .then()
        .events("Ordering", [Expect::event("OrderPlaced")])
        .verify()
        .await
        .expect_err("Payments reacted");
    assert_eq!(mismatch.contexts(), ["Payments"]);
    assert!(
        mismatch
            .to_string()
            .contains("+ recorded, not expected: Payment.PaymentRequested"),
        "{mismatch}"
    );
    scenario.stop().await;
}

#[tokio::test]
async fn names_the_system_does_not_have_are_all_reported() {
    let mut scenario = Scenario::new(Contexts::new(Requests::AsWritten)).await;
    scenario
        .when(|s| &*s.orders, &OrderId::new(), place(1))
        .await
        .expect("accepted");
    let mismatch = scenario
        .then()
        .events("Orders", [])
        .rows("Payments", "PaymentBoard", [])
        .verify()
        .await
        .expect_err("neither exists");
    let report = mismatch.to_string();
    assert!(
        report.contains("no context `Orders`; the contexts are Ordering, Payments"),
        "{report}"
    );
    assert!(
        report.contains("Payments has no view `PaymentBoard`; its views are none"),
        "{report}"
    );
    scenario.stop().await;
}
