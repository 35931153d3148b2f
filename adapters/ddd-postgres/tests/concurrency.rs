//! 16 writers on 50 hot streams, at more than the conformance suite's default load: per
//! stream versions 1..n with no gaps or duplicates, successes equal to the final versions,
//! losers with the typed conflict, and a reader tailing the global order sees each event once.

use ddd_core::testing::conformance::event_store::{Load, concurrent_writers_on_hot_streams};
use ddd_postgres::testing::TestDatabase;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_writers_on_fifty_hot_streams() {
    let database = TestDatabase::new();
    let store = database.connect_with("max_connections=17").await;
    let load = Load {
        writers: 16,
        streams: 50,
        attempts_per_writer: 250,
    };
    concurrent_writers_on_hot_streams(&store, load).await;
    let (events, streams): (i64, i64) = sqlx::query_as(
        "SELECT count(*), count(DISTINCT (aggregate_type, aggregate_id)) FROM ddd_events",
    )
    .fetch_one(store.pool())
    .await
    .expect("count");
    let attempts = i64::from(load.writers * load.attempts_per_writer);
    eprintln!(
        "{attempts} appends tried by {} writers: {events} stored on {streams} streams, {} typed \
         conflicts",
        load.writers,
        attempts - events
    );
    assert_eq!(streams, i64::from(load.streams));
}
