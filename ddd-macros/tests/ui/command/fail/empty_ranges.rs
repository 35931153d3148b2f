// A minimum above the maximum can never be met.
use ddd_core::Command;

#[derive(Clone, Debug, Command)]
pub struct Deposit {
    #[command(range(100..=1))]
    amount: i64,
    #[command(range(-0.5..=-1.5))]
    rate: f64,
    #[command(len(10..=2))]
    memo: String,
}

fn main() {}
