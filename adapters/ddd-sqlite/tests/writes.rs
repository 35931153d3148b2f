//! The writer's transactions: a write that fails leaves nothing, whether it was alone in
//! its transaction (rolled back with it) or grouped with others (rolled back to its
//! savepoint while the others commit).

use ddd_core::StoreError;
use ddd_sqlite::testing::TestFile;
use ddd_sqlite::{SqliteStore, rusqlite};

fn sql(error: rusqlite::Error) -> StoreError {
    StoreError::permanent(error.to_string())
}

/// Inserts `n` into `t`, then fails when `fail` is set.
async fn insert(store: &SqliteStore, n: i64, fail: bool) -> Result<(), StoreError> {
    store
        .write(move |tx| {
            tx.connection()
                .execute("INSERT INTO t (n) VALUES (?1)", [n])
                .map_err(sql)?;
            if fail {
                return Err(StoreError::permanent(format!("refusing {n}")));
            }
            Ok(())
        })
        .await
}

async fn stored(store: &SqliteStore) -> Vec<i64> {
    store
        .read(|connection| {
            let mut statement = connection
                .prepare("SELECT n FROM t ORDER BY n")
                .map_err(sql)?;
            let rows = statement.query_map([], |row| row.get(0)).map_err(sql)?;
            rows.collect::<Result<Vec<i64>, _>>().map_err(sql)
        })
        .await
        .expect("read")
}

async fn store_with_table(file: &TestFile) -> SqliteStore {
    let store = file.connect().await;
    store
        .write(|tx| {
            tx.connection()
                .execute_batch("CREATE TABLE t (n INTEGER NOT NULL)")
                .map_err(sql)
        })
        .await
        .expect("table");
    store
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_write_alone_in_its_transaction_leaves_nothing() {
    let file = TestFile::new();
    let store = store_with_table(&file).await;
    let refused = insert(&store, 1, true).await;
    assert!(refused.is_err(), "{refused:?}");
    insert(&store, 2, false).await.expect("the next write");
    assert_eq!(stored(&store).await, [2]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failed_writes_in_a_group_leave_nothing_and_the_others_commit() {
    let file = TestFile::new();
    let store = store_with_table(&file).await;
    // Holds the write connection, so that the writes below queue up and commit as groups.
    let busy = tokio::spawn({
        let store = store.clone();
        async move {
            store
                .write(|_| {
                    std::thread::sleep(std::time::Duration::from_millis(300));
                    Ok::<_, StoreError>(())
                })
                .await
        }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let writes: Vec<_> = (0..64)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move { insert(&store, n, n % 2 == 1).await.is_ok() })
        })
        .collect();
    let mut committed = Vec::new();
    for (n, write) in (0..).zip(writes) {
        if write.await.expect("a write") {
            committed.push(n);
        }
    }
    busy.await.expect("the busy write").expect("it commits");
    assert_eq!(committed, (0..64).step_by(2).collect::<Vec<i64>>());
    assert_eq!(stored(&store).await, committed);
    let stats = store.writer_stats();
    assert!(
        stats.writes > stats.transactions,
        "some writes shared a transaction: {stats:?}"
    );
}

/// The name of the thread a write ran on.
async fn writing_thread(store: &SqliteStore) -> Option<String> {
    store
        .write(|_| Ok::<_, StoreError>(std::thread::current().name().map(str::to_owned)))
        .await
        .expect("write")
}

/// With nothing else being written, a write commits on its caller's thread (in
/// `block_in_place`): no hand-off to the writer thread and back.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lone_write_commits_in_place() {
    let file = TestFile::new();
    let store = file.connect().await;
    for _ in 0..3 {
        let thread = writing_thread(&store).await;
        assert_ne!(thread.as_deref(), Some("ddd-sqlite-writer"));
    }
    assert_eq!(store.writer_stats().transactions, 3);
}

/// A current-thread runtime cannot block in place: its writes go to the writer thread.
#[tokio::test(flavor = "current_thread")]
async fn on_a_current_thread_runtime_the_writer_thread_commits() {
    let file = TestFile::new();
    let store = file.connect().await;
    assert_eq!(
        writing_thread(&store).await.as_deref(),
        Some("ddd-sqlite-writer")
    );
}
