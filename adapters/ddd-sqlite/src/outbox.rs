//! The transactional outbox: every append writes an outbox row per event in its own
//! transaction, so an event is pending if and only if it was recorded. Run one relay per
//! database file: two relays would each publish the same pending events.

use ddd_core::{EventId, Outbox, RawEnvelope, StoreError};
use rusqlite::params;

use crate::error::store_error;
use crate::row::event_columns;
use crate::store::SqliteStore;

impl Outbox for SqliteStore {
    async fn pending(&self, limit: usize) -> Result<Vec<RawEnvelope>, StoreError> {
        // `+?2`: a parameter bound straight to LIMIT is prepared again on every run (see
        // `store::EVENTS_AFTER`).
        let sql = concat!(
            "SELECT ",
            event_columns!(),
            " FROM ddd_outbox AS o JOIN ddd_events AS e ON e.position = o.position \
             WHERE o.position > ?1 ORDER BY o.position LIMIT +?2"
        );
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.read_events(sql, [0, limit], "reading the outbox")
            .await
    }

    async fn mark_published(&self, event_ids: &[EventId]) -> Result<(), StoreError> {
        let ids = event_ids.to_vec();
        self.write(move |tx| {
            let mut statement = tx
                .connection()
                .prepare_cached(
                    "DELETE FROM ddd_outbox WHERE position = \
                     (SELECT position FROM ddd_events WHERE event_id = ?1)",
                )
                .map_err(|error| store_error("marking events published", error))?;
            for id in &ids {
                statement
                    .execute(params![&id.as_bytes()[..]])
                    .map_err(|error| store_error("marking events published", error))?;
            }
            Ok(())
        })
        .await
    }

    fn signal(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        Some(self.relay_signal())
    }
}
