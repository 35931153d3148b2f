//! Writers that hold their transaction open for seconds while a subscriber tails the global
//! order (`ddd_store_testkit::slow_commit`).

use ddd_postgres::testing::TestDatabase;
use ddd_store_testkit::slow_commit;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_subscriber_never_skips_an_event_that_commits_late() {
    let database = TestDatabase::new();
    let store = database.connect_with("max_connections=12").await;
    let slow_ids = slow_commit::a_subscriber_never_skips_an_event_that_commits_late(
        std::slice::from_ref(&store),
    )
    .await;

    // The scenario really had late committers: each slow event was inserted (smaller id)
    // before fast events that were delivered ahead of it, so reading by insert order would
    // have skipped it.
    for slow_id in slow_ids {
        let overtaken: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM ddd_events AS fast, ddd_events AS slow \
             WHERE slow.event_id = $1 AND fast.id > slow.id AND fast.position < slow.position",
        )
        .bind(slow_id)
        .fetch_one(store.pool())
        .await
        .expect("query");
        assert!(overtaken > 0, "event {slow_id} committed late");
    }
}
