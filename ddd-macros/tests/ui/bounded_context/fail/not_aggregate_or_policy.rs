// A listed type that is not what its list says is reported at its name.
use ddd_core::BoundedContext;

pub struct Account;
pub struct Welcome;
pub struct NotAnEvent;

#[derive(BoundedContext)]
#[bounded_context(aggregates(Account), policies(Welcome), publishes_all(NotAnEvent))]
pub struct Banking;

fn main() {}
