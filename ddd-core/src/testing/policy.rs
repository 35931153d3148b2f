use std::fmt;

use crate::event::Envelope;
use crate::policy::{Policy, PolicyError, Reaction};

/// Given / when / then for a policy: an event in, the commands it leads to out.
#[derive(Debug)]
pub struct PolicyTest<P> {
    policy: P,
}

impl<P: Policy> PolicyTest<P> {
    /// A test of `policy`.
    pub fn new(policy: P) -> Self {
        Self { policy }
    }

    /// Feeds an event recorded by aggregate `aggregate_type`/`aggregate_id` at version 1.
    pub fn when(
        &self,
        aggregate_type: &'static str,
        aggregate_id: impl Into<String>,
        event: P::Event,
    ) -> PolicyWhen<P> {
        self.when_envelope(super::envelope(aggregate_type, aggregate_id, 1, event))
    }

    /// Feeds a complete envelope.
    pub fn when_envelope(&self, event: Envelope<P::Event>) -> PolicyWhen<P> {
        let outcome = super::block_on(self.policy.react(&event));
        PolicyWhen { event, outcome }
    }
}

/// The outcome of [`PolicyTest::when`].
pub struct PolicyWhen<P: Policy> {
    event: Envelope<P::Event>,
    outcome: Result<Vec<Reaction<P::Target>>, PolicyError>,
}

impl<P: Policy> fmt::Debug for PolicyWhen<P> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PolicyWhen")
            .field("event", &self.event)
            .field("outcome", &self.outcome)
            .finish()
    }
}

impl<P: Policy> PolicyWhen<P> {
    /// The envelope that was fed, e.g. to derive the ids expected.
    pub fn event(&self) -> &Envelope<P::Event> {
        &self.event
    }

    /// Asserts that the policy asked for exactly these reactions.
    #[track_caller]
    pub fn then(self, expected: impl IntoIterator<Item = Reaction<P::Target>>) -> Self
    where
        <P::Target as crate::Aggregate>::Command: PartialEq,
    {
        let expected: Vec<_> = expected.into_iter().collect();
        match &self.outcome {
            Ok(reactions) => assert_eq!(reactions, &expected, "the policy reacted otherwise"),
            Err(error) => panic!("expected reactions {expected:?}, got error `{error}`"),
        }
        self
    }

    /// Asserts that the policy failed with an error whose message contains `text`.
    #[track_caller]
    pub fn then_error_containing(self, text: &str) -> Self {
        match &self.outcome {
            Err(error) => assert!(
                error.to_string().contains(text),
                "error `{error}` lacks `{text}`"
            ),
            Ok(reactions) => panic!("expected an error containing `{text}`, got {reactions:?}"),
        }
        self
    }

    /// The reactions, for assertions of your own.
    #[track_caller]
    pub fn reactions(self) -> Vec<Reaction<P::Target>> {
        match self.outcome {
            Ok(reactions) => reactions,
            Err(error) => panic!("expected reactions, got error `{error}`"),
        }
    }
}
