//! What the view tests share: ticks appended in bulk.

use ddd_core::testing::conformance::{request, tick};
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
