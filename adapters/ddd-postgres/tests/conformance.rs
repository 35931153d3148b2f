//! ddd-core's conformance suite against PostgreSQL, each run in a schema of its own.

use ddd_core::testing::conformance::{event_store, outbox};
use ddd_postgres::testing::TestDatabase;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_store_passes_the_event_store_suite() {
    let database = TestDatabase::new();
    // 16 connections: the hot-streams check runs 16 writers and a tailing reader at once.
    let store = database.connect_with("max_connections=17").await;
    event_store::run_all(store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_passes_the_outbox_suite() {
    let database = TestDatabase::new();
    outbox::run_all(database.connect().await).await;
}
