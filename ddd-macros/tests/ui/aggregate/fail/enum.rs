use ddd_core::{Aggregate, Command, DomainEvent, Rejection};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Command)]
pub struct Open;

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub struct Opened;

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = String, command = Open, event = Opened, handle = decide, apply = evolve)]
pub enum Account {
    #[default]
    Open,
    Closed,
}

fn decide(_: &Account, _: Open, (): &()) -> Result<Opened, Rejection> {
    Ok(Opened)
}

fn evolve(_: &mut Account, _: &Opened) {}

fn main() {}
