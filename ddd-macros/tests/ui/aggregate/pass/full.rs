//! Every `#[aggregate]` key at once, with the dispatch of both companion derives.
use ddd_core::{Aggregate, Command, DomainEvent, Rejection};
use serde::{Deserialize, Serialize};

ddd_core::aggregate_id!(pub AccountId);

#[derive(Clone, Debug, Command)]
#[command(aggregate = Account, services)]
pub enum AccountCommand {
    Open { owner: String },
    Close,
}

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
#[event(aggregate = Account)]
pub enum AccountEvent {
    Opened { owner: String },
    Closed,
}

#[derive(Debug)]
pub struct Clock;

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(
    id = AccountId,
    command = AccountCommand,
    event = AccountEvent,
    error = Rejection,
    services = Clock,
    name = "Account",
    snapshot_version = 2,
)]
pub struct Account {
    #[aggregate(id)]
    id: Option<AccountId>,
    #[aggregate(version)]
    version: u64,
    open: bool,
}

impl Account {
    fn handle_open(&self, owner: String, _: &Clock) -> Result<AccountEvent, Rejection> {
        Ok(AccountEvent::Opened { owner })
    }
    fn handle_close(&self, _: &Clock) -> Result<AccountEvent, &'static str> {
        if self.open { Ok(AccountEvent::Closed) } else { Err("not open") }
    }
    fn apply_opened(&mut self, _: &str) {
        self.open = true;
    }
    fn apply_closed(&mut self) {
        self.open = false;
    }
}

fn main() {
    assert_eq!(Account::TYPE, "Account");
    let _ = (Account::default().id, Account::default().version);
}
