//! `handle` and `apply` functions instead of the per-variant dispatch; a unit struct.
use ddd_core::{Aggregate, Command, DomainEvent, Rejection};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Command)]
pub struct Ping;

#[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
pub struct Ponged;

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = String, command = Ping, event = Ponged, handle = decide, apply = Pinger::evolve)]
pub struct Pinger;

fn decide(_: &Pinger, _: Ping, (): &()) -> Result<Vec<Ponged>, Rejection> {
    Ok(vec![Ponged])
}

impl Pinger {
    fn evolve(&mut self, _: &Ponged) {}
}

fn main() {
    assert_eq!(Pinger::TYPE, "Pinger");
}
