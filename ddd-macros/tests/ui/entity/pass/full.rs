use ddd_core::{Entity, ValueObject};

#[derive(Clone, Debug, ValueObject)]
pub struct Quantity(#[value(range(1..))] u32);

#[derive(Clone, Debug, Entity)]
pub struct OrderLine {
    #[entity(id)]
    line_no: u32,
    #[entity(len(1..=20), pattern("^[A-Z]"))]
    sku: String,
    quantity: Quantity,
    #[entity(skip)]
    note: Option<String>,
}

fn main() {
    let line = OrderLine { line_no: 1, sku: "A".into(), quantity: Quantity(1), note: None };
    assert_eq!(*line.entity_id(), 1);
    let _ = (line.sku, line.quantity, line.note);
}
