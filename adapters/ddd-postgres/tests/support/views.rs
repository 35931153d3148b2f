//! What the view tests share: ticks to append, and the `TickCount` rows of a view against
//! those of a fold of the whole store from scratch.

use std::collections::BTreeMap;

use ddd_core::testing::conformance::views::TickCount;
use ddd_core::testing::conformance::{Tick, request, tick};
use ddd_core::view::{View, ViewQuery, ViewStore, ViewTarget};
use ddd_core::{EventStore, ExpectedVersion, RawEnvelope, StreamId};
use ddd_postgres::PostgresStore;

/// Appends one tick `n` of `writer` to `stream`.
pub(crate) async fn append_tick(store: &PostgresStore, stream: &StreamId, writer: u32, n: u64) {
    let event = tick(&stream.aggregate_type, &stream.aggregate_id, writer, n);
    store
        .append(request(stream, ExpectedVersion::Any, vec![event]))
        .await
        .expect("append");
}

/// The rows `TickCount` should have: every event folded once, in the global order.
pub(crate) fn fold_from_scratch(events: &[RawEnvelope]) -> BTreeMap<String, TickCount> {
    let mut rows: BTreeMap<String, TickCount> = BTreeMap::new();
    for raw in events {
        let event = raw
            .clone()
            .decode::<Tick>()
            .expect("decode")
            .expect("a tick");
        let key = TickCount::key(&event).expect("a key");
        let row = rows.entry(key.clone()).or_default();
        TickCount::apply(row, &event).expect("apply");
        row.stream = key;
    }
    rows
}

/// Every row of the live `TickCount` view, paged through `query_view`.
pub(crate) async fn rows(store: &PostgresStore) -> BTreeMap<String, TickCount> {
    let mut rows = BTreeMap::new();
    let mut query = ViewQuery {
        limit: ddd_core::view::MAX_LIMIT,
        ..ViewQuery::default()
    };
    loop {
        let page = store
            .query_view(&TickCount::SCHEMA, &query)
            .await
            .expect("query");
        for record in page.rows {
            let row: TickCount = serde_json::from_str(&record.row).expect("a row");
            rows.insert(record.key, row);
        }
        match page.next {
            Some(next) => query.after = Some(next),
            None => return rows,
        }
    }
}

/// Folds every event recorded so far into the live `TickCount`.
pub(crate) async fn catch_up(store: &PostgresStore) {
    store
        .prepare_view(&TickCount::SCHEMA)
        .await
        .expect("prepare");
    let target = ViewTarget::live(&TickCount::SCHEMA);
    while store
        .advance_view::<TickCount>(&target, 500)
        .await
        .expect("advance")
        .read
        == 500
    {}
}
