// Each variant without its `apply_<variant>` method is reported at the variant.
use ddd_core::DomainEvent;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
#[event(aggregate = Account)]
pub enum AccountEvent {
    Opened { owner: String },
    MoneyDeposited(i64),
    Closed,
}

#[derive(Default)]
pub struct Account;

impl Account {
    fn apply_opened(&mut self, _: &str) {}
    fn apply_closed(&mut self, _: bool) {}
}

fn main() {}
