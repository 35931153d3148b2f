//! Group commit of pooled appends.
//!
//! An append that finds no append statement in flight runs at once, alone. One that finds a
//! statement in flight waits in a queue, and the next statement commits everything queued
//! (one append per stream, up to [`MAX_GROUP`]) in one statement and one transaction: one
//! round trip, one plan and one WAL flush for the whole group instead of one each, which is
//! most of what an append costs the server.
//!
//! Statements run in lanes, at most `append_concurrency` at once. A lane that finishes takes
//! the queue as its next group, after a few scheduler passes ([`GATHER_PASSES`]) so that the
//! callers it just answered can queue their next appends in time to join. Another lane opens
//! only for a group worth a statement of its own ([`LANE_AT`] queued appends): a lane per
//! small group is what made group commit lose to the per-statement cost it exists to spread
//! (see docs/benchmarks/persistence.md). A statement still running after `append_stall_after`
//! (waiting for another transaction's lock on a stream's next version, or on a slow disk)
//! gives its lane up, so one slow statement cannot hold back every other append.
//!
//! Each append keeps its own checks (idempotency by its first event id, inbox, expected
//! version) and gets its own answer; one whose check fails writes nothing and does not stop
//! the others. Whatever makes the group's statement fail (two writers racing for a stream's
//! next version, a duplicate event id or inbox mark) sends every member back to be appended
//! alone, where the failure is classified as it always was. A group is one transaction, so
//! the events of each append still commit together with their outbox rows and inbox mark.
//! A group positions its events itself when the sequencer is free, as one append does (see
//! `append::APPEND`), else the sequencer positions them after commit, in insert order.

use std::collections::VecDeque;
use std::future::Future;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use sqlx::PgPool;
use tokio::sync::oneshot;

use crate::append::{Attempt, Positions, Prepared, attempt_from_row, try_append_on};
use crate::config::Config;
use crate::row::Columns;

/// The most appends committed in one statement.
pub(crate) const MAX_GROUP: usize = 64;

/// Queued appends that open another lane while one is busy. Below this a group's statement
/// costs the server more than its appends do. In the S1 benchmark (16 writers, 8 lanes) a
/// lane for whatever queued ran 3,700-4,700 commands/s, lanes opened at 4 queued appends
/// 5,000, at 8 6,600-9,100.
pub(crate) const LANE_AT: usize = 8;

/// Scheduler passes a finished lane lets go by before it takes its next group: the callers
/// it has just answered run, and those appending again join the group. Taken at once, the
/// group holds only who queued during the last statement, and the writers split into
/// cohorts that take turns, one statement each.
const GATHER_PASSES: usize = 4;

/// Every queued append's checks in one CTE (`decided`, one row per append), then the events
/// of those that passed, their outbox rows and inbox marks. Appends are numbered in the
/// order given, which is by stream, so concurrent groups take the unique index's locks in
/// one order and cannot deadlock each other.
///
/// The idempotency and inbox checks are aggregates over a unique key, one index probe per
/// append. Written as `EXISTS`, PostgreSQL may turn them into a hashed subplan that reads the
/// whole of `ddd_events` (and `ddd_inbox`) on every execution: it does whenever it estimates
/// the table small next to the 100 rows it assumes for `UNNEST` of a parameter, as in the
/// generic plan on a young table. That cost 18 % of the server's CPU in the S1 benchmark.
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
        SELECT count(*) > 0 AS stored FROM ddd_events AS e WHERE e.event_id = r.first_id
    ) AS s
    CROSS JOIN LATERAL (
        SELECT count(*) > 0 AS processed FROM ddd_inbox AS i
        WHERE i.consumer = r.consumer AND i.event_id = r.handled
    ) AS p
), todo AS (
    SELECT count(*) AS n FROM UNNEST($8::int8[]) AS u(req)
    JOIN decided AS d ON d.n = u.req
    WHERE d.ok
), claimed AS (
    UPDATE ddd_sequencer AS q SET last_position = q.last_position + todo.n
    FROM todo
    WHERE todo.n > 0
      AND NOT EXISTS (SELECT 1 FROM ddd_events WHERE position IS NULL)
      AND q.singleton IN (SELECT singleton FROM ddd_sequencer FOR UPDATE SKIP LOCKED)
    RETURNING q.last_position - todo.n AS base
), inserted AS (
    INSERT INTO ddd_events (position, event_id, aggregate_type, aggregate_id, version,
        recorded_at, event_type, schema_version, correlation_id, causation_id, traceparent,
        tracestate, metadata, payload)
    SELECT (SELECT base FROM claimed) + row_number() OVER (ORDER BY u.ord), u.event_id,
        d.aggregate_type, d.aggregate_id, d.version + u.k, d.recorded_at, u.event_type,
        u.schema_version, u.correlation_id, u.causation_id, u.traceparent, u.tracestate,
        u.metadata, u.payload
    FROM UNNEST($8::int8[], $9::int8[], $10::uuid[], $11::text[], $12::int4[], $13::uuid[],
            $14::uuid[], $15::text[], $16::text[], $17::jsonb[], $18::jsonb[])
        WITH ORDINALITY AS u(req, k, event_id, event_type, schema_version, correlation_id,
            causation_id, traceparent, tracestate, metadata, payload, ord)
    JOIN decided AS d ON d.n = u.req
    WHERE d.ok
    ORDER BY u.ord
    RETURNING id, aggregate_type, aggregate_id, position
), outboxed AS (
    INSERT INTO ddd_outbox (event_row, position) SELECT id, position FROM inserted
    WHERE $19::boolean
), marked AS (
    INSERT INTO ddd_inbox (consumer, event_id)
    SELECT consumer, handled FROM decided WHERE ok AND consumer IS NOT NULL
)
SELECT ok, version, stored::int4::int8, processed,
    (SELECT min(i.position) FROM inserted AS i
     WHERE i.aggregate_type = d.aggregate_type AND i.aggregate_id = d.aggregate_id)
FROM decided AS d ORDER BY n";

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
    /// Lanes: statements in flight, and lanes gathering their next group.
    running: usize,
    /// Lanes letting the callers they answered queue up; they take the queue next.
    gathering: usize,
}

/// The queue of appends waiting for a statement slot.
#[derive(Debug)]
pub(crate) struct Grouper {
    queue: Mutex<Queue>,
    slots: usize,
    stall_after: Duration,
    pool: PgPool,
    outbox: bool,
}

impl std::fmt::Debug for Queue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Queue")
            .field("pending", &self.pending.len())
            .field("running", &self.running)
            .field("gathering", &self.gathering)
            .finish()
    }
}

impl Grouper {
    /// `slots` lanes (at least one).
    pub(crate) fn new(slots: usize, config: &Config, pool: PgPool) -> Self {
        Self {
            queue: Mutex::new(Queue::default()),
            slots: slots.max(1),
            stall_after: config.append_stall_after,
            pool,
            outbox: config.outbox,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Queue> {
        // The queue is only ever changed by whole pushes and pops; a panic cannot leave it
        // half changed.
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A lane of its own when none is busy, else a place in the queue; a queue long enough
    /// for a statement of its own gets a new lane, if there is one to open.
    pub(crate) fn enter(self: &Arc<Self>, prepared: &Arc<Prepared>) -> Turn {
        let mut queue = self.lock();
        if queue.running == 0 {
            queue.running += 1;
            return Turn::Run(self.slot());
        }
        let (reply, answer) = oneshot::channel();
        queue.pending.push_back(Pending {
            prepared: Arc::clone(prepared),
            reply,
        });
        // A gathering lane is about to take the queue: a new lane would split its group.
        let worth_a_lane =
            queue.pending.len() >= LANE_AT && queue.gathering == 0 && queue.running < self.slots;
        if worth_a_lane && let Ok(runtime) = tokio::runtime::Handle::try_current() {
            queue.running += 1;
            let group = Self::next_group(&mut queue);
            drop(queue);
            runtime.spawn(self.slot().commit(group));
        }
        Turn::Wait(answer)
    }

    /// A lane already counted in `running`.
    fn slot(self: &Arc<Self>) -> Slot {
        Slot {
            grouper: Arc::clone(self),
            gathering: false,
        }
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
            return match try_append_on(
                &mut connection,
                &only.prepared,
                self.outbox,
                Positions::InStatement,
            )
            .await
            {
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

/// The group statement for `group` under `EXPLAIN (ANALYZE, FORMAT JSON)`, in its generic
/// plan (the one a pooled connection settles on after five executions), in a transaction
/// that is rolled back.
#[cfg(feature = "testing")]
pub(crate) async fn explain_group(
    pool: &PgPool,
    group: &[&Prepared],
    outbox: bool,
) -> Result<serde_json::Value, sqlx::Error> {
    use sqlx::Row as _;
    let mut transaction = pool.begin().await?;
    sqlx::query("SET LOCAL plan_cache_mode = force_generic_plan")
        .execute(&mut *transaction)
        .await?;
    // A constant of the crate behind a constant prefix: nothing from outside.
    let explain = sqlx::AssertSqlSafe(format!("EXPLAIN (ANALYZE, FORMAT JSON) {APPEND_GROUP}"));
    let row = bind_group(sqlx::query(explain), group, outbox)
        .fetch_one(&mut *transaction)
        .await?;
    let plan = row.try_get(0)?;
    transaction.rollback().await?;
    Ok(plan)
}

type GroupQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

fn group_query(group: &[Pending], outbox: bool) -> GroupQuery<'static> {
    let members: Vec<&Prepared> = group.iter().map(|pending| &*pending.prepared).collect();
    bind_group(sqlx::query(APPEND_GROUP), &members, outbox)
}

/// The group statement's parameters: one array per append column, one per event column.
fn bind_group<'q>(query: GroupQuery<'q>, group: &[&Prepared], outbox: bool) -> GroupQuery<'q> {
    let events: usize = group.iter().map(|p| p.columns.event_ids.len()).sum();
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
    for (n, prepared) in (1_i64..).zip(group) {
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
    query
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

/// A lane. Dropping it (after its statement, when its statement stalled, or when its holder
/// was cancelled) hands it to a task that commits whatever queued meanwhile, so no queued
/// append is left behind.
pub(crate) struct Slot {
    grouper: Arc<Grouper>,
    /// Counted in `gathering` until it takes its group.
    gathering: bool,
}

impl Slot {
    /// Runs `work` (a statement) in this lane, and gives the lane up when it is done or has
    /// run for `append_stall_after`, whichever comes first.
    pub(crate) async fn hold<F: Future>(self, work: F) -> F::Output {
        let stall_after = self.grouper.stall_after;
        let mut work = std::pin::pin!(work);
        match tokio::time::timeout(stall_after, work.as_mut()).await {
            Ok(output) => output,
            Err(_) => {
                tracing::debug!(after = ?stall_after, "an append statement stalled; its lane goes to the queue");
                drop(self);
                work.await
            }
        }
    }

    /// Commits `group` in this lane.
    async fn commit(self, group: Vec<Pending>) {
        let grouper = Arc::clone(&self.grouper);
        self.hold(grouper.commit(group)).await;
    }

    /// Gives the lane up and every queued append back to its caller, to be appended alone.
    fn send_back(mut queue: MutexGuard<'_, Queue>) {
        queue.running -= 1;
        let queued = std::mem::take(&mut queue.pending);
        drop(queue);
        for pending in queued {
            let _ = pending.reply.send(Grouped::Alone);
        }
    }

    /// The lane's next turn: gather the callers just answered, then commit the queue.
    async fn gather_and_commit(mut self) {
        for _ in 0..GATHER_PASSES {
            tokio::task::yield_now().await;
        }
        let group = {
            let mut queue = self.grouper.lock();
            queue.gathering -= 1;
            self.gathering = false;
            Grouper::next_group(&mut queue)
        };
        // An empty group (another lane took the queue) ends here; the drop passes the lane on.
        if !group.is_empty() {
            self.commit(group).await;
        }
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut queue = self.grouper.lock();
        if self.gathering {
            // Dropped before it took its group: its task was dropped unrun, which only a
            // runtime shutting down does. Nothing will commit the queue.
            queue.gathering -= 1;
            return Self::send_back(queue);
        }
        if queue.pending.is_empty() {
            queue.running -= 1;
            return;
        }
        match tokio::runtime::Handle::try_current() {
            Ok(runtime) => {
                // The task holds the lane until its group is committed.
                queue.gathering += 1;
                drop(queue);
                let slot = Slot {
                    grouper: Arc::clone(&self.grouper),
                    gathering: true,
                };
                runtime.spawn(slot.gather_and_commit());
            }
            Err(_) => Self::send_back(queue),
        }
    }
}
