//! The transactional outbox: the append statement writes an outbox row per event, so an
//! event is pending if and only if it was recorded. Run one relay per database: two relays
//! would each publish the same pending events (still at-least-once, but interleaved).

use ddd_core::{EventId, Outbox, RawEnvelope, StoreError};

use crate::row::event_columns;
use crate::store::{PostgresStore, limit_param};

impl Outbox for PostgresStore {
    /// Sequences what has committed first, so pending events carry their global positions
    /// and come in that order (each aggregate's in version order).
    async fn pending(&self, limit: usize) -> Result<Vec<RawEnvelope>, StoreError> {
        let query = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            " FROM ddd_outbox_pending($1, $2)"
        ))
        .bind(limit_param(limit))
        .bind(self.settings.sequencer_batch);
        self.fetch_events(query, "reading the outbox").await
    }

    async fn mark_published(&self, event_ids: &[EventId]) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM ddd_outbox AS o USING ddd_events AS e \
             WHERE o.event_row = e.id AND e.event_id = ANY($1)",
        )
        .bind(event_ids)
        .execute(self.pool())
        .await
        .map_err(|error| crate::error::store_error("marking events published", error))?;
        Ok(())
    }

    fn signal(&self) -> Option<tokio::sync::watch::Receiver<u64>> {
        Some(self.relay_signal())
    }
}
