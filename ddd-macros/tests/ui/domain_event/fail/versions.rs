// Versions start at 1, and an upcaster needs an older version to upcast from.
use ddd_core::{DomainEvent, Payload};
use serde::{Deserialize, Serialize};

fn upcast(_: u32, payload: Payload) -> Result<Payload, String> {
    Ok(payload)
}

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
#[event(version = 0)]
pub enum AccountEvent {
    #[event(version = 2, upcast = upcast)]
    Opened { owner: String },
    #[event(version = 1, upcast = upcast)]
    Closed,
}

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
#[event(upcast = upcast)]
pub struct PriceChanged;

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
#[event(version = "2")]
pub struct Repriced;

fn main() {}
