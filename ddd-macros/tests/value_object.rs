//! What `#[derive(ValueObject)]` does: equality by value, optional `Eq` + `Hash`,
//! validation, and for newtypes a validating `TryFrom` and `AsRef`.

use std::collections::HashSet;

use ddd_core::{Validate, ValueObject};

#[derive(Clone, Debug, ValueObject)]
#[value(eq)]
pub struct Money {
    #[value(range(0..))]
    cents: i64,
    #[value(pattern("^[A-Z]{3}$"))]
    currency: String,
}

fn money(cents: i64, currency: &str) -> Money {
    Money {
        cents,
        currency: currency.into(),
    }
}

fn hash_count(values: impl IntoIterator<Item = Money>) -> usize {
    values.into_iter().collect::<HashSet<_>>().len()
}

#[test]
fn values_are_equal_when_all_fields_are() {
    assert_eq!(money(5, "EUR"), money(5, "EUR"));
    assert_ne!(money(5, "EUR"), money(5, "USD"));
    assert_ne!(money(5, "EUR"), money(6, "EUR"));
    assert_eq!(
        hash_count([money(5, "EUR"), money(5, "EUR"), money(5, "USD")]),
        2
    );
}

#[test]
fn values_validate_their_fields() {
    assert!(money(0, "EUR").validate().is_ok());
    let errors = money(-1, "eur").validate().unwrap_err();
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["cents", "currency"]);
    assert_eq!(
        errors.to_string(),
        "invalid input: cents: must be at least 0 (is -1); currency: must match `^[A-Z]{3}$`"
    );
}

#[derive(Clone, Debug, ValueObject)]
#[value(eq)]
pub struct Email(#[value(len(3..=254), pattern("^[^@ ]+@[^@ ]+$"))] String);

#[test]
fn newtypes_convert_with_validation() {
    let email = Email::try_from("ada@example.com".to_owned()).unwrap();
    assert_eq!(email.as_ref(), "ada@example.com");
    let errors = Email::try_from("nope".to_owned()).unwrap_err();
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["0"]);
    let errors = Email::try_from("@".to_owned()).unwrap_err();
    assert_eq!(errors.violations().len(), 2);
}

/// Enum values compare variant and fields; `skip` leaves a field out of validation only.
#[derive(Clone, Debug, ValueObject)]
#[value(eq)]
pub enum Address {
    Postal {
        #[value(len(1..))]
        street: String,
        #[value(skip)]
        note: String,
    },
    Digital(Email),
    Unknown,
}

#[test]
fn enum_values_compare_variant_and_fields() {
    let postal = |street: &str| Address::Postal {
        street: street.into(),
        note: String::new(),
    };
    assert_eq!(postal("Main St"), postal("Main St"));
    assert_ne!(postal("Main St"), postal("High St"));
    assert_ne!(postal("Main St"), Address::Unknown);
    assert_eq!(Address::Unknown, Address::Unknown);
    let set: HashSet<_> = [postal("a"), postal("a"), Address::Unknown, Address::Unknown]
        .into_iter()
        .collect();
    assert_eq!(set.len(), 2);
}

#[test]
fn enum_values_validate_the_active_variant_and_nested_values() {
    assert!(Address::Unknown.validate().is_ok());
    let errors = Address::Postal {
        street: String::new(),
        note: String::new(),
    }
    .validate()
    .unwrap_err();
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["street"]);
    let errors = Address::Digital(Email("x".into())).validate().unwrap_err();
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["0.0", "0.0"]);
}

/// Without `eq`, only `PartialEq`: floats are values too.
#[derive(Clone, Debug, ValueObject)]
pub struct Ratio(#[value(range(0..=1))] f64);

#[test]
fn float_values_take_integer_bounds() {
    assert_eq!(Ratio(0.5), Ratio(0.5));
    assert!(Ratio(1.0).validate().is_ok());
    assert!(Ratio(1.5).validate().is_err());
    assert!(Ratio(f64::NAN).validate().is_err());
    assert_eq!(Ratio::try_from(0.25).unwrap(), Ratio(0.25));
}

/// A unit value is equal to itself, and generic values work.
#[derive(Clone, Debug, ValueObject)]
#[value(eq)]
pub struct Nothing;

#[derive(Clone, Debug, ValueObject)]
pub struct Tagged<T: Clone + PartialEq + std::fmt::Debug>(T);

fn is_value<V: ValueObject>(_: &V) {}

#[test]
fn unit_and_generic_values() {
    assert_eq!(Nothing, Nothing);
    is_value(&Nothing);
    assert_eq!(Tagged(1), Tagged(1));
    assert_ne!(Tagged("a"), Tagged("b"));
    assert_eq!(*Tagged(3).as_ref(), 3);
}
