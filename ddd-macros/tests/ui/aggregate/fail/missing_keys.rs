// Every required key is missing: all three are reported at once.
use ddd_core::Aggregate;
use serde::{Deserialize, Serialize};

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
pub struct Account {
    balance: i64,
}

fn main() {}
