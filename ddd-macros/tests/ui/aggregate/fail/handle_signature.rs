// `handle` returns something that is not events, with an error that does not convert.
use ddd_core::{Aggregate, Command, DomainEvent};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Command)]
pub struct Open;

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub struct Opened;

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = String, command = Open, event = Opened, handle = decide, apply = evolve)]
pub struct Account;

fn decide(_: &Account, _: Open, (): &()) -> Result<String, std::fmt::Error> {
    Ok(String::new())
}

fn evolve(_: &mut Account, _: &Opened) {}

fn main() {}
