//! Writes that hold the transaction open for seconds, from two stores (two writer threads,
//! as two processes would be) on the same file, while a subscriber tails the global order
//! (`ddd_store_testkit::slow_commit`).

use ddd_sqlite::testing::TestFile;
use ddd_store_testkit::slow_commit;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscriber_never_skips_an_event_that_commits_late() {
    let file = TestFile::new();
    let stores = [file.connect().await, file.connect().await];
    slow_commit::a_subscriber_never_skips_an_event_that_commits_late(&stores).await;
    let transactions: u64 = stores
        .iter()
        .map(|store| store.writer_stats().transactions)
        .sum();
    eprintln!("{transactions} transactions");
}
