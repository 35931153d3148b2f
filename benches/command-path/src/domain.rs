//! The one BankAccount domain all contenders run, modelled on cqrs-es's own BankAccount
//! example (its book, "Getting started" / "Adding more logic"): open an account, deposit
//! money, withdraw cash with an error when the funds are not available.
//!
//! The decision (`decide`) and the evolution (`evolve`) are plain functions over
//! [`Account`]; each contender only wraps them in its framework's traits, so every contender
//! runs exactly the same domain logic.

use serde::{Deserialize, Serialize};

/// The commands.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BankAccountCommand {
    /// Opens the account.
    OpenAccount { account_id: String },
    /// Deposits money.
    DepositMoney { amount: f64 },
    /// Withdraws cash; rejected when the balance would go negative.
    WithdrawMoney { amount: f64 },
}

/// The events; each carries the balance after it, as in the cqrs-es example.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum BankAccountEvent {
    AccountOpened { account_id: String },
    CustomerDepositedMoney { amount: f64, balance: f64 },
    CustomerWithdrewCash { amount: f64, balance: f64 },
}

impl BankAccountEvent {
    /// The event's type name.
    pub fn name(&self) -> &'static str {
        match self {
            Self::AccountOpened { .. } => "AccountOpened",
            Self::CustomerDepositedMoney { .. } => "CustomerDepositedMoney",
            Self::CustomerWithdrewCash { .. } => "CustomerWithdrewCash",
        }
    }
}

/// Why a command was rejected.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BankAccountError(pub &'static str);

impl std::fmt::Display for BankAccountError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for BankAccountError {}

/// The account's state.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Account {
    pub opened: bool,
    // A float, as in the cqrs-es example; the workload only moves whole amounts.
    pub balance: f64,
}

/// Decides one command: exactly one event, or a rejection.
pub fn decide(
    account: &Account,
    command: BankAccountCommand,
) -> Result<BankAccountEvent, BankAccountError> {
    match command {
        BankAccountCommand::OpenAccount { account_id } => {
            if account.opened {
                return Err(BankAccountError("account already open"));
            }
            Ok(BankAccountEvent::AccountOpened { account_id })
        }
        BankAccountCommand::DepositMoney { amount } => {
            if !account.opened {
                return Err(BankAccountError("account not open"));
            }
            let balance = account.balance + amount;
            Ok(BankAccountEvent::CustomerDepositedMoney { amount, balance })
        }
        BankAccountCommand::WithdrawMoney { amount } => {
            if !account.opened {
                return Err(BankAccountError("account not open"));
            }
            let balance = account.balance - amount;
            if balance < 0_f64 {
                return Err(BankAccountError("funds not available"));
            }
            Ok(BankAccountEvent::CustomerWithdrewCash { amount, balance })
        }
    }
}

/// Folds one event into the state.
pub fn evolve(account: &mut Account, event: &BankAccountEvent) {
    match event {
        BankAccountEvent::AccountOpened { .. } => account.opened = true,
        BankAccountEvent::CustomerDepositedMoney { balance, .. }
        | BankAccountEvent::CustomerWithdrewCash { balance, .. } => account.balance = *balance,
    }
}
