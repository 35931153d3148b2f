// A duplicate name, a name with whitespace, one with a subject wildcard and an empty one.
use ddd_core::DomainEvent;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub enum AccountEvent {
    Opened { owner: String },
    #[event(rename = "Opened")]
    Reopened { owner: String },
    #[event(rename = "Money Deposited")]
    Deposited(i64),
    #[event(rename = "Closed.*")]
    Closed,
    #[event(rename = "")]
    Frozen,
}

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
#[event(name = "price>changed")]
pub struct PriceChanged;

fn main() {}
