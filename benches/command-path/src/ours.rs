//! Contender (a): `ddd_core::Repository<BankAccount, InMemoryEventStore>`.
//!
//! The impls are written by hand (what the derives would generate) so the benchmark does not
//! depend on ddd-macros. The command path is the library's: validate, load (cached state or
//! snapshot, plus the stream's tail), decide, append with the expected version, apply, cache.

use ddd_core::event::codec;
use ddd_core::memory::InMemoryEventStore;
use ddd_core::{CodecError, Payload, Repository, RepositoryConfig};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use crate::domain::{
    Account, BankAccountCommand, BankAccountError, BankAccountEvent, decide, evolve,
};

/// The aggregate: the shared [`Account`] state.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BankAccount(pub Account);

impl ddd_core::Aggregate for BankAccount {
    const TYPE: &'static str = "BankAccount";
    type Id = Uuid;
    type Command = BankAccountCommand;
    type Event = BankAccountEvent;
    type Error = BankAccountError;
    type Services = ();

    async fn handle(
        &self,
        command: BankAccountCommand,
        _services: &(),
    ) -> Result<Vec<BankAccountEvent>, BankAccountError> {
        decide(&self.0, command).map(|event| vec![event])
    }

    fn apply(&mut self, event: &BankAccountEvent) {
        evolve(&mut self.0, event);
    }
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
/// snapshot every 100 events.
pub fn default_repository() -> Repository<BankAccount, InMemoryEventStore> {
    Repository::new(InMemoryEventStore::new())
}

/// A repository that rebuilds every aggregate from its whole stream on every command: no
/// cache, no snapshots.
pub fn replaying_repository() -> Repository<BankAccount, InMemoryEventStore> {
    Repository::new(InMemoryEventStore::new()).config(RepositoryConfig {
        cache_capacity: 0,
        snapshot_every: None,
        ..RepositoryConfig::default()
    })
}
