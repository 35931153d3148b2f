//! ddd-core's conformance suite against SQLite files, each run in a file of its own.

use ddd_core::testing::conformance::{event_store, outbox};
use ddd_sqlite::testing::TestFile;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_store_passes_the_event_store_suite() {
    let file = TestFile::new();
    event_store::run_all(file.connect().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_passes_the_outbox_suite() {
    let file = TestFile::new();
    outbox::run_all(file.connect().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_passes_the_event_store_suite_with_synchronous_normal() {
    let file = TestFile::new();
    event_store::run_all(file.connect_with("synchronous=normal").await).await;
}
