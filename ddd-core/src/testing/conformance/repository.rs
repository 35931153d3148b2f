//! The bugs of the anchor projects (cqrs-es, eventually, disintegrate), as checks over
//! [`Repository`] on any store.

use std::sync::Arc;

use crate::{
    Aggregate as _, CommandMeta, EventStore, ExecuteError, ExpectedVersion, Repository,
    RepositoryConfig, StreamId,
};

use super::account::{Account, AccountCommand, AccountEvent, fold};

/// Runs every check.
pub async fn run_all<S: EventStore + Clone>(store: &S) {
    snapshot_plus_tail_equals_full_replay(store).await;
    conflicts_at_two_digit_versions_are_typed(store).await;
    decisions_see_their_streams_last_commit(store).await;
}

fn unique_id() -> String {
    uuid::Uuid::now_v7().simple().to_string()
}

fn repository<S: EventStore>(store: S, snapshot_every: Option<u64>) -> Repository<Account, S> {
    Repository::new(store).config(RepositoryConfig {
        snapshot_every,
        // Every command reads the store: what is tested is the store, not the cache.
        cache_capacity: 0,
        ..RepositoryConfig::default()
    })
}

/// cqrs-es applies the new events to the aggregate twice before it snapshots, so a snapshot
/// plus its tail drifts from a full replay. Here a snapshot every 3 events, over 11 commands,
/// must give exactly the state (and the number of applied events) of replaying from scratch.
pub async fn snapshot_plus_tail_equals_full_replay<S: EventStore + Clone>(store: &S) {
    let id = unique_id();
    let snapshotting = repository(store.clone(), Some(3));
    for amount in 1..=10 {
        snapshotting
            .execute(&id, AccountCommand::Deposit(amount))
            .await
            .expect("deposit");
    }
    snapshotting
        .execute(&id, AccountCommand::Withdraw(5))
        .await
        .expect("withdraw");
    let stream = StreamId::new("Account", id.clone());
    let snapshot = store
        .load_snapshot(&stream)
        .await
        .expect("snapshot")
        .expect("a snapshot was taken");
    assert_eq!(snapshot.version, 9, "snapshots at 3, 6, 9");
    let events = store.load::<AccountEvent>(&stream, 0).await.expect("load");
    let at_snapshot = fold(events.iter().take(9).map(|e| &e.payload));
    let snapshotted: Account = serde_json::from_value(snapshot.state).expect("snapshot decodes");
    assert_eq!(
        snapshotted, at_snapshot,
        "the snapshot is the fold of its 9 events, once each"
    );
    let from_snapshot = snapshotting.load(&id).await.expect("load").expect("exists");
    let replayed = repository(store.clone(), None)
        .load(&id)
        .await
        .expect("load")
        .expect("exists");
    let from_scratch = fold(events.iter().map(|e| &e.payload));
    assert_eq!(
        from_scratch,
        Account {
            balance: 50,
            applied: 11
        }
    );
    assert_eq!(from_snapshot.state(), &from_scratch, "snapshot + tail");
    assert_eq!(replayed.state(), &from_scratch, "full replay");
    assert_eq!(from_snapshot.version(), 11);
}

/// eventually-postgres recognised conflicts by a regex over the database message that only
/// matched one-digit versions. Conflicts at versions 10 and above must still be typed, both
/// an explicit expectation that is stale and two writers racing for the same version.
pub async fn conflicts_at_two_digit_versions_are_typed<S: EventStore + Clone>(store: &S) {
    let id = unique_id();
    let accounts = repository(store.clone(), None);
    for _ in 0..12 {
        accounts
            .execute(&id, AccountCommand::Deposit(1))
            .await
            .expect("deposit");
    }
    for stale in [10, 11, 99, 1000] {
        let meta = CommandMeta::default().expect(ExpectedVersion::Exact(stale));
        match accounts
            .execute_with(&id, AccountCommand::Deposit(1), meta)
            .await
        {
            Err(ExecuteError::Conflict {
                actual: 12,
                expected,
                ..
            }) => {
                assert_eq!(expected, ExpectedVersion::Exact(stale));
            }
            other => panic!("Exact({stale}) on an account at 12: {other:?}"),
        }
    }
    // Eight writers all expect version 12: one wins version 13, seven get typed conflicts.
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let (store, id) = (store.clone(), id.clone());
            tokio::spawn(async move {
                let meta = CommandMeta::default().expect(ExpectedVersion::Exact(12));
                repository(store, None)
                    .execute_with(&id, AccountCommand::Deposit(1), meta)
                    .await
            })
        })
        .collect();
    let (mut won, mut conflicts) = (0, 0);
    for racer in racers {
        match racer.await.expect("task") {
            Ok(executed) => {
                assert_eq!(executed.version, 13);
                won += 1;
            }
            Err(ExecuteError::Conflict { actual: 13, .. }) => conflicts += 1,
            Err(other) => panic!("only typed conflicts may fail a racer: {other}"),
        }
    }
    assert_eq!((won, conflicts), (1, 7));
}

/// disintegrate could decide on a stale read of the stream it appends to. Two repositories
/// ("nodes") take turns on one account, each decision right after the other node's commit:
/// every decision must see the last committed event, so the balance never goes negative and
/// overdrafts are rejected exactly when the committed balance is short.
pub async fn decisions_see_their_streams_last_commit<S: EventStore + Clone>(store: &S) {
    let id = unique_id();
    let (a, b) = (
        repository(store.clone(), None),
        repository(store.clone(), None),
    );
    for round in 0..30 {
        a.execute(&id, AccountCommand::Deposit(10))
            .await
            .expect("deposit on A");
        b.execute(&id, AccountCommand::Withdraw(10))
            .await
            .unwrap_or_else(|e| panic!("round {round}: B must see A's deposit: {e}"));
        match a.execute(&id, AccountCommand::Withdraw(1)).await {
            Err(ExecuteError::Rejected(_)) => {}
            other => panic!("round {round}: A must see B's withdrawal: {other:?}"),
        }
    }
    // The same from many tasks at once: deposits and withdrawals of 1 race; whatever order
    // they commit in, the stream never goes below zero.
    let shared = Arc::new(id.clone());
    let tasks: Vec<_> = (0..8)
        .map(|task| {
            let (store, id) = (store.clone(), Arc::clone(&shared));
            tokio::spawn(async move {
                // Eight writers on one stream conflict a lot: retry until they get through.
                let node = Repository::<Account, _>::new(store).config(RepositoryConfig {
                    max_attempts: 1000,
                    snapshot_every: None,
                    cache_capacity: 0,
                    ..RepositoryConfig::default()
                });
                for _ in 0..10 {
                    let command = if task % 2 == 0 {
                        AccountCommand::Deposit(1)
                    } else {
                        AccountCommand::Withdraw(1)
                    };
                    match node.execute(&id, command).await {
                        Ok(_) | Err(ExecuteError::Rejected(_)) => {}
                        Err(other) => panic!("task {task}: {other}"),
                    }
                }
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let stream = StreamId::new("Account", id);
    let events = store.load::<AccountEvent>(&stream, 0).await.expect("load");
    let mut running = Account::default();
    for event in &events {
        running.apply(&event.payload);
        assert!(
            running.balance >= 0,
            "overdrawn at version {}",
            event.version
        );
    }
}
