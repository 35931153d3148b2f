// A duplicate key, a misspelt key and a key from another namespace: three errors.
use ddd_core::{Aggregate, Command, DomainEvent};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Command)]
pub struct Open;

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub struct Opened;

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = String, command = Open, event = Opened, comand = Open)]
#[aggregate(command = Open, version = 2)]
pub struct Account {
    balance: i64,
}

fn main() {}
