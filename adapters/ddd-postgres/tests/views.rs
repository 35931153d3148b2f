//! Views in PostgreSQL: ddd-core's view conformance suite; pages that follow the reference
//! order with NULLs, text by bytes, reals and booleans; three replicas folding one view while
//! writers append; a rebuild while commands append and queries read; a view whose columns
//! changed.

#[path = "support/views.rs"]
mod support;

use std::cell::RefCell;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use ddd_core::testing::conformance::views::{self, TickCount};
use ddd_core::testing::conformance::{Tick, unique};
use ddd_core::view::{
    Column, ColumnType, ColumnValue, RowMeta, View, ViewError, ViewHandle, ViewQuery, ViewRunner,
    ViewSchema, ViewStore, select,
};
use ddd_core::{Envelope, StreamId};
use ddd_postgres::PostgresStore;
use ddd_postgres::testing::TestDatabase;
use serde::{Deserialize, Serialize};

use support::{append_tick, catch_up, fold_from_scratch, rows};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_store_passes_the_view_suite() {
    // Kept to the end: dropping one drops its schema.
    let databases = RefCell::new(Vec::new());
    views::run_all(|| {
        let database = TestDatabase::new();
        let url = database.url();
        databases.borrow_mut().push(database);
        async move { PostgresStore::connect(&url).await.expect("connect") }
    })
    .await;
}

/// A row per stream of one tick, whose columns take every kind, NULL among them, and text
/// whose byte order is not a locale's.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Sample {
    stream: String,
    label: Option<String>,
    score: Option<f64>,
    flag: Option<bool>,
    bucket: i64,
}

const LABELS: [&str; 7] = ["a", "B", "é", "Z", "ab", "", "a b"];

impl Sample {
    /// The row of tick `n` (without its key).
    fn of(n: u64) -> Self {
        let at = usize::try_from(n).unwrap_or(0);
        Self {
            stream: String::new(),
            label: (!n.is_multiple_of(5)).then(|| LABELS[at % LABELS.len()].to_owned()),
            score: (!n.is_multiple_of(7)).then(|| (n % 9) as f64 / 3.0 - 1.0),
            flag: (!n.is_multiple_of(11)).then_some(n.is_multiple_of(2)),
            bucket: i64::try_from(n % 4).unwrap_or(0),
        }
    }
}

impl View for Sample {
    type Event = Tick;
    type State = Self;
    type Row = Self;

    const SCHEMA: ViewSchema = ViewSchema {
        name: "Sample",
        table: "sample",
        key: "stream",
        key_type: ColumnType::Text,
        columns: &[
            Column {
                name: "label",
                ty: ColumnType::Text,
                filter: true,
                sort: true,
            },
            Column {
                name: "score",
                ty: ColumnType::Real,
                filter: false,
                sort: true,
            },
            Column {
                name: "flag",
                ty: ColumnType::Bool,
                filter: true,
                sort: true,
            },
            Column {
                name: "bucket",
                ty: ColumnType::Integer { min: 0, max: 3 },
                filter: true,
                sort: true,
            },
        ],
        state_is_row: true,
    };

    fn key(event: &Envelope<Tick>) -> Option<String> {
        TickCount::key(event)
    }

    fn apply(state: &mut Self, event: &Envelope<Tick>) -> Result<(), String> {
        *state = Self::of(event.payload.n);
        Ok(())
    }

    fn row(key: &str, state: &Self, _: &RowMeta) -> Self {
        Self {
            stream: key.to_owned(),
            ..state.clone()
        }
    }

    fn columns(row: &Self) -> Vec<ColumnValue> {
        let or_null = |value: Option<ColumnValue>| value.unwrap_or(ColumnValue::Null);
        vec![
            or_null(row.label.clone().map(ColumnValue::Text)),
            or_null(row.score.map(ColumnValue::Real)),
            or_null(row.flag.map(ColumnValue::Bool)),
            ColumnValue::Int(row.bucket),
        ]
    }
}

fn parse(pairs: &[(&str, &str)]) -> ViewQuery {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    ViewQuery::parse(&Sample::SCHEMA, &pairs, &[]).expect("a valid query")
}

/// Every page of every sort, both ways, with and without filters, small enough to put
/// cursors on NULLs and ties, equals the page `select` (the reference) makes of the same
/// rows.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_follow_the_reference_order() {
    let database = TestDatabase::new();
    let store = database.connect().await;
    for n in 0..120 {
        // Keys of one type and differing ids: by bytes, `s1` < `s10` < `s2`.
        let stream = StreamId::new("sample", format!("s{n}"));
        append_tick(&store, &stream, 0, n).await;
    }
    store.prepare_view(&Sample::SCHEMA).await.expect("prepare");
    let target = ddd_core::view::ViewTarget::live(&Sample::SCHEMA);
    store
        .advance_view::<Sample>(&target, 500)
        .await
        .expect("advance");
    let all = store
        .query_view(&Sample::SCHEMA, &parse(&[("limit", "500")]))
        .await
        .expect("query");
    assert_eq!(all.rows.len(), 120);
    let stored: Vec<(String, String, Vec<ColumnValue>)> = all
        .rows
        .iter()
        .map(|record| {
            // From the fold, not from the served JSON: serde_json's default parsing of a
            // float may be one unit in the last place off.
            let n = record
                .key
                .trim_start_matches("sample/s")
                .parse()
                .expect("n");
            let columns = Sample::columns(&Sample::of(n));
            (record.key.clone(), record.row.clone(), columns)
        })
        .collect();
    let reference = |query: &ViewQuery| {
        select(
            &Sample::SCHEMA,
            query,
            stored
                .iter()
                .map(|(key, row, columns)| (key.as_str(), row.as_str(), columns.as_slice())),
        )
    };
    let mut pages = 0;
    for filters in [
        &[][..],
        &[("bucket", "2")][..],
        &[("flag", "true")][..],
        &[("label", "a"), ("flag", "false")][..],
    ] {
        for sort in [
            None,
            Some("label"),
            Some("-label"),
            Some("score"),
            Some("-score"),
            Some("flag"),
            Some("-flag"),
            Some("-bucket"),
        ] {
            let mut pairs = filters.to_vec();
            pairs.push(("limit", "7"));
            if let Some(sort) = sort {
                pairs.push(("sort", sort));
            }
            let mut query = parse(&pairs);
            loop {
                let page = store
                    .query_view(&Sample::SCHEMA, &query)
                    .await
                    .expect("query");
                assert_eq!(page, reference(&query), "{pairs:?} after {:?}", query.after);
                pages += 1;
                match page.next {
                    Some(next) => query.after = Some(next),
                    None => break,
                }
            }
        }
    }
    assert!(pages > 100, "{pages} pages compared");
}

/// Three replicas (three stores, three pools) each keep one view caught up while writers
/// append: each takes its turn on the checkpoint, none fails, and the rows are those of a
/// fold from scratch.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_replicas_fold_each_event_once() {
    let database = TestDatabase::new();
    let writer_store = database.connect().await;
    let streams: Arc<Vec<StreamId>> = Arc::new(
        (0..12)
            .map(|_| StreamId::new("replicas", unique("s")))
            .collect(),
    );
    let stop = Arc::new(AtomicBool::new(false));
    let mut replicas = tokio::task::JoinSet::new();
    for batch in [7, 50, 500] {
        let store = database.connect_with("max_connections=3").await;
        store
            .prepare_view(&TickCount::SCHEMA)
            .await
            .expect("prepare");
        let stop = Arc::clone(&stop);
        replicas.spawn(async move {
            let handle = ViewHandle::of::<TickCount>();
            let runner = ViewRunner::<TickCount, _>::new(store, &handle).batch_size(batch);
            let mut applied = 0;
            loop {
                let stopping = stop.load(Ordering::SeqCst);
                applied += runner.catch_up().await.expect("a replica's catch-up");
                if stopping {
                    return applied;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        });
    }
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..4u32 {
        let store = writer_store.clone();
        let streams = Arc::clone(&streams);
        writers.spawn(async move {
            for n in 0..300u64 {
                let at = usize::try_from(n).expect("small") % streams.len();
                append_tick(&store, &streams[at], writer, n).await;
            }
        });
    }
    writers.join_all().await;
    stop.store(true, Ordering::SeqCst);
    let applied: usize = replicas.join_all().await.into_iter().sum();
    assert_eq!(applied, 1200, "each of the 1,200 ticks folded once");
    let expected = fold_from_scratch(&ddd_store_testkit::everything(&writer_store).await);
    assert_eq!(rows(&writer_store).await, expected);
}

/// Rebuilds swap a new table in while writers append, a runner keeps the live view and
/// readers query it: every query sees complete rows (the streams nobody writes to keep their
/// counts), and after the last rebuild the rows are a fold from scratch.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn rebuild_while_commands_append_and_queries_run() {
    let database = TestDatabase::new();
    let store = database.connect_with("max_connections=12").await;
    let quiet: Vec<StreamId> = (0..20)
        .map(|_| StreamId::new("quiet", unique("s")))
        .collect();
    for (stream, count) in quiet.iter().zip(1..) {
        for n in 0..count {
            append_tick(&store, stream, 9, n).await;
        }
    }
    catch_up(&store).await;
    let stop = Arc::new(AtomicBool::new(false));
    let mut tasks = tokio::task::JoinSet::new();
    for writer in 0..2u32 {
        let (store, stop) = (store.clone(), Arc::clone(&stop));
        tasks.spawn(async move {
            let streams: Vec<StreamId> =
                (0..8).map(|_| StreamId::new("hot", unique("s"))).collect();
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                append_tick(&store, &streams[n % streams.len()], writer, 1).await;
                n += 1;
            }
            n
        });
    }
    {
        let (store, stop) = (store.clone(), Arc::clone(&stop));
        tasks.spawn(async move {
            let handle = ViewHandle::of::<TickCount>();
            let runner = ViewRunner::<TickCount, _>::new(store, &handle).batch_size(32);
            let mut applied = 0;
            while !stop.load(Ordering::SeqCst) {
                applied += runner.catch_up().await.expect("the live runner");
            }
            applied
        });
    }
    for _ in 0..3 {
        let (store, stop, quiet) = (store.clone(), Arc::clone(&stop), quiet.clone());
        tasks.spawn(async move {
            let mut queries = 0;
            while !stop.load(Ordering::SeqCst) {
                check_quiet_rows(&store, &quiet).await;
                queries += 1;
            }
            queries
        });
    }
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let rebuilt = store.rebuild_view::<TickCount>(64).await.expect("rebuild");
        assert!(rebuilt.applied >= 210, "{rebuilt:?}");
    }
    stop.store(true, Ordering::SeqCst);
    let counts = tasks.join_all().await;
    assert!(counts.iter().all(|count| *count > 0), "{counts:?}");
    catch_up(&store).await;
    let expected = fold_from_scratch(&ddd_store_testkit::everything(&store).await);
    assert_eq!(rows(&store).await, expected);
}

/// The quiet streams' rows, by key and through a filter on their count: always all there,
/// with the counts they were written with.
async fn check_quiet_rows(store: &PostgresStore, quiet: &[StreamId]) {
    for (stream, count) in quiet.iter().zip(1u64..).step_by(5) {
        let record = store
            .view_row(&TickCount::SCHEMA, &stream.to_string())
            .await
            .expect("a row")
            .expect("the row is there");
        let row: TickCount = serde_json::from_str(&record.row).expect("a row");
        assert_eq!(row.count, count);
        let count = count.to_string();
        let pairs = [
            ("count".to_owned(), count),
            ("writer".to_owned(), "9".to_owned()),
        ];
        let query = ViewQuery::parse(&TickCount::SCHEMA, &pairs, &[]).expect("query");
        let page = store
            .query_view(&TickCount::SCHEMA, &query)
            .await
            .expect("query");
        assert_eq!(page.rows.len(), 1, "{pairs:?}");
    }
}

/// `TickCount` after a change: one more indexed column.
struct TickCountWithN;

impl View for TickCountWithN {
    type Event = Tick;
    type State = TickCount;
    type Row = TickCount;

    const SCHEMA: ViewSchema = ViewSchema {
        columns: &[
            TickCount::SCHEMA.columns[0],
            TickCount::SCHEMA.columns[1],
            TickCount::SCHEMA.columns[2],
            Column {
                name: "last_writer",
                ty: ColumnType::Integer {
                    min: 0,
                    max: u32::MAX as i64,
                },
                filter: true,
                sort: false,
            },
        ],
        ..TickCount::SCHEMA
    };

    fn key(event: &Envelope<Tick>) -> Option<String> {
        TickCount::key(event)
    }

    fn apply(state: &mut TickCount, event: &Envelope<Tick>) -> Result<(), String> {
        TickCount::apply(state, event)
    }

    fn row(key: &str, state: &TickCount, meta: &RowMeta) -> TickCount {
        TickCount::row(key, state, meta)
    }

    fn columns(row: &TickCount) -> Vec<ColumnValue> {
        let mut columns = TickCount::columns(row);
        columns.push(ColumnValue::Int(i64::from(row.writer)));
        columns
    }
}

/// A view whose columns changed since its table was made does not fold into it: preparing
/// it says to rebuild, and a rebuild makes the table anew.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_changed_view_is_rebuilt_not_mixed() {
    let database = TestDatabase::new();
    let store = database.connect().await;
    let stream = StreamId::new("changed", unique("s"));
    for n in 0..5 {
        append_tick(&store, &stream, 3, n).await;
    }
    catch_up(&store).await;
    let error = store
        .prepare_view(&TickCountWithN::SCHEMA)
        .await
        .expect_err("the table has other columns");
    assert!(error.to_string().contains("Rebuild the view"), "{error}");
    assert!(!error.is_retryable());
    let rebuilt = store
        .rebuild_view::<TickCountWithN>(2)
        .await
        .expect("rebuild");
    assert_eq!(rebuilt.applied, 5);
    store
        .prepare_view(&TickCountWithN::SCHEMA)
        .await
        .expect("the rebuilt table is this view's");
    let pairs = [("last_writer".to_owned(), "3".to_owned())];
    let query = ViewQuery::parse(&TickCountWithN::SCHEMA, &pairs, &[]).expect("query");
    let page = store
        .query_view(&TickCountWithN::SCHEMA, &query)
        .await
        .expect("query the new column");
    assert_eq!(page.rows.len(), 1);
    // The old build's view no longer fits the table: it stops instead of folding into it.
    assert!(store.prepare_view(&TickCount::SCHEMA).await.is_err());
    let target = ddd_core::view::ViewTarget::live(&TickCount::SCHEMA);
    append_tick(&store, &stream, 3, 5).await;
    assert!(matches!(
        store.advance_view::<TickCount>(&target, 10).await,
        Err(ViewError::Store(_))
    ));
}

/// Replicas starting together create the table once, without an error.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn replicas_prepare_a_view_at_once() {
    let database = TestDatabase::new();
    let mut stores = Vec::new();
    for _ in 0..6 {
        stores.push(database.connect_with("max_connections=2").await);
    }
    let mut preparing = tokio::task::JoinSet::new();
    for store in stores {
        preparing.spawn(async move { store.prepare_view(&TickCount::SCHEMA).await });
    }
    for prepared in preparing.join_all().await {
        prepared.expect("prepare");
    }
}
