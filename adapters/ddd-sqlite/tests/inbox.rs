//! The inbox (`ddd_store_testkit::inbox`): a redelivered event has no second effect, whether
//! the handler's effect is an append or writes of its own in the write that marks it.

use ddd_sqlite::testing::TestFile;
use ddd_store_testkit::inbox;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_redelivered_event_has_no_second_effect() {
    let file = TestFile::new();
    inbox::a_redelivered_event_has_no_second_effect(&file.connect().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_with_one_inbox_mark_commit_once() {
    let file = TestFile::new();
    inbox::concurrent_appends_with_one_inbox_mark_commit_once(&file.connect().await).await;
}
