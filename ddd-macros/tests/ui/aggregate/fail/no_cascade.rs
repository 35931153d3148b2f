// A mistake in the attributes is reported once: the aggregate still implements
// `Aggregate`, so the repository and the test kit below raise no errors of their own.
use ddd_core::memory::InMemoryEventStore;
use ddd_core::testing::AggregateTest;
use ddd_core::{Aggregate, Command, DomainEvent, Rejection, Repository};
use serde::{Deserialize, Serialize};

ddd_core::aggregate_id!(pub AccountId);

#[derive(Clone, Debug, PartialEq, Command)]
#[command(aggregate = Account)]
pub enum AccountCommand {
    Open { owner: String },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(aggregate = Account)]
pub enum AccountEvent {
    Opened { owner: String },
}

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = AccountId, command = AccountCommand, event = AccountEvent, snapshot_version = 0, nmae = "Account")]
pub struct Account {
    open: bool,
}

impl Account {
    fn handle_open(&self, owner: String) -> Result<AccountEvent, Rejection> {
        Ok(AccountEvent::Opened { owner })
    }
    fn apply_opened(&mut self, _: &str) {
        self.open = true;
    }
}

async fn open(accounts: &Repository<Account, InMemoryEventStore>) {
    let id = AccountId::new();
    let done = accounts.execute(&id, AccountCommand::Open { owner: "Ada".into() }).await.unwrap();
    assert_eq!(done.version, 1);
    let _: Option<ddd_core::AggregateRoot<Account>> = accounts.load(&id).await.unwrap();
}

fn main() {
    let accounts = Repository::<Account, _>::new(InMemoryEventStore::new());
    let _ = open(&accounts);
    AggregateTest::<Account>::new()
        .when(AccountCommand::Open { owner: "Ada".into() })
        .then([AccountEvent::Opened { owner: "Ada".into() }]);
}
