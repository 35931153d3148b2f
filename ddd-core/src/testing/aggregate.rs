use std::fmt;

use crate::aggregate::Aggregate;
use crate::command::Command;
use crate::validate::ValidationErrors;

/// Given / when / then for one aggregate, with no store and no IO.
///
/// ```ignore
/// AggregateTest::<Account>::new()
///     .given([AccountEvent::Opened { owner: "ada".into() }])
///     .when(AccountCommand::Deposit { amount: 10 })
///     .then([AccountEvent::Deposited { amount: 10 }]);
/// ```
pub struct AggregateTest<A: Aggregate> {
    services: A::Services,
    given: Vec<A::Event>,
}

impl<A: Aggregate> fmt::Debug for AggregateTest<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AggregateTest")
            .field("given", &self.given)
            .finish_non_exhaustive()
    }
}

impl<A: Aggregate<Services = ()>> AggregateTest<A> {
    /// A test of an aggregate that needs no services.
    pub fn new() -> Self {
        Self::with_services(())
    }
}

impl<A: Aggregate<Services = ()>> Default for AggregateTest<A> {
    fn default() -> Self {
        Self::new()
    }
}

impl<A: Aggregate> AggregateTest<A> {
    /// A test whose decisions see `services` (stubs of your own).
    pub fn with_services(services: A::Services) -> Self {
        Self {
            services,
            given: Vec::new(),
        }
    }

    /// Events that happened before.
    #[must_use]
    pub fn given(mut self, events: impl IntoIterator<Item = A::Event>) -> Self {
        self.given.extend(events);
        self
    }

    /// The state the given events fold into.
    pub fn state(&self) -> A {
        let mut state = A::default();
        for (version, event) in (1..).zip(&self.given) {
            state.apply(event);
            state.set_version(version);
        }
        state
    }

    /// Validates and decides `command` on the given state (futures run on this thread).
    pub fn when(self, command: A::Command) -> When<A> {
        super::block_on(self.when_async(command))
    }

    /// [`AggregateTest::when`] for decisions that need an async runtime.
    pub async fn when_async(self, command: A::Command) -> When<A> {
        let state = self.state();
        let outcome = match command.validate() {
            Err(invalid) => Outcome::Invalid(invalid),
            Ok(()) => match state.handle(command, &self.services).await {
                Ok(events) => Outcome::Events(events),
                Err(error) => Outcome::Rejected(error),
            },
        };
        When { state, outcome }
    }
}

enum Outcome<A: Aggregate> {
    Events(Vec<A::Event>),
    Rejected(A::Error),
    Invalid(ValidationErrors),
}

impl<A: Aggregate> fmt::Debug for Outcome<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Events(events) => f.debug_tuple("Events").field(events).finish(),
            Self::Rejected(error) => write!(f, "Rejected({error:?}: {error})"),
            Self::Invalid(invalid) => write!(f, "Invalid({invalid})"),
        }
    }
}

/// The outcome of [`AggregateTest::when`], to assert on.
pub struct When<A: Aggregate> {
    state: A,
    outcome: Outcome<A>,
}

impl<A: Aggregate> fmt::Debug for When<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.outcome.fmt(f)
    }
}

impl<A: Aggregate> When<A> {
    /// Asserts that the command produced exactly these events, in order.
    #[track_caller]
    pub fn then(self, expected: impl IntoIterator<Item = A::Event>) -> Self
    where
        A::Event: PartialEq,
    {
        let expected: Vec<A::Event> = expected.into_iter().collect();
        match &self.outcome {
            Outcome::Events(events) => assert_eq!(
                events, &expected,
                "the command produced other events than expected"
            ),
            other => panic!("expected events {expected:?}, got {other:?}"),
        }
        self
    }

    /// Asserts that the command was accepted and produced no events.
    #[track_caller]
    pub fn then_nothing(self) -> Self
    where
        A::Event: PartialEq,
    {
        self.then([])
    }

    /// Asserts that the aggregate rejected the command with this error.
    #[track_caller]
    pub fn then_error(self, expected: A::Error) -> Self
    where
        A::Error: PartialEq,
    {
        match &self.outcome {
            Outcome::Rejected(error) => assert_eq!(error, &expected, "rejected with another error"),
            other => panic!("expected rejection {expected:?}, got {other:?}"),
        }
        self
    }

    /// Asserts that the aggregate rejected the command with an error whose message is this.
    #[track_caller]
    pub fn then_error_message(self, expected: &str) -> Self {
        match &self.outcome {
            Outcome::Rejected(error) => {
                assert_eq!(error.to_string(), expected, "rejected with another message")
            }
            other => panic!("expected rejection `{expected}`, got {other:?}"),
        }
        self
    }

    /// Asserts that validation refused the command, naming exactly these fields.
    #[track_caller]
    pub fn then_invalid(self, fields: &[&str]) -> Self {
        match &self.outcome {
            Outcome::Invalid(invalid) => {
                assert_eq!(
                    invalid.fields().collect::<Vec<_>>(),
                    fields,
                    "other fields were invalid: {invalid}"
                );
            }
            other => panic!("expected invalid fields {fields:?}, got {other:?}"),
        }
        self
    }

    /// Asserts on the state after the produced events are applied.
    #[track_caller]
    pub fn then_state(mut self, check: impl FnOnce(&A)) -> Self {
        match &self.outcome {
            Outcome::Events(events) => {
                for event in events {
                    self.state.apply(event);
                }
                check(&self.state);
            }
            other => panic!("expected events to apply, got {other:?}"),
        }
        self
    }

    /// The produced events, for assertions of your own.
    #[track_caller]
    pub fn events(self) -> Vec<A::Event> {
        match self.outcome {
            Outcome::Events(events) => events,
            other => panic!("expected events, got {other:?}"),
        }
    }
}
