//! The outbox relay killed with SIGKILL at random points while events keep being appended
//! (`ddd_store_testkit::relay_crash`), on the same database file as the parent's writer.

use ddd_sqlite::SqliteStore;
use ddd_sqlite::testing::TestFile;
use ddd_store_testkit::relay_crash;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of relay_killed_at_random_points_publishes_every_committed_event"]
async fn relay_child_process() {
    relay_crash::child::<SqliteStore>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relay_killed_at_random_points_publishes_every_committed_event() {
    let file = TestFile::new();
    let store = file.connect().await;
    relay_crash::relay_killed_at_random_points(&store, &file.url()).await;
}
