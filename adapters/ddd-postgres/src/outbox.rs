//! The transactional outbox: the append statement writes an outbox row per event, so an
//! event is pending if and only if it was recorded. The relays of all the replicas over one
//! database (one schema) take turns through the lease row of `ddd_relay_lease`: one
//! publishes, the others stand by.

use std::time::Duration;

use ddd_core::{EventId, Lease, Outbox, RawEnvelope, StoreError};
use uuid::Uuid;

use sqlx::Row as _;

use crate::row::{self, event_columns};
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

    /// Committed without waiting for the WAL flush: a mark lost to a crash only leaves its
    /// events pending, and the relay publishes them again (see `ddd_outbox_settle`,
    /// migration 0006).
    async fn mark_published(&self, event_ids: &[EventId]) -> Result<(), StoreError> {
        self.outbox_step(event_ids, None, 0).await.map(|_| ())
    }

    /// One round trip: `ddd_outbox_settle` (migration 0006) marks, sequences and reads.
    async fn settle_and_read(
        &self,
        published: &[EventId],
        lease: Option<Lease>,
        limit: usize,
    ) -> Result<Option<Vec<RawEnvelope>>, StoreError> {
        self.outbox_step(published, lease, limit).await
    }

    /// One statement: a free or expired lease goes to `holder` with the next generation,
    /// `holder`'s own is extended. Concurrent claims on an expired lease queue on its row,
    /// and each re-reads it before deciding, so one of them wins.
    async fn claim_lease(&self, holder: Uuid, ttl: Duration) -> Result<Option<Lease>, StoreError> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let generation: Option<i64> = sqlx::query_scalar(
            "INSERT INTO ddd_relay_lease AS l (name, holder, generation, expires_at) \
             VALUES ('outbox', $1, 1, clock_timestamp() + $2 * interval '1 millisecond') \
             ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, \
                 generation = CASE WHEN l.holder = EXCLUDED.holder THEN l.generation \
                                   ELSE l.generation + 1 END, \
                 expires_at = EXCLUDED.expires_at \
             WHERE l.holder = EXCLUDED.holder OR l.expires_at <= clock_timestamp() \
             RETURNING generation",
        )
        .bind(holder)
        .bind(ttl_ms)
        .fetch_optional(self.pool())
        .await
        .map_err(|error| crate::error::store_error("claiming the relay lease", error))?;
        Ok(generation.map(|generation| Lease {
            holder,
            generation: generation.unsigned_abs(),
        }))
    }

    async fn release_lease(&self, lease: Lease) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE ddd_relay_lease SET expires_at = clock_timestamp() \
             WHERE name = 'outbox' AND holder = $1 AND generation = $2",
        )
        .bind(lease.holder)
        .bind(generation(lease))
        .execute(self.pool())
        .await
        .map_err(|error| crate::error::store_error("releasing the relay lease", error))?;
        Ok(())
    }

    /// One statement, so one transaction: the lease row is read `FOR SHARE` (a takeover
    /// waits until the mark commits) and the outbox rows are deleted only if it is still
    /// `lease`'s generation. Committed without waiting for the WAL flush, as
    /// [`mark_published`](Outbox::mark_published) is.
    async fn mark_published_under(
        &self,
        event_ids: &[EventId],
        lease: Lease,
    ) -> Result<bool, StoreError> {
        Ok(self.outbox_step(event_ids, Some(lease), 0).await?.is_some())
    }

    fn signal(&self) -> Option<ddd_core::OutboxListener> {
        Some(self.relay_signal())
    }
}

/// A generation as the `BIGINT` column holds it; generations start at 1 and grow by one per
/// takeover, so they never come near the end of the range.
fn generation(lease: Lease) -> i64 {
    i64::try_from(lease.generation).unwrap_or(i64::MAX)
}

impl PostgresStore {
    /// `ddd_outbox_settle`: marks `published` (under `lease`, when given), then reads up to
    /// `limit` pending events; `None` when `lease` is no longer current. The one statement
    /// behind every mark and the relay's step.
    async fn outbox_step(
        &self,
        published: &[EventId],
        lease: Option<Lease>,
        limit: usize,
    ) -> Result<Option<Vec<RawEnvelope>>, StoreError> {
        let failed = |error| crate::error::store_error("settling the outbox", error);
        let rows = sqlx::query(concat!(
            "SELECT ",
            event_columns!(),
            ", held FROM ddd_outbox_settle($1, $2, $3, $4, $5)"
        ))
        .bind(published)
        .bind(lease.map(|lease| lease.holder))
        .bind(lease.map(generation))
        .bind(limit_param(limit))
        .bind(self.settings.sequencer_batch)
        .fetch_all(self.pool())
        .await
        .map_err(failed)?;
        let held = rows
            .first()
            .map(|row| row.try_get::<bool, _>("held"))
            .transpose()
            .map_err(failed)?;
        if held == Some(false) {
            return Ok(None);
        }
        rows.iter()
            .map(row::envelope)
            .collect::<Result<_, _>>()
            .map(Some)
    }
}
