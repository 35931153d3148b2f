use ddd_core::Command;

#[derive(Clone, Debug, Command)]
pub enum AccountCommand {
    Open {
        #[command(pattern("^[A-Z{3}$"))]
        currency: String,
        #[command(pattern = "(unclosed")]
        reference: String,
    },
}

fn main() {}
