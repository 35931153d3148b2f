// The codec needs serde's externally tagged form: each way out of it is reported.
use ddd_core::DomainEvent;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
#[serde(tag = "type", content = "data")]
pub enum Adjacent {
    Opened { owner: String },
}

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
#[serde(untagged)]
pub enum Untagged {
    Opened { owner: String },
}

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub enum PartlyUntagged {
    Opened { owner: String },
    #[serde(untagged)]
    Other(String),
}

fn main() {}
