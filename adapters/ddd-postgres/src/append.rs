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
/// An append that runs in a transaction of its own gives its events their global positions
/// itself when it can (`$17`, see [`Positions`]): when it takes the sequencer's row without
/// waiting (`SKIP LOCKED`) and no committed event is left unpositioned. It then holds that
/// row until it commits, exactly as a sequencer step does, so positions still become visible
/// in order and without holes; and with nothing unpositioned before it, no earlier version of
/// its stream can be positioned after it. Otherwise its events stay unpositioned for the
/// sequencer, as before. With one append at a time this is one commit, one WAL flush, per
/// append instead of two (the append's, then the sequencer's).
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
), claimed AS (
    UPDATE ddd_sequencer AS q SET last_position = q.last_position + cardinality($3::uuid[])
    FROM go
    WHERE $17::boolean AND go.ok
      AND NOT EXISTS (SELECT 1 FROM ddd_events WHERE position IS NULL)
      AND q.singleton IN (SELECT singleton FROM ddd_sequencer FOR UPDATE SKIP LOCKED)
    RETURNING q.last_position - cardinality($3::uuid[]) AS base
), inserted AS (
    INSERT INTO ddd_events (position, event_id, aggregate_type, aggregate_id, version,
        recorded_at, event_type, schema_version, correlation_id, causation_id, traceparent,
        tracestate, metadata, payload)
    SELECT (SELECT base FROM claimed) + u.ord, u.event_id, $1, $2, go.version + u.ord, $5,
        u.event_type, u.schema_version, u.correlation_id, u.causation_id, u.traceparent,
        u.tracestate, u.metadata, u.payload
    FROM go, UNNEST($3::uuid[], $6::text[], $7::int4[], $8::uuid[], $9::uuid[], $10::text[],
            $11::text[], $12::jsonb[], $13::jsonb[])
        WITH ORDINALITY AS u(event_id, event_type, schema_version, correlation_id,
            causation_id, traceparent, tracestate, metadata, payload, ord)
    WHERE go.ok
    ORDER BY u.ord
    RETURNING id, position
), outboxed AS (
    INSERT INTO ddd_outbox (event_row, position) SELECT id, position FROM inserted
    WHERE $16::boolean
), marked AS (
    INSERT INTO ddd_inbox (consumer, event_id)
    SELECT $14, $15 FROM go WHERE go.ok AND $14::text IS NOT NULL
)
SELECT ok, version, stored, processed, (SELECT base FROM claimed) + 1 AS first_position
FROM go";

/// Who gives an append's events their global positions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Positions {
    /// The append's own statement, when it can (see [`APPEND`]): for an append that commits
    /// on its own, at once.
    InStatement,
    /// The sequencer, after commit: for an append inside a caller's transaction, which may
    /// stay open for long and must not hold the sequencer's row meanwhile.
    BySequencer,
}

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
    /// The global position of its first event, when the statement gave positions.
    pub(crate) first_position: Option<u64>,
}

/// The `ok, version, stored, processed, first_position` row of an append statement.
pub(crate) fn attempt_from_row(row: &PgRow) -> Result<Attempt, sqlx::Error> {
    Ok(Attempt {
        ok: row.try_get(0)?,
        version: u64::try_from(row.try_get::<i64, _>(1)?).unwrap_or(0),
        stored: row.try_get(2)?,
        processed: row.try_get(3)?,
        first_position: row
            .try_get::<Option<i64>, _>(4)?
            .and_then(|position| u64::try_from(position).ok()),
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
    positions: Positions,
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
        .bind(positions == Positions::InStatement)
        .fetch_one(&mut *connection)
        .await?;
    attempt_from_row(&row)
}
