//! Commands, and what a command handler may return as its events.

use std::fmt;

use crate::validate::ValidationErrors;

/// An intention to change one aggregate. Commands are validated before they are handled:
/// the constraints of the domain language (`len`, `range`, `pattern`) hold whether a command
/// came from HTTP, the bus or code.
///
/// `#[derive(Command)]` writes this impl.
pub trait Command: Clone + fmt::Debug + Send + Sync + 'static {
    /// The command's name, for logs, metrics and errors.
    fn command_name(&self) -> &'static str;

    /// Checks every constraint and reports all violations at once.
    fn validate(&self) -> Result<(), ValidationErrors> {
        Ok(())
    }
}

/// What a decision may return: one event, several, or none.
pub trait IntoEvents<E> {
    /// The events, in order.
    fn into_events(self) -> Vec<E>;
}

impl<E: crate::event::DomainEvent> IntoEvents<E> for E {
    fn into_events(self) -> Vec<E> {
        vec![self]
    }
}

impl<E> IntoEvents<E> for Vec<E> {
    fn into_events(self) -> Vec<E> {
        self
    }
}

impl<E> IntoEvents<E> for Option<E> {
    fn into_events(self) -> Vec<E> {
        self.into_iter().collect()
    }
}

impl<E, const N: usize> IntoEvents<E> for [E; N] {
    fn into_events(self) -> Vec<E> {
        self.into()
    }
}

impl<E> IntoEvents<E> for () {
    fn into_events(self) -> Vec<E> {
        Vec::new()
    }
}
