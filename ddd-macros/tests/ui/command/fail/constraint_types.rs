// Each constraint on a type it cannot apply to is reported at the constraint, all at once.
use ddd_core::Command;

#[derive(Clone, Debug, Command)]
pub struct Deposit {
    #[command(len(1..=10))]
    amount: u64,
    #[command(range(1..))]
    owner: String,
    #[command(pattern("^x$"))]
    urgent: bool,
    #[command(range(1..=3))]
    lines: Vec<String>,
    #[command(len(1..), range(0..))]
    initial: Option<char>,
    #[command(pattern = "^[0-9]+$")]
    reference: Option<u32>,
}

fn main() {}
