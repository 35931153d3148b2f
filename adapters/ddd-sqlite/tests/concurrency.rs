//! 16 writers on 50 hot streams at more than the conformance suite's default load, and group
//! commit: many concurrent appends share transactions (and so fsyncs).

use ddd_core::testing::conformance::event_store::{Load, concurrent_writers_on_hot_streams};
use ddd_core::testing::conformance::{Tick, tick};
use ddd_core::{AppendRequest, EventStore, ExpectedVersion, StreamId};
use ddd_sqlite::testing::TestFile;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sixteen_writers_on_fifty_hot_streams() {
    let file = TestFile::new();
    let store = file.connect().await;
    let load = Load {
        writers: 16,
        streams: 50,
        attempts_per_writer: 250,
    };
    concurrent_writers_on_hot_streams(&store, load).await;
    let (events, streams): (i64, i64) = store
        .read(|connection| {
            connection
                .query_row(
                    "SELECT count(*), count(DISTINCT aggregate_type || '/' || aggregate_id) \
                     FROM ddd_events",
                    [],
                    |row| Ok((row.get(0)?, row.get(1)?)),
                )
                .map_err(|error| ddd_core::StoreError::permanent(error.to_string()))
        })
        .await
        .expect("count");
    let attempts = i64::from(load.writers * load.attempts_per_writer);
    let stats = store.writer_stats();
    eprintln!(
        "{attempts} appends tried by {} writers: {events} stored on {streams} streams, {} typed \
         conflicts; {} writes in {} transactions",
        load.writers,
        attempts - events,
        stats.writes,
        stats.transactions
    );
    assert_eq!(streams, i64::from(load.streams));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_appends_share_commits() {
    let file = TestFile::new();
    let store = file.connect().await;
    let before = store.writer_stats();
    let appenders: Vec<_> = (0..64)
        .map(|writer| {
            let store = store.clone();
            tokio::spawn(async move {
                let stream = StreamId::new("Grouped", format!("s{writer}"));
                for n in 0..20 {
                    store
                        .append(AppendRequest {
                            events: vec![tick("Grouped", &stream.aggregate_id, writer, n)],
                            stream: stream.clone(),
                            expected: ExpectedVersion::Exact(n),
                            inbox: None,
                        })
                        .await
                        .expect("append");
                }
            })
        })
        .collect();
    for appender in appenders {
        appender.await.expect("appender");
    }
    let after = store.writer_stats();
    let (writes, transactions) = (
        after.writes - before.writes,
        after.transactions - before.transactions,
    );
    eprintln!("1280 appends from 64 tasks: {writes} writes in {transactions} transactions");
    assert_eq!(writes, 1280);
    assert!(
        transactions * 4 <= writes,
        "group commit: {writes} writes took {transactions} transactions"
    );
    for writer in 0..64 {
        let stream = StreamId::new("Grouped", format!("s{writer}"));
        assert_eq!(
            store.load::<Tick>(&stream, 0).await.expect("load").len(),
            20
        );
    }
}
