use ddd_core::DomainEvent;
use serde::{Deserialize, Serialize};

fn upcast(from: u32) -> Option<String> {
    Some(from.to_string())
}

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub enum AccountEvent {
    #[event(version = 2, upcast = upcast)]
    Opened { owner: String },
    #[event(version = 2, upcast = missing::upcast)]
    Closed,
}

fn main() {}
