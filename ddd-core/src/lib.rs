//! # ddd-core
//!
//! The runtime of **ddd**: aggregates, domain events, commands, value objects and entities;
//! the event store, event bus, outbox and inbox ports; repositories that execute commands
//! with optimistic concurrency; policies and projections; in-memory adapters and a test kit.
//!
//! This crate does no IO. Database and broker adapters are sibling crates that implement
//! [`EventStore`], [`Outbox`], [`Inbox`] and [`EventBus`] and prove it by running
//! `testing::conformance` (feature `testing`) against themselves.
//!
//! With the default `derive` feature the derives of `ddd-macros` are re-exported, so one
//! dependency is enough.
#![cfg_attr(
    feature = "derive",
    doc = r#"
## Example

```
use ddd_core::{Aggregate, Command, DomainEvent, Rejection, Repository};
use ddd_core::memory::InMemoryEventStore;
use serde::{Deserialize, Serialize};

ddd_core::aggregate_id!(pub AccountId);

#[derive(Clone, Debug, PartialEq, Command)]
#[command(aggregate = Account)]
pub enum AccountCommand {
    Open { #[command(len(1..=100))] owner: String },
    Deposit { #[command(range(1..))] amount: i64 },
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(aggregate = Account)]
pub enum AccountEvent {
    Opened { owner: String },
    Deposited { amount: i64 },
}

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = AccountId, command = AccountCommand, event = AccountEvent)]
pub struct Account { open: bool, balance: i64 }

impl Account {
    fn handle_open(&self, owner: String) -> Result<AccountEvent, Rejection> {
        if self.open { return Err(Rejection::new("already open")) }
        Ok(AccountEvent::Opened { owner })
    }
    fn handle_deposit(&self, amount: i64) -> Result<AccountEvent, Rejection> {
        if !self.open { return Err(Rejection::new("not open")) }
        Ok(AccountEvent::Deposited { amount })
    }
    fn apply_opened(&mut self, _owner: &String) { self.open = true }
    fn apply_deposited(&mut self, amount: &i64) { self.balance += amount }
}

# ddd_core::testing::block_on(async {
let accounts = Repository::<Account, _>::new(InMemoryEventStore::new());
let id = AccountId::new();
accounts.execute(&id, AccountCommand::Open { owner: "Ada".into() }).await?;
let done = accounts.execute(&id, AccountCommand::Deposit { amount: 10 }).await?;
assert_eq!(done.version, 2);
assert_eq!(accounts.load(&id).await?.unwrap().state().balance, 10);
# Ok::<_, Box<dyn std::error::Error>>(())
# }).unwrap();
```
"#
)]
#![warn(missing_docs)]

pub mod aggregate;
pub mod bus;
pub mod command;
pub mod context;
pub mod error;
pub mod event;
pub mod memory;
pub mod outbox;
pub mod policy;
pub mod projection;
pub mod repository;
pub mod rules;
pub mod store;
pub mod testing;
pub mod validate;
pub mod value;
pub mod view;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

pub use aggregate::{
    Aggregate, AggregateId, AggregateRoot, DispatchCommand, DispatchEvent, ExpectedVersion, Version,
};
pub use bus::{BusError, ConsumerConfig, Delivery, EventBus, Message, Redelivery, Subscription};
pub use command::{Command, IntoEvents};
pub use context::{AggregateInfo, BoundedContext, PolicyInfo};
pub use error::{Cause, Rejection};
pub use event::{
    CodecError, DomainEvent, Envelope, EventId, Metadata, Payload, Position, RawEnvelope,
    TraceContext,
};
pub use outbox::{Inbox, Lease, Outbox, OutboxListener, OutboxSignal, Relay, RelayError, Routing};
pub use policy::{Handled, Policy, PolicyError, PolicyRunner, Reaction};
pub use projection::{
    BatchError, BatchProjection, CatchUpError, CheckpointStore, InMemoryCheckpoints, Projection,
    ProjectionError, ProjectionRunner,
};
pub use repository::{CommandMeta, ExecuteError, Executed, Repository, RepositoryConfig};
pub use store::{
    AppendError, AppendRequest, Appended, EventStore, InboxMark, Snapshot, StoreError, StreamId,
};
pub use validate::{FieldPath, Validate, ValidationErrors, Violation};
pub use value::{Entity, ValueObject};
pub use view::{
    ColumnType, ColumnValue, ConsistencyToken, RowMeta, View, ViewError, ViewHandle, ViewQuery,
    ViewRunner, ViewSchema, ViewStatus, ViewStore,
};

#[cfg(feature = "derive")]
pub use ddd_macros::{Aggregate, BoundedContext, Command, DomainEvent, Entity, ValueObject};
