// A `len` on a type that has no length (and is no obvious primitive) is left to the trait
// bound, which is reported at the constraint.
use ddd_core::Command;

#[derive(Clone, Debug)]
pub struct Owner(String);

#[derive(Clone, Debug, Command)]
pub struct Open {
    #[command(len(1..))]
    owner: Owner,
    #[command(range(1..))]
    amount: Owner,
}

fn main() {}
