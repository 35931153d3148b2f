//! A bank account, event-sourced with the ddd derives.
//!
//! The commands carry their constraints (`len`, `range`, `pattern`), the events their stable
//! names and schema versions, and the aggregate decides per command in `handle_*` methods
//! and evolves per event in `apply_*` methods; the derives wire them together.

use ddd_core::{Aggregate, Command, DomainEvent, ValueObject};
use serde::{Deserialize, Serialize};

ddd_core::aggregate_id! {
    /// Identifies an account.
    pub AccountId
}

/// An amount of money in minor units of one currency.
#[derive(Clone, Copy, Debug, Default, Serialize, Deserialize, ValueObject)]
#[value(eq)]
pub struct Money {
    /// Minor units (cents).
    #[value(range(0..))]
    pub cents: i64,
}

/// What can be asked of an account.
#[derive(Clone, Debug, PartialEq, Command)]
#[command(aggregate = Account)]
pub enum AccountCommand {
    /// Opens the account for its owner.
    Open {
        /// The owner's name.
        #[command(len(1..=100))]
        owner: String,
        /// The ISO 4217 currency of the account.
        #[command(pattern("^[A-Z]{3}$"))]
        currency: String,
    },
    /// Puts money in.
    Deposit {
        /// How much, in cents.
        #[command(range(1..=100_000_000))]
        cents: i64,
    },
    /// Takes money out, never below zero.
    Withdraw {
        /// How much, in cents.
        #[command(range(1..))]
        cents: i64,
    },
    /// Closes the account; it must be empty.
    Close,
}

/// What happened to an account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(aggregate = Account)]
pub enum AccountEvent {
    /// The account was opened.
    Opened {
        /// The owner's name.
        owner: String,
        /// Its currency.
        currency: String,
    },
    /// Money was put in. Version 2 renamed `amount` to `cents`; older events are upcast.
    #[event(rename = "MoneyDeposited", version = 2, upcast = upcast_deposit)]
    Deposited {
        /// How much, in cents.
        cents: i64,
    },
    /// Money was taken out.
    #[event(rename = "MoneyWithdrawn")]
    Withdrawn {
        /// How much, in cents.
        cents: i64,
    },
    /// The account was closed.
    Closed,
}

/// Version 1 of `MoneyDeposited` called the field `amount`.
fn upcast_deposit(
    from_version: u32,
    mut payload: ddd_core::Payload,
) -> Result<ddd_core::Payload, String> {
    if from_version == 1 {
        let object = payload
            .as_object_mut()
            .ok_or("a deposit payload is an object")?;
        let amount = object.remove("amount").ok_or("a v1 deposit has `amount`")?;
        object.insert("cents".to_owned(), amount);
    }
    Ok(payload)
}

/// Why an account refused a command.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum AccountError {
    /// Open was asked twice.
    #[error("the account is already open")]
    AlreadyOpen,
    /// Anything but Open on an account that is not open.
    #[error("the account is not open")]
    NotOpen,
    /// A withdrawal larger than the balance.
    #[error("insufficient funds: the balance is {balance} cents")]
    InsufficientFunds {
        /// The balance when it was refused.
        balance: i64,
    },
    /// Close with money left.
    #[error("the account still holds {balance} cents")]
    NotEmpty {
        /// What is left.
        balance: i64,
    },
}

/// A bank account.
#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = AccountId, command = AccountCommand, event = AccountEvent, error = AccountError)]
pub struct Account {
    owner: String,
    open: bool,
    balance: Money,
    #[aggregate(version)]
    version: u64,
}

impl Account {
    /// The balance.
    pub fn balance(&self) -> Money {
        self.balance
    }

    /// Whether it is open.
    pub fn is_open(&self) -> bool {
        self.open
    }

    /// The version of the last event applied.
    pub fn version(&self) -> u64 {
        self.version
    }

    fn ensure_open(&self) -> Result<(), AccountError> {
        if self.open {
            Ok(())
        } else {
            Err(AccountError::NotOpen)
        }
    }

    fn handle_open(&self, owner: String, currency: String) -> Result<AccountEvent, AccountError> {
        if self.open || !self.owner.is_empty() {
            return Err(AccountError::AlreadyOpen);
        }
        Ok(AccountEvent::Opened { owner, currency })
    }

    fn handle_deposit(&self, cents: i64) -> Result<AccountEvent, AccountError> {
        self.ensure_open()?;
        Ok(AccountEvent::Deposited { cents })
    }

    fn handle_withdraw(&self, cents: i64) -> Result<AccountEvent, AccountError> {
        self.ensure_open()?;
        if cents > self.balance.cents {
            return Err(AccountError::InsufficientFunds {
                balance: self.balance.cents,
            });
        }
        Ok(AccountEvent::Withdrawn { cents })
    }

    fn handle_close(&self) -> Result<Vec<AccountEvent>, AccountError> {
        self.ensure_open()?;
        match self.balance.cents {
            0 => Ok(vec![AccountEvent::Closed]),
            balance => Err(AccountError::NotEmpty { balance }),
        }
    }

    fn apply_opened(&mut self, owner: &str, _currency: &str) {
        self.owner = owner.to_owned();
        self.open = true;
    }

    fn apply_deposited(&mut self, cents: &i64) {
        self.balance.cents += cents;
    }

    fn apply_withdrawn(&mut self, cents: &i64) {
        self.balance.cents -= cents;
    }

    fn apply_closed(&mut self) {
        self.open = false;
    }
}
