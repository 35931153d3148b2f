//! Read models whose rows and checkpoint commit in one transaction
//! (`ddd_store_testkit::projection`).

use ddd_sqlite::testing::TestFile;
use ddd_store_testkit::projection;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn catch_up_from_the_start_then_only_what_is_new() {
    let file = TestFile::new();
    projection::catch_up_from_the_start_then_only_what_is_new(&file.connect().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_event_keeps_what_came_before_it_and_nothing_twice() {
    let file = TestFile::new();
    let store = file.connect().await;
    projection::a_failing_event_keeps_what_came_before_it_and_nothing_twice(&store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rebuild_replays_everything_into_an_emptied_model() {
    let file = TestFile::new();
    projection::rebuild_replays_everything_into_an_emptied_model(&file.connect().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_runners_at_once_apply_each_event_once() {
    let file = TestFile::new();
    projection::two_runners_at_once_apply_each_event_once(&file.connect().await).await;
}
