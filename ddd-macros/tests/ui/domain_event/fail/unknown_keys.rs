use ddd_core::DomainEvent;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
#[event(verison = 2, aggregates = Account)]
pub enum AccountEvent {
    #[event(renmae = "Opened", upcaster = up)]
    Opened { owner: String },
}

fn main() {}
