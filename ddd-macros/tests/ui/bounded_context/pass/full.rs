use ddd_core::{Aggregate, BoundedContext, Command, DomainEvent, Envelope, Policy, PolicyError, Reaction, Rejection};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Command)]
pub struct Noop;

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub enum AccountEvent {
    Opened { owner: String },
    Deposited(i64),
    Closed,
}

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub struct Audited;

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = String, command = Noop, event = AccountEvent, handle = Account::decide, apply = Account::evolve)]
pub struct Account;

impl Account {
    fn decide(&self, _: Noop, (): &()) -> Result<(), Rejection> {
        Ok(())
    }
    fn evolve(&mut self, _: &AccountEvent) {}
}

pub struct Audit;

impl Policy for Audit {
    type Event = AccountEvent;
    type Target = Account;
    const NAME: &'static str = "audit";

    async fn react(&self, _: &Envelope<AccountEvent>) -> Result<Vec<Reaction<Account>>, PolicyError> {
        Ok(Vec::new())
    }
}

pub mod events {
    pub use super::AccountEvent;
}

#[derive(BoundedContext)]
#[bounded_context(
    name = "Banking",
    aggregates(Account),
    publishes(AccountEvent::Opened, events::AccountEvent::Deposited, AccountEvent::Closed),
    publishes_all(Audited),
    policies(Audit),
)]
pub struct Banking;

fn main() {
    assert_eq!(Banking::published_events(), ["Opened", "Deposited", "Closed", "Audited"]);
}
