//! Named, tuple, newtype, unit and enum values, with and without `eq`.
use std::collections::HashSet;

use ddd_core::ValueObject;

#[derive(Clone, Debug, ValueObject)]
#[value(eq)]
pub struct Money {
    #[value(range(0..))]
    cents: i64,
    #[value(len(3), pattern("^[A-Z]+$"))]
    currency: String,
}

#[derive(Clone, Debug, ValueObject)]
pub struct Point(f64, f64);

#[derive(Clone, Debug, ValueObject)]
#[value(eq)]
pub struct Sku(#[value(len(1..=20))] String);

#[derive(Clone, Debug, ValueObject)]
#[value(eq)]
pub struct Unit;

#[derive(Clone, Debug, ValueObject)]
#[value(eq)]
pub enum Contact {
    Email(Sku),
    Phone { #[value(pattern(r"^\+?\d+$"))] number: String, #[value(skip)] note: String },
    None,
}

#[derive(Clone, Debug, ValueObject)]
pub enum Single {
    Only(u8),
}

fn main() {
    let set: HashSet<Money> = HashSet::new();
    let _ = (set, Point(0.0, 1.0) == Point(0.0, 1.0), Unit == Unit, Single::Only(1) == Single::Only(1));
    let _ = Sku::try_from(String::from("A")).map(|sku| sku.as_ref().len());
    let _ = Contact::None;
}
