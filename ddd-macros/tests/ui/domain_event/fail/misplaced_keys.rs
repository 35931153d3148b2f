// Keys that belong elsewhere: `name` and `upcast` on an enum, `aggregate` on a struct,
// `rename` on a container, `name` on a variant, and attributes on fields.
use ddd_core::{DomainEvent, Payload};
use serde::{Deserialize, Serialize};

fn upcast(_: u32, payload: Payload) -> Result<Payload, String> {
    Ok(payload)
}

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
#[event(name = "Account", upcast = upcast, version = 2)]
pub enum AccountEvent {
    #[event(name = "Opened")]
    Opened {
        #[event(rename = "who")]
        owner: String,
    },
}

#[derive(Default)]
pub struct Pricing;

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
#[event(aggregate = Pricing, rename = "Priced")]
pub struct PriceChanged;

fn main() {}
