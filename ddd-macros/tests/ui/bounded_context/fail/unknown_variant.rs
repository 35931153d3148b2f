// A published variant that does not exist is reported at the variant, a type that has
// no variants at the type.
use ddd_core::{BoundedContext, DomainEvent};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub enum AccountEvent {
    Opened { owner: String },
}

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub struct Audited;

#[derive(BoundedContext)]
#[bounded_context(publishes(AccountEvent::Openned, Audited::Audited))]
pub struct Banking;

fn main() {}
