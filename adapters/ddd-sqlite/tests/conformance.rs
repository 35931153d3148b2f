//! ddd-core's conformance suite against SQLite files, each run in a file of its own.

use ddd_core::testing::conformance::{event_store, outbox, views};
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

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_store_passes_the_view_suite() {
    // Each check gets a file of its own; the files live until the suite ends.
    let files = std::sync::Mutex::new(Vec::new());
    views::run_all(|| {
        let file = TestFile::new();
        let url = file.url();
        files
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(file);
        async move {
            ddd_sqlite::SqliteStore::connect(&url)
                .await
                .unwrap_or_else(|error| panic!("opening {url}: {error}"))
        }
    })
    .await;
}
