//! Command execution through the repository: validation, rejection, optimistic concurrency
//! with retries, snapshots, the state cache, inbox marks and metadata.

mod common;

use std::sync::Arc;

use common::{Account, AccountCommand, AccountEvent, AccountId};
use ddd_core::memory::InMemoryEventStore;
use ddd_core::{
    AppendError, AppendRequest, Appended, CommandMeta, DomainEvent, Envelope, EventId, EventStore,
    ExecuteError, ExpectedVersion, Position, RawEnvelope, Repository, RepositoryConfig, Snapshot,
    StoreError, StreamId, Version,
};

fn repository(
    store: &InMemoryEventStore,
    config: RepositoryConfig,
) -> Repository<Account, InMemoryEventStore> {
    Repository::new(store.clone()).config(config)
}

fn stream(id: &AccountId) -> StreamId {
    StreamId::new("Account", id.to_string())
}

#[tokio::test]
async fn commands_record_events_and_move_the_version() {
    let store = InMemoryEventStore::new();
    let accounts = repository(&store, RepositoryConfig::default());
    let id = AccountId::new();
    let opened = accounts.execute(&id, AccountCommand::Open).await.unwrap();
    assert_eq!((opened.version, opened.events.len()), (1, 1));
    let deposited = accounts
        .execute(&id, AccountCommand::Deposit(25))
        .await
        .unwrap();
    assert_eq!(deposited.version, 2);
    assert_eq!(
        deposited.events[0].payload,
        AccountEvent::Deposited { amount: 25 }
    );
    assert_eq!(deposited.events[0].aggregate_type, "Account");
    assert_eq!(deposited.events[0].aggregate_id, id.to_string());
    let root = accounts.load(&id).await.unwrap().unwrap();
    assert_eq!(
        (root.version(), root.state().balance, root.state().version),
        (2, 25, 2)
    );
    assert!(accounts.load(&AccountId::new()).await.unwrap().is_none());
}

#[tokio::test]
async fn invalid_and_rejected_commands_store_nothing() {
    let store = InMemoryEventStore::new();
    let accounts = repository(&store, RepositoryConfig::default());
    let id = AccountId::new();
    accounts.execute(&id, AccountCommand::Open).await.unwrap();
    match accounts.execute(&id, AccountCommand::Deposit(0)).await {
        Err(ExecuteError::Invalid(invalid)) => {
            assert_eq!(invalid.fields().collect::<Vec<_>>(), ["amount"])
        }
        other => panic!("expected a validation error, got {other:?}"),
    }
    match accounts.execute(&id, AccountCommand::Withdraw(5)).await {
        Err(ExecuteError::Rejected(reason)) => assert_eq!(reason.reason(), "insufficient funds"),
        other => panic!("expected a rejection, got {other:?}"),
    }
    assert_eq!(store.len(), 1);
}

#[tokio::test]
async fn an_expected_version_fails_fast_instead_of_retrying() {
    let store = InMemoryEventStore::new();
    let accounts = repository(&store, RepositoryConfig::default());
    let id = AccountId::new();
    accounts.execute(&id, AccountCommand::Open).await.unwrap();
    for expected in [
        ExpectedVersion::Exact(0),
        ExpectedVersion::Exact(5),
        ExpectedVersion::NoStream,
    ] {
        let meta = CommandMeta::default().expect(expected);
        match accounts
            .execute_with(&id, AccountCommand::Deposit(1), meta)
            .await
        {
            Err(ExecuteError::Conflict { actual: 1, .. }) => {}
            other => panic!("{expected:?}: expected a conflict at 1, got {other:?}"),
        }
    }
    let meta = CommandMeta::default().expect(ExpectedVersion::Exact(1));
    assert_eq!(
        accounts
            .execute_with(&id, AccountCommand::Deposit(1), meta)
            .await
            .unwrap()
            .version,
        2
    );
}

/// Writers on one hot aggregate through two repositories (two caches, as two replicas
/// would have): every command succeeds after retries and none is lost or applied twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_commands_on_a_hot_aggregate_all_land() {
    let store = InMemoryEventStore::new();
    let config = RepositoryConfig {
        max_attempts: 1_000,
        ..RepositoryConfig::default()
    };
    let replicas = [
        Arc::new(repository(&store, config.clone())),
        Arc::new(repository(&store, config)),
    ];
    let id = AccountId::new();
    replicas[0]
        .execute(&id, AccountCommand::Open)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let replica = Arc::clone(&replicas[task % 2]);
            tokio::spawn(async move {
                for _ in 0..50 {
                    replica
                        .execute(&id, AccountCommand::Deposit(1))
                        .await
                        .unwrap();
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    let events = store.load::<AccountEvent>(&stream(&id), 0).await.unwrap();
    assert_eq!(
        events.iter().map(|e| e.version).collect::<Vec<_>>(),
        (1..=401).collect::<Vec<_>>()
    );
    for replica in &replicas {
        let root = replica.load(&id).await.unwrap().unwrap();
        assert_eq!((root.state().balance, root.version()), (400, 401));
    }
}

/// The cache never hides another writer's events: the next command sees them.
#[tokio::test]
async fn a_cached_aggregate_sees_events_written_elsewhere() {
    let store = InMemoryEventStore::new();
    let (here, elsewhere) = (
        repository(&store, RepositoryConfig::default()),
        repository(&store, RepositoryConfig::default()),
    );
    let id = AccountId::new();
    here.execute(&id, AccountCommand::Open).await.unwrap();
    elsewhere
        .execute(&id, AccountCommand::Deposit(30))
        .await
        .unwrap();
    let done = here
        .execute(&id, AccountCommand::Withdraw(30))
        .await
        .expect("the deposit made elsewhere counts");
    assert_eq!(done.version, 3);
}

/// Snapshot + tail equals a full replay, and no event is applied twice (cqrs-es applied the
/// events before a snapshot twice).
#[tokio::test]
async fn snapshot_plus_tail_equals_a_full_replay() {
    let store = InMemoryEventStore::new();
    let with_snapshots = RepositoryConfig {
        snapshot_every: Some(3),
        cache_capacity: 0,
        ..RepositoryConfig::default()
    };
    let writer = repository(&store, with_snapshots.clone());
    let id = AccountId::new();
    writer.execute(&id, AccountCommand::Open).await.unwrap();
    for amount in 1..=9 {
        writer
            .execute(&id, AccountCommand::Deposit(amount))
            .await
            .unwrap();
    }
    let snapshot = store
        .load_snapshot(&stream(&id))
        .await
        .unwrap()
        .expect("a snapshot was taken");
    assert_eq!(snapshot.version, 9);
    let via_snapshot = repository(&store, with_snapshots)
        .load(&id)
        .await
        .unwrap()
        .unwrap();
    let no_snapshots = RepositoryConfig {
        snapshot_every: None,
        cache_capacity: 0,
        ..RepositoryConfig::default()
    };
    let replayed = repository(&store, no_snapshots)
        .load(&id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(via_snapshot.state(), replayed.state());
    assert_eq!(
        via_snapshot.state().applied,
        10,
        "each event applied exactly once"
    );
    assert_eq!(via_snapshot.version(), 10);
}

#[tokio::test]
async fn snapshots_of_another_shape_or_undecodable_are_ignored() {
    let store = InMemoryEventStore::new();
    let accounts = repository(
        &store,
        RepositoryConfig {
            cache_capacity: 0,
            ..RepositoryConfig::default()
        },
    );
    let id = AccountId::new();
    accounts.execute(&id, AccountCommand::Open).await.unwrap();
    accounts
        .execute(&id, AccountCommand::Deposit(7))
        .await
        .unwrap();
    for (schema_version, state) in [
        (99, serde_json::json!({"balance": 1_000})),
        (1, serde_json::json!("garbage")),
    ] {
        let snapshot = Snapshot {
            version: 2,
            schema_version,
            state,
            taken_at: chrono::Utc::now(),
        };
        store.save_snapshot(&stream(&id), snapshot).await.unwrap();
        let root = accounts.load(&id).await.unwrap().unwrap();
        assert_eq!(
            root.state().balance,
            7,
            "schema {schema_version}: replayed instead"
        );
    }
}

#[tokio::test]
async fn metadata_flows_into_every_event() {
    let store = InMemoryEventStore::new();
    let accounts = repository(&store, RepositoryConfig::default());
    let id = AccountId::new();
    let correlation = uuid::Uuid::now_v7();
    let cause = uuid::Uuid::now_v7();
    let trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
        .parse()
        .unwrap();
    let mut meta = CommandMeta::default()
        .correlation_id(correlation)
        .causation_id(cause)
        .trace(trace);
    meta.metadata.insert("tenant".into(), "acme".into());
    let done = accounts
        .execute_with(&id, AccountCommand::Open, meta)
        .await
        .unwrap();
    let event = &done.events[0];
    assert_eq!(
        (event.correlation_id, event.causation_id),
        (correlation, Some(cause))
    );
    assert_eq!(
        event.trace.as_ref().unwrap().traceparent(),
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    );
    assert_eq!(event.metadata["tenant"], "acme");
    assert_eq!(event.event_id.get_version_num(), 7, "event ids are UUID v7");
    let plain = accounts
        .execute(&id, AccountCommand::Deposit(1))
        .await
        .unwrap();
    let event = &plain.events[0];
    assert_eq!(
        event.correlation_id, event.event_id,
        "a command without one starts a correlation"
    );
    assert_eq!(
        event.causation_id, None,
        "a command without a known cause has none"
    );
}

#[tokio::test]
async fn an_inbox_mark_makes_a_redelivered_command_a_no_op() {
    let store = InMemoryEventStore::new();
    let accounts = repository(&store, RepositoryConfig::default());
    let id = AccountId::new();
    accounts.execute(&id, AccountCommand::Open).await.unwrap();
    let cause = uuid::Uuid::now_v7();
    let meta = || CommandMeta::default().inbox("payments", cause);
    accounts
        .execute_with(&id, AccountCommand::Deposit(5), meta())
        .await
        .unwrap();
    match accounts
        .execute_with(&id, AccountCommand::Deposit(5), meta())
        .await
    {
        Err(ExecuteError::AlreadyProcessed(mark)) => assert_eq!(mark.event_id, cause),
        other => panic!("expected AlreadyProcessed, got {other:?}"),
    }
    assert_eq!(
        accounts.load(&id).await.unwrap().unwrap().state().balance,
        5
    );
}

/// A refusal decided on a cached state is checked against the stream: if another writer
/// moved the aggregate on, the command is decided again on the current state.
#[tokio::test]
async fn a_refusal_is_never_based_on_a_stale_cache() {
    let store = InMemoryEventStore::new();
    let here = repository(&store, RepositoryConfig::default());
    let elsewhere = repository(&store, RepositoryConfig::default());
    let id = AccountId::new();
    here.execute(&id, AccountCommand::Open).await.unwrap();
    here.execute(&id, AccountCommand::Deposit(1)).await.unwrap();
    elsewhere
        .execute(&id, AccountCommand::Deposit(50))
        .await
        .unwrap();
    // `here` has the account cached at balance 1; withdrawing 40 needs the deposit made elsewhere.
    let done = here
        .execute(&id, AccountCommand::Withdraw(40))
        .await
        .expect("decided on the current state");
    assert_eq!(done.version, 4);
    match here.execute(&id, AccountCommand::Withdraw(40)).await {
        Err(ExecuteError::Rejected(reason)) => assert_eq!(reason.reason(), "insufficient funds"),
        other => panic!("expected a refusal on the current balance of 11, got {other:?}"),
    }
}

/// A command asked to run on an existing aggregate answers "not found" from its own load,
/// records nothing on a missing one, and runs on one that exists.
#[tokio::test]
async fn a_command_on_an_existing_aggregate_is_not_found_without_one() {
    let store = InMemoryEventStore::new();
    let accounts = repository(&store, RepositoryConfig::default());
    let id = AccountId::new();
    let existing = || CommandMeta::default().on_existing();
    match accounts
        .execute_with(&id, AccountCommand::Open, existing())
        .await
    {
        Err(ExecuteError::NotFound(missing)) => assert_eq!(missing, stream(&id)),
        other => panic!("expected not found, got {other:?}"),
    }
    assert_eq!(store.len(), 0);
    accounts.execute(&id, AccountCommand::Open).await.unwrap();
    let done = accounts
        .execute_with(&id, AccountCommand::Deposit(5), existing())
        .await
        .expect("the account exists");
    assert_eq!(done.version, 2);
}

/// "Not found" is never decided on a cached state alone: an aggregate another writer
/// created since is found, even when a single attempt is allowed.
#[tokio::test]
async fn not_found_is_never_based_on_a_stale_cache() {
    let store = InMemoryEventStore::new();
    let config = RepositoryConfig {
        max_attempts: 1,
        ..RepositoryConfig::default()
    };
    let here = repository(&store, config.clone());
    let elsewhere = repository(&store, config);
    let id = AccountId::new();
    // Refused on the empty state, which `here` now holds at version 0.
    assert!(matches!(
        here.execute(&id, AccountCommand::Deposit(1)).await,
        Err(ExecuteError::Rejected(_))
    ));
    elsewhere.execute(&id, AccountCommand::Open).await.unwrap();
    let done = here
        .execute_with(
            &id,
            AccountCommand::Deposit(1),
            CommandMeta::default().on_existing(),
        )
        .await
        .expect("found: it was created elsewhere");
    assert_eq!(done.version, 2);
}

/// An in-memory store that counts the reads of streams a repository makes.
#[derive(Clone, Default)]
struct CountingReads {
    store: InMemoryEventStore,
    reads: Arc<std::sync::atomic::AtomicUsize>,
}

impl CountingReads {
    fn reads(&self) -> usize {
        self.reads.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn count(&self) {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    }
}

impl EventStore for CountingReads {
    async fn append<E: DomainEvent>(
        &self,
        request: AppendRequest<E>,
    ) -> Result<Appended<E>, AppendError> {
        self.store.append(request).await
    }

    async fn load<E: DomainEvent>(
        &self,
        stream: &StreamId,
        after: Version,
    ) -> Result<Vec<Envelope<E>>, StoreError> {
        self.count();
        self.store.load(stream, after).await
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RawEnvelope>, StoreError> {
        self.store.read_all(after, limit).await
    }

    async fn save_snapshot(&self, stream: &StreamId, snapshot: Snapshot) -> Result<(), StoreError> {
        self.store.save_snapshot(stream, snapshot).await
    }

    async fn load_snapshot(&self, stream: &StreamId) -> Result<Option<Snapshot>, StoreError> {
        self.count();
        self.store.load_snapshot(stream).await
    }

    async fn is_processed(&self, consumer: &str, event_id: EventId) -> Result<bool, StoreError> {
        self.store.is_processed(consumer, event_id).await
    }
}

/// A command expecting no stream (a creating request on an id made for it) is decided on
/// the default state without reading the stream; should the stream exist after all, the
/// answer is the conflict it always was, whether the command is accepted or refused on the
/// default state.
#[tokio::test]
async fn a_command_expecting_no_stream_reads_nothing_first() {
    let store = CountingReads::default();
    let no_stream = || CommandMeta::default().expect(ExpectedVersion::NoStream);
    let id = AccountId::new();
    let opened = Repository::<Account, _>::new(store.clone())
        .execute_with(&id, AccountCommand::Open, no_stream())
        .await
        .expect("opened");
    assert_eq!(opened.version, 1);
    assert_eq!(store.reads(), 0, "nothing was read before the append");

    // Repositories of their own, so no cache knows the account exists.
    match Repository::<Account, _>::new(store.clone())
        .execute_with(&id, AccountCommand::Open, no_stream())
        .await
    {
        Err(ExecuteError::Conflict { actual: 1, .. }) => {}
        other => panic!("accepted on the default state: expected a conflict, got {other:?}"),
    }
    match Repository::<Account, _>::new(store.clone())
        .execute_with(&id, AccountCommand::Deposit(5), no_stream())
        .await
    {
        Err(ExecuteError::Conflict { actual: 1, .. }) => {}
        other => panic!("refused on the default state: expected a conflict, got {other:?}"),
    }
    match Repository::<Account, _>::new(store.clone())
        .execute_with(&AccountId::new(), AccountCommand::Deposit(5), no_stream())
        .await
    {
        Err(ExecuteError::Rejected(reason)) => assert_eq!(reason.reason(), "not open"),
        other => panic!("a refusal on a stream that is really new stands, got {other:?}"),
    }
    assert_eq!(store.store.len(), 1, "nothing else was stored");
}
