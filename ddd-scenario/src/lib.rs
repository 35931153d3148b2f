//! A whole system under test in one process: every bounded context on an in-memory store,
//! all of them on the in-process bus, with their policies, relays and views running as they
//! do in the modular monolith.
//!
//! A scenario is a given / when / then across contexts:
//! - **given** events in any context: history, recorded as already published, so nothing
//!   reacts to them (give the events their reactions would have recorded too);
//! - **when** a command, through the repository of the context it goes to;
//! - **then** the events every context that reacts records, the rows of views, and the dead
//!   letters expected, waited for up to a timeout, then checked again once the system has
//!   settled (nothing in flight on the bus, no event left in an outbox, every view caught up),
//!   so a reaction that comes late or twice fails too. A failure reads as a diff, context by
//!   context, with the dead letters of the policies that gave up.
//!
//! ```ignore
//! let mut shop = Scenario::new(Contexts::new()).await;
//! shop.given(|s| &s.cart.shopping_cart, &cart, [CartOpened { .. }, ItemAdded { .. }]).await;
//! shop.when(|s| &s.cart.shopping_cart, &cart, CheckOut {}).await.expect("accepted");
//! shop.then()
//!     .events("Cart", [Expect::event("CartCheckedOut")])
//!     .events("Ordering", [Expect::event("OrderPlaced").with(json!({"total": {"amount_cents": 2500}}))])
//!     .events("Payments", [Expect::event("PaymentRequested").field("amount", euros(25))])
//!     .assert()
//!     .await;
//! ```
//!
//! Generated workspaces implement [`System`] for their contexts in `tests/src/lib.rs`, and
//! write one scenario per policy chain of their model in `tests/tests/policy_chains.rs`.

mod expect;
mod observe;
mod report;

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ddd_core::bus::dead_letter;
use ddd_core::memory::{InMemoryEventStore, InProcessBus};
use ddd_core::store::{AppendRequest, StreamId};
use ddd_core::{
    Aggregate, BusError, ConsumerConfig, Delivery as _, EventBus as _, EventStore as _,
    ExecuteError, Executed, ExpectedVersion, Outbox as _, Repository, Subscription as _,
    ViewHandle,
};
use ddd_service::Background;

pub use expect::{Expect, Then};
pub use observe::Recorded;
pub use report::Mismatch;

/// How long [`Then`] waits for what it expects, unless [`Scenario::timeout`] says otherwise.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5);

/// The consumer that collects every dead letter of the system for the report.
const DEAD_LETTERS: &str = "scenario-dead-letters";

/// What starting a [`System`] returns.
pub type Starting<'a> = Pin<Box<dyn Future<Output = Result<(), BusError>> + Send + 'a>>;

/// The contexts of a system, each on its own in-memory store, as a scenario drives them.
pub trait System: Send + Sync + 'static {
    /// Every context: its name in the model, its store and its views.
    fn contexts(&self) -> Vec<Member>;

    /// Subscribes every context's policies to `bus` and starts its relay and views, as
    /// background work of `background`.
    fn start<'a>(&'a self, bus: &'a InProcessBus, background: &'a mut Background) -> Starting<'a>;
}

/// One context of a [`System`].
#[derive(Clone, Debug)]
pub struct Member {
    name: &'static str,
    store: InMemoryEventStore,
    views: Vec<ViewHandle>,
}

impl Member {
    /// The context `name` (as the model spells it) keeping its events in `store`.
    pub fn new(name: &'static str, store: InMemoryEventStore) -> Self {
        Self {
            name,
            store,
            views: Vec::new(),
        }
    }

    /// A view of the context, by the handle its runner reports to.
    #[must_use]
    pub fn view(mut self, handle: &ViewHandle) -> Self {
        self.views.push(handle.clone());
        self
    }

    fn view_named(&self, name: &str) -> Option<&ViewHandle> {
        self.views
            .iter()
            .find(|handle| handle.schema().name == name)
    }
}

/// A dead letter seen on the bus: a policy (or a view's copy of another context's events)
/// that gave up on an event.
#[derive(Clone, Debug, PartialEq)]
pub struct DeadLetter {
    /// The consumer that gave up.
    pub consumer: String,
    /// The event's type and the context that published it (the subject's middle).
    pub event_type: String,
    /// Why.
    pub reason: String,
    /// Deliveries before it gave up.
    pub attempts: u64,
}

/// A system under test: see the crate's documentation.
pub struct Scenario<S: System> {
    system: S,
    contexts: Vec<Member>,
    bus: InProcessBus,
    background: Option<Background>,
    started: bool,
    /// The events of each context (its store's length) before the last `when`.
    marks: Vec<u64>,
    dead_letters: Arc<Mutex<Vec<DeadLetter>>>,
    timeout: Duration,
}

impl<S: System> std::fmt::Debug for Scenario<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.contexts.iter().map(|member| member.name).collect();
        f.debug_struct("Scenario")
            .field("contexts", &names)
            .field("started", &self.started)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl<S: System> Scenario<S> {
    /// The system, not started yet: givens go in first.
    ///
    /// # Panics
    /// When the in-process bus refuses the dead-letter subscription (it never does while open).
    pub async fn new(system: S) -> Self {
        let contexts = system.contexts();
        let bus = InProcessBus::new();
        let mut background = Background::new();
        let dead_letters = Arc::new(Mutex::new(Vec::new()));
        let mut subscription = bus
            .subscribe(ConsumerConfig::new(
                DEAD_LETTERS,
                [ddd_core::bus::dead_letter_subject(">")],
            ))
            .await
            .expect("the in-process bus takes a subscription");
        let collected = Arc::clone(&dead_letters);
        let stopped = background.stopped();
        background.spawn("dead letters", async move {
            tokio::select! {
                () = stopped => Ok(()),
                () = async {
                    while let Ok(Some(delivery)) = subscription.next().await {
                        lock(&collected).push(DeadLetter::of(&delivery.message().envelope));
                        // The in-process bus only fails an ack once closed.
                        let _ = delivery.ack().await;
                    }
                } => Ok(()),
            }
        });
        Self {
            marks: vec![0; contexts.len()],
            system,
            contexts,
            bus,
            background: Some(background),
            started: false,
            dead_letters,
            timeout: DEFAULT_TIMEOUT,
        }
    }

    /// How long `then` waits for what it expects (5 s unless set).
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The system, for reading its repositories and stores directly.
    pub fn system(&self) -> &S {
        &self.system
    }

    /// Records `events` as the history of the aggregate `id`, in the store of the repository
    /// `repository` picks, as already published: no policy reacts to them and no view copies
    /// them from the bus, but views of their own context fold them.
    ///
    /// # Panics
    /// After the first `when` (history comes first), or when the store refuses the events.
    pub async fn given<A, F>(
        &mut self,
        repository: F,
        id: &A::Id,
        events: impl IntoIterator<Item = A::Event>,
    ) -> &mut Self
    where
        A: Aggregate,
        F: FnOnce(&S) -> &Repository<A, InMemoryEventStore>,
    {
        assert!(
            !self.started,
            "given after when: a scenario's history comes before its first command"
        );
        let store = repository(&self.system).store();
        let id = id.to_string();
        let envelopes: Vec<_> = events
            .into_iter()
            .map(|event| ddd_core::testing::envelope(A::TYPE, id.clone(), 0, event))
            .collect();
        let ids: Vec<_> = envelopes.iter().map(|envelope| envelope.event_id).collect();
        store
            .append(AppendRequest {
                stream: StreamId::new(A::TYPE, id.clone()),
                expected: ExpectedVersion::Any,
                events: envelopes,
                inbox: None,
            })
            .await
            .unwrap_or_else(|error| panic!("given {} {id}: {error}", A::TYPE));
        store
            .mark_published(&ids)
            .await
            .unwrap_or_else(|error| panic!("given {} {id}: {error}", A::TYPE));
        self
    }

    /// Runs `command` on the aggregate `id` through the repository `repository` picks, once
    /// the system has started and settled from what came before; what `then` checks is what
    /// happens from here on.
    ///
    /// # Errors
    /// The command's rejection or the store's error, as the repository returns them.
    ///
    /// # Panics
    /// When the system does not start, or does not settle within the timeout.
    pub async fn when<A, F>(
        &mut self,
        repository: F,
        id: &A::Id,
        command: A::Command,
    ) -> Result<Executed<A::Event>, ExecuteError<A::Error>>
    where
        A: Aggregate,
        F: FnOnce(&S) -> &Repository<A, InMemoryEventStore>,
    {
        self.start().await;
        if let Err(busy) = observe::settle(self, self.timeout).await {
            panic!("before the command, the system did not settle: {busy}");
        }
        self.marks = self
            .contexts
            .iter()
            .map(|member| member.store.len() as u64)
            .collect();
        repository(&self.system).execute(id, command).await
    }

    /// The events `context` recorded since the last `when` (its own, not its copies of
    /// other contexts' events) once the system has settled, for ids the system made: the
    /// payment a policy requested.
    ///
    /// # Panics
    /// When the system has no context `context`, or does not settle within the timeout.
    pub async fn recorded(&self, context: &str) -> Vec<Recorded> {
        let Some((index, member)) = self.member(context) else {
            panic!("{}", self.no_context(context));
        };
        if let Err(busy) = observe::settle(self, self.timeout).await {
            panic!("the system did not settle: {busy}");
        }
        observe::recorded_since(member, self.marks[index]).await
    }

    /// What the last `when` should have caused.
    pub fn then(&self) -> Then<'_, S> {
        Then::new(self)
    }

    /// Stops every context's background work.
    ///
    /// # Panics
    /// When a task failed or did not stop within the timeout.
    pub async fn stop(mut self) {
        if let Some(background) = self.background.take() {
            background
                .shutdown(self.timeout)
                .await
                .unwrap_or_else(|error| panic!("stopping the system: {error}"));
        }
        self.bus.close();
    }

    async fn start(&mut self) {
        if self.started {
            return;
        }
        self.started = true;
        let background = self
            .background
            .as_mut()
            .expect("the background lives until stop");
        if let Err(error) = self.system.start(&self.bus, background).await {
            panic!("starting the system: {error}");
        }
    }

    fn member(&self, name: &str) -> Option<(usize, &Member)> {
        self.contexts
            .iter()
            .enumerate()
            .find(|(_, member)| member.name == name)
    }

    /// What a scenario is told when it names a context the system does not have.
    fn no_context(&self, name: &str) -> String {
        let names: Vec<&str> = self.contexts.iter().map(|member| member.name).collect();
        format!("no context `{name}`; the contexts are {}", names.join(", "))
    }

    fn dead_letters(&self) -> Vec<DeadLetter> {
        lock(&self.dead_letters).clone()
    }
}

impl DeadLetter {
    fn of(envelope: &ddd_core::event::RawEnvelope) -> Self {
        let text = |key: &str| {
            envelope
                .metadata
                .get(key)
                .and_then(serde_json::Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        Self {
            consumer: text(dead_letter::CONSUMER),
            event_type: format!("{} ({})", envelope.event_type, text(dead_letter::SUBJECT)),
            reason: text(dead_letter::REASON),
            attempts: envelope
                .metadata
                .get(dead_letter::ATTEMPTS)
                .and_then(serde_json::Value::as_u64)
                .unwrap_or_default(),
        }
    }
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Only pushes and clones happen under this lock; a poisoned list is still a list.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}
