// Everything wrong with the lists, reported together: duplicates, a type where a variant
// belongs, a variant of a type published in full, a bad name and an unknown key.
use ddd_core::BoundedContext;

#[derive(BoundedContext)]
#[bounded_context(
    name = "Banking Context",
    aggregates(Account, Customer, Account),
    publishes(AccountEvent, CustomerEvent::Registered, AccountEvent::Opened, AccountEvent::Opened),
    publishes_all(CustomerEvent),
    policies(Welcome, Welcome),
    publish(AccountEvent),
)]
pub struct Banking;

fn main() {}
