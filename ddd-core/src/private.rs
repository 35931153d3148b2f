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

/// Clones an aggregate's id into its `#[aggregate(id)]` field when `#[aggregate(id = ...)]`
/// names the id type too, which only compiles when the two types are the same.
#[diagnostic::on_unimplemented(
    message = "the `#[aggregate(id)]` field is a `{Self}`, but `#[aggregate(id = ...)]` names `{Id}`",
    label = "expected `{Id}` here",
    note = "`set_id` copies the aggregate's id into this field, so both must be the same type"
)]
pub trait SameIdType<Id: ?Sized> {
    /// A clone of `id`, as the field's type.
    fn clone_id(id: &Id) -> Self;
}

impl<T: Clone> SameIdType<T> for T {
    fn clone_id(id: &T) -> T {
        id.clone()
    }
}

/// Stands in for a type that a derive with a mistake in its attributes could not name, in
/// the impls it emits next to its errors, so that one mistake is reported once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Unnamed {}

impl crate::Command for Unnamed {
    fn command_name(&self) -> &'static str {
        match *self {}
    }
}

impl crate::DomainEvent for Unnamed {
    fn event_type(&self) -> &'static str {
        match *self {}
    }

    fn schema_version(&self) -> u32 {
        match *self {}
    }

    fn event_types() -> &'static [&'static str] {
        &[]
    }

    fn encode(&self) -> Result<crate::Payload, crate::CodecError> {
        match *self {}
    }

    fn decode(_: &str, _: u32, _: crate::Payload) -> Result<Option<Self>, crate::CodecError> {
        Ok(None)
    }
}
