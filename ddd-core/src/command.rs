//! Commands, and the glue that lets the derives dispatch commands and events to per-variant
//! methods.

use std::fmt;
use std::future::Future;

use crate::aggregate::Aggregate;
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

/// Routes a command to the aggregate method that decides it. `#[derive(Command)]` with
/// `#[command(aggregate = A)]` implements it by calling `A::handle_<variant>` per variant;
/// `#[derive(Aggregate)]` calls it unless `#[aggregate(handle = ...)]` names a function.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not dispatch to the handlers of `{A}`",
    label = "no per-variant dispatch for this command type",
    note = "add `#[command(aggregate = {A})]` to `{Self}` to call `{A}::handle_<variant>` methods, or name one decision function with `#[aggregate(handle = path::to::decide)]`"
)]
pub trait DispatchCommand<A: Aggregate>: Sized {
    /// Decides `self` on `aggregate`.
    fn dispatch(
        self,
        aggregate: &A,
        services: &A::Services,
    ) -> impl Future<Output = Result<Vec<A::Event>, A::Error>> + Send;
}

/// Routes an event to the aggregate method that applies it. `#[derive(DomainEvent)]` with
/// `#[event(aggregate = A)]` implements it by calling `A::apply_<variant>` per variant.
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not dispatch to the appliers of `{A}`",
    label = "no per-variant dispatch for this event type",
    note = "add `#[event(aggregate = {A})]` to `{Self}` to call `{A}::apply_<variant>` methods, or name one function with `#[aggregate(apply = path::to::evolve)]`"
)]
pub trait DispatchEvent<A> {
    /// Applies `self` to `aggregate`.
    fn dispatch(&self, aggregate: &mut A);
}
