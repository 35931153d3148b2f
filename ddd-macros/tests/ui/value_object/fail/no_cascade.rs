// A broken value still compares, validates and converts, so its uses raise nothing more.
use ddd_core::{Validate, ValueObject};

#[derive(Clone, Debug, ValueObject)]
#[value(eq)]
pub struct Email(#[value(pattern("[unclosed"))] String);

fn main() {
    let a = Email::try_from(String::from("a@b")).unwrap();
    assert!(a == a.clone());
    assert!(a.validate().is_ok());
    let _: &String = a.as_ref();
    let _ = std::collections::HashSet::<Email>::new();
}
