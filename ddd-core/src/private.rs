//! Items used by code that `ddd-macros` and `aggregate_id!` generate. Not public API: it
//! changes with the derives, which pin this crate's exact version.

pub use core::future::Future;
pub use std::borrow::Cow;
pub use std::sync::LazyLock;

pub use regex::Regex;
pub use serde::{Deserialize, Deserializer, Serialize, Serializer};
pub use serde_json::Value;
pub use uuid::{Error as UuidError, Uuid};

pub use crate::event::codec::{decode_struct, decode_variant, encode_struct, encode_variant};
pub use crate::validate::nested::{NestedField, SkipNested, ValidateNested};
pub use crate::validate::{check_len, check_pattern, check_range};

/// Maps an event enum's Rust variant names to their stable type names, so
/// `#[derive(BoundedContext)]` can name published events by variant.
pub trait EventVariants {
    /// The stable type name of the variant called `variant` in Rust.
    fn event_type_of_variant(variant: &str) -> Option<&'static str>;
}

/// Compiles a `pattern` constraint's regex once; the derive checked that it is valid.
pub fn compile_pattern(pattern: &str) -> Regex {
    Regex::new(pattern).unwrap_or_else(|error| {
        unreachable!("ddd-macros validated the pattern `{pattern}` at compile time: {error}")
    })
}
