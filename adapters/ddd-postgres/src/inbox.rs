//! The inbox: the ids of the events each consumer processed. A handler whose effect is an
//! append passes an [`InboxMark`](ddd_core::InboxMark) with it; a handler that writes its own
//! tables calls [`PostgresStore::mark_processed_in`] in its transaction. Either way the mark
//! and the effect commit together, so a redelivered event has no second effect.

use ddd_core::{EventId, Inbox, StoreError};
use sqlx::{PgConnection, PgExecutor};

use crate::error::store_error;
use crate::store::PostgresStore;

pub(crate) async fn is_processed<'c>(
    executor: impl PgExecutor<'c>,
    consumer: &str,
    event_id: EventId,
) -> Result<bool, StoreError> {
    sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM ddd_inbox WHERE consumer = $1 AND event_id = $2)",
    )
    .bind(consumer)
    .bind(event_id)
    .fetch_one(executor)
    .await
    .map_err(|error| store_error("reading the inbox", error))
}

async fn mark_processed<'c>(
    executor: impl PgExecutor<'c>,
    consumer: &str,
    event_id: EventId,
) -> Result<bool, StoreError> {
    let done = sqlx::query(
        "INSERT INTO ddd_inbox (consumer, event_id) VALUES ($1, $2) ON CONFLICT DO NOTHING",
    )
    .bind(consumer)
    .bind(event_id)
    .execute(executor)
    .await
    .map_err(|error| store_error("writing the inbox", error))?;
    Ok(done.rows_affected() == 1)
}

impl PostgresStore {
    /// Records in the caller's transaction that `consumer` processed `event_id`; `false`
    /// when it was recorded before, and then the handler must not apply its effect again.
    /// Of two concurrent handlers of the same event, the second waits for the first to
    /// commit and then gets `false`.
    pub async fn mark_processed_in(
        &self,
        transaction: &mut PgConnection,
        consumer: &str,
        event_id: EventId,
    ) -> Result<bool, StoreError> {
        mark_processed(transaction, consumer, event_id).await
    }
}

impl Inbox for PostgresStore {
    async fn is_processed(&self, consumer: &str, event_id: EventId) -> Result<bool, StoreError> {
        is_processed(self.pool(), consumer, event_id).await
    }

    async fn mark_processed(&self, consumer: &str, event_id: EventId) -> Result<bool, StoreError> {
        mark_processed(self.pool(), consumer, event_id).await
    }
}
