//! The transactional outbox: every append writes an outbox row per event in its own
//! transaction, so an event is pending if and only if it was recorded. One file is usually
//! one process, but two processes may open it: their relays take turns through the lease
//! row of `ddd_relay_lease`, written by the one writer, so one publishes.

use std::time::Duration;

use ddd_core::{EventId, Lease, Outbox, RawEnvelope, StoreError};
use rusqlite::{Connection, OptionalExtension as _, params};
use uuid::Uuid;

use crate::error::store_error;
use crate::row::event_columns;
use crate::store::SqliteStore;

/// Now in Unix milliseconds, by SQLite's clock.
macro_rules! now_ms {
    () => {
        "CAST(unixepoch('subsec') * 1000 AS INTEGER)"
    };
}

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
        self.write(move |tx| delete_from_outbox(tx.connection(), &ids))
            .await
    }

    async fn claim_lease(&self, holder: Uuid, ttl: Duration) -> Result<Option<Lease>, StoreError> {
        let ttl_ms = i64::try_from(ttl.as_millis()).unwrap_or(i64::MAX);
        let generation: Option<i64> = self
            .write(move |tx| {
                tx.connection()
                    .prepare_cached(concat!(
                        "INSERT INTO ddd_relay_lease (name, holder, generation, expires_at) \
                         VALUES ('outbox', ?1, 1, ",
                        now_ms!(),
                        " + ?2) \
                         ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, \
                             generation = CASE WHEN holder = excluded.holder THEN generation \
                                               ELSE generation + 1 END, \
                             expires_at = excluded.expires_at \
                         WHERE holder = excluded.holder OR expires_at <= ",
                        now_ms!(),
                        " RETURNING generation"
                    ))
                    .and_then(|mut statement| {
                        statement
                            .query_row(params![&holder.as_bytes()[..], ttl_ms], |row| row.get(0))
                            .optional()
                    })
                    .map_err(|error| store_error("claiming the relay lease", error))
            })
            .await?;
        Ok(generation.map(|generation| Lease {
            holder,
            generation: generation.unsigned_abs(),
        }))
    }

    async fn release_lease(&self, lease: Lease) -> Result<(), StoreError> {
        self.write(move |tx| {
            tx.connection()
                .execute(
                    concat!(
                        "UPDATE ddd_relay_lease SET expires_at = ",
                        now_ms!(),
                        " WHERE name = 'outbox' AND holder = ?1 AND generation = ?2"
                    ),
                    params![&lease.holder.as_bytes()[..], generation(lease)],
                )
                .map(|_| ())
                .map_err(|error| store_error("releasing the relay lease", error))
        })
        .await
    }

    /// The check and the marks run in the one writer's transaction: no takeover comes
    /// between them.
    async fn mark_published_under(
        &self,
        event_ids: &[EventId],
        lease: Lease,
    ) -> Result<bool, StoreError> {
        let ids = event_ids.to_vec();
        self.write(move |tx| {
            let current = tx
                .connection()
                .prepare_cached(
                    "SELECT 1 FROM ddd_relay_lease \
                     WHERE name = 'outbox' AND holder = ?1 AND generation = ?2",
                )
                .and_then(|mut statement| {
                    statement.exists(params![&lease.holder.as_bytes()[..], generation(lease)])
                })
                .map_err(|error| store_error("reading the relay lease", error))?;
            if current {
                delete_from_outbox(tx.connection(), &ids)?;
            }
            Ok(current)
        })
        .await
    }

    fn signal(&self) -> Option<ddd_core::OutboxListener> {
        Some(self.relay_signal())
    }
}

fn delete_from_outbox(connection: &Connection, ids: &[EventId]) -> Result<(), StoreError> {
    let mut statement = connection
        .prepare_cached(
            "DELETE FROM ddd_outbox WHERE position = \
             (SELECT position FROM ddd_events WHERE event_id = ?1)",
        )
        .map_err(|error| store_error("marking events published", error))?;
    for id in ids {
        statement
            .execute(params![&id.as_bytes()[..]])
            .map_err(|error| store_error("marking events published", error))?;
    }
    Ok(())
}

/// A generation as the `INTEGER` column holds it; generations start at 1 and grow by one
/// per takeover, so they never come near the end of the range.
fn generation(lease: Lease) -> i64 {
    i64::try_from(lease.generation).unwrap_or(i64::MAX)
}
