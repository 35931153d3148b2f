use ddd_core::{Aggregate, Command, DomainEvent};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Command)]
pub struct Open;

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub struct Opened;

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(command = Open, event = Opened)]
pub struct Account {
    id: String,
}

fn main() {}
