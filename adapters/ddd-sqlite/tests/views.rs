//! Views on SQLite beyond the conformance suite: pages equal to the in-memory store's (the
//! reference) over columns of every kind with NULLs, text ordered by bytes; the times of a
//! row kept to the microsecond; a table made for other columns refused until rebuilt; a
//! rebuild while commands append and queries run.

#[path = "support/views.rs"]
mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use ddd_core::memory::InMemoryEventStore;
use ddd_core::testing::conformance::views::{self, TickCount, Unlucky};
use ddd_core::testing::conformance::{Tick, request, tick};
use ddd_core::view::{
    Column, ColumnType, ColumnValue, Cursor, Direction, Filter, MAX_LIMIT, RowMeta, Sort, View,
    ViewPage, ViewQuery, ViewRecord, ViewSchema, ViewStore,
};
use ddd_core::{Envelope, EventStore, ExpectedVersion, StreamId};
use ddd_sqlite::SqliteStore;
use ddd_sqlite::testing::TestFile;
use ddd_store_testkit::rng;
use serde::{Deserialize, Serialize};

/// Texts whose byte order differs from a human one: case, accents, an emoji, the empty one.
const LABELS: [&str; 9] = ["", "a", "B", "b", "é", "Z", "ä", "a b", "\u{1F600}"];

/// A row with a column of every kind, one of them often NULL.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
struct Mixed {
    stream: String,
    count: i64,
    even: bool,
    score: f64,
    label: String,
    maybe: Option<i64>,
}

const fn both(name: &'static str, ty: ColumnType) -> Column {
    Column {
        name,
        ty,
        filter: true,
        sort: true,
    }
}

impl View for Mixed {
    type Event = Tick;
    type State = Self;
    type Row = Self;

    const SCHEMA: ViewSchema = ViewSchema {
        name: "Mixed",
        table: "mixed",
        key: "stream",
        key_type: ColumnType::Text,
        columns: &[
            both("count", ColumnType::Integer { min: 0, max: 100 }),
            both("even", ColumnType::Bool),
            both("score", ColumnType::Real),
            both("label", ColumnType::Text),
            both("maybe", ColumnType::Integer { min: 0, max: 3 }),
        ],
        state_is_row: true,
    };

    fn key(event: &Envelope<Tick>) -> Option<String> {
        TickCount::key(event)
    }

    fn apply(state: &mut Self, event: &Envelope<Tick>) -> Result<(), String> {
        let n = event.payload.n;
        state.count += 1;
        state.even = n.is_multiple_of(2);
        state.score = f64::from(u32::try_from(n % 64).unwrap_or(0)) / 4.0 - 4.0;
        state.label = LABELS[usize::try_from(n).unwrap_or(0) % LABELS.len()].to_owned();
        state.maybe = (!n.is_multiple_of(3)).then(|| i64::try_from(n % 4).unwrap_or(0));
        Ok(())
    }

    fn row(key: &str, state: &Self, _: &RowMeta) -> Self {
        Self {
            stream: key.to_owned(),
            ..state.clone()
        }
    }

    fn columns(row: &Self) -> Vec<ColumnValue> {
        vec![
            ColumnValue::Int(row.count),
            ColumnValue::Bool(row.even),
            ColumnValue::Real(row.score),
            ColumnValue::Text(row.label.clone()),
            row.maybe.map_or(ColumnValue::Null, ColumnValue::Int),
        ]
    }
}

async fn catch_up<V: View, S: ViewStore>(store: &S) {
    views::catch_up::<V, S>(store, 64).await;
}

fn random_query(rng: &mut rng::Rng, values: &[Vec<ColumnValue>], limit: u64) -> ViewQuery {
    let columns = Mixed::SCHEMA.columns.len() as u64;
    let mut filters = Vec::new();
    for _ in 0..rng.below(3) {
        let column = usize::try_from(rng.below(columns)).expect("column");
        let row = usize::try_from(rng.below(values.len() as u64)).expect("row");
        filters.push(Filter {
            column,
            value: values[row][column].clone(),
        });
    }
    let sort = (rng.below(4) != 0).then(|| Sort {
        column: usize::try_from(rng.below(columns)).expect("column"),
        direction: if rng.below(2) == 0 {
            Direction::Ascending
        } else {
            Direction::Descending
        },
    });
    ViewQuery {
        filters,
        sort,
        limit: usize::try_from(rng.below(limit) + 1).expect("limit"),
        after: None,
    }
}

/// Pages through `query` on both stores, `pages` pages at most; each page, and each cursor,
/// must be the same. Returns the rows seen.
async fn same_pages(
    sqlite: &SqliteStore,
    memory: &InMemoryEventStore,
    mut query: ViewQuery,
    pages: usize,
) -> Vec<ViewRecord> {
    let mut seen = Vec::new();
    for _ in 0..pages {
        let ours: ViewPage = sqlite
            .query_view(&Mixed::SCHEMA, &query)
            .await
            .expect("query");
        let reference = memory
            .query_view(&Mixed::SCHEMA, &query)
            .await
            .expect("query");
        assert_eq!(ours, reference, "{query:?}");
        seen.extend(ours.rows);
        let Some(next) = ours.next else { break };
        query.after = Cursor::decode(&next.encode());
    }
    seen
}

/// Both stores holding `streams` rows of [`Mixed`] folded from the same ticks, and the
/// rows' column values (to draw filters from).
async fn mixed(
    file: &TestFile,
    streams: usize,
    rng: &mut rng::Rng,
) -> (SqliteStore, InMemoryEventStore, Vec<Vec<ColumnValue>>) {
    let sqlite = file.connect().await;
    let memory = InMemoryEventStore::new();
    let mut ticks = Vec::new();
    for i in 0..streams {
        let stream = StreamId::new("Mixed", format!("s{i:04}"));
        for _ in 0..=rng.below(4) {
            ticks.push((stream.clone(), 0, rng.below(200)));
        }
    }
    for (stream, writer, n) in &ticks {
        let event = tick(&stream.aggregate_type, &stream.aggregate_id, *writer, *n);
        memory
            .append(request(stream, ExpectedVersion::Any, vec![event]))
            .await
            .expect("append");
    }
    support::append(&sqlite, ticks).await;
    catch_up::<Mixed, _>(&sqlite).await;
    catch_up::<Mixed, _>(&memory).await;
    let everything = ViewQuery {
        limit: MAX_LIMIT,
        ..ViewQuery::default()
    };
    let values = same_pages(&sqlite, &memory, everything, usize::MAX)
        .await
        .iter()
        .map(|record| Mixed::columns(&serde_json::from_str(&record.row).expect("a Mixed row")))
        .collect();
    (sqlite, memory, values)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_equal_the_reference_over_every_kind_of_column() {
    let file = TestFile::new();
    let seed = rng::seed();
    eprintln!("seed {seed} (DDD_TEST_SEED to replay)");
    let mut rng = rng::Rng::new(seed);
    let (sqlite, memory, values) = mixed(&file, 80, &mut rng).await;
    assert!(values.iter().any(|columns| columns[4] == ColumnValue::Null));
    for _ in 0..300 {
        let query = random_query(&mut rng, &values, 9);
        same_pages(&sqlite, &memory, query, usize::MAX).await;
    }
}

/// Filters matching thousands of rows under a sort: the store walks the sort column's index
/// instead of sorting the matches, and must page alike.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pages_equal_the_reference_when_filters_match_many_rows() {
    let file = TestFile::new();
    let seed = rng::seed();
    eprintln!("seed {seed} (DDD_TEST_SEED to replay)");
    let mut rng = rng::Rng::new(seed);
    let (sqlite, memory, values) = mixed(&file, 3000, &mut rng).await;
    let mut walked = 0;
    for _ in 0..60 {
        let mut query = random_query(&mut rng, &values, 300);
        // `even` holds for about half the rows: enough to walk.
        query.filters.push(Filter {
            column: 1,
            value: ColumnValue::Bool(rng.below(2) == 0),
        });
        walked += usize::from(query.sort.is_some());
        same_pages(&sqlite, &memory, query, 6).await;
    }
    assert!(walked > 20, "sorted queries with a common filter");
}

/// The runtime's part of each row, to see it round-trip.
#[derive(Debug, Serialize, Deserialize)]
struct Meta {
    stream: String,
    meta: RowMeta,
}

impl View for Meta {
    type Event = Tick;
    type State = u64;
    type Row = Self;

    const SCHEMA: ViewSchema = ViewSchema {
        name: "Meta",
        table: "meta",
        key: "stream",
        key_type: ColumnType::Text,
        columns: &[],
        state_is_row: false,
    };

    fn key(event: &Envelope<Tick>) -> Option<String> {
        TickCount::key(event)
    }

    fn apply(state: &mut u64, _: &Envelope<Tick>) -> Result<(), String> {
        *state += 1;
        Ok(())
    }

    fn row(key: &str, _: &u64, meta: &RowMeta) -> Self {
        Self {
            stream: key.to_owned(),
            meta: *meta,
        }
    }

    fn columns(_: &Self) -> Vec<ColumnValue> {
        Vec::new()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_row_keeps_its_times_to_the_microsecond() {
    let file = TestFile::new();
    let store = file.connect().await;
    let stream = StreamId::new("Meta", "one");
    for n in 0..5 {
        let event = tick(&stream.aggregate_type, &stream.aggregate_id, 0, n);
        store
            .append(request(&stream, ExpectedVersion::Any, vec![event]))
            .await
            .expect("append");
        // Each event in a step of its own: the times come back from the table each time.
        catch_up::<Meta, _>(&store).await;
    }
    let events = store.read_all(0, 10).await.expect("read_all");
    let row = store
        .view_row(&Meta::SCHEMA, &stream.to_string())
        .await
        .expect("row")
        .expect("the row");
    let row: Meta = serde_json::from_str(&row.row).expect("JSON");
    let meta = RowMeta {
        version: 5,
        created_at: events[0].recorded_at,
        updated_at: events[4].recorded_at,
    };
    assert_eq!(row.meta, meta);
}

/// [`TickCount`] as the next version of its model folds it: one more column, and rows
/// marked so a query tells the rebuilt table from the old one.
#[derive(Debug, Default, Serialize, Deserialize)]
struct Next {
    #[serde(flatten)]
    count: TickCount,
    generation: u32,
}

impl View for Next {
    type Event = Tick;
    type State = TickCount;
    type Row = Next;

    const SCHEMA: ViewSchema = ViewSchema {
        columns: &[
            both("count", ColumnType::Integer { min: 0, max: 100 }),
            both("writer", ColumnType::Integer { min: 0, max: 100 }),
            both("total", ColumnType::Integer { min: 0, max: 100 }),
            both("stream", ColumnType::Text),
        ],
        ..TickCount::SCHEMA
    };

    fn key(event: &Envelope<Tick>) -> Option<String> {
        TickCount::key(event)
    }

    fn apply(state: &mut TickCount, event: &Envelope<Tick>) -> Result<(), String> {
        TickCount::apply(state, event)
    }

    fn row(key: &str, state: &TickCount, meta: &RowMeta) -> Next {
        Next {
            count: TickCount::row(key, state, meta),
            generation: 2,
        }
    }

    fn columns(row: &Next) -> Vec<ColumnValue> {
        let mut columns = TickCount::columns(&row.count);
        columns.push(ColumnValue::Text(row.count.stream.clone()));
        columns
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_table_of_other_columns_is_refused_until_rebuilt() {
    let file = TestFile::new();
    let store = file.connect().await;
    let streams: Vec<StreamId> = (0..3)
        .map(|i| StreamId::new("Tick", format!("s{i}")))
        .collect();
    support::append(&store, streams.iter().map(|s| (s.clone(), 0, 2)).collect()).await;
    catch_up::<TickCount, _>(&store).await;
    let error = store
        .prepare_view(&Next::SCHEMA)
        .await
        .expect_err("another table");
    let message = error.to_string();
    assert!(
        message.contains("c_stream TEXT") && message.contains("rebuild"),
        "{message}"
    );
    let rebuilt = store.rebuild_view::<Next>(2).await.expect("rebuild");
    assert_eq!(rebuilt.applied, 3);
    store
        .prepare_view(&Next::SCHEMA)
        .await
        .expect("the new table");
    let query = ViewQuery::parse(
        &Next::SCHEMA,
        &[("stream".to_owned(), "Tick/s1".to_owned())],
        &[],
    )
    .expect("a filter on the new column");
    let page = store
        .query_view(&Next::SCHEMA, &query)
        .await
        .expect("query");
    assert_eq!(page.rows.len(), 1);
    // Rebuilt again: its indexes take other names, the old ones go with the old table.
    store.rebuild_view::<Next>(2).await.expect("rebuild again");
    store.prepare_view(&Next::SCHEMA).await.expect("prepared");
    let indexes: i64 = store
        .read(|connection| {
            connection
                .query_row(
                    "SELECT count(*) FROM sqlite_schema WHERE type = 'index' \
                     AND tbl_name LIKE 'ddd_view_%' AND sql IS NOT NULL",
                    [],
                    |row| row.get(0),
                )
                .map_err(|error| ddd_core::StoreError::permanent(error.to_string()))
        })
        .await
        .expect("indexes");
    assert_eq!(indexes, 4 * 2, "one index per column each way, no more");
}

/// Queries until `stop`: each sees every stream's row, all old or all new, and once new,
/// never old again. Returns how many queries saw each.
async fn query_while(store: SqliteStore, streams: usize, stop: Arc<AtomicBool>) -> (u64, u64) {
    let (mut old, mut new) = (0, 0);
    while !stop.load(Ordering::SeqCst) {
        let rows = views::rows::<serde_json::Value, _>(&store, &TickCount::SCHEMA).await;
        assert_eq!(rows.len(), streams, "a query saw a partial table");
        let marked = rows
            .values()
            .filter(|row| row.get("generation").is_some())
            .count();
        match marked {
            0 => {
                assert_eq!(new, 0, "old rows after new ones");
                old += 1;
            }
            all if all == streams => new += 1,
            some => panic!("{some} of {streams} rows rebuilt: a half-built table"),
        }
        tokio::task::yield_now().await;
    }
    (old, new)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_rebuild_swaps_in_while_commands_append_and_queries_run() {
    const STREAMS: usize = 60;
    let file = TestFile::new();
    let store = file.connect().await;
    let streams: Vec<StreamId> = (0..STREAMS)
        .map(|i| StreamId::new("Tick", format!("s{i:02}")))
        .collect();
    let backlog = (0..30)
        .flat_map(|n| streams.iter().map(move |s| (s.clone(), 1, n)))
        .collect();
    support::append(&store, backlog).await;
    catch_up::<TickCount, _>(&store).await;

    let stop = Arc::new(AtomicBool::new(false));
    let appended = Arc::new(AtomicU64::new(0));
    let appender = tokio::spawn({
        let (store, stop, appended) = (store.clone(), Arc::clone(&stop), Arc::clone(&appended));
        let streams = streams.clone();
        async move {
            let mut n = 0;
            while !stop.load(Ordering::SeqCst) {
                let stream = &streams[n % STREAMS];
                let event = tick(&stream.aggregate_type, &stream.aggregate_id, 2, 1);
                store
                    .append(request(stream, ExpectedVersion::Any, vec![event]))
                    .await
                    .expect("append during the rebuild");
                appended.fetch_add(1, Ordering::SeqCst);
                n += 1;
            }
        }
    });
    let queries = tokio::spawn(query_while(store.clone(), STREAMS, Arc::clone(&stop)));
    tokio::time::sleep(Duration::from_millis(50)).await;
    let rebuilt = store.rebuild_view::<Next>(37).await.expect("rebuild");
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.store(true, Ordering::SeqCst);
    appender.await.expect("appender");
    let (old, new) = queries.await.expect("queries");
    eprintln!(
        "{} events appended during the rebuild of {} read; queries saw the old table {old} \
         times, the new one {new} times",
        appended.load(Ordering::SeqCst),
        rebuilt.read
    );
    assert!(old > 0 && new > 0, "queries ran before and after the swap");
    assert!(
        appended.load(Ordering::SeqCst) > 0,
        "commands ran during the rebuild"
    );

    catch_up::<Next, _>(&store).await;
    let total = 30 * STREAMS as u64 + appended.load(Ordering::SeqCst);
    let rows = views::rows::<serde_json::Value, _>(&store, &TickCount::SCHEMA).await;
    let counted: u64 = rows
        .values()
        .map(|row| row["count"].as_u64().expect("count"))
        .sum();
    assert_eq!(counted, total, "each event folded once across the swap");
    let progress = store
        .view_progress(&TickCount::SCHEMA)
        .await
        .expect("progress");
    assert_eq!(progress.lag_events(), 0);
    assert_eq!(
        leftovers(&store).await,
        0,
        "the rebuild's table and checkpoint are gone"
    );
}

async fn leftovers(store: &SqliteStore) -> i64 {
    store
        .read(|connection| {
            connection
                .query_row(
                    "SELECT (SELECT count(*) FROM sqlite_schema WHERE name LIKE '%rebuild%' \
                     AND type = 'table') + (SELECT count(*) FROM ddd_checkpoints \
                     WHERE projection LIKE '%#rebuild')",
                    [],
                    |row| row.get(0),
                )
                .map_err(|error| ddd_core::StoreError::permanent(error.to_string()))
        })
        .await
        .expect("leftovers")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rebuild_that_fails_leaves_the_live_table() {
    let file = TestFile::new();
    let store = file.connect().await;
    let stream = StreamId::new("Tick", "one");
    support::append(&store, (1..=12).map(|n| (stream.clone(), 0, n)).collect()).await;
    catch_up::<Unlucky, _>(&store).await;
    let before = views::rows::<serde_json::Value, _>(&store, &Unlucky::SCHEMA).await;
    support::append(&store, (13..=20).map(|n| (stream.clone(), 0, n)).collect()).await;
    let error = store
        .rebuild_view::<Unlucky>(5)
        .await
        .expect_err("13 fails the rebuild");
    assert!(error.to_string().contains("13 is unlucky"), "{error}");
    assert_eq!(
        views::rows::<serde_json::Value, _>(&store, &Unlucky::SCHEMA).await,
        before
    );
    assert_eq!(
        leftovers(&store).await,
        0,
        "the failed rebuild's table is gone"
    );
}
