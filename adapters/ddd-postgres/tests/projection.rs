//! Read models whose rows and checkpoint commit in one transaction
//! (`ddd_store_testkit::projection`).

use ddd_postgres::testing::TestDatabase;
use ddd_store_testkit::projection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_from_the_start_then_only_what_is_new() {
    let database = TestDatabase::new();
    projection::catch_up_from_the_start_then_only_what_is_new(&database.connect().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_event_keeps_what_came_before_it_and_nothing_twice() {
    let database = TestDatabase::new();
    let store = database.connect().await;
    projection::a_failing_event_keeps_what_came_before_it_and_nothing_twice(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_replays_everything_into_an_emptied_model() {
    let database = TestDatabase::new();
    projection::rebuild_replays_everything_into_an_emptied_model(&database.connect().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runners_at_once_apply_each_event_once() {
    let database = TestDatabase::new();
    projection::two_runners_at_once_apply_each_event_once(&database.connect().await).await;
}
