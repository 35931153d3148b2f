//! How NATS failures map onto [`BusError`].

use std::time::Duration;

use async_nats::jetstream::context::{PublishError, PublishErrorKind};
use ddd_core::BusError;

/// A failure that left the broker unreachable or its answer missing: retry later.
pub(crate) fn unavailable(what: &str, error: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(format!("{what}: {error}"))
}

/// Anything else, with its source kept.
pub(crate) fn other(what: &str, error: impl std::error::Error + Send + Sync + 'static) -> BusError {
    BusError::Other {
        message: format!("{what}: {error}"),
        source: Some(Box::new(error)),
    }
}

/// A publish ack that failed: timeouts and lost connections can be retried (the event id
/// deduplicates the retry), a refusal cannot.
pub(crate) fn publish(error: PublishError, timeout: Duration) -> BusError {
    match error.kind() {
        PublishErrorKind::TimedOut => BusError::Timeout(timeout),
        PublishErrorKind::BrokenPipe | PublishErrorKind::StreamNotFound => {
            unavailable("publish", error)
        }
        PublishErrorKind::MaxPayloadExceeded
        | PublishErrorKind::WrongLastMessageId
        | PublishErrorKind::WrongLastSequence => BusError::Rejected(error.to_string()),
        PublishErrorKind::MaxAckPending | PublishErrorKind::Other => other("publish", error),
    }
}

/// An ack, nak or term that was not confirmed: the delivery will come again, so the caller
/// may treat it as not settled.
pub(crate) fn settle(what: &str, error: &async_nats::Error) -> BusError {
    BusError::Unavailable(format!("{what} not confirmed: {error}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn publish_errors_say_whether_a_retry_may_help() {
        let wait = Duration::from_secs(3);
        assert!(matches!(
            publish(PublishError::new(PublishErrorKind::TimedOut), wait),
            BusError::Timeout(t) if t == wait
        ));
        assert!(matches!(
            publish(PublishError::new(PublishErrorKind::BrokenPipe), wait),
            BusError::Unavailable(_)
        ));
        assert!(matches!(
            publish(
                PublishError::new(PublishErrorKind::MaxPayloadExceeded),
                wait
            ),
            BusError::Rejected(_)
        ));
    }
}
