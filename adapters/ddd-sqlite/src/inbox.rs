//! The inbox: the ids of the events each consumer processed. A handler whose effect is an
//! append passes an [`InboxMark`](ddd_core::InboxMark) with it; a handler that writes its own
//! tables calls [`WriteTx::mark_processed`](crate::WriteTx::mark_processed) in the same
//! [`SqliteStore::write`]. Either way the mark and the effect commit together, so a
//! redelivered event has no second effect.

use ddd_core::{EventId, Inbox, StoreError};

use crate::store::SqliteStore;

impl Inbox for SqliteStore {
    async fn is_processed(&self, consumer: &str, event_id: EventId) -> Result<bool, StoreError> {
        ddd_core::EventStore::is_processed(self, consumer, event_id).await
    }

    async fn mark_processed(&self, consumer: &str, event_id: EventId) -> Result<bool, StoreError> {
        let consumer = consumer.to_owned();
        self.write(move |tx| tx.mark_processed(&consumer, event_id))
            .await
    }
}
