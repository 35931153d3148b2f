//! The inbox (`ddd_store_testkit::inbox`): a redelivered event has no second effect, whether
//! the handler's effect is an append or writes of its own in the transaction that marks it.

use ddd_postgres::testing::TestDatabase;
use ddd_store_testkit::inbox;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_redelivered_event_has_no_second_effect() {
    let database = TestDatabase::new();
    inbox::a_redelivered_event_has_no_second_effect(&database.connect().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_with_one_inbox_mark_commit_once() {
    let database = TestDatabase::new();
    inbox::concurrent_appends_with_one_inbox_mark_commit_once(&database.connect().await).await;
}
