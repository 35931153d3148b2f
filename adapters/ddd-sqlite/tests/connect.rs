//! Configuration by URL and opening: typed errors for bad URLs and missing directories, WAL
//! and synchronous=FULL by default, and retries while another process holds the file locked.

use std::time::{Duration, Instant};

use ddd_core::StoreError;
use ddd_sqlite::rusqlite::Connection;
use ddd_sqlite::testing::TestFile;
use ddd_sqlite::{ConfigError, ConnectError, SqliteStore};

#[tokio::test]
async fn a_bad_url_is_a_configuration_error() {
    for url in [
        "postgres://localhost/db",
        "sqlite://",
        "sqlite::memory:",
        "sqlite://x.db?synchronous=off",
        "sqlite://x.db?journal=wal",
    ] {
        match SqliteStore::connect(url).await {
            Err(ConnectError::Config(
                ConfigError::Scheme { .. }
                | ConfigError::Malformed { .. }
                | ConfigError::InvalidOption { .. }
                | ConfigError::UnknownOption { .. },
            )) => {}
            other => panic!("{url}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn a_missing_directory_is_named_at_once() {
    let file = TestFile::new();
    let path = file.dir().join("no/such/dir/events.db");
    let started = Instant::now();
    let error = SqliteStore::open(path.clone())
        .await
        .expect_err("no directory");
    assert!(matches!(error, ConnectError::Open { .. }), "{error:?}");
    assert!(
        error.to_string().contains(&path.display().to_string()),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(2), "not retried");
}

async fn pragma(store: &SqliteStore, name: &'static str) -> String {
    store
        .write(move |tx| {
            tx.connection()
                .query_row(&format!("PRAGMA {name}"), [], |row| {
                    row.get::<_, ddd_sqlite::rusqlite::types::Value>(0)
                })
                .map(|value| format!("{value:?}"))
                .map_err(|error| StoreError::permanent(error.to_string()))
        })
        .await
        .expect("pragma")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wal_and_synchronous_full_by_default() {
    let file = TestFile::new();
    let store = file.connect().await;
    assert_eq!(pragma(&store, "journal_mode").await, r#"Text("wal")"#);
    assert_eq!(pragma(&store, "synchronous").await, "Integer(2)", "FULL");
    let normal = file.connect_with("synchronous=normal").await;
    assert_eq!(pragma(&normal, "synchronous").await, "Integer(1)", "NORMAL");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_waits_for_a_lock_held_by_another_process() {
    let file = TestFile::new();
    drop(file.connect().await);
    // Another process (here a plain connection) holds the file exclusively for a while.
    let (locked, is_locked) = std::sync::mpsc::channel::<()>();
    let path = file.path();
    let holder = std::thread::spawn(move || {
        let connection = Connection::open(&path).expect("open");
        connection.execute_batch("BEGIN EXCLUSIVE").expect("lock");
        locked.send(()).expect("signal");
        std::thread::sleep(Duration::from_millis(1500));
        connection.execute_batch("COMMIT").expect("unlock");
    });
    is_locked.recv().expect("the holder took the lock");
    let short = file.url_with("busy_timeout=100ms&connect_retry=300ms");
    let error = SqliteStore::connect(&short).await.expect_err("locked");
    let ConnectError::Locked { attempts, .. } = error else {
        panic!("expected Locked, got {error:?}");
    };
    assert!(attempts >= 2, "retried: {attempts}");
    let patient = file.url_with("busy_timeout=100ms&connect_retry=10s");
    let started = Instant::now();
    SqliteStore::connect(&patient)
        .await
        .expect("opens once the lock is released");
    assert!(started.elapsed() >= Duration::from_millis(500));
    holder.join().expect("holder");
}
