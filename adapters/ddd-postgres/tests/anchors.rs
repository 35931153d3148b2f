//! The anchors' bugs (cqrs-es, eventually, disintegrate), through `ddd_core::Repository`
//! over PostgreSQL.

use ddd_core::testing::conformance::repository;
use ddd_postgres::testing::TestDatabase;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_plus_its_tail_equals_a_full_replay() {
    let database = TestDatabase::new();
    repository::snapshot_plus_tail_equals_full_replay(&database.connect().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_at_versions_of_two_digits_are_typed() {
    let database = TestDatabase::new();
    repository::conflicts_at_two_digit_versions_are_typed(&database.connect().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_sees_its_streams_last_committed_event() {
    let database = TestDatabase::new();
    repository::decisions_see_their_streams_last_commit(&database.connect().await).await;
}
