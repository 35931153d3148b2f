use ddd_core::Command;

#[derive(Clone, Debug, Command)]
pub struct Open {
    #[command(len(1..), len(..=5))]
    owner: String,
    #[command(range(1..))]
    #[command(range(..=9))]
    amount: i64,
    #[command(pattern("a"), pattern = "b", skip, skip)]
    code: String,
}

fn main() {}
