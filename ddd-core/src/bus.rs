//! The event bus port: durable publish, durable named consumers (fan-out between names,
//! competing consumers within one), at-least-once delivery with ack / nack and dead letters.

use std::future::Future;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::event::RawEnvelope;

/// One event on the bus.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Message {
    /// Where it is published: `<system>.<context>.<EventType>`.
    pub subject: String,
    /// The event with all its metadata; adapters carry it unchanged.
    pub envelope: RawEnvelope,
}

impl Message {
    /// A message on `subject`.
    pub fn new(subject: impl Into<String>, envelope: RawEnvelope) -> Self {
        Self {
            subject: subject.into(),
            envelope,
        }
    }

    /// This message as a dead letter of `consumer`: on the consumer's dead-letter subject, the
    /// envelope unchanged except for the [`dead_letter`] metadata keys.
    pub fn into_dead_letter(self, consumer: &str, attempts: u32, reason: &str) -> Self {
        let mut envelope = self.envelope;
        let metadata = [
            (dead_letter::REASON, reason.into()),
            (dead_letter::ATTEMPTS, attempts.into()),
            (dead_letter::SUBJECT, self.subject.into()),
            (dead_letter::CONSUMER, consumer.into()),
        ];
        for (key, value) in metadata {
            envelope.metadata.insert(key.to_owned(), value);
        }
        Self::new(dead_letter_subject(consumer), envelope)
    }

    /// The dead letter for bytes a broker delivered that are not a message at all: an
    /// envelope of type [`dead_letter::UNDECODABLE`] whose payload keeps the bytes (as lossy
    /// UTF-8 under `body`), so a consumer of the dead-letter subject sees the decode error
    /// like any other reason. `event_id` is the id the broker knew the bytes by, if any.
    pub fn undecodable(
        consumer: &str,
        subject: &str,
        body: &[u8],
        event_id: Option<crate::event::EventId>,
        attempts: u32,
        error: &str,
    ) -> Self {
        let envelope = RawEnvelope {
            event_id: event_id.unwrap_or_else(uuid::Uuid::now_v7),
            aggregate_type: std::borrow::Cow::Borrowed(""),
            aggregate_id: String::new(),
            version: 0,
            position: 0,
            recorded_at: chrono::Utc::now(),
            event_type: std::borrow::Cow::Borrowed(dead_letter::UNDECODABLE),
            schema_version: 1,
            correlation_id: uuid::Uuid::now_v7(),
            causation_id: None,
            trace: None,
            metadata: crate::event::Metadata::new(),
            payload: serde_json::json!({ "body": String::from_utf8_lossy(body) }),
        };
        Self::new(subject, envelope).into_dead_letter(consumer, attempts, error)
    }
}

// Where an event is published (`<system>.<context>.<EventType>`) and where a consumer's dead
// letters go (`dead-letter.<consumer>`) are conventions of `ddd_names`, which the generated
// AsyncAPI documents follow too.
pub use ddd_names::{dead_letter_subject, subject};

/// Metadata keys a dead-lettered message carries, beside the original envelope.
pub mod dead_letter {
    /// Why it was dead-lettered (the last nack reason, or the decode error).
    pub const REASON: &str = "dead_letter.reason";
    /// How many times it was delivered.
    pub const ATTEMPTS: &str = "dead_letter.attempts";
    /// The subject it was published on.
    pub const SUBJECT: &str = "dead_letter.subject";
    /// The consumer that gave up on it.
    pub const CONSUMER: &str = "dead_letter.consumer";
    /// The event type of the dead letter made for bytes that do not decode as a message.
    pub const UNDECODABLE: &str = "ddd.Undecodable";
}

/// Whether `subject` matches a NATS-style `filter`: tokens split on `.`, `*` matches one
/// token, a final `>` matches one or more.
pub fn subject_matches(filter: &str, subject: &str) -> bool {
    let mut filter_tokens = filter.split('.');
    let mut subject_tokens = subject.split('.');
    loop {
        match (filter_tokens.next(), subject_tokens.next()) {
            (Some(">"), Some(_)) => return filter_tokens.next().is_none(),
            (Some("*"), Some(_)) => {}
            (Some(f), Some(s)) if f == s => {}
            (None, None) => return true,
            _ => return false,
        }
    }
}

/// A durable consumer: its name is what makes it durable and shared.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsumerConfig {
    /// The durable name. Subscriptions with different names each get every message
    /// (fan-out); subscriptions with the same name share them (competing consumers).
    pub name: String,
    /// Subject filters (`*` one token, `>` the rest); a message matching any is delivered.
    pub subjects: Vec<String>,
    /// Deliveries before a message is dead-lettered.
    pub max_deliver: u32,
    /// How long a delivery may stay unacknowledged before it is delivered again.
    pub ack_wait: Duration,
}

impl ConsumerConfig {
    /// A consumer named `name` of the messages matching `subjects`, with 5 deliveries and a
    /// 30 s ack wait.
    pub fn new(
        name: impl Into<String>,
        subjects: impl IntoIterator<Item = impl Into<String>>,
    ) -> Self {
        Self {
            name: name.into(),
            subjects: subjects.into_iter().map(Into::into).collect(),
            max_deliver: 5,
            ack_wait: Duration::from_secs(30),
        }
    }

    /// Sets the number of deliveries before a message is dead-lettered (at least 1).
    #[must_use]
    pub fn max_deliver(mut self, attempts: u32) -> Self {
        self.max_deliver = attempts.max(1);
        self
    }

    /// Sets how long a delivery may stay unacknowledged.
    #[must_use]
    pub fn ack_wait(mut self, wait: Duration) -> Self {
        self.ack_wait = wait;
        self
    }

    /// Whether this consumer wants messages on `subject`.
    pub fn wants(&self, subject: &str) -> bool {
        self.subjects
            .iter()
            .any(|filter| subject_matches(filter, subject))
    }

    /// Checks the name and filters.
    pub fn check(&self) -> Result<(), BusError> {
        let valid_token = |t: &str| !t.is_empty() && !t.contains(char::is_whitespace);
        if !valid_token(&self.name) || self.name.contains(['.', '*', '>']) {
            return Err(BusError::InvalidConsumer(format!(
                "consumer name `{}` must be non-empty without whitespace, `.`, `*` or `>`",
                self.name
            )));
        }
        if self.subjects.is_empty() {
            return Err(BusError::InvalidConsumer(format!(
                "consumer `{}` has no subjects",
                self.name
            )));
        }
        for filter in &self.subjects {
            let tokens: Vec<&str> = filter.split('.').collect();
            let misplaced_tail = tokens.iter().rev().skip(1).any(|t| *t == ">");
            if misplaced_tail || !tokens.iter().all(|t| valid_token(t)) {
                return Err(BusError::InvalidConsumer(format!(
                    "invalid subject filter `{filter}`"
                )));
            }
        }
        Ok(())
    }
}

/// Why the bus refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum BusError {
    /// The broker cannot be reached (yet): retrying later may work.
    #[error("broker unavailable: {0}")]
    Unavailable(String),
    /// The broker did not confirm in time; the message may or may not be stored.
    #[error("no confirmation within {0:?}")]
    Timeout(Duration),
    /// The broker refused the message (unroutable, too large, not permitted).
    #[error("rejected by the broker: {0}")]
    Rejected(String),
    /// The consumer configuration is not valid.
    #[error("{0}")]
    InvalidConsumer(String),
    /// The bus was shut down.
    #[error("the bus is closed")]
    Closed,
    /// Anything else the adapter reports.
    #[error("{message}")]
    Other {
        /// What happened.
        message: String,
        /// The underlying error.
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

/// Publishes events and hands them to durable consumers.
///
/// Every implementation passes `ddd_core::testing::conformance::event_bus`.
pub trait EventBus: Send + Sync + 'static {
    /// A consumer's stream of deliveries.
    type Subscription: Subscription;

    /// Publishes messages in order; returns once the bus holds them durably (for the
    /// in-process bus: once every matching consumer has them queued).
    fn publish(&self, messages: Vec<Message>) -> impl Future<Output = Result<(), BusError>> + Send;

    /// Joins (creating if needed) the durable consumer `config.name`.
    fn subscribe(
        &self,
        config: ConsumerConfig,
    ) -> impl Future<Output = Result<Self::Subscription, BusError>> + Send;

    /// Whether the broker answers now, for readiness probes. The default (for buses with
    /// nothing remote, like the in-process one) is always ready.
    fn ping(&self) -> impl Future<Output = Result<(), BusError>> + Send {
        async { Ok(()) }
    }
}

/// A consumer's deliveries.
pub trait Subscription: Send + 'static {
    /// One delivery, to be acknowledged.
    type Delivery: Delivery;

    /// The next delivery; `None` once the bus is closed.
    fn next(&mut self) -> impl Future<Output = Result<Option<Self::Delivery>, BusError>> + Send;
}

/// A message handed to a consumer. Dropping it without `ack` counts as a failed attempt: it
/// is delivered again (after the ack wait, on brokers).
pub trait Delivery: Send + 'static {
    /// The message.
    fn message(&self) -> &Message;

    /// Which delivery of this message this is, from 1.
    fn attempt(&self) -> u32;

    /// Done: never deliver it to this consumer again.
    fn ack(self) -> impl Future<Output = Result<(), BusError>> + Send;

    /// Failed: deliver it again, or dead-letter it with `reason` once the consumer's
    /// `max_deliver` attempts are used up.
    fn nack(self, reason: &str) -> impl Future<Output = Result<(), BusError>> + Send;

    /// Cannot ever succeed (it does not decode, say): dead-letter it now with `reason`.
    fn dead_letter(self, reason: &str) -> impl Future<Output = Result<(), BusError>> + Send;
}

/// A broker's side of a failed delivery: how it hands a message back, and how it parks a dead
/// letter. When to do which, and what the letter says, is the same on every broker: the
/// provided methods, which a broker's [`Delivery::nack`] and [`Delivery::dead_letter`] call.
pub trait Redelivery: Delivery + Sized {
    /// The consumer it was delivered to; its dead letters go to its dead-letter subject.
    fn consumer(&self) -> &str;

    /// How many deliveries the consumer allows before a nack dead-letters the message.
    fn max_deliver(&self) -> u32;

    /// Hands the message back to the broker to be delivered again.
    fn redeliver(self) -> impl Future<Output = Result<(), BusError>> + Send;

    /// Publishes `letter`, then settles the delivery so that it never comes back. When the
    /// letter cannot be published, the delivery stays unsettled and comes again.
    fn park(self, letter: Message) -> impl Future<Output = Result<(), BusError>> + Send;

    /// [`Delivery::nack`]: delivered again, or dead-lettered once its attempts are used up.
    fn nack_or_dead_letter(
        self,
        reason: &str,
    ) -> impl Future<Output = Result<(), BusError>> + Send {
        let exhausted = self.attempt() >= self.max_deliver();
        let letter = exhausted.then(|| self.letter(self.attempt(), reason));
        async move {
            match letter {
                Some(letter) => self.park(letter).await,
                None => self.redeliver().await,
            }
        }
    }

    /// [`Delivery::dead_letter`]: parked now, whatever attempts are left.
    fn dead_letter_now(self, reason: &str) -> impl Future<Output = Result<(), BusError>> + Send {
        let letter = self.letter(self.attempt(), reason);
        self.park(letter)
    }

    /// Before a delivery is handed out: one that comes past the consumer's `max_deliver` had
    /// its last attempt abandoned (its ack wait ran out, or its consumer died holding it), so
    /// it is parked with `reason`, counting the attempts that reached a handler, and `None`
    /// is returned; any other is returned to be handed out. A letter that cannot be parked
    /// is logged: the delivery comes back and is tried again.
    fn admit(self, reason: &str) -> impl Future<Output = Option<Self>> + Send {
        let abandoned = self.attempt() > self.max_deliver();
        let letter = abandoned.then(|| self.letter(self.attempt() - 1, reason));
        async move {
            let Some(letter) = letter else {
                return Some(self);
            };
            let consumer = self.consumer().to_owned();
            if let Err(error) = self.park(letter).await {
                tracing::warn!(%consumer, %error, "cannot dead-letter an abandoned delivery; it comes back");
            }
            None
        }
    }

    /// This delivery's message as a dead letter of its consumer after `attempts`.
    fn letter(&self, attempts: u32, reason: &str) -> Message {
        self.message()
            .clone()
            .into_dead_letter(self.consumer(), attempts, reason)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_filters_follow_nats_wildcards() {
        assert!(subject_matches(
            "shop.ordering.OrderPlaced",
            "shop.ordering.OrderPlaced"
        ));
        assert!(subject_matches(
            "shop.*.OrderPlaced",
            "shop.ordering.OrderPlaced"
        ));
        assert!(subject_matches("shop.>", "shop.ordering.OrderPlaced"));
        assert!(!subject_matches("shop.>", "shop"));
        assert!(!subject_matches("shop.*", "shop.ordering.OrderPlaced"));
        assert!(!subject_matches(
            "shop.ordering",
            "shop.ordering.OrderPlaced"
        ));
        assert!(!subject_matches(
            "shop.ordering.OrderPlaced.x",
            "shop.ordering.OrderPlaced"
        ));
    }

    #[test]
    fn dead_letters_keep_the_envelope_and_add_why() {
        let mut envelope = Message::undecodable("x", "s.c.E", b"{}", None, 1, "r").envelope;
        envelope.metadata = [("writer".to_owned(), serde_json::json!(0))].into();
        let letter = Message::new("shop.ordering.Tick", envelope.clone())
            .into_dead_letter("billing", 3, "boom");
        assert_eq!(letter.subject, "dead-letter.billing");
        assert_eq!(letter.envelope.event_id, envelope.event_id);
        assert_eq!(letter.envelope.payload, envelope.payload);
        assert_eq!(letter.envelope.metadata[dead_letter::REASON], "boom");
        assert_eq!(letter.envelope.metadata[dead_letter::ATTEMPTS], 3);
        assert_eq!(
            letter.envelope.metadata[dead_letter::SUBJECT],
            "shop.ordering.Tick"
        );
        assert_eq!(letter.envelope.metadata[dead_letter::CONSUMER], "billing");
        assert_eq!(letter.envelope.metadata["writer"], 0);

        let garbage = Message::undecodable("billing", "shop.x.Y", b"{not json", None, 1, "bad");
        assert_eq!(garbage.subject, "dead-letter.billing");
        assert_eq!(garbage.envelope.event_type, dead_letter::UNDECODABLE);
        assert_eq!(garbage.envelope.payload["body"], "{not json");
        assert_eq!(garbage.envelope.metadata[dead_letter::REASON], "bad");
        assert_eq!(garbage.envelope.metadata[dead_letter::SUBJECT], "shop.x.Y");
    }

    #[test]
    fn consumer_config_rejects_bad_names_and_filters() {
        assert!(ConsumerConfig::new("payments", ["shop.>"]).check().is_ok());
        for (name, subjects) in [
            ("", vec!["shop.>"]),
            ("a.b", vec!["shop.>"]),
            ("a b", vec!["shop.>"]),
            ("ok", vec![]),
            ("ok", vec!["shop.>.x"]),
            ("ok", vec!["shop..x"]),
        ] {
            assert!(
                ConsumerConfig::new(name, subjects.clone()).check().is_err(),
                "{name} {subjects:?}"
            );
        }
    }

    /// A delivery whose broker records what it was told.
    #[derive(Debug)]
    struct Recorded {
        message: Message,
        attempt: u32,
        outcome: std::sync::Arc<std::sync::Mutex<Option<Result<Message, ()>>>>,
    }

    impl Delivery for Recorded {
        fn message(&self) -> &Message {
            &self.message
        }

        fn attempt(&self) -> u32 {
            self.attempt
        }

        async fn ack(self) -> Result<(), BusError> {
            Ok(())
        }

        async fn nack(self, reason: &str) -> Result<(), BusError> {
            self.nack_or_dead_letter(reason).await
        }

        async fn dead_letter(self, reason: &str) -> Result<(), BusError> {
            self.dead_letter_now(reason).await
        }
    }

    impl Redelivery for Recorded {
        fn consumer(&self) -> &str {
            "billing"
        }

        fn max_deliver(&self) -> u32 {
            3
        }

        async fn redeliver(self) -> Result<(), BusError> {
            *self.outcome.lock().expect("lock") = Some(Err(()));
            Ok(())
        }

        async fn park(self, letter: Message) -> Result<(), BusError> {
            *self.outcome.lock().expect("lock") = Some(Ok(letter));
            Ok(())
        }
    }

    /// Settles delivery `attempt` with `settle`: `None` when redelivered, else the letter.
    async fn settled<F, Fut>(attempt: u32, settle: F) -> Option<Message>
    where
        F: FnOnce(Recorded) -> Fut,
        Fut: Future,
    {
        let envelope = Message::undecodable("x", "s.c.E", b"{}", None, 1, "r").envelope;
        let outcome = std::sync::Arc::default();
        let delivery = Recorded {
            message: Message::new("shop.ordering.Tick", envelope),
            attempt,
            outcome: std::sync::Arc::clone(&outcome),
        };
        settle(delivery).await;
        let told = outcome.lock().expect("lock").take();
        told.expect("settled").ok()
    }

    fn attempts(letter: &Message) -> &serde_json::Value {
        &letter.envelope.metadata[dead_letter::ATTEMPTS]
    }

    #[tokio::test]
    async fn a_nack_redelivers_until_the_last_attempt_then_dead_letters() {
        assert!(settled(2, |d| d.nack("boom")).await.is_none());
        let letter = settled(3, |d| d.nack("boom")).await.expect("dead-lettered");
        assert_eq!(letter.subject, "dead-letter.billing");
        assert_eq!(letter.envelope.metadata[dead_letter::REASON], "boom");
        assert_eq!(*attempts(&letter), 3);
        let letter = settled(1, |d| d.dead_letter("never"))
            .await
            .expect("at once");
        assert_eq!(*attempts(&letter), 1);
    }

    #[tokio::test]
    async fn a_delivery_past_its_attempts_is_parked_before_it_is_handed_out() {
        let handed_out = Recorded {
            message: Message::undecodable("x", "s.c.E", b"{}", None, 1, "r"),
            attempt: 3,
            outcome: std::sync::Arc::default(),
        };
        assert!(handed_out.admit("expired").await.is_some());
        let letter = settled(
            4,
            |d| async move { assert!(d.admit("expired").await.is_none()) },
        )
        .await
        .expect("parked");
        assert_eq!(letter.envelope.metadata[dead_letter::REASON], "expired");
        assert_eq!(*attempts(&letter), 3, "the attempts that reached a handler");
    }
}
