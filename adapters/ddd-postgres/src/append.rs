//! One append's statement: the idempotency, inbox and version checks, the event rows, their
//! outbox rows and the inbox mark. The store runs it alone and group commit falls back to it.

use chrono::{DateTime, Utc};
use ddd_core::store::checks;
use ddd_core::{AppendError, AppendRequest, DomainEvent, ExpectedVersion, StreamId, Version};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row as _};
use uuid::Uuid;

use crate::row::{self, Columns};

/// One statement does a whole append: the idempotency, inbox and version checks, the event
/// rows, their outbox rows and the inbox mark. It runs in autocommit (one round trip, one
/// commit) or inside a caller's transaction. Concurrent appends to one stream meet at the
/// unique (stream, version) index: one waits for the other and then fails with 23505 on
/// `ddd_events_stream_version_key`.
///
/// The idempotency check looks up the batch's first id only: with `= ANY(array)` PostgreSQL
/// estimated ten ids and re-planned the statement on every execution once the table had
/// statistics (half the server's CPU). A retried batch always starts with a stored id; a batch
/// of which only a later id is stored hits the unique event-id index and is classified by
/// `already_stored`, as before.
const APPEND: &str = "
WITH stored AS (
    SELECT count(*) AS n FROM ddd_events WHERE event_id = ($3::uuid[])[1]
), processed AS (
    SELECT EXISTS (SELECT 1 FROM ddd_inbox WHERE consumer = $14 AND event_id = $15) AS yes
), current AS (
    SELECT coalesce(max(version), 0) AS version FROM ddd_events
    WHERE aggregate_type = $1 AND aggregate_id = $2
), go AS (
    SELECT s.n = 0 AND NOT p.yes AND ($4::bigint < 0 OR c.version = $4::bigint) AS ok,
           c.version, s.n AS stored, p.yes AS processed
    FROM stored s, processed p, current c
), inserted AS (
    INSERT INTO ddd_events (event_id, aggregate_type, aggregate_id, version, recorded_at,
        event_type, schema_version, correlation_id, causation_id, traceparent, tracestate,
        metadata, payload)
    SELECT u.event_id, $1, $2, go.version + u.ord, $5, u.event_type, u.schema_version,
        u.correlation_id, u.causation_id, u.traceparent, u.tracestate, u.metadata, u.payload
    FROM go, UNNEST($3::uuid[], $6::text[], $7::int4[], $8::uuid[], $9::uuid[], $10::text[],
            $11::text[], $12::jsonb[], $13::jsonb[])
        WITH ORDINALITY AS u(event_id, event_type, schema_version, correlation_id,
            causation_id, traceparent, tracestate, metadata, payload, ord)
    WHERE go.ok
    ORDER BY u.ord
    RETURNING id
), outboxed AS (
    INSERT INTO ddd_outbox (event_row) SELECT id FROM inserted WHERE $16::boolean
), marked AS (
    INSERT INTO ddd_inbox (consumer, event_id)
    SELECT $14, $15 FROM go WHERE go.ok AND $14::text IS NOT NULL
)
SELECT ok, version, stored, processed FROM go";

/// An append encoded once, for a group or for appending alone.
#[derive(Debug)]
pub(crate) struct Prepared {
    pub(crate) stream: StreamId,
    /// `-1` for any version, else the version the stream must be at.
    pub(crate) expected: i64,
    pub(crate) columns: Columns,
    pub(crate) inbox: Option<(String, Uuid)>,
    pub(crate) recorded_at: DateTime<Utc>,
}

/// What the append statement found and did.
pub(crate) struct Attempt {
    pub(crate) ok: bool,
    pub(crate) version: Version,
    pub(crate) stored: i64,
    pub(crate) processed: bool,
}

/// The `ok, version, stored, processed` row of an append statement.
pub(crate) fn attempt_from_row(row: &PgRow) -> Result<Attempt, sqlx::Error> {
    Ok(Attempt {
        ok: row.try_get(0)?,
        version: u64::try_from(row.try_get::<i64, _>(1)?).unwrap_or(0),
        stored: row.try_get(2)?,
        processed: row.try_get(3)?,
    })
}

impl Prepared {
    pub(crate) fn new<E: DomainEvent>(request: &AppendRequest<E>) -> Result<Self, AppendError> {
        checks::batch_is_well_formed(request)?;
        Ok(Self {
            stream: request.stream.clone(),
            expected: match request.expected {
                ExpectedVersion::Any => -1,
                ExpectedVersion::NoStream => 0,
                ExpectedVersion::Exact(version) => i64::try_from(version).unwrap_or(i64::MAX),
            },
            columns: Columns::encode(&request.events)?,
            inbox: request
                .inbox
                .as_ref()
                .map(|mark| (mark.consumer.clone(), mark.event_id)),
            recorded_at: row::now(),
        })
    }
}

/// Runs the append statement for one append on `connection`.
pub(crate) async fn try_append_on(
    connection: &mut PgConnection,
    prepared: &Prepared,
    outbox: bool,
) -> Result<Attempt, sqlx::Error> {
    let (consumer, handled) = prepared
        .inbox
        .as_ref()
        .map(|(consumer, event_id)| (consumer.as_str(), *event_id))
        .unzip();
    let columns = &prepared.columns;
    let row = sqlx::query(APPEND)
        .bind(prepared.stream.aggregate_type.as_ref())
        .bind(&prepared.stream.aggregate_id)
        .bind(&columns.event_ids)
        .bind(prepared.expected)
        .bind(prepared.recorded_at)
        .bind(&columns.event_types)
        .bind(&columns.schema_versions)
        .bind(&columns.correlation_ids)
        .bind(&columns.causation_ids)
        .bind(&columns.traceparents)
        .bind(&columns.tracestates)
        .bind(&columns.metadata)
        .bind(&columns.payloads)
        .bind(consumer)
        .bind(handled)
        .bind(outbox)
        .fetch_one(&mut *connection)
        .await?;
    attempt_from_row(&row)
}
