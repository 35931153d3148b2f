//! In-memory adapters: the event store (with views) and the in-process bus. Complete and
//! safe under concurrency; they back the modular monolith's tests and pass the conformance
//! suite.

mod bus;
mod store;
mod views;

pub use bus::{InProcessBus, InProcessDelivery, InProcessSubscription};
pub use store::InMemoryEventStore;
