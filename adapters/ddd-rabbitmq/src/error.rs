//! How AMQP failures map onto [`BusError`].

use ddd_core::BusError;
use lapin::ErrorKind;

/// The reply code of a refused declaration with other arguments (`PRECONDITION_FAILED`).
const PRECONDITION_FAILED: u16 = 406;

/// A failure of the connection or a channel: retrying on a new connection may work.
pub(crate) fn unavailable(what: &str, error: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(format!("{what}: {error}"))
}

/// A failed declaration: a queue that exists with other arguments is the consumer's
/// configuration; anything else is the broker being unavailable.
pub(crate) fn declare(what: &str, error: &lapin::Error) -> BusError {
    match error.kind() {
        ErrorKind::ProtocolError(amqp) if amqp.get_id() == PRECONDITION_FAILED => {
            BusError::InvalidConsumer(format!("{what}: {error}"))
        }
        _ => unavailable(what, error),
    }
}

/// A message the broker returned as unroutable: no queue is bound for its subject.
pub(crate) fn unroutable(subject: &str) -> BusError {
    BusError::Rejected(format!(
        "no queue is bound for `{subject}` (published as mandatory): no consumer wants it"
    ))
}

/// A message the broker refused to take responsibility for (`basic.nack`).
pub(crate) fn nacked(subject: &str) -> BusError {
    BusError::Unavailable(format!(
        "the broker did not take `{subject}` (basic.nack): a queue is unavailable"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unroutable_messages_are_rejected_and_nacks_are_retryable() {
        assert!(matches!(unroutable("a.b.C"), BusError::Rejected(m) if m.contains("a.b.C")));
        assert!(matches!(nacked("a.b.C"), BusError::Unavailable(_)));
    }
}
