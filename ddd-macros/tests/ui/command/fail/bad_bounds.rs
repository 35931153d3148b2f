// Bounds are number literals in the right form for their constraint.
use ddd_core::Command;

const MAX: i64 = 10;

#[derive(Clone, Debug, Command)]
pub struct Deposit {
    #[command(len(-1..))]
    a: String,
    #[command(len(1.5))]
    b: String,
    #[command(range(5))]
    c: i64,
    #[command(range("a"..="z"))]
    d: i64,
    #[command(len(..))]
    e: String,
    #[command(range(1..=MAX))]
    f: i64,
    #[command(len)]
    g: String,
    #[command(pattern(5))]
    h: String,
}

fn main() {}
