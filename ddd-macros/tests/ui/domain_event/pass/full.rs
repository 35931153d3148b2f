//! Every `#[event]` key, serde renames, raw identifiers and generics.
use ddd_core::{DomainEvent, Payload};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
#[serde(rename_all = "kebab-case")]
#[event(version = 2, aggregate = Account)]
pub enum AccountEvent {
    Opened { owner: String },
    #[event(rename = "MoneyDeposited", version = 3, upcast = upcast)]
    #[serde(rename = "deposit")]
    Deposited(i64),
    #[event(version = 1)]
    r#Closed,
}

fn upcast(_: u32, payload: Payload) -> Result<Payload, String> {
    Ok(payload)
}

#[derive(Default)]
pub struct Account;

impl Account {
    fn apply_opened(&mut self, _: &str) {}
    fn apply_deposited(&mut self, _: &i64) {}
    fn apply_closed(&mut self) {}
}

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
#[event(name = "Tick", version = 4, upcast = upcast)]
pub struct Tick<T: Clone + std::fmt::Debug + Send + Sync + 'static> {
    at: T,
}

fn main() {
    assert_eq!(AccountEvent::event_types(), ["Opened", "MoneyDeposited", "Closed"]);
    assert_eq!(Tick::<u8>::event_types(), ["Tick"]);
    let _ = Tick { at: 1_u8 }.at;
}
