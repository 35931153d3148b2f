//! The plans of statements whose cost must not grow with what they skip.

use ddd_core::testing::conformance::{request, ticks, unique};
use ddd_core::{EventStore, ExpectedVersion, Snapshot, StreamId};
use ddd_postgres::testing::{LOAD_LATEST, TestDatabase};
use ddd_postgres::{PostgresStore, sqlx};

/// Rows the scans of `table` in a plan node (and everything under it) read: what they
/// returned and what their own filter dropped. Rows written (`ModifyTable`) are not read.
fn rows_read(node: &serde_json::Value, table: &str) -> u64 {
    let scans_table =
        node["Relation Name"] == table && node["Node Type"].as_str() != Some("ModifyTable");
    let own = if scans_table {
        node["Actual Rows"].as_u64().unwrap_or(0) * node["Actual Loops"].as_u64().unwrap_or(1)
            + node["Rows Removed by Filter"].as_u64().unwrap_or(0)
    } else {
        0
    };
    let children = node["Plans"].as_array().into_iter().flatten();
    own + children.map(|child| rows_read(child, table)).sum::<u64>()
}

/// A store of its own holding one stream of `events` events.
async fn store_with_a_stream_of(events: u64) -> (TestDatabase, PostgresStore, StreamId) {
    let database = TestDatabase::new();
    let store = database.connect().await;
    let stream = StreamId::new("Planned", unique("p"));
    store
        .append(request(
            &stream,
            ExpectedVersion::NoStream,
            ticks(&stream, events),
        ))
        .await
        .expect("the stream's events");
    (database, store, stream)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loading_after_a_snapshot_reads_only_the_tail() {
    let (_database, store, stream) = store_with_a_stream_of(300).await;
    let snapshot = Snapshot {
        version: 290,
        schema_version: 1,
        state: serde_json::json!({ "count": 290 }),
        taken_at: chrono::Utc::now(),
    };
    store
        .save_snapshot(&stream, snapshot)
        .await
        .expect("a snapshot");
    // On a table this small a sequential scan is the right plan; on a store in use it is
    // the index on (stream, version), which is what this checks.
    let mut transaction = store.pool().begin().await.expect("a transaction");
    sqlx::query("SET LOCAL enable_seqscan = off")
        .execute(&mut *transaction)
        .await
        .expect("index scans only");
    // A constant of the crate with a constant prefix: nothing from outside.
    let explain = sqlx::AssertSqlSafe(format!("EXPLAIN (ANALYZE, FORMAT JSON) {LOAD_LATEST}"));
    let (plan,): (serde_json::Value,) = sqlx::query_as(explain)
        .bind(stream.aggregate_type.as_ref())
        .bind(&stream.aggregate_id)
        .fetch_one(&mut *transaction)
        .await
        .expect("the plan");
    let read = rows_read(&plan[0]["Plan"], "ddd_events");
    assert_eq!(
        read, 10,
        "the tail is 10 events; the plan read {read} rows:\n{plan:#}"
    );
}

/// The indexes a plan node (and everything under it) scans.
fn indexes_scanned(node: &serde_json::Value) -> Vec<String> {
    let own = node["Index Name"].as_str().map(str::to_owned);
    let children = node["Plans"].as_array().into_iter().flatten();
    own.into_iter()
        .chain(children.flat_map(indexes_scanned))
        .collect()
}

/// The position index leaves unpositioned events out (migration 0003); reading by position
/// must still use it, in a generic plan too, where the bound is a parameter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reading_by_position_uses_the_partial_position_index() {
    let (_database, store, _) = store_with_a_stream_of(20).await;
    store.sequence().await.expect("positions");
    let (definition,): (String,) = sqlx::query_as(
        "SELECT indexdef FROM pg_indexes WHERE indexname = 'ddd_events_position_key' \
         AND schemaname = current_schema()",
    )
    .fetch_one(store.pool())
    .await
    .expect("the position index");
    assert!(
        definition.ends_with("WHERE (\"position\" IS NOT NULL)"),
        "{definition}"
    );
    let mut transaction = store.pool().begin().await.expect("a transaction");
    for setting in [
        "SET LOCAL enable_seqscan = off",
        "SET LOCAL plan_cache_mode = force_generic_plan",
    ] {
        sqlx::query(setting)
            .execute(&mut *transaction)
            .await
            .expect(setting);
    }
    let (plan,): (serde_json::Value,) = sqlx::query_as(
        "EXPLAIN (FORMAT JSON) SELECT * FROM ddd_events WHERE position > $1 \
         ORDER BY position LIMIT 100",
    )
    .bind(5_i64)
    .fetch_one(&mut *transaction)
    .await
    .expect("the plan");
    let indexes = indexes_scanned(&plan[0]["Plan"]);
    assert_eq!(indexes, ["ddd_events_position_key"], "the plan:\n{plan:#}");
}

/// Group commit checks each append's first event id and inbox mark by index probes. Written
/// as `EXISTS`, the generic plan hashed all of `ddd_events` on every execution (a sequential
/// scan per group: 18 % of the server's CPU in the S1 benchmark, and growing with the table).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_is_checked_by_index_probes_not_by_reading_the_events() {
    let (_database, store, _) = store_with_a_stream_of(300).await;
    let streams: Vec<StreamId> = (0..3)
        .map(|_| StreamId::new("Planned", unique("g")))
        .collect();
    let requests: Vec<_> = streams
        .iter()
        .map(|stream| request(stream, ExpectedVersion::NoStream, ticks(stream, 1)))
        .collect();
    let plan = ddd_postgres::testing::explain_append_group(&store, &requests).await;
    let read = rows_read(&plan[0]["Plan"], "ddd_events");
    assert_eq!(
        read, 0,
        "three new streams: nothing to read, yet the plan read {read} rows:\n{plan:#}"
    );
}

/// Rows read from `ddd_events` by sequential scans so far (as the statistics have it).
async fn events_read_by_scans(connection: &mut sqlx::PgConnection) -> i64 {
    sqlx::query("SELECT pg_stat_force_next_flush()")
        .execute(&mut *connection)
        .await
        .expect("statistics flushed");
    sqlx::query_scalar(
        "SELECT seq_tup_read FROM pg_stat_user_tables WHERE relname = 'ddd_events' \
         AND schemaname = current_schema()",
    )
    .fetch_one(&mut *connection)
    .await
    .expect("the table's statistics")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_relays_mark_looks_events_up_by_key_on_a_connection_planned_while_empty() {
    let database = TestDatabase::new();
    let store = database.connect().await;
    // One connection, as a service's relay keeps one of its pool: its plans are made on
    // the first calls, while the tables are empty, and kept.
    let mut relay = store.pool().acquire().await.expect("a connection");
    let settle = "SELECT count(*) FROM ddd_outbox_settle($1, NULL, NULL, 256, 256)";
    for _ in 0..8 {
        let nothing: Vec<uuid::Uuid> = vec![uuid::Uuid::now_v7()];
        sqlx::query(settle)
            .bind(&nothing)
            .execute(&mut *relay)
            .await
            .expect("a relay step on empty tables");
    }
    let stream = StreamId::new("Planned", unique("p"));
    let appended = store
        .append(request(
            &stream,
            ExpectedVersion::NoStream,
            ticks(&stream, 3_000),
        ))
        .await
        .expect("3,000 events")
        .events;
    let before = events_read_by_scans(&mut relay).await;
    for chunk in appended.chunks(30).take(10) {
        let published: Vec<uuid::Uuid> = chunk.iter().map(|event| event.event_id).collect();
        sqlx::query(settle)
            .bind(&published)
            .execute(&mut *relay)
            .await
            .expect("a relay step");
    }
    let scanned = events_read_by_scans(&mut relay).await - before;
    assert_eq!(
        scanned, 0,
        "ten marks of 30 events scanned {scanned} rows of ddd_events: a plan made on the \
         empty table, kept as it grew"
    );
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM ddd_outbox")
        .fetch_one(&mut *relay)
        .await
        .expect("the outbox");
    assert_eq!(left, 3_000 - 300, "the marks deleted what they named");
}
