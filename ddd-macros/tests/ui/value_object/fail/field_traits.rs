// A field without `PartialEq` (or, with `eq`, without `Hash`) is reported at its type.
use ddd_core::ValueObject;

#[derive(Clone, Debug)]
pub struct Opaque;

#[derive(Clone, Debug, ValueObject)]
#[value(eq)]
pub struct Wrapper {
    inner: Opaque,
    ratio: f64,
}

fn main() {}
