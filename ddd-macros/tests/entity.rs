//! What `#[derive(Entity)]` does: identity equality and hashing, the id accessor, and
//! validation.

use std::collections::HashSet;

use ddd_core::{Entity, Validate, ValueObject};

#[derive(Clone, Debug, ValueObject)]
pub struct Quantity(#[value(range(1..=99))] u32);

#[derive(Clone, Debug, Entity)]
pub struct OrderLine {
    #[entity(id)]
    line_no: u32,
    #[entity(len(1..=20))]
    sku: String,
    quantity: Quantity,
    #[entity(skip)]
    note: String,
}

fn line(line_no: u32, sku: &str, quantity: u32) -> OrderLine {
    OrderLine {
        line_no,
        sku: sku.into(),
        quantity: Quantity(quantity),
        note: String::new(),
    }
}

#[test]
fn entities_are_equal_when_their_ids_are() {
    assert_eq!(line(1, "A", 1), line(1, "B", 7));
    assert_ne!(line(1, "A", 1), line(2, "A", 1));
    let set: HashSet<_> = [line(1, "A", 1), line(1, "B", 2), line(2, "A", 1)]
        .into_iter()
        .collect();
    assert_eq!(set.len(), 2);
}

#[test]
fn the_id_is_the_marked_field() {
    let line = line(7, "A", 1);
    assert_eq!(*line.entity_id(), 7);
    assert!(line.note.is_empty());
}

#[test]
fn entities_validate_their_fields_and_nested_values() {
    assert!(line(1, "A", 1).validate().is_ok());
    let errors = line(1, "", 0).validate().unwrap_err();
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["sku", "quantity.0"]);
}

/// Value objects compare by value, entities by identity: the same attributes make the same
/// value but not the same entity.
#[derive(Clone, Debug, ValueObject)]
#[value(eq)]
pub struct Sku(String);

#[derive(Clone, Debug, Entity)]
pub struct Product {
    #[entity(id)]
    id: u64,
    sku: Sku,
}

#[test]
fn values_and_entities_differ_in_what_makes_them_equal() {
    let a = Product {
        id: 1,
        sku: Sku("X".into()),
    };
    let b = Product {
        id: 2,
        sku: Sku("X".into()),
    };
    assert_eq!(a.sku, b.sku);
    assert_ne!(a, b);
}
