// The payload codec needs serde: the missing impls are reported at the type.
use ddd_core::DomainEvent;

#[derive(Clone, Debug, DomainEvent)]
pub enum AccountEvent {
    Opened { owner: String },
}

fn main() {}
