//! The `ddd` binary, end to end: one test binary, a module per command.

mod artefacts;
mod check;
mod completions;
mod diff;
mod docs;
mod evolution;
mod generate;
mod graph;
mod harness;
mod help;
mod imports;
mod new;
mod replicas;
mod schema;
mod schemathesis;
mod shop;

/// The contract's example model.
const SHOP: &str = include_str!("../../../examples/shop/shop.ddd");
