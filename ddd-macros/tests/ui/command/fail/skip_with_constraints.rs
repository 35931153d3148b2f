use ddd_core::Command;

#[derive(Clone, Debug, Command)]
pub struct Open {
    #[command(skip, len(1..), pattern("^a"))]
    owner: String,
}

fn main() {}
