//! What the view tests share: ticks appended in bulk, and a view's rows.

use std::collections::BTreeMap;

use ddd_core::testing::conformance::{request, tick};
use ddd_core::view::{ViewQuery, ViewSchema, ViewStore};
use ddd_core::{AppendError, ExpectedVersion, StreamId};
use ddd_sqlite::SqliteStore;

/// Appends one tick per `(stream, writer, n)`, many appends to a transaction.
pub(crate) async fn append(store: &SqliteStore, ticks: Vec<(StreamId, u32, u64)>) {
    for chunk in ticks.chunks(250) {
        let chunk = chunk.to_vec();
        store
            .write(move |tx| {
                for (stream, writer, n) in chunk {
                    let event = tick(&stream.aggregate_type, &stream.aggregate_id, writer, n);
                    tx.append(request(&stream, ExpectedVersion::Any, vec![event]))?;
                }
                Ok::<_, AppendError>(())
            })
            .await
            .expect("append ticks");
    }
}

/// Every row of a view, by key (a view of at most 500 rows: one page).
pub(crate) async fn rows(
    store: &SqliteStore,
    schema: &'static ViewSchema,
) -> BTreeMap<String, serde_json::Value> {
    let query = ViewQuery {
        limit: ddd_core::view::MAX_LIMIT,
        ..ViewQuery::default()
    };
    let page = store.query_view(schema, &query).await.expect("query");
    assert!(page.next.is_none(), "more rows than one page holds");
    page.rows
        .into_iter()
        .map(|record| {
            let row = serde_json::from_str(&record.row).expect("a row is JSON");
            (record.key, row)
        })
        .collect()
}
