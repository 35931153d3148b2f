//! Conformance checks for [`ViewStore`] implementations: each event folded once (across
//! batches, concurrent runners and failures), queries that filter, sort and page by the
//! rules of [`ViewQuery`], and rebuilds.
//!
//! Every check takes a fresh store from `fresh` (an empty file, a new schema), so it can
//! count exactly.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use serde::{Deserialize, Serialize};

use super::{Tick, request, tick, unique};
use crate::aggregate::ExpectedVersion;
use crate::event::{Envelope, Position};
use crate::store::{EventStore, StreamId};
use crate::view::{
    Column, ColumnType, ColumnValue, ConsistencyToken, RowMeta, View, ViewError, ViewHandle,
    ViewQuery, ViewRunner, ViewSchema, ViewStatus, ViewStore, ViewTarget,
};

/// Runs every check, each on a store `fresh` makes.
pub async fn run_all<S, F, Fut>(fresh: F)
where
    S: EventStore + ViewStore + Clone,
    F: Fn() -> Fut,
    Fut: Future<Output = S>,
{
    folds_each_event_once(&fresh().await).await;
    keeps_the_state_beside_the_row(&fresh().await).await;
    concurrent_runners_fold_each_event_once(&fresh().await).await;
    stops_before_a_failing_event(&fresh().await).await;
    queries_filter_sort_and_page(&fresh().await).await;
    pages_every_row_once_while_rows_are_added(&fresh().await).await;
    rebuild_swaps_in_the_same_rows(&fresh().await).await;
    progress_and_positions(&fresh().await).await;
}

/// Ticks per stream: how many, their sum, the last writer. The state is the row.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickCount {
    /// The stream (`type/id`).
    pub stream: String,
    /// Ticks folded.
    pub count: u64,
    /// The sum of their `n`.
    pub total: u64,
    /// The writer of the last one.
    pub writer: u32,
}

impl View for TickCount {
    type Event = Tick;
    type State = Self;
    type Row = Self;

    const SCHEMA: ViewSchema = ViewSchema {
        name: "TickCount",
        table: "tick_count",
        key: "stream",
        key_type: ColumnType::Text,
        columns: &[
            Column {
                name: "count",
                ty: ColumnType::Integer {
                    min: 0,
                    max: i64::MAX,
                },
                filter: true,
                sort: true,
            },
            Column {
                name: "writer",
                ty: ColumnType::Integer {
                    min: 0,
                    max: u32::MAX as i64,
                },
                filter: true,
                sort: false,
            },
            Column {
                name: "total",
                ty: ColumnType::Integer {
                    min: 0,
                    max: i64::MAX,
                },
                filter: false,
                sort: true,
            },
        ],
        state_is_row: true,
    };

    fn key(event: &Envelope<Tick>) -> Option<String> {
        Some(format!("{}/{}", event.aggregate_type, event.aggregate_id))
    }

    fn apply(state: &mut Self, event: &Envelope<Tick>) -> Result<(), String> {
        state.count += 1;
        state.total += event.payload.n;
        state.writer = event.payload.writer;
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
            ColumnValue::Int(i64::try_from(row.count).unwrap_or(i64::MAX)),
            ColumnValue::Int(i64::from(row.writer)),
            ColumnValue::Int(i64::try_from(row.total).unwrap_or(i64::MAX)),
        ]
    }
}

/// Every `n` of a stream in the state; the row shows how many and the version and times
/// the runtime keeps.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TickHistory {
    /// The stream.
    pub stream: String,
    /// How many ticks the state holds.
    pub len: usize,
    /// The ticks' `n`, in order.
    pub ns: Vec<u64>,
    /// The row's version: events folded.
    pub version: u64,
}

impl View for TickHistory {
    type Event = Tick;
    type State = Vec<u64>;
    type Row = Self;

    const SCHEMA: ViewSchema = ViewSchema {
        name: "TickHistory",
        table: "tick_history",
        key: "stream",
        key_type: ColumnType::Text,
        columns: &[],
        state_is_row: false,
    };

    fn key(event: &Envelope<Tick>) -> Option<String> {
        TickCount::key(event)
    }

    fn apply(state: &mut Vec<u64>, event: &Envelope<Tick>) -> Result<(), String> {
        state.push(event.payload.n);
        Ok(())
    }

    fn row(key: &str, state: &Vec<u64>, meta: &RowMeta) -> Self {
        Self {
            stream: key.to_owned(),
            len: state.len(),
            ns: state.clone(),
            version: meta.version,
        }
    }

    fn columns(_: &Self) -> Vec<ColumnValue> {
        Vec::new()
    }
}

/// Counts like [`TickCount`] but refuses a tick with `n == 13`: a bug in a view.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Unlucky {
    /// Ticks folded.
    pub count: u64,
}

impl View for Unlucky {
    type Event = Tick;
    type State = Self;
    type Row = Self;

    const SCHEMA: ViewSchema = ViewSchema {
        name: "Unlucky",
        table: "unlucky",
        key: "stream",
        key_type: ColumnType::Text,
        columns: &[],
        state_is_row: true,
    };

    fn key(event: &Envelope<Tick>) -> Option<String> {
        TickCount::key(event)
    }

    fn apply(state: &mut Self, event: &Envelope<Tick>) -> Result<(), String> {
        state.count += 1;
        if event.payload.n == 13 {
            return Err("13 is unlucky".to_owned());
        }
        Ok(())
    }

    fn row(_: &str, state: &Self, _: &RowMeta) -> Self {
        state.clone()
    }

    fn columns(_: &Self) -> Vec<ColumnValue> {
        Vec::new()
    }
}

fn stream() -> StreamId {
    StreamId::new(unique("views"), unique("s"))
}

fn key(stream: &StreamId) -> String {
    stream.to_string()
}

/// Appends ticks `n` of `writer` to `stream`, one append each; returns the last position.
async fn append_ticks<S: EventStore>(
    store: &S,
    stream: &StreamId,
    writer: u32,
    ns: impl IntoIterator<Item = u64>,
) {
    for n in ns {
        let event = tick(&stream.aggregate_type, &stream.aggregate_id, writer, n);
        store
            .append(request(stream, ExpectedVersion::Any, vec![event]))
            .await
            .expect("append");
    }
}

/// Prepares `V` and folds every event recorded so far, `batch` per step; returns how many
/// the view applied. What a test does where a service runs a [`ViewRunner`].
pub async fn catch_up<V: View, S: ViewStore>(store: &S, batch: usize) -> usize {
    store
        .prepare_view(&V::SCHEMA)
        .await
        .expect("prepare the view");
    let target = ViewTarget::live(&V::SCHEMA);
    let mut applied = 0;
    loop {
        let step = store
            .advance_view::<V>(&target, batch)
            .await
            .expect("advance the view");
        applied += step.applied;
        if step.read < batch {
            return applied;
        }
    }
}

/// Every row of the live table of `schema`, by key, paged through `query_view`.
pub async fn rows<T: serde::de::DeserializeOwned, S: ViewStore>(
    store: &S,
    schema: &'static ViewSchema,
) -> BTreeMap<String, T> {
    crate::view::all_rows(store, schema)
        .await
        .expect("query")
        .into_iter()
        .map(|record| {
            let row = serde_json::from_str(&record.row).expect("a row of the view's type");
            (record.key, row)
        })
        .collect()
}

async fn read_row<V: View, S: ViewStore>(store: &S, key: &str) -> Option<serde_json::Value> {
    store
        .view_row(&V::SCHEMA, key)
        .await
        .expect("read a row")
        .map(|record| serde_json::from_str(&record.row).expect("a row is JSON"))
}

/// Rows fold every event once, across batch boundaries; advancing again changes nothing.
pub async fn folds_each_event_once<S: EventStore + ViewStore>(store: &S) {
    let streams: Vec<StreamId> = (0..5).map(|_| stream()).collect();
    for (writer, stream) in (0..).zip(&streams) {
        append_ticks(store, stream, writer, 1..=20).await;
    }
    let applied = catch_up::<TickCount, _>(store, 7).await;
    assert_eq!(applied, 100, "every tick folded once");
    assert_eq!(catch_up::<TickCount, _>(store, 7).await, 0, "nothing twice");
    for (writer, stream) in (0..).zip(&streams) {
        let row = read_row::<TickCount, _>(store, &key(stream))
            .await
            .expect("a row per stream");
        assert_eq!(
            row,
            serde_json::json!({"stream": key(stream), "count": 20, "total": 210, "writer": writer})
        );
    }
    assert_eq!(read_row::<TickCount, _>(store, "no/such").await, None);
}

/// A view whose state is more than its row keeps both, and the runtime's version counts
/// the row's events.
pub async fn keeps_the_state_beside_the_row<S: EventStore + ViewStore>(store: &S) {
    let stream = stream();
    append_ticks(store, &stream, 1, [3, 1, 4]).await;
    catch_up::<TickHistory, _>(store, 2).await;
    append_ticks(store, &stream, 1, [1, 5]).await;
    catch_up::<TickHistory, _>(store, 2).await;
    let row = read_row::<TickHistory, _>(store, &key(&stream))
        .await
        .expect("the row");
    assert_eq!(
        row,
        serde_json::json!({"stream": key(&stream), "len": 5, "ns": [3, 1, 4, 1, 5], "version": 5})
    );
}

/// Three runners of one view (three replicas) fold while writers append: each event once.
pub async fn concurrent_runners_fold_each_event_once<S: EventStore + ViewStore + Clone>(store: &S) {
    store
        .prepare_view(&TickCount::SCHEMA)
        .await
        .expect("prepare");
    let streams: Arc<Vec<StreamId>> = Arc::new((0..4).map(|_| stream()).collect());
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..4u32 {
        let store = store.clone();
        let streams = Arc::clone(&streams);
        writers.spawn(async move {
            for n in 1..=50 {
                let stream = &streams[usize::try_from(n % 4).unwrap_or(0)];
                append_ticks(&store, stream, writer, [n]).await;
            }
        });
    }
    let mut runners = tokio::task::JoinSet::new();
    for _ in 0..3 {
        let store = store.clone();
        runners.spawn(async move {
            let target = ViewTarget::live(&TickCount::SCHEMA);
            let mut applied = 0;
            for _ in 0..40 {
                match store.advance_view::<TickCount>(&target, 16).await {
                    Ok(step) => applied += step.applied,
                    // Another runner held the checkpoint and moved it: try again.
                    Err(ViewError::Store(error)) if error.is_retryable() => {}
                    Err(error) => panic!("advance: {error}"),
                }
                tokio::task::yield_now().await;
            }
            applied
        });
    }
    writers.join_all().await;
    let during: usize = runners.join_all().await.into_iter().sum();
    let after = catch_up::<TickCount, _>(store, 16).await;
    assert_eq!(during + after, 200, "each of the 200 ticks folded once");
    let mut counted = 0;
    for stream in streams.iter() {
        let row = read_row::<TickCount, _>(store, &key(stream))
            .await
            .expect("a row");
        counted += row["count"].as_u64().expect("count");
    }
    assert_eq!(counted, 200);
}

/// A view stops before the event it cannot apply; the rows and checkpoint are those of the
/// events before it, and it stops there again until fixed.
pub async fn stops_before_a_failing_event<S: EventStore + ViewStore + Clone>(store: &S) {
    let stream = stream();
    append_ticks(store, &stream, 1, 1..=20).await;
    let handle = ViewHandle::of::<Unlucky>();
    let runner = ViewRunner::<Unlucky, _>::new(store.clone(), &handle).batch_size(8);
    store.prepare_view(&Unlucky::SCHEMA).await.expect("prepare");
    let error = runner.catch_up().await.expect_err("tick 13 fails");
    let ViewError::Event {
        position, reason, ..
    } = error
    else {
        panic!("an event failure, got {error:?}");
    };
    assert_eq!(reason, "13 is unlucky");
    let row = read_row::<Unlucky, _>(store, &key(&stream))
        .await
        .expect("the row");
    assert_eq!(row["count"], 12, "the twelve ticks before 13, no more");
    let progress = store
        .view_progress(&Unlucky::SCHEMA)
        .await
        .expect("progress");
    assert_eq!(progress.checkpoint, position - 1);
    assert_eq!(progress.lag_events(), 8);
    assert!(matches!(handle.status(), ViewStatus::Failed { position: p, .. } if p == position));
    runner.catch_up().await.expect_err("still failing");
    let row = read_row::<Unlucky, _>(store, &key(&stream))
        .await
        .expect("the row");
    assert_eq!(row["count"], 12, "a retry applies nothing twice");
}

/// Filters, sorts both ways with ties broken by key, limits and cursors, as
/// [`select`](crate::view::select) defines them.
pub async fn queries_filter_sort_and_page<S: EventStore + ViewStore>(store: &S) {
    // Stream i gets i % 4 + 1 ticks from writer i % 3: counts tie, writers repeat.
    let mut expected = BTreeMap::new();
    for i in 0..24u32 {
        let stream = stream();
        let count = u64::from(i % 4 + 1);
        append_ticks(store, &stream, i % 3, 1..=count).await;
        expected.insert(key(&stream), (count, i % 3));
    }
    catch_up::<TickCount, _>(store, 50).await;
    let schema = &TickCount::SCHEMA;
    let query = |pairs: &[(&str, &str)]| {
        let pairs: Vec<(String, String)> = pairs
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        ViewQuery::parse(schema, &pairs, &[]).expect("a valid query")
    };
    let keys = |page: &crate::view::ViewPage| -> Vec<String> {
        page.rows.iter().map(|record| record.key.clone()).collect()
    };

    let everything = store.query_view(schema, &query(&[])).await.expect("query");
    let by_key: Vec<String> = expected.keys().cloned().collect();
    assert_eq!(keys(&everything), by_key, "without a sort, by key");
    assert_eq!(everything.next, None);

    let writer_one = store
        .query_view(schema, &query(&[("writer", "1")]))
        .await
        .expect("query");
    let wanted: Vec<String> = expected
        .iter()
        .filter(|(_, (_, writer))| *writer == 1)
        .map(|(key, _)| key.clone())
        .collect();
    assert_eq!(keys(&writer_one), wanted, "filtered by equality");

    for sort in ["count", "-count"] {
        let mut wanted: Vec<(u64, String)> = expected
            .iter()
            .map(|(key, (count, _))| (*count, key.clone()))
            .collect();
        wanted.sort_by(|a, b| {
            let by_count = if sort == "count" {
                a.0.cmp(&b.0)
            } else {
                b.0.cmp(&a.0)
            };
            by_count.then(a.1.cmp(&b.1))
        });
        let wanted: Vec<String> = wanted.into_iter().map(|(_, key)| key).collect();
        let mut seen = Vec::new();
        let mut page = store
            .query_view(schema, &query(&[("sort", sort), ("limit", "5")]))
            .await
            .expect("query");
        loop {
            assert!(page.rows.len() <= 5);
            seen.extend(keys(&page));
            let Some(next) = page.next else { break };
            let after = next.encode();
            page = store
                .query_view(
                    schema,
                    &query(&[("sort", sort), ("limit", "5"), ("after", &after)]),
                )
                .await
                .expect("query");
        }
        assert_eq!(seen, wanted, "sorted by {sort}, ties by key, paged by 5");
    }

    let both = store
        .query_view(
            schema,
            &query(&[("count", "2"), ("writer", "0"), ("sort", "-total")]),
        )
        .await
        .expect("query");
    let wanted: Vec<String> = expected
        .iter()
        .filter(|(_, (count, writer))| *count == 2 && *writer == 0)
        .map(|(key, _)| key.clone())
        .collect();
    assert_eq!(
        keys(&both),
        wanted,
        "two filters and a sort (totals tie: by key)"
    );
}

/// Paging through a view while rows are added returns every row that was there at the start
/// exactly once.
pub async fn pages_every_row_once_while_rows_are_added<S: EventStore + ViewStore + Clone>(
    store: &S,
) {
    let mut before = Vec::new();
    for _ in 0..30 {
        let stream = stream();
        append_ticks(store, &stream, 0, [1]).await;
        before.push(key(&stream));
    }
    catch_up::<TickCount, _>(store, 100).await;
    let schema = &TickCount::SCHEMA;
    let mut seen: Vec<String> = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut pairs = vec![("limit".to_owned(), "4".to_owned())];
        if let Some(after) = &after {
            pairs.push(("after".to_owned(), after.clone()));
        }
        let page = store
            .query_view(
                schema,
                &ViewQuery::parse(schema, &pairs, &[]).expect("query"),
            )
            .await
            .expect("query");
        seen.extend(page.rows.iter().map(|record| record.key.clone()));
        // New rows land before and after the cursor between pages.
        for _ in 0..2 {
            append_ticks(store, &stream(), 0, [1]).await;
        }
        catch_up::<TickCount, _>(store, 100).await;
        match page.next {
            Some(next) => after = Some(next.encode()),
            None => break,
        }
    }
    let mut unique_seen = seen.clone();
    unique_seen.sort();
    unique_seen.dedup();
    assert_eq!(unique_seen.len(), seen.len(), "no row twice");
    for key in &before {
        assert!(
            seen.contains(key),
            "row {key} was there from the start and was skipped"
        );
    }
}

/// A rebuild refolds every event into a fresh table and swaps it in: the same rows.
pub async fn rebuild_swaps_in_the_same_rows<S: EventStore + ViewStore>(store: &S) {
    let streams: Vec<StreamId> = (0..3).map(|_| stream()).collect();
    for stream in &streams {
        append_ticks(store, stream, 2, 1..=10).await;
    }
    catch_up::<TickHistory, _>(store, 8).await;
    let mut before = Vec::new();
    for stream in &streams {
        before.push(read_row::<TickHistory, _>(store, &key(stream)).await);
    }
    let rebuilt = store.rebuild_view::<TickHistory>(7).await.expect("rebuild");
    assert_eq!(rebuilt.applied, 30);
    for (stream, before) in streams.iter().zip(before) {
        assert_eq!(
            read_row::<TickHistory, _>(store, &key(stream)).await,
            before
        );
    }
    append_ticks(store, &streams[0], 2, [11]).await;
    assert_eq!(
        catch_up::<TickHistory, _>(store, 8).await,
        1,
        "the live view continues"
    );
    let progress = store
        .view_progress(&TickHistory::SCHEMA)
        .await
        .expect("progress");
    assert_eq!(progress.lag_events(), 0);
}

/// Progress counts the events a view has not folded; appended events have positions.
pub async fn progress_and_positions<S: EventStore + ViewStore>(store: &S) {
    store
        .prepare_view(&TickCount::SCHEMA)
        .await
        .expect("prepare");
    let stream = stream();
    let event = tick(&stream.aggregate_type, &stream.aggregate_id, 0, 1);
    let event_id = event.event_id;
    store
        .append(request(&stream, ExpectedVersion::Any, vec![event]))
        .await
        .expect("append");
    append_ticks(store, &stream, 0, [2, 3]).await;
    let progress = store
        .view_progress(&TickCount::SCHEMA)
        .await
        .expect("progress");
    assert_eq!(progress.lag_events(), 3);
    assert!(progress.oldest_pending.is_some());
    let position: Position = store
        .event_position(event_id)
        .await
        .expect("position")
        .expect("the event has a position");
    assert_eq!(position, progress.head - 2);
    assert_eq!(
        store
            .event_position(uuid::Uuid::now_v7())
            .await
            .expect("position"),
        None
    );
    catch_up::<TickCount, _>(store, 10).await;
    let progress = store
        .view_progress(&TickCount::SCHEMA)
        .await
        .expect("progress");
    assert_eq!((progress.lag_events(), progress.oldest_pending), (0, None));
    let token = ConsistencyToken {
        context: "Views".to_owned(),
        event_id,
        position,
    };
    assert_eq!(
        ConsistencyToken::decode(&token.encode(), "Views").expect("token"),
        token
    );
}
