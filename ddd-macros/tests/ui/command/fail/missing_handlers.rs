// A missing handler is reported at its variant; so is a handler whose result is not events
// or whose error does not convert into the aggregate's.
use ddd_core::{Aggregate, Command, DomainEvent, Rejection};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Command)]
#[command(aggregate = Account)]
pub enum AccountCommand {
    Open { owner: String },
    Deposit(i64),
    Close,
}

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub enum AccountEvent {
    Opened,
}

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = String, command = AccountCommand, event = AccountEvent, apply = Account::evolve)]
pub struct Account;

impl Account {
    fn evolve(&mut self, _: &AccountEvent) {}

    fn handle_open(&self, _: String) -> Result<String, Rejection> {
        Ok(String::new())
    }

    fn handle_close(&self) -> Result<AccountEvent, std::fmt::Error> {
        Ok(AccountEvent::Opened)
    }
}

fn main() {}
