//! A bank account written by hand against ddd-core's traits (no derives), for the
//! [`repository`](super::repository) checks and for adapters' own tests of read models and
//! relays: it depends on nothing but the store under test.

use crate::event::codec;
use crate::{Aggregate, CodecError, Command, DomainEvent, Payload, Rejection};
use serde::{Deserialize, Serialize};

/// What the account is asked.
#[derive(Clone, Debug, PartialEq)]
pub enum AccountCommand {
    /// Puts money in.
    Deposit(i64),
    /// Takes money out; refused beyond the balance.
    Withdraw(i64),
}

impl Command for AccountCommand {
    fn command_name(&self) -> &'static str {
        match self {
            Self::Deposit(_) => "Deposit",
            Self::Withdraw(_) => "Withdraw",
        }
    }
}

/// What happened to the account.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub enum AccountEvent {
    /// Money was put in.
    Deposited {
        /// How much.
        amount: i64,
    },
    /// Money was taken out.
    Withdrawn {
        /// How much.
        amount: i64,
    },
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::Deposited { .. } => "Deposited",
            Self::Withdrawn { .. } => "Withdrawn",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }

    fn event_types() -> &'static [&'static str] {
        &["Deposited", "Withdrawn"]
    }

    fn encode(&self) -> Result<Payload, CodecError> {
        codec::encode_variant(self.event_type(), self)
    }

    fn decode(event_type: &str, _: u32, payload: Payload) -> Result<Option<Self>, CodecError> {
        match event_type {
            "Deposited" | "Withdrawn" => {
                codec::decode_variant(event_type, event_type, payload).map(Some)
            }
            _ => Ok(None),
        }
    }
}

/// The balance, and how many events were folded in: an event applied twice shows in both.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Account {
    /// The balance.
    pub balance: i64,
    /// How many events were applied.
    pub applied: u64,
}

impl Aggregate for Account {
    const TYPE: &'static str = "Account";
    type Id = String;
    type Command = AccountCommand;
    type Event = AccountEvent;
    type Error = Rejection;
    type Services = ();

    async fn handle(
        &self,
        command: AccountCommand,
        (): &(),
    ) -> Result<Vec<AccountEvent>, Rejection> {
        match command {
            AccountCommand::Deposit(amount) => Ok(vec![AccountEvent::Deposited { amount }]),
            AccountCommand::Withdraw(amount) if amount > self.balance => Err(Rejection::new(
                format!("balance {} is less than {amount}", self.balance),
            )),
            AccountCommand::Withdraw(amount) => Ok(vec![AccountEvent::Withdrawn { amount }]),
        }
    }

    fn apply(&mut self, event: &AccountEvent) {
        self.applied += 1;
        match event {
            AccountEvent::Deposited { amount } => self.balance += amount,
            AccountEvent::Withdrawn { amount } => self.balance -= amount,
        }
    }
}

/// The state a fold of `events` from scratch gives.
pub fn fold<'a>(events: impl IntoIterator<Item = &'a AccountEvent>) -> Account {
    let mut account = Account::default();
    for event in events {
        account.apply(event);
    }
    account
}
