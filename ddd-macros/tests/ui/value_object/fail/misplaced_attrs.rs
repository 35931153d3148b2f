// `eq` takes no value, variants take no options, and unknown keys are named.
use ddd_core::ValueObject;

#[derive(Clone, Debug, ValueObject)]
#[value(eq = true, hash)]
pub enum Contact {
    #[value(rename = "mail")]
    Email(String),
    Phone {
        #[value(lne(1..))]
        number: String,
    },
}

fn main() {}
