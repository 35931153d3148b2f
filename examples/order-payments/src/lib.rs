//! Two bounded contexts that only talk through published events:
//!
//! - **Ordering** places orders and marks them paid when Payments says so;
//! - **Payments** requests a payment for every placed order and captures it.
//!
//! Each context has its own event store (database per service) and relay; the in-process
//! bus carries `shop.<context>.<Event>` between them, and each policy is a durable consumer
//! that records the events it handled in the same append as the commands' effects.

pub mod ordering;
pub mod payments;
pub mod system;
