//! How Redis failures map onto [`BusError`].

use ddd_core::BusError;
use redis::RedisError;

/// A failed command: a lost or refused connection, or a timeout, may pass; an error reply
/// from the server will not.
pub(crate) fn redis(what: &str, error: RedisError) -> BusError {
    if error.is_io_error()
        || error.is_connection_dropped()
        || error.is_connection_refusal()
        || error.is_timeout()
    {
        return BusError::Unavailable(format!("{what}: {error}"));
    }
    if error.code() == Some("LOADING") {
        return BusError::Unavailable(format!("{what}: redis is loading its data"));
    }
    BusError::Other {
        message: format!("{what}: {error}"),
        source: Some(Box::new(error)),
    }
}

/// Whether the server said the consumer group (or its stream) does not exist.
pub(crate) fn is_no_group(error: &RedisError) -> bool {
    error.code() == Some("NOGROUP")
}

/// Whether the server said the consumer group exists already.
pub(crate) fn is_busy_group(error: &RedisError) -> bool {
    error.code() == Some("BUSYGROUP")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropped_connections_are_retryable_and_replies_are_not() {
        let dropped = RedisError::from(std::io::Error::from(std::io::ErrorKind::BrokenPipe));
        assert!(matches!(redis("xadd", dropped), BusError::Unavailable(_)));
        let reply = RedisError::from((redis::ErrorKind::Client, "bad"));
        assert!(matches!(redis("xadd", reply), BusError::Other { .. }));
    }
}
