//! A ready-made domain error for aggregates that reject commands with a reason.

use std::borrow::Cow;
use std::fmt;

/// A command rejected by the domain, with the reason a person reads.
///
/// The default error type of `#[derive(Aggregate)]`; use your own enum when callers need to
/// tell reasons apart. A rejection may also say which rule was broken, or which state the
/// aggregate is in and which states the command needs: HTTP adapters show these to clients.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rejection {
    reason: Cow<'static, str>,
    cause: Option<Box<Cause>>,
}

/// What a rejection was about, beyond its reason.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Cause {
    /// A rule the command must meet (`requires not checked_out`), as written in the model.
    Rule(Cow<'static, str>),
    /// The command needs `field` in one of the `allowed` states; it is in `current`.
    State {
        /// The state field (`status`).
        field: Cow<'static, str>,
        /// Its state now, as `Debug` shows it.
        current: String,
        /// The states the command may start from.
        allowed: Vec<Cow<'static, str>>,
    },
}

impl Rejection {
    /// A rejection with a reason.
    pub fn new(reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            reason: reason.into(),
            cause: None,
        }
    }

    /// A broken rule: `rule` as written in the model, `reason` what a person reads.
    pub fn rule(rule: impl Into<Cow<'static, str>>, reason: impl Into<Cow<'static, str>>) -> Self {
        Self {
            reason: reason.into(),
            cause: Some(Box::new(Cause::Rule(rule.into()))),
        }
    }

    /// `command` needs `field` in one of `allowed`; it is in `current`.
    pub fn state(
        command: &str,
        field: &'static str,
        current: impl fmt::Debug,
        allowed: &[&'static str],
    ) -> Self {
        let current = format!("{current:?}");
        let listed: Vec<String> = allowed.iter().map(|s| format!("`{s}`")).collect();
        let reason = format!(
            "`{command}` needs `{field}` to be {}; it is `{current}`",
            join_or(&listed)
        );
        Self {
            reason: reason.into(),
            cause: Some(Box::new(Cause::State {
                field: field.into(),
                current,
                allowed: allowed.iter().map(|s| Cow::Borrowed(*s)).collect(),
            })),
        }
    }

    /// The reason.
    pub fn reason(&self) -> &str {
        &self.reason
    }

    /// What the rejection was about, when it says.
    pub fn cause(&self) -> Option<&Cause> {
        self.cause.as_deref()
    }
}

fn join_or(items: &[String]) -> String {
    match items {
        [] => "in another state".to_owned(),
        [only] => only.clone(),
        [init @ .., last] => format!("{} or {last}", init.join(", ")),
    }
}

impl fmt::Display for Rejection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.reason)
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
