//! The outbox relay killed with SIGKILL at random points while events keep being appended
//! (`ddd_store_testkit::relay_crash`), in the test's schema.

use ddd_postgres::PostgresStore;
use ddd_postgres::testing::TestDatabase;
use ddd_store_testkit::relay_crash;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of relay_killed_at_random_points_publishes_every_committed_event"]
async fn relay_child_process() {
    relay_crash::child::<PostgresStore>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn relay_killed_at_random_points_publishes_every_committed_event() {
    let database = TestDatabase::new();
    let store = database.connect().await;
    relay_crash::relay_killed_at_random_points(&store, &database.url()).await;
}
