//! Read-your-writes: the token a command's response carries and a view read passes back.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

use crate::event::{EventId, Position};

/// Names the last event a command recorded, in the context that recorded it. A view of that
/// context that has folded the event shows the command's effect.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsistencyToken {
    /// The context whose store holds the event.
    pub context: String,
    /// The event.
    pub event_id: EventId,
    /// Its global position, or 0 when the store assigns positions after the append.
    pub position: Position,
}

/// A token that cannot be used here.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    /// Not a token this runtime made.
    #[error("not a consistency token")]
    Malformed,
    /// A token of another context's store.
    #[error("the token is from context `{found}`, this is `{expected}`")]
    OtherContext {
        /// The token's context.
        found: String,
        /// This context.
        expected: String,
    },
}

impl ConsistencyToken {
    /// The opaque text a response carries.
    pub fn encode(&self) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "1:{}:{}:{}",
            self.context,
            self.event_id.simple(),
            self.position
        ))
    }

    /// The token `text` names, if it was made for `context`.
    ///
    /// # Errors
    /// [`TokenError::Malformed`] for text this runtime did not make,
    /// [`TokenError::OtherContext`] for a token of another context.
    pub fn decode(text: &str, context: &str) -> Result<Self, TokenError> {
        let bytes = URL_SAFE_NO_PAD
            .decode(text.trim())
            .map_err(|_| TokenError::Malformed)?;
        let text = String::from_utf8(bytes).map_err(|_| TokenError::Malformed)?;
        let mut parts = text.split(':');
        let (Some("1"), Some(found), Some(event_id), Some(position), None) = (
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
            parts.next(),
        ) else {
            return Err(TokenError::Malformed);
        };
        let event_id = EventId::parse_str(event_id).map_err(|_| TokenError::Malformed)?;
        let position = position.parse().map_err(|_| TokenError::Malformed)?;
        if found != context {
            return Err(TokenError::OtherContext {
                found: found.to_owned(),
                expected: context.to_owned(),
            });
        }
        Ok(Self {
            context: found.to_owned(),
            event_id,
            position,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_reads_back_in_its_context_only() {
        let token = ConsistencyToken {
            context: "Ordering".to_owned(),
            event_id: uuid::Uuid::now_v7(),
            position: 42,
        };
        let text = token.encode();
        assert_eq!(ConsistencyToken::decode(&text, "Ordering"), Ok(token));
        assert_eq!(
            ConsistencyToken::decode(&text, "Payments"),
            Err(TokenError::OtherContext {
                found: "Ordering".to_owned(),
                expected: "Payments".to_owned()
            })
        );
        for bad in [
            "",
            "x",
            "MTp4",
            &URL_SAFE_NO_PAD.encode("1:Ordering:nope:1"),
        ] {
            assert_eq!(
                ConsistencyToken::decode(bad, "Ordering"),
                Err(TokenError::Malformed),
                "{bad}"
            );
        }
    }
}
