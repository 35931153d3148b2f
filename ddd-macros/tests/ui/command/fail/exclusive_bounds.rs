// Bounds are inclusive: `a..b` is rejected with a pointer to `..=`.
use ddd_core::Command;

#[derive(Clone, Debug, Command)]
pub struct Deposit {
    #[command(range(1..100))]
    amount: i64,
    #[command(len(1..5))]
    memo: String,
    #[command(len(..10))]
    tags: Vec<String>,
}

fn main() {}
