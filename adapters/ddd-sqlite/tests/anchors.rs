//! The anchors' bugs (cqrs-es, eventually, disintegrate), through `ddd_core::Repository`
//! over SQLite.

use ddd_core::testing::conformance::repository;
use ddd_sqlite::testing::TestFile;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_snapshot_plus_its_tail_equals_a_full_replay() {
    let file = TestFile::new();
    repository::snapshot_plus_tail_equals_full_replay(&file.connect().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conflicts_at_versions_of_two_digits_are_typed() {
    let file = TestFile::new();
    repository::conflicts_at_two_digit_versions_are_typed(&file.connect().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_decision_sees_its_streams_last_committed_event() {
    let file = TestFile::new();
    repository::decisions_see_their_streams_last_commit(&file.connect().await).await;
}
