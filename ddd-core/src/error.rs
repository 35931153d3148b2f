//! A ready-made domain error for aggregates that reject commands with a reason.

use std::borrow::Cow;
use std::fmt;

/// A command rejected by the domain, with the reason a person reads.
///
/// The default error type of `#[derive(Aggregate)]`; use your own enum when callers need to
/// tell reasons apart.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection(Cow<'static, str>);

impl Rejection {
    /// A rejection with a reason.
    pub fn new(reason: impl Into<Cow<'static, str>>) -> Self {
        Self(reason.into())
    }

    /// The reason.
    pub fn reason(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Rejection {}

impl From<&'static str> for Rejection {
    fn from(reason: &'static str) -> Self {
        Self::new(reason)
    }
}

impl From<String> for Rejection {
    fn from(reason: String) -> Self {
        Self::new(reason)
    }
}
