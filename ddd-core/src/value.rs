//! Value objects and entities.

use std::fmt;
use std::hash::Hash;

use crate::validate::Validate;

/// A value defined by its attributes alone: two values with equal fields are the same value.
/// `#[derive(ValueObject)]` writes field-wise equality and the constraint checks.
pub trait ValueObject: Clone + PartialEq + fmt::Debug + Validate {}

/// An object with an identity that outlives changes to its attributes: two entities with the
/// same id are the same entity. `#[derive(Entity)]` writes identity equality and hashing.
pub trait Entity: Validate {
    /// The identity type.
    type Id: Clone + Eq + Hash + fmt::Debug;

    /// The entity's identity.
    fn entity_id(&self) -> &Self::Id;
}
