//! Contender (a): `ddd_core::Repository<BankAccount, InMemoryEventStore>`, without and with
//! guards.
//!
//! The impls are written by hand (what the derives would generate) so the benchmark does not
//! depend on ddd-macros. The command path is the library's: validate, load (cached state or
//! snapshot, plus the stream's tail), decide, append with the expected version, apply, cache.
//! As in generated aggregates, commands are rejected with a [`Rejection`].
//!
//! `BankAccount<true>` checks each command with a `may_<command>` guard before the decision,
//! the way a generated aggregate checks the model's `requires` and lifecycles: the same calls
//! to `ddd_core::rules`, on every command. `BankAccount<false>` is the same aggregate without
//! them; nothing else differs.

use ddd_core::event::codec;
use ddd_core::memory::InMemoryEventStore;
use ddd_core::rules;
use ddd_core::{CodecError, Payload, Rejection, Repository, RepositoryConfig};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{Account, BankAccountCommand, BankAccountEvent, decide, evolve};

/// The aggregate: the shared [`Account`] state; `GUARDS` says whether commands are checked
/// by the `may_*` guards below before the decision.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BankAccount<const GUARDS: bool>(pub Account);

impl<const GUARDS: bool> ddd_core::Aggregate for BankAccount<GUARDS> {
    const TYPE: &'static str = "BankAccount";
    type Id = Uuid;
    type Command = BankAccountCommand;
    type Event = BankAccountEvent;
    type Error = Rejection;
    type Services = ();

    async fn handle(
        &self,
        command: BankAccountCommand,
        _services: &(),
    ) -> Result<Vec<BankAccountEvent>, Rejection> {
        self.decision(command)
    }

    fn apply(&mut self, event: &BankAccountEvent) {
        evolve(&mut self.0, event);
    }
}

impl<const GUARDS: bool> BankAccount<GUARDS> {
    /// What `handle` does: the guard when `GUARDS`, then the shared `decide`.
    pub fn decision(
        &self,
        command: BankAccountCommand,
    ) -> Result<Vec<BankAccountEvent>, Rejection> {
        if GUARDS {
            match &command {
                BankAccountCommand::OpenAccount { .. } => may_open_account(&self.0)?,
                BankAccountCommand::DepositMoney { amount } => {
                    may_deposit_money(&self.0, *amount)?;
                }
                BankAccountCommand::WithdrawMoney { amount } => {
                    may_withdraw_money(&self.0, *amount)?;
                }
            }
        }
        decide(&self.0, command)
            .map(|event| vec![event])
            .map_err(|error| Rejection::new(error.0))
    }
}

/// The largest amount one command moves, in whole units.
const LIMIT: i64 = 1_000_000;

// The guards, as `ddd generate` writes them for these rules of a model:
//
//   command OpenAccount(account_id: String) requires not opened else "the account is open already"
//   command DepositMoney(amount: f64) requires opened else "the account is not open"
//       requires amount * 2 <= 2000000 and balance + amount <= 1000000000 else "..."
//   command WithdrawMoney(amount: f64) requires opened else "the account is not open"
//       requires balance - amount >= 0 and amount * 2 <= 2000000 else "funds not available"
//
// (the arithmetic on whole units, checked: an overflow rejects the command).

fn may_open_account(state: &Account) -> Result<(), Rejection> {
    rules::require(!state.opened, "not opened", "the account is open already")
}

fn may_deposit_money(state: &Account, amount: f64) -> Result<(), Rejection> {
    rules::require(state.opened, "opened", "the account is not open")?;
    rules::require_checked(
        || {
            let (amount, balance) = (amount as i64, state.balance as i64);
            Some(
                amount.checked_mul(2)? <= 2 * LIMIT
                    && balance.checked_add(amount)? <= 1_000 * LIMIT,
            )
        },
        "amount * 2 <= 2000000 and balance + amount <= 1000000000",
        "a deposit is at most 1,000,000 and a balance at most 1,000,000,000",
    )
}

fn may_withdraw_money(state: &Account, amount: f64) -> Result<(), Rejection> {
    rules::require(state.opened, "opened", "the account is not open")?;
    rules::require_checked(
        || {
            let (amount, balance) = (amount as i64, state.balance as i64);
            Some(balance.checked_sub(amount)? >= 0 && amount.checked_mul(2)? <= 2 * LIMIT)
        },
        "balance - amount >= 0 and amount * 2 <= 2000000",
        "funds not available",
    )
}

impl ddd_core::Command for BankAccountCommand {
    fn command_name(&self) -> &'static str {
        match self {
            Self::OpenAccount { .. } => "OpenAccount",
            Self::DepositMoney { .. } => "DepositMoney",
            Self::WithdrawMoney { .. } => "WithdrawMoney",
        }
    }
}

impl ddd_core::DomainEvent for BankAccountEvent {
    fn event_type(&self) -> &'static str {
        self.name()
    }

    fn schema_version(&self) -> u32 {
        1
    }

    fn event_types() -> &'static [&'static str] {
        &[
            "AccountOpened",
            "CustomerDepositedMoney",
            "CustomerWithdrewCash",
        ]
    }

    fn encode(&self) -> Result<Payload, CodecError> {
        codec::encode_variant(self.name(), self)
    }

    fn decode(
        event_type: &str,
        _schema_version: u32,
        payload: Payload,
    ) -> Result<Option<Self>, CodecError> {
        match event_type {
            "AccountOpened" | "CustomerDepositedMoney" | "CustomerWithdrewCash" => {
                codec::decode_variant(event_type, event_type, payload).map(Some)
            }
            _ => Ok(None),
        }
    }
}

/// A repository with the default configuration: state cache on (10,000 aggregates), a
/// snapshot every 100 events; guarded commands when `GUARDS`.
pub fn default_repository<const GUARDS: bool>()
-> Repository<BankAccount<GUARDS>, InMemoryEventStore> {
    Repository::new(InMemoryEventStore::new())
}

/// A repository that rebuilds every aggregate from its whole stream on every command: no
/// cache, no snapshots.
pub fn replaying_repository() -> Repository<BankAccount<false>, InMemoryEventStore> {
    Repository::new(InMemoryEventStore::new()).config(RepositoryConfig {
        cache_capacity: 0,
        snapshot_every: None,
        ..RepositoryConfig::default()
    })
}
