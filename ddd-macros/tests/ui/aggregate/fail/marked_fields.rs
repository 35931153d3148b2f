// Two id fields, two version fields, and one field that is both.
use ddd_core::{Aggregate, Command, DomainEvent};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Command)]
pub struct Open;

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub struct Opened;

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(command = Open, event = Opened)]
pub struct Account {
    #[aggregate(id)]
    id: String,
    #[aggregate(id)]
    other_id: String,
    #[aggregate(version)]
    version: u64,
    #[aggregate(version, id)]
    seen: u64,
}

fn main() {}
