// Misspelt keys get a suggestion; unknown ones the list of what is known.
use ddd_core::Command;

#[derive(Clone, Debug, Command)]
#[command(nmae = "Open", aggregat = Account)]
pub enum AccountCommand {
    #[command(renamed = "Start")]
    Open {
        #[command(lenght(1..=100))]
        owner: String,
        #[command(rnage(1..))]
        amount: i64,
        #[command(max = 5, regex = "^a$")]
        code: String,
    },
}

fn main() {}
