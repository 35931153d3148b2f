// Per-variant dispatch needs variants; `services` and `async` need `aggregate`; enums name
// their variants with `rename`; command names are unique.
use ddd_core::Command;

#[derive(Default)]
pub struct Account;

#[derive(Clone, Debug, Command)]
#[command(aggregate = Account)]
pub struct Deposit {
    amount: i64,
}

#[derive(Clone, Debug, Command)]
#[command(name = "Account", services, async)]
pub enum AccountCommand {
    Open,
    #[command(rename = "Open")]
    Reopen,
    #[command(rename = "")]
    Close,
}

fn main() {}
