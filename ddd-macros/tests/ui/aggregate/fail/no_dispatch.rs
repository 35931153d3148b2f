// Neither the command nor the event type dispatches per variant, and there are no
// `handle`/`apply` functions: both errors point at the type in the attribute.
use ddd_core::{Aggregate, Command, DomainEvent};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Command)]
pub enum AccountCommand {
    Open,
}

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub enum AccountEvent {
    Opened,
}

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = String, command = AccountCommand, event = AccountEvent)]
pub struct Account;

fn main() {}
