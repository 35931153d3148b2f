// A name with a dot, a snapshot version of 0, a value that is not a type and a flag
// given a value: all reported together.
use ddd_core::{Aggregate, Command, DomainEvent};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Command)]
pub struct Open;

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub struct Opened;

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(command = Open, event = Opened, name = "bank.Account", snapshot_version = 0)]
#[aggregate(services = "Clock")]
pub struct Account {
    #[aggregate(id = String)]
    id: String,
}

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = String, command = Open, event = Opened, name = "", snapshot_version = -1)]
pub struct Ledger;

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = String, command = Open, event = Opened, name = "a/b c")]
pub struct Journal;

fn main() {}
