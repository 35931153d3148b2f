//! Command execution: load (snapshot + tail), decide, append with the expected version, and
//! on a conflict reload and decide again.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use chrono::Utc;
use tracing::Instrument as _;
use uuid::Uuid;

use crate::aggregate::{Aggregate, AggregateRoot, ExpectedVersion, Version};
use crate::command::Command;
use crate::event::{DomainEvent, Envelope, Metadata, TraceContext, from_payload, to_payload};
use crate::store::{
    AppendError, AppendRequest, EventStore, InboxMark, Snapshot, StoreError, StreamId,
};
use crate::validate::ValidationErrors;

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// Where a command came from and what it expects; all optional.
#[derive(Clone, Debug, Default)]
pub struct CommandMeta {
    /// Carried into every event; when absent, the first recorded event's id starts one.
    pub correlation_id: Option<Uuid>,
    /// The event or request that caused the command; none when absent.
    pub causation_id: Option<Uuid>,
    /// The trace the command runs in.
    pub trace: Option<TraceContext>,
    /// Copied into every event's metadata.
    pub metadata: Metadata,
    /// `Any` (the default) retries on conflicts; `NoStream` or `Exact` (an `If-Match`) fail
    /// with [`ExecuteError::Conflict`] instead.
    pub expected: ExpectedVersion,
    /// Recorded with the events, when a policy runs the command for an event it received.
    pub inbox: Option<InboxMark>,
    /// The aggregate must exist already: on one without events the command fails with
    /// [`ExecuteError::NotFound`] instead of being decided on the default state.
    pub must_exist: bool,
}

impl CommandMeta {
    /// Sets the correlation id.
    #[must_use]
    pub fn correlation_id(mut self, id: Uuid) -> Self {
        self.correlation_id = Some(id);
        self
    }

    /// Sets the causation id.
    #[must_use]
    pub fn causation_id(mut self, id: Uuid) -> Self {
        self.causation_id = Some(id);
        self
    }

    /// Sets the expected version.
    #[must_use]
    pub fn expect(mut self, expected: ExpectedVersion) -> Self {
        self.expected = expected;
        self
    }

    /// Sets the trace context.
    #[must_use]
    pub fn trace(mut self, trace: TraceContext) -> Self {
        self.trace = Some(trace);
        self
    }

    /// Runs the command only on an aggregate that exists (see [`CommandMeta::must_exist`]).
    #[must_use]
    pub fn on_existing(mut self) -> Self {
        self.must_exist = true;
        self
    }

    /// Records the command as `consumer`'s handling of `event_id`.
    #[must_use]
    pub fn inbox(mut self, consumer: impl Into<String>, event_id: Uuid) -> Self {
        self.inbox = Some(InboxMark {
            consumer: consumer.into(),
            event_id,
        });
        self
    }
}

/// What an executed command recorded.
#[derive(Debug)]
pub struct Executed<E> {
    /// The aggregate's version after the command.
    pub version: Version,
    /// The recorded events, in order; empty when the decision was to do nothing.
    pub events: Vec<Envelope<E>>,
}

/// Why a command was not executed.
#[derive(Debug, thiserror::Error)]
pub enum ExecuteError<E> {
    /// The command broke its constraints; nothing was decided.
    #[error(transparent)]
    Invalid(ValidationErrors),
    /// The aggregate rejected the command.
    #[error("rejected: {0}")]
    Rejected(#[source] E),
    /// The aggregate moved on: `expected` was asked for, or retries ran out.
    #[error("concurrency conflict on {stream}: expected {expected}, stream is at version {actual}")]
    Conflict {
        /// The stream.
        stream: StreamId,
        /// What was expected.
        expected: ExpectedVersion,
        /// Where the stream was.
        actual: Version,
    },
    /// The inbox mark was recorded before: the causing event was handled already.
    #[error("event {} was already processed by `{}`", .0.event_id, .0.consumer)]
    AlreadyProcessed(InboxMark),
    /// The store failed or refused the batch.
    #[error("event store: {0}")]
    Store(#[source] AppendError),
    /// The aggregate has no events, and the command was to run on an existing one.
    #[error("{0} does not exist")]
    NotFound(StreamId),
}

impl<E> ExecuteError<E> {
    /// Whether trying the same command later may succeed.
    pub fn is_retryable(&self) -> bool {
        match self {
            Self::Conflict { .. } => true,
            Self::Store(AppendError::Store(error)) => error.is_retryable(),
            _ => false,
        }
    }
}

impl<E> From<StoreError> for ExecuteError<E> {
    fn from(error: StoreError) -> Self {
        Self::Store(AppendError::Store(error))
    }
}

/// Tuning for a [`Repository`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RepositoryConfig {
    /// Decisions tried per command when conflicts keep happening (at least 1).
    pub max_attempts: u32,
    /// Wait before the first retry; doubles per retry, with jitter.
    pub backoff: Duration,
    /// Longest wait between retries.
    pub max_backoff: Duration,
    /// Take a snapshot every this many events; `None` never.
    pub snapshot_every: Option<u64>,
    /// Aggregates kept loaded between commands; 0 turns the cache off.
    pub cache_capacity: usize,
}

impl Default for RepositoryConfig {
    fn default() -> Self {
        Self {
            max_attempts: 10,
            backoff: Duration::from_millis(1),
            max_backoff: Duration::from_millis(100),
            snapshot_every: Some(100),
            cache_capacity: 10_000,
        }
    }
}

/// Executes commands against aggregates of type `A` kept in store `S`.
///
/// Loaded aggregates stay cached between commands, keyed by id with the version they were
/// built from; each command still reads the stream's tail after that version, so the cache
/// is never stale, whatever else writes to the store.
pub struct Repository<A: Aggregate, S> {
    store: S,
    services: A::Services,
    config: RepositoryConfig,
    cache: Mutex<FastMap<A::Id, (Version, A)>>,
}

impl<A: Aggregate, S> fmt::Debug for Repository<A, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Repository")
            .field("aggregate", &A::TYPE)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<A: Aggregate<Services = ()>, S: EventStore> Repository<A, S> {
    /// A repository for an aggregate that needs no services.
    pub fn new(store: S) -> Self {
        Self::with_services(store, ())
    }
}

impl<A: Aggregate, S: EventStore> Repository<A, S> {
    /// A repository whose aggregate decides with `services`.
    pub fn with_services(store: S, services: A::Services) -> Self {
        Self {
            store,
            services,
            config: RepositoryConfig::default(),
            cache: Mutex::new(FastMap::default()),
        }
    }

    /// Replaces the configuration.
    #[must_use]
    pub fn config(mut self, config: RepositoryConfig) -> Self {
        self.config = config;
        self
    }

    /// The store.
    pub fn store(&self) -> &S {
        &self.store
    }

    /// The services handed to `handle`.
    pub fn services(&self) -> &A::Services {
        &self.services
    }

    /// Executes a command with default metadata.
    pub async fn execute(
        &self,
        id: &A::Id,
        command: A::Command,
    ) -> Result<Executed<A::Event>, ExecuteError<A::Error>> {
        self.execute_with(id, command, CommandMeta::default()).await
    }

    /// Executes a command: validate, load, decide, append; on a conflict (when no version
    /// was asked for) reload and decide again, up to `max_attempts` times with backoff.
    pub async fn execute_with(
        &self,
        id: &A::Id,
        command: A::Command,
        meta: CommandMeta,
    ) -> Result<Executed<A::Event>, ExecuteError<A::Error>> {
        let span = tracing::debug_span!(
            "command",
            aggregate = A::TYPE,
            command = command.command_name(),
            %id,
            correlation_id = tracing::field::Empty,
        );
        // Entering a span nobody listens to still costs; skip it on the hot path.
        if span.is_disabled() {
            return self.execute_inner(id, command, meta).await;
        }
        if let Some(correlation_id) = &meta.correlation_id {
            span.record("correlation_id", tracing::field::display(correlation_id));
        }
        self.execute_inner(id, command, meta).instrument(span).await
    }

    async fn execute_inner(
        &self,
        id: &A::Id,
        command: A::Command,
        meta: CommandMeta,
    ) -> Result<Executed<A::Event>, ExecuteError<A::Error>> {
        command.validate().map_err(ExecuteError::Invalid)?;
        let stream = StreamId::new(A::TYPE, id.to_string());
        if let Some(mark) = &meta.inbox
            && self
                .store
                .is_processed(&mark.consumer, mark.event_id)
                .await?
        {
            return Err(ExecuteError::AlreadyProcessed(mark.clone()));
        }
        let max_attempts = self.config.max_attempts.max(1);
        let mut command = Some(command);
        // A state from the cache is trusted for a decision that appends (the append's
        // expected version catches a stale one), never blindly for a refusal.
        let mut trust_cache = meta.expected == ExpectedVersion::Any;
        // A command that expects no stream is decided on the default state without reading
        // the stream first: its append fails with a conflict if the stream has events after
        // all, and a refusal on the default state is checked against the store before it
        // stands. For a new id (a creating request's) this saves the read of nothing.
        let mut assume_new = meta.expected == ExpectedVersion::NoStream;
        let mut attempt = 1;
        loop {
            let last = attempt >= max_attempts;
            // A try on a trusted cache may come back stale and go again without counting as
            // an attempt, so it keeps its own copy even on the last attempt.
            let this_try = if last && !trust_cache {
                command.take()
            } else {
                command.clone()
            };
            let this_try = this_try.expect("the command is only taken on the last attempt");
            match self
                .attempt(id, &stream, this_try, &meta, trust_cache, assume_new)
                .await
            {
                Attempt::Done(outcome) => return outcome,
                Attempt::Stale => {
                    trust_cache = false;
                    assume_new = false;
                }
                Attempt::Conflicted(error) if last || meta.expected != ExpectedVersion::Any => {
                    return Err(error);
                }
                Attempt::Conflicted(_) => {
                    trust_cache = false;
                    tokio::time::sleep(self.backoff(attempt)).await;
                    attempt += 1;
                }
            }
        }
    }

    async fn attempt(
        &self,
        id: &A::Id,
        stream: &StreamId,
        command: A::Command,
        meta: &CommandMeta,
        trust_cache: bool,
        assume_new: bool,
    ) -> Attempt<A> {
        let loaded = if assume_new && !self.cache_lock().contains_key(id) {
            Ok((AggregateRoot::new(id.clone()), false))
        } else {
            self.load_current(id, stream, trust_cache).await
        };
        let (mut root, verified) = match loaded {
            Ok(loaded) => loaded,
            Err(error) => return Attempt::Done(Err(error.into())),
        };
        if meta.must_exist && !root.exists() {
            // Not kept: caching every id anyone asks about would evict real aggregates.
            if !verified && self.moved_on(stream, &root).await {
                return Attempt::Stale;
            }
            return Attempt::Done(Err(ExecuteError::NotFound(stream.clone())));
        }
        if !meta.expected.accepts(root.version()) {
            let actual = root.version();
            self.keep(root);
            return Attempt::Done(Err(ExecuteError::Conflict {
                stream: stream.clone(),
                expected: meta.expected,
                actual,
            }));
        }
        let events = match root.state().handle(command, &self.services).await {
            Ok(events) if !events.is_empty() => events,
            refused_or_nothing => {
                if !verified && self.moved_on(stream, &root).await {
                    self.keep(root);
                    return Attempt::Stale;
                }
                let version = root.version();
                self.keep(root);
                return Attempt::Done(match refused_or_nothing {
                    Ok(_) => Ok(Executed {
                        version,
                        events: Vec::new(),
                    }),
                    Err(rejection) => Err(ExecuteError::Rejected(rejection)),
                });
            }
        };
        let request = AppendRequest {
            stream: stream.clone(),
            expected: match root.version() {
                0 => ExpectedVersion::NoStream,
                version => ExpectedVersion::Exact(version),
            },
            events: envelopes::<A>(stream, root.version(), events, meta),
            inbox: meta.inbox.clone(),
        };
        let appended = self.store.append(request).await;
        let before = root.version();
        if let Ok(appended) = &appended {
            for envelope in &appended.events {
                root.apply(&envelope.payload, envelope.version);
            }
            self.snapshot_if_due(stream, &root, before).await;
        }
        // Whatever happened, the state is a true fold of the stream up to its version; a
        // later attempt reads the tail after it.
        self.keep(root);
        match appended {
            Ok(appended) => Attempt::Done(Ok(Executed {
                version: appended.version,
                events: appended.events,
            })),
            Err(AppendError::Conflict {
                stream,
                expected,
                actual,
            }) => Attempt::Conflicted(ExecuteError::Conflict {
                stream,
                expected,
                actual,
            }),
            Err(AppendError::AlreadyProcessed(mark)) => {
                Attempt::Done(Err(ExecuteError::AlreadyProcessed(mark)))
            }
            Err(other) => Attempt::Done(Err(ExecuteError::Store(other))),
        }
    }

    /// Whether the stream has events the state does not: a refusal made on a cached state
    /// must not stand if another writer changed the aggregate since.
    async fn moved_on(&self, stream: &StreamId, root: &AggregateRoot<A>) -> bool {
        // An unreadable store cannot prove the state stale; the refusal stands.
        self.store
            .load::<A::Event>(stream, root.version())
            .await
            .is_ok_and(|tail| !tail.is_empty())
    }

    fn backoff(&self, attempt: u32) -> Duration {
        let exponential = self
            .config
            .backoff
            .saturating_mul(1 << attempt.min(16))
            .min(self.config.max_backoff);
        // Jitter from the clock's low bits spreads writers that conflicted together apart.
        let jitter = u64::from(Utc::now().timestamp_subsec_nanos()) % 1000;
        exponential.mul_f64(0.5 + jitter as f64 / 2000.0)
    }

    /// The aggregate to decide on, and whether it is known to be current. A cached state is
    /// used as it is when `trust_cache`; otherwise the stream's tail after it (or after the
    /// latest snapshot) is read and applied.
    async fn load_current(
        &self,
        id: &A::Id,
        stream: &StreamId,
        trust_cache: bool,
    ) -> Result<(AggregateRoot<A>, bool), StoreError> {
        let cached = self.cache_lock().remove(id);
        let mut root = match cached {
            Some((version, state)) if trust_cache => {
                return Ok((
                    AggregateRoot::from_snapshot(id.clone(), version, state),
                    false,
                ));
            }
            Some((version, state)) => AggregateRoot::from_snapshot(id.clone(), version, state),
            None => return Ok((self.load_stored(id, stream).await?, true)),
        };
        let tail = self.store.load::<A::Event>(stream, root.version()).await?;
        for envelope in &tail {
            root.apply(&envelope.payload, envelope.version);
        }
        Ok((root, true))
    }

    /// The aggregate from the store: the latest usable snapshot and the events after it.
    async fn load_stored(
        &self,
        id: &A::Id,
        stream: &StreamId,
    ) -> Result<AggregateRoot<A>, StoreError> {
        if self.config.snapshot_every.is_none() {
            let mut root = AggregateRoot::new(id.clone());
            for envelope in &self.store.load::<A::Event>(stream, 0).await? {
                root.apply(&envelope.payload, envelope.version);
            }
            return Ok(root);
        }
        // One read for both (one round trip where the store can); the tail is only good for
        // the snapshot it was read after, so an unusable snapshot means a full replay.
        let (snapshot, tail) = self.store.load_latest::<A::Event>(stream).await?;
        let (mut root, tail) = match snapshot.map(|snapshot| Self::restore(id, stream, snapshot)) {
            Some(Some(root)) => (root, tail),
            Some(None) => (
                AggregateRoot::new(id.clone()),
                self.store.load::<A::Event>(stream, 0).await?,
            ),
            None => (AggregateRoot::new(id.clone()), tail),
        };
        for envelope in &tail {
            root.apply(&envelope.payload, envelope.version);
        }
        Ok(root)
    }

    /// The state a snapshot holds; `None` when it is of another schema or does not decode.
    fn restore(id: &A::Id, stream: &StreamId, snapshot: Snapshot) -> Option<AggregateRoot<A>> {
        if snapshot.schema_version != A::SNAPSHOT_VERSION {
            return None;
        }
        match from_payload::<A>(snapshot.state, A::TYPE) {
            Ok(state) => Some(AggregateRoot::from_snapshot(
                id.clone(),
                snapshot.version,
                state,
            )),
            Err(error) => {
                tracing::warn!(%stream, %error, "ignoring a snapshot that does not decode; replaying");
                None
            }
        }
    }

    async fn snapshot_if_due(&self, stream: &StreamId, root: &AggregateRoot<A>, before: Version) {
        let Some(every) = self.config.snapshot_every.filter(|every| *every > 0) else {
            return;
        };
        if root.version() / every == before / every {
            return;
        }
        let saved = match to_payload(root.state(), A::TYPE) {
            Ok(state) => {
                let snapshot = Snapshot {
                    version: root.version(),
                    schema_version: A::SNAPSHOT_VERSION,
                    state,
                    taken_at: Utc::now(),
                };
                self.store.save_snapshot(stream, snapshot).await
            }
            Err(error) => Err(error.into()),
        };
        // A missed snapshot only makes later loads replay more; the command succeeded.
        if let Err(error) = saved {
            tracing::warn!(%stream, %error, "snapshot not saved");
        }
    }

    fn keep(&self, root: AggregateRoot<A>) {
        if self.config.cache_capacity == 0 {
            return;
        }
        let version = root.version();
        let id = root.id().clone();
        let mut cache = self.cache_lock();
        if cache.get(&id).is_some_and(|(cached, _)| *cached >= version) {
            return;
        }
        if cache.len() >= self.config.cache_capacity && !cache.contains_key(&id) {
            // Any entry will do: a miss costs one snapshot read, never correctness.
            if let Some(evicted) = cache.keys().next().cloned() {
                cache.remove(&evicted);
            }
        }
        cache.insert(id, (version, root.into_state()));
    }

    fn cache_lock(&self) -> MutexGuard<'_, FastMap<A::Id, (Version, A)>> {
        // The cache holds fully built states only; a panic elsewhere cannot leave one half
        // written, so a poisoned lock's data is still sound.
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The aggregate as currently stored; `None` when it has no events.
    pub async fn load(&self, id: &A::Id) -> Result<Option<AggregateRoot<A>>, StoreError> {
        let stream = StreamId::new(A::TYPE, id.to_string());
        let root = self.load_stored(id, &stream).await?;
        Ok(root.exists().then_some(root))
    }

    /// The recorded events of an aggregate with versions greater than `after`.
    pub async fn events(
        &self,
        id: &A::Id,
        after: Version,
    ) -> Result<Vec<Envelope<A::Event>>, StoreError> {
        self.store
            .load(&StreamId::new(A::TYPE, id.to_string()), after)
            .await
    }
}

/// Envelopes for the events of one decision. Without a correlation id the first event's id
/// starts the correlation; without a causation id there is no known cause.
fn envelopes<A: Aggregate>(
    stream: &StreamId,
    version: Version,
    events: Vec<A::Event>,
    meta: &CommandMeta,
) -> Vec<Envelope<A::Event>> {
    let recorded_at = Utc::now();
    let mut correlation_id = meta.correlation_id;
    (1..)
        .zip(events)
        .map(|(offset, event)| {
            let event_id = Uuid::now_v7();
            Envelope {
                event_id,
                aggregate_type: Cow::Borrowed(A::TYPE),
                aggregate_id: stream.aggregate_id.clone(),
                version: version + offset,
                position: 0,
                recorded_at,
                event_type: Cow::Borrowed(event.event_type()),
                schema_version: event.schema_version(),
                correlation_id: *correlation_id.get_or_insert(event_id),
                causation_id: meta.causation_id,
                trace: meta.trace.clone(),
                metadata: meta.metadata.clone(),
                payload: event,
            }
        })
        .collect()
}

/// How one decision went.
enum Attempt<A: Aggregate> {
    /// Finished, well or not.
    Done(Result<Executed<A::Event>, ExecuteError<A::Error>>),
    /// Decided on a cached state that turned out stale; decide again on a fresh one.
    Stale,
    /// The append lost a race.
    Conflicted(ExecuteError<A::Error>),
}
