//! Names and source locations, shared by the syntax tree and the IR.

use std::borrow::{Borrow, Cow};
use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::ops::{Deref, Range};
use std::sync::Arc;

use schemars::{JsonSchema, Schema, SchemaGenerator, json_schema};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A byte range in a source text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Span {
    pub start: u32,
    pub end: u32,
}

impl Span {
    /// Offsets beyond `u32::MAX` are clamped; the readers refuse such large inputs up front.
    pub fn new(start: usize, end: usize) -> Span {
        let clamp = |offset: usize| u32::try_from(offset).unwrap_or(u32::MAX);
        Span {
            start: clamp(start),
            end: clamp(end),
        }
    }

    /// The span that covers both `self` and `other`.
    pub fn to(self, other: Span) -> Span {
        Span {
            start: self.start.min(other.start),
            end: self.end.max(other.end),
        }
    }

    /// The same span in a source that starts `base` bytes later.
    #[must_use]
    pub fn shift(self, base: u32) -> Span {
        Span {
            start: self.start.saturating_add(base),
            end: self.end.saturating_add(base),
        }
    }

    pub fn range(self) -> Range<usize> {
        self.start as usize..self.end as usize
    }
}

/// Where an IR node was written in a `.ddd` file; `None` for IR read from JSON or YAML.
///
/// A location is metadata, not meaning: equality, ordering and hashing ignore it, so a model
/// read from `.ddd` equals the same model read back from JSON.
#[derive(Debug, Clone, Copy, Default)]
pub struct Origin(pub Option<Span>);

impl Origin {
    pub const NONE: Origin = Origin(None);

    pub fn span(self) -> Option<Span> {
        self.0
    }
}

impl From<Option<Span>> for Origin {
    fn from(span: Option<Span>) -> Origin {
        Origin(span)
    }
}

impl From<Span> for Origin {
    fn from(span: Span) -> Origin {
        Origin(Some(span))
    }
}

impl PartialEq for Origin {
    fn eq(&self, _: &Origin) -> bool {
        true
    }
}

impl Eq for Origin {}

impl PartialOrd for Origin {
    fn partial_cmp(&self, other: &Origin) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Origin {
    fn cmp(&self, _: &Origin) -> Ordering {
        Ordering::Equal
    }
}

impl Hash for Origin {
    fn hash<H: Hasher>(&self, _: &mut H) {}
}

/// A name in the model (a type, context, field, ...), with where it was written.
///
/// Serialized as a plain string. Compares, orders and hashes like its text, so it can key a
/// map looked up by `&str`. Cheap to clone: resolved paths and derived plans repeat names
/// many times over.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Name {
    text: Arc<str>,
    origin: Origin,
}

impl Name {
    pub fn new(text: impl Into<Arc<str>>) -> Name {
        Name {
            text: text.into(),
            origin: Origin::NONE,
        }
    }

    pub fn spanned(text: impl Into<Arc<str>>, span: Span) -> Name {
        Name {
            text: text.into(),
            origin: span.into(),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    pub fn span(&self) -> Option<Span> {
        self.origin.span()
    }

    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// The same name, located at `span`.
    #[must_use]
    pub fn at(&self, span: Option<Span>) -> Name {
        Name {
            text: Arc::clone(&self.text),
            origin: Origin(span),
        }
    }
}

impl Deref for Name {
    type Target = str;

    fn deref(&self) -> &str {
        &self.text
    }
}

impl Borrow<str> for Name {
    fn borrow(&self) -> &str {
        &self.text
    }
}

impl AsRef<str> for Name {
    fn as_ref(&self) -> &str {
        &self.text
    }
}

impl PartialEq<str> for Name {
    fn eq(&self, other: &str) -> bool {
        *self.text == *other
    }
}

impl PartialEq<&str> for Name {
    fn eq(&self, other: &&str) -> bool {
        *self.text == **other
    }
}

impl From<&str> for Name {
    fn from(text: &str) -> Name {
        Name::new(text)
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl fmt::Debug for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.text, f)
    }
}

impl Serialize for Name {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.text)
    }
}

impl<'de> Deserialize<'de> for Name {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Name, D::Error> {
        String::deserialize(deserializer).map(Name::new)
    }
}

impl JsonSchema for Name {
    fn schema_name() -> Cow<'static, str> {
        "Name".into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "type": "string",
            "description": "A name: PascalCase for types, contexts, aggregates, commands, events and variants; snake_case for fields.",
        })
    }
}
