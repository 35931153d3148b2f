//! Parse + validate time of a generated 1,000-aggregate model. Run with
//! `scripts/bench-model.sh` (or `cargo bench -p ddd-model --bench load`).

fn main() {}
