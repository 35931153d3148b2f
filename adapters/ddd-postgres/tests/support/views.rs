//! What the view tests share: ticks to append, and the `TickCount` rows of a view against
//! those of a fold of the whole store from scratch.

use std::collections::BTreeMap;

use ddd_core::testing::conformance::views::{self, TickCount};
use ddd_core::testing::conformance::{Tick, request, tick};
use ddd_core::view::View;
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

/// Every row of the live `TickCount` view.
pub(crate) async fn rows(store: &PostgresStore) -> BTreeMap<String, TickCount> {
    views::rows(store, &TickCount::SCHEMA).await
}

/// Folds every event recorded so far into the live `TickCount`.
pub(crate) async fn catch_up(store: &PostgresStore) {
    views::catch_up::<TickCount, _>(store, 500).await;
}
