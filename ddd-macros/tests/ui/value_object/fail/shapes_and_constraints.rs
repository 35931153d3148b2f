// A union is no value, an enum without variants has none, and constraints are checked as
// everywhere else.
use ddd_core::ValueObject;

#[derive(Clone, Copy, ValueObject)]
pub union Bits {
    a: u32,
    b: f32,
}

#[derive(Clone, Debug, ValueObject)]
pub enum Never {}

#[derive(Clone, Debug, ValueObject)]
pub struct Ratio(#[value(len(0..=1))] f64, #[value(range(0..1))] f64);

fn main() {}
