// A broken event attribute is reported once: the aggregate that records these events, and
// its `apply` dispatch, compile as if the event were fine.
use ddd_core::{Aggregate, Command, DomainEvent, Rejection};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Command)]
#[command(aggregate = Account)]
pub enum AccountCommand {
    Open,
}

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
#[event(aggregate = Account, version = 0)]
pub enum AccountEvent {
    #[event(rename = "Opened Event")]
    Opened,
}

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = String, command = AccountCommand, event = AccountEvent)]
pub struct Account;

impl Account {
    fn handle_open(&self) -> Result<AccountEvent, Rejection> {
        Ok(AccountEvent::Opened)
    }
    fn apply_opened(&mut self) {}
}

fn main() {
    let names: &[&str] = AccountEvent::event_types();
    let _ = names;
}
