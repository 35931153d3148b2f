//! What `#[derive(Debug, BoundedContext)]` does: the context's name, aggregates, published events
//! and policies.

use ddd_core::{
    AggregateInfo, BoundedContext, Command, DomainEvent, Envelope, Policy, PolicyError, PolicyInfo,
    Reaction, Rejection,
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
pub enum AccountEvent {
    Opened {
        owner: String,
    },
    #[event(rename = "MoneyDeposited")]
    Deposited {
        amount: i64,
    },
    Closed,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
pub enum CustomerEvent {
    Registered { name: String },
    Left,
}

#[derive(Clone, Debug, PartialEq, Command)]
pub struct Noop;

#[derive(Debug, Default, Serialize, Deserialize, ddd_core::Aggregate)]
#[aggregate(id = String, command = Noop, event = AccountEvent, handle = Account::decide, apply = Account::evolve)]
pub struct Account;

#[derive(Debug, Default, Serialize, Deserialize, ddd_core::Aggregate)]
#[aggregate(id = String, command = Noop, event = CustomerEvent, handle = Customer::decide, apply = Customer::evolve)]
pub struct Customer;

impl Account {
    fn decide(&self, _: Noop, (): &()) -> Result<(), Rejection> {
        Ok(())
    }

    fn evolve(&mut self, _: &AccountEvent) {}
}

impl Customer {
    fn decide(&self, _: Noop, (): &()) -> Result<(), Rejection> {
        Ok(())
    }

    fn evolve(&mut self, _: &CustomerEvent) {}
}

/// Opens an account for every new customer.
#[derive(Debug)]
pub struct WelcomePolicy;

impl Policy for WelcomePolicy {
    type Event = CustomerEvent;
    type Target = Account;
    const NAME: &'static str = "welcome";

    async fn react(
        &self,
        _: &Envelope<CustomerEvent>,
    ) -> Result<Vec<Reaction<Account>>, PolicyError> {
        Ok(Vec::new())
    }
}

#[derive(Debug, BoundedContext)]
#[bounded_context(
    name = "Banking",
    aggregates(Account, Customer),
    publishes(AccountEvent::Opened, AccountEvent::Deposited),
    publishes_all(CustomerEvent),
    policies(WelcomePolicy)
)]
pub struct Banking;

#[test]
fn the_context_lists_what_it_is_made_of() {
    assert_eq!(Banking::NAME, "Banking");
    assert_eq!(
        Banking::aggregates(),
        [
            AggregateInfo::of::<Account>(),
            AggregateInfo::of::<Customer>()
        ]
    );
    assert_eq!(
        Banking::aggregates()[0].event_types,
        AccountEvent::event_types()
    );
    assert_eq!(
        Banking::published_events(),
        ["Opened", "MoneyDeposited", "Registered", "Left"]
    );
    assert_eq!(
        Banking::policies(),
        [PolicyInfo {
            name: "welcome",
            reacts_to: &["Registered", "Left"],
            target: "Account",
        }]
    );
    assert!(Banking::publishes("MoneyDeposited"));
    assert!(!Banking::publishes("Closed"));
}

/// An empty context is named after its type.
#[derive(Debug, BoundedContext)]
pub struct Reporting;

#[test]
fn an_empty_context_is_named_after_its_type() {
    assert_eq!(Reporting::NAME, "Reporting");
    assert!(Reporting::aggregates().is_empty());
    assert!(Reporting::published_events().is_empty());
    assert!(Reporting::policies().is_empty());
}
