//! A hand-written aggregate, so these tests exercise the core without the derives.
#![allow(
    dead_code,
    reason = "each test binary uses a different part of this module"
)]

use ddd_core::event::codec;
use ddd_core::validate::{FieldPath, check_range};
use ddd_core::{
    Aggregate, CodecError, Command, DomainEvent, Payload, Rejection, Validate, ValidationErrors,
};
use serde::{Deserialize, Serialize};

ddd_core::aggregate_id!(pub(crate) AccountId);

#[derive(Clone, Debug, PartialEq)]
pub(crate) enum AccountCommand {
    Open,
    Deposit(i64),
    Withdraw(i64),
}

impl Validate for AccountCommand {
    fn validate_at(&self, path: &FieldPath<'_>, errors: &mut ValidationErrors) {
        if let Self::Deposit(amount) | Self::Withdraw(amount) = self {
            check_range(
                amount,
                Some(1),
                None,
                &FieldPath::Field(path, "amount"),
                errors,
            );
        }
    }
}

impl Command for AccountCommand {
    fn command_name(&self) -> &'static str {
        match self {
            Self::Open => "Open",
            Self::Deposit(_) => "Deposit",
            Self::Withdraw(_) => "Withdraw",
        }
    }

    fn validate(&self) -> Result<(), ValidationErrors> {
        Validate::validate(self)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub(crate) enum AccountEvent {
    Opened,
    Deposited { amount: i64 },
    Withdrawn { amount: i64 },
}

impl DomainEvent for AccountEvent {
    fn event_type(&self) -> &'static str {
        match self {
            Self::Opened => "Opened",
            Self::Deposited { .. } => "Deposited",
            Self::Withdrawn { .. } => "Withdrawn",
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }

    fn event_types() -> &'static [&'static str] {
        &["Opened", "Deposited", "Withdrawn"]
    }

    fn encode(&self) -> Result<Payload, CodecError> {
        codec::encode_variant(self.event_type(), self)
    }

    fn decode(event_type: &str, _: u32, payload: Payload) -> Result<Option<Self>, CodecError> {
        if !Self::event_types().contains(&event_type) {
            return Ok(None);
        }
        codec::decode_variant(event_type, event_type, payload).map(Some)
    }
}

#[derive(Debug, Default, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct Account {
    pub(crate) open: bool,
    pub(crate) balance: i64,
    /// How many events were applied: a replay that applies an event twice shows here.
    pub(crate) applied: u64,
    pub(crate) version: u64,
}

impl Aggregate for Account {
    const TYPE: &'static str = "Account";
    type Id = AccountId;
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
            AccountCommand::Open if self.open => Err(Rejection::new("already open")),
            AccountCommand::Open => Ok(vec![AccountEvent::Opened]),
            _ if !self.open => Err(Rejection::new("not open")),
            AccountCommand::Deposit(amount) => Ok(vec![AccountEvent::Deposited { amount }]),
            AccountCommand::Withdraw(amount) if amount > self.balance => {
                Err(Rejection::new("insufficient funds"))
            }
            AccountCommand::Withdraw(amount) => Ok(vec![AccountEvent::Withdrawn { amount }]),
        }
    }

    fn apply(&mut self, event: &AccountEvent) {
        self.applied += 1;
        match event {
            AccountEvent::Opened => self.open = true,
            AccountEvent::Deposited { amount } => self.balance += amount,
            AccountEvent::Withdrawn { amount } => self.balance -= amount,
        }
    }

    fn set_version(&mut self, version: u64) {
        self.version = version;
    }
}
