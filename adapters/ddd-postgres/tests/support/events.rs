//! Reading a whole store.

use ddd_core::{EventStore, RawEnvelope};
use ddd_postgres::PostgresStore;

/// Every event of the store, in the global order.
pub(crate) async fn everything(store: &PostgresStore) -> Vec<RawEnvelope> {
    let mut all = Vec::new();
    loop {
        let page = store.read_all(all.last().map_or(0, |e: &RawEnvelope| e.position), 1000);
        let page = page.await.expect("read_all");
        if page.is_empty() {
            return all;
        }
        all.extend(page);
    }
}
