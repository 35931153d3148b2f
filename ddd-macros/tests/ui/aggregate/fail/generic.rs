use ddd_core::Aggregate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = String, command = (), event = ())]
pub struct Account<T> {
    state: T,
}

fn main() {}
