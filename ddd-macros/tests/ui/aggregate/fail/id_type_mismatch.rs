use ddd_core::{Aggregate, Command, DomainEvent, Rejection};
use serde::{Deserialize, Serialize};

ddd_core::aggregate_id!(pub AccountId);

#[derive(Clone, Debug, Command)]
pub struct Open;

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub struct Opened;

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = AccountId, command = Open, event = Opened, handle = decide, apply = evolve)]
pub struct Account {
    #[aggregate(id)]
    id: String,
}

fn decide(_: &Account, _: Open, (): &()) -> Result<Opened, Rejection> {
    Ok(Opened)
}

fn evolve(_: &mut Account, _: &Opened) {}

fn main() {}
