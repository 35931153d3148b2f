//! Group commit of pooled appends.
//!
//! A store runs at most `append_concurrency` append statements at once. An append that finds
//! them all busy waits in a queue, and whoever finishes next commits everything queued (one
//! append per stream, up to [`MAX_GROUP`]) in one statement and one transaction: one round
//! trip, one plan and one WAL flush for the whole group instead of one each, which is most of
//! what an append costs the server.
//!
//! Each append keeps its own checks (idempotency by its first event id, inbox, expected
//! version) and gets its own answer; one whose check fails writes nothing and does not stop
//! the others. Whatever makes the group's statement fail (two writers racing for a stream's
//! next version, a duplicate event id or inbox mark) sends every member back to be appended
//! alone, where the failure is classified as it always was. A group is one transaction, so
//! the events of each append still commit together with their outbox rows and inbox mark,
//! and the sequencer still positions them after commit, in insert order.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, Utc};
use ddd_core::StreamId;
use sqlx::PgPool;
use tokio::sync::oneshot;
use uuid::Uuid;

use crate::row::Columns;
use crate::store::{Attempt, attempt_from_row, try_append_on};

/// The most appends committed in one statement.
pub(crate) const MAX_GROUP: usize = 64;

/// Every queued append's checks in one CTE (`decided`, one row per append), then the events
/// of those that passed, their outbox rows and inbox marks. Appends are numbered in the
/// order given, which is by stream, so concurrent groups take the unique index's locks in
/// one order and cannot deadlock each other.
const APPEND_GROUP: &str = "
WITH decided AS (
    SELECT r.n, r.aggregate_type, r.aggregate_id, r.recorded_at, r.consumer, r.handled,
        c.version, s.stored, p.processed,
        NOT s.stored AND NOT p.processed AND (r.expected < 0 OR c.version = r.expected) AS ok
    FROM UNNEST($1::text[], $2::text[], $3::int8[], $4::text[], $5::uuid[],
            $6::timestamptz[], $7::uuid[])
        WITH ORDINALITY AS r(aggregate_type, aggregate_id, expected, consumer, handled,
            recorded_at, first_id, n)
    CROSS JOIN LATERAL (
        SELECT coalesce(max(e.version), 0) AS version FROM ddd_events AS e
        WHERE e.aggregate_type = r.aggregate_type AND e.aggregate_id = r.aggregate_id
    ) AS c
    CROSS JOIN LATERAL (
        SELECT EXISTS (SELECT 1 FROM ddd_events AS e WHERE e.event_id = r.first_id) AS stored
    ) AS s
    CROSS JOIN LATERAL (
        SELECT r.consumer IS NOT NULL AND EXISTS (
            SELECT 1 FROM ddd_inbox AS i WHERE i.consumer = r.consumer AND i.event_id = r.handled
        ) AS processed
    ) AS p
), inserted AS (
    INSERT INTO ddd_events (event_id, aggregate_type, aggregate_id, version, recorded_at,
        event_type, schema_version, correlation_id, causation_id, traceparent, tracestate,
        metadata, payload)
    SELECT u.event_id, d.aggregate_type, d.aggregate_id, d.version + u.k, d.recorded_at,
        u.event_type, u.schema_version, u.correlation_id, u.causation_id, u.traceparent,
        u.tracestate, u.metadata, u.payload
    FROM UNNEST($8::int8[], $9::int8[], $10::uuid[], $11::text[], $12::int4[], $13::uuid[],
            $14::uuid[], $15::text[], $16::text[], $17::jsonb[], $18::jsonb[])
        WITH ORDINALITY AS u(req, k, event_id, event_type, schema_version, correlation_id,
            causation_id, traceparent, tracestate, metadata, payload, ord)
    JOIN decided AS d ON d.n = u.req
    WHERE d.ok
    ORDER BY u.ord
    RETURNING id
), outboxed AS (
    INSERT INTO ddd_outbox (event_row) SELECT id FROM inserted WHERE $19::boolean
), marked AS (
    INSERT INTO ddd_inbox (consumer, event_id)
    SELECT consumer, handled FROM decided WHERE ok AND consumer IS NOT NULL
)
SELECT ok, version, stored::int4::int8, processed FROM decided ORDER BY n";

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

/// What a queued append gets back.
pub(crate) enum Grouped {
    /// Its statement ran: what it found and did.
    Done(Attempt),
    /// It was alone in its group and its statement failed: the error, for the caller to
    /// classify as if it had run the statement itself.
    Refused(sqlx::Error),
    /// It was not committed in a group; the caller appends it alone.
    Alone,
}

/// A caller's turn: run its append now, holding a statement slot, or wait in the queue.
pub(crate) enum Turn {
    Run(Slot),
    Wait(oneshot::Receiver<Grouped>),
}

struct Pending {
    prepared: Arc<Prepared>,
    reply: oneshot::Sender<Grouped>,
}

#[derive(Default)]
struct Queue {
    pending: VecDeque<Pending>,
    running: usize,
}

/// The queue of appends waiting for a statement slot.
#[derive(Debug)]
pub(crate) struct Grouper {
    queue: Mutex<Queue>,
    slots: usize,
    pool: PgPool,
    outbox: bool,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("pending", &self.pending.len())
            .field("running", &self.running)
            .finish()
    }
}

impl Grouper {
    /// `slots` statements at once (at least one).
    pub(crate) fn new(slots: usize, pool: PgPool, outbox: bool) -> Self {
        Self {
            queue: Mutex::new(Queue::default()),
            slots: slots.max(1),
            pool,
            outbox,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // The queue is only ever changed by whole pushes and pops; a panic cannot leave it
        // half changed.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A slot when one is free, else a place in the queue.
    pub(crate) fn enter(self: &Arc<Self>, prepared: &Arc<Prepared>) -> Turn {
        let mut queue = self.lock();
        if queue.running < self.slots {
            queue.running += 1;
            return Turn::Run(Slot {
                grouper: Arc::clone(self),
            });
        }
        let (reply, answer) = oneshot::channel();
        queue.pending.push_back(Pending {
            prepared: Arc::clone(prepared),
            reply,
        });
        Turn::Wait(answer)
    }

    /// The next group: the oldest queued append of each stream, up to [`MAX_GROUP`], sorted
    /// by stream. Appends to a stream already in the group wait for the next one (both would
    /// compute the same next version).
    fn next_group(queue: &mut Queue) -> Vec<Pending> {
        let mut group: Vec<Pending> = Vec::with_capacity(queue.pending.len().min(MAX_GROUP));
        let mut later = VecDeque::new();
        while let Some(pending) = queue.pending.pop_front() {
            if group.len() == MAX_GROUP {
                queue.pending.push_front(pending);
                break;
            }
            if group
                .iter()
                .any(|taken| taken.prepared.stream == pending.prepared.stream)
            {
                later.push_back(pending);
            } else {
                group.push(pending);
            }
        }
        while let Some(pending) = later.pop_back() {
            queue.pending.push_front(pending);
        }
        group.sort_by(|a, b| stream_key(a).cmp(&stream_key(b)));
        group
    }

    /// Commits one group and answers its members.
    async fn commit(&self, group: Vec<Pending>) {
        let answers = self.run(&group).await;
        for (pending, answer) in group.into_iter().zip(answers) {
            // A member whose caller went away was committed all the same.
            let _ = pending.reply.send(answer);
        }
    }

    async fn run(&self, group: &[Pending]) -> Vec<Grouped> {
        let alone = || group.iter().map(|_| Grouped::Alone).collect();
        let Ok(mut connection) = self.pool.acquire().await else {
            return alone();
        };
        if let [only] = group {
            return match try_append_on(&mut connection, &only.prepared, self.outbox).await {
                Ok(attempt) => vec![Grouped::Done(attempt)],
                Err(error) => vec![Grouped::Refused(error)],
            };
        }
        let rows = match group_query(group, self.outbox)
            .fetch_all(&mut *connection)
            .await
        {
            Ok(rows) if rows.len() == group.len() => rows,
            Ok(rows) => {
                tracing::error!(
                    members = group.len(),
                    rows = rows.len(),
                    "a group append answered for a different number of appends; appending them alone"
                );
                return alone();
            }
            Err(error) => {
                tracing::debug!(members = group.len(), %error, "group append refused; appending its members alone");
                return alone();
            }
        };
        rows.iter()
            .map(|row| attempt_from_row(row).map_or(Grouped::Alone, Grouped::Done))
            .collect()
    }
}

fn stream_key(pending: &Pending) -> (&str, &str) {
    let stream = &pending.prepared.stream;
    (stream.aggregate_type.as_ref(), stream.aggregate_id.as_str())
}

fn group_query(
    group: &[Pending],
    outbox: bool,
) -> sqlx::query::Query<'static, sqlx::Postgres, sqlx::postgres::PgArguments> {
    let events: usize = group
        .iter()
        .map(|p| p.prepared.columns.event_ids.len())
        .sum();
    let mut types = Vec::with_capacity(group.len());
    let mut ids = Vec::with_capacity(group.len());
    let mut expected = Vec::with_capacity(group.len());
    let mut consumers = Vec::with_capacity(group.len());
    let mut handled = Vec::with_capacity(group.len());
    let mut recorded = Vec::with_capacity(group.len());
    let mut firsts = Vec::with_capacity(group.len());
    let mut all = Columns::default();
    let mut requests = Vec::with_capacity(events);
    let mut offsets = Vec::with_capacity(events);
    for (n, pending) in (1_i64..).zip(group) {
        let prepared = &pending.prepared;
        types.push(prepared.stream.aggregate_type.to_string());
        ids.push(prepared.stream.aggregate_id.clone());
        expected.push(prepared.expected);
        consumers.push(
            prepared
                .inbox
                .as_ref()
                .map(|(consumer, _)| consumer.clone()),
        );
        handled.push(prepared.inbox.as_ref().map(|(_, event_id)| *event_id));
        recorded.push(prepared.recorded_at);
        firsts.push(prepared.columns.event_ids.first().copied());
        let columns = &prepared.columns;
        for (k, _) in (1_i64..).zip(&columns.event_ids) {
            requests.push(n);
            offsets.push(k);
        }
        all.extend_from(columns);
    }
    sqlx::query(APPEND_GROUP)
        .bind(types)
        .bind(ids)
        .bind(expected)
        .bind(consumers)
        .bind(handled)
        .bind(recorded)
        .bind(firsts)
        .bind(requests)
        .bind(offsets)
        .bind(all.event_ids)
        .bind(all.event_types)
        .bind(all.schema_versions)
        .bind(all.correlation_ids)
        .bind(all.causation_ids)
        .bind(all.traceparents)
        .bind(all.tracestates)
        .bind(all.metadata)
        .bind(all.payloads)
        .bind(outbox)
}

/// A statement slot. Dropping it (after its append, or when its holder was cancelled) hands
/// it to a task that commits whatever queued meanwhile, so no queued append is left behind.
pub(crate) struct Slot {
    grouper: Arc<Grouper>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        let group = {
            let mut queue = self.grouper.lock();
            if queue.pending.is_empty() {
                queue.running -= 1;
                return;
            }
            Grouper::next_group(&mut queue)
        };
        let grouper = Arc::clone(&self.grouper);
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                // The task holds the slot until the group is committed, and its drop takes
                // the next group; a task dropped unrun (the runtime shutting down) drops the
                // slot too, and the group's members append alone.
                let slot = Slot { grouper };
                runtime.spawn(async move {
                    slot.grouper.commit(group).await;
                    drop(slot);
                });
            }
            Err(_) => {
                // No runtime to commit a group on: every queued append goes back to its
                // caller to be appended alone.
                let mut queue = grouper.lock();
                queue.running -= 1;
                let queued = std::mem::take(&mut queue.pending);
                drop(queue);
                for pending in group.into_iter().chain(queued) {
                    let _ = pending.reply.send(Grouped::Alone);
                }
            }
        }
    }
}
