//! Append, lose the reply, retry with the same event ids: exactly one copy
//! (`ddd_store_testkit::lost_reply`). With SQLite there is no connection to cut; the reply is
//! lost when the process dies between the commit and its caller hearing of it.

use ddd_sqlite::SqliteStore;
use ddd_sqlite::testing::TestFile;
use ddd_store_testkit::lost_reply;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of a_retry_after_the_appender_died_stores_one_copy"]
async fn appender_child_process() {
    lost_reply::child::<SqliteStore>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_the_appender_died_stores_one_copy() {
    let file = TestFile::new();
    let store = file.connect().await;
    lost_reply::a_retry_after_the_appender_died_stores_one_copy(&store, &file.url()).await;
}
