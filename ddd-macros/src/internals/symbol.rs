//! Every attribute name the derives understand, in one place.

use std::fmt::{self, Display};

use syn::{Ident, Path};

/// An attribute namespace or key, compared against parsed paths and idents.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) struct Symbol(pub(crate) &'static str);

// Namespaces: one per derive, plus serde's, which `DomainEvent` reads.
pub(crate) const AGGREGATE: Symbol = Symbol("aggregate");
pub(crate) const BOUNDED_CONTEXT: Symbol = Symbol("bounded_context");
pub(crate) const COMMAND: Symbol = Symbol("command");
pub(crate) const ENTITY: Symbol = Symbol("entity");
pub(crate) const EVENT: Symbol = Symbol("event");
pub(crate) const SERDE: Symbol = Symbol("serde");
pub(crate) const VALUE: Symbol = Symbol("value");

// Keys. `command` doubles as the namespace above.
pub(crate) const AGGREGATES: Symbol = Symbol("aggregates");
pub(crate) const APPLY: Symbol = Symbol("apply");
pub(crate) const ASYNC: Symbol = Symbol("async");
pub(crate) const EQ: Symbol = Symbol("eq");
pub(crate) const ERROR: Symbol = Symbol("error");
pub(crate) const HANDLE: Symbol = Symbol("handle");
pub(crate) const ID: Symbol = Symbol("id");
pub(crate) const LEN: Symbol = Symbol("len");
pub(crate) const NAME: Symbol = Symbol("name");
pub(crate) const PATTERN: Symbol = Symbol("pattern");
pub(crate) const POLICIES: Symbol = Symbol("policies");
pub(crate) const PUBLISHES: Symbol = Symbol("publishes");
pub(crate) const PUBLISHES_ALL: Symbol = Symbol("publishes_all");
pub(crate) const RANGE: Symbol = Symbol("range");
pub(crate) const RENAME: Symbol = Symbol("rename");
pub(crate) const SERVICES: Symbol = Symbol("services");
pub(crate) const SKIP: Symbol = Symbol("skip");
pub(crate) const SNAPSHOT_VERSION: Symbol = Symbol("snapshot_version");
pub(crate) const UPCAST: Symbol = Symbol("upcast");
pub(crate) const VERSION: Symbol = Symbol("version");

// serde keys that decide how an enum is tagged and what its variants are called.
pub(crate) const CONTENT: Symbol = Symbol("content");
pub(crate) const DESERIALIZE: Symbol = Symbol("deserialize");
pub(crate) const RENAME_ALL: Symbol = Symbol("rename_all");
pub(crate) const TAG: Symbol = Symbol("tag");
pub(crate) const UNTAGGED: Symbol = Symbol("untagged");

impl PartialEq<Symbol> for Ident {
    fn eq(&self, word: &Symbol) -> bool {
        self == word.0
    }
}

impl PartialEq<Symbol> for &Ident {
    fn eq(&self, word: &Symbol) -> bool {
        *self == word.0
    }
}

impl PartialEq<Symbol> for Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl PartialEq<Symbol> for &Path {
    fn eq(&self, word: &Symbol) -> bool {
        self.is_ident(word.0)
    }
}

impl Display for Symbol {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.0)
    }
}
