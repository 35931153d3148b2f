//! How Kafka failures map onto [`BusError`].

use ddd_core::BusError;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};

/// A failure of the client or the cluster: most pass once brokers are reachable again.
pub(crate) fn kafka(what: &str, error: &KafkaError) -> BusError {
    match error.rdkafka_error_code() {
        Some(
            RDKafkaErrorCode::MessageSizeTooLarge
            | RDKafkaErrorCode::InvalidMessage
            | RDKafkaErrorCode::TopicAuthorizationFailed
            | RDKafkaErrorCode::UnknownTopicOrPartition
            | RDKafkaErrorCode::InvalidTopic,
        ) => BusError::Rejected(format!("{what}: {error}")),
        Some(RDKafkaErrorCode::MessageTimedOut | RDKafkaErrorCode::RequestTimedOut) => {
            BusError::Unavailable(format!("{what}: timed out: {error}"))
        }
        _ => BusError::Unavailable(format!("{what}: {error}")),
    }
}

/// A client that cannot be created: its configuration is wrong.
pub(crate) fn config(what: &str, error: &KafkaError) -> BusError {
    BusError::Other {
        message: format!("{what}: {error}"),
        source: Some(Box::new(error.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_rejections_and_the_rest_is_retryable() {
        let too_large = KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge);
        assert!(matches!(
            kafka("produce", &too_large),
            BusError::Rejected(_)
        ));
        let down = KafkaError::MessageProduction(RDKafkaErrorCode::AllBrokersDown);
        assert!(matches!(kafka("produce", &down), BusError::Unavailable(_)));
    }
}
