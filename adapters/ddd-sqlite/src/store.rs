//! The event store: opening, appends on the writer, loads and the global order on readers,
//! snapshots.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ddd_core::store::checks;
use ddd_core::{
    AppendError, AppendRequest, Appended, DomainEvent, Envelope, EventId, EventStore,
    ExpectedVersion, InboxMark, Position, RawEnvelope, Snapshot, StoreError, StreamId, Version,
};
use rusqlite::{Connection, OpenFlags, OptionalExtension as _, params};

use crate::config::Config;
use crate::error::{ConnectError, is_transient, store_error};
use crate::migrate;
use crate::reader::Readers;
use crate::row::{self, Encoded, event_columns};
use crate::writer::{Settings, WriteTx, Writer, WriterStats};

const INSERT_EVENT: &str = "INSERT INTO ddd_events (event_id, aggregate_type, aggregate_id, \
     version, recorded_at, event_type, schema_version, correlation_id, causation_id, \
     traceparent, tracestate, metadata, payload) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)";
const STREAM_VERSION: &str = "SELECT coalesce(max(version), 0) FROM ddd_events \
     WHERE aggregate_type = ?1 AND aggregate_id = ?2";

/// An event store, outbox, inbox and checkpoint store in one SQLite file (WAL mode).
/// Clones share the writer and the readers.
///
/// One thread writes: it commits whatever writes are queued in one transaction (group
/// commit, one fsync for all of them with `synchronous=FULL`), each in a savepoint so one
/// write's conflict does not fail the others, and answers each caller after the commit.
/// Reads run on read-only connections and never wait for the writer. Positions are rowids
/// given by the one writer, so the global order has no holes and nothing commits behind a
/// reader.
#[derive(Clone, Debug)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    path: PathBuf,
    writer: Writer,
    readers: Arc<Readers>,
    /// The views a rebuild is filling now: a second rebuild of one would drop the first's
    /// table halfway.
    rebuilding: std::sync::Mutex<std::collections::HashSet<&'static str>>,
    /// Raised after each append commits, so this process's relays publish at once.
    signal: ddd_core::OutboxSignal,
}

/// A view claimed for a rebuild until dropped.
pub(crate) struct RebuildClaim {
    store: SqliteStore,
    view: &'static str,
}

impl Drop for RebuildClaim {
    fn drop(&mut self) {
        self.store
            .inner
            .rebuilding
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .remove(self.view);
    }
}

/// An append with its events encoded, ready for the writer.
#[derive(Debug)]
pub(crate) struct EncodedAppend {
    stream: StreamId,
    expected: ExpectedVersion,
    events: Vec<Encoded>,
    inbox: Option<InboxMark>,
    recorded_at: DateTime<Utc>,
}

impl EncodedAppend {
    fn new<E: DomainEvent>(request: &AppendRequest<E>) -> Result<Self, AppendError> {
        checks::batch_is_well_formed(request)?;
        Ok(Self {
            stream: request.stream.clone(),
            expected: request.expected,
            events: request
                .events
                .iter()
                .map(Encoded::new)
                .collect::<Result<_, _>>()?,
            inbox: request.inbox.clone(),
            recorded_at: row::now(),
        })
    }
}

/// What the writer did with an append.
#[derive(Debug)]
pub(crate) enum Written {
    /// Stored after `before`, at these positions.
    New {
        before: Version,
        positions: Vec<Position>,
        recorded_at: DateTime<Utc>,
    },
    /// Every event was stored already: the first copies, and the stream's version.
    Stored {
        events: Vec<RawEnvelope>,
        version: Version,
    },
}

/// The typed answer to an append from what the writer did.
fn appended<E: DomainEvent>(
    request: AppendRequest<E>,
    written: Written,
) -> Result<Appended<E>, AppendError> {
    match written {
        Written::New {
            before,
            positions,
            recorded_at,
        } => {
            let mut version = before;
            let events = request
                .events
                .into_iter()
                .zip(positions)
                .map(|(mut event, position)| {
                    version += 1;
                    event.version = version;
                    event.position = position;
                    event.recorded_at = recorded_at;
                    event
                })
                .collect();
            Ok(Appended {
                events,
                version,
                already_stored: false,
            })
        }
        Written::Stored { events, version } => Ok(Appended {
            events: events
                .into_iter()
                .map(row::typed)
                .collect::<Result<_, _>>()?,
            version,
            already_stored: true,
        }),
    }
}

pub(crate) fn sql_error(doing: &'static str) -> impl Fn(rusqlite::Error) -> StoreError {
    move |error| store_error(doing, error)
}

pub(crate) fn signed(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

pub(crate) fn stream_version(
    connection: &Connection,
    stream: &StreamId,
) -> Result<Version, StoreError> {
    let version: i64 = connection
        .prepare_cached(STREAM_VERSION)
        .and_then(|mut statement| {
            statement.query_row(
                params![stream.aggregate_type.as_ref(), stream.aggregate_id],
                |row| row.get(0),
            )
        })
        .map_err(sql_error("reading a stream's version"))?;
    Ok(u64::try_from(version).unwrap_or(0))
}

pub(crate) fn is_processed(
    connection: &Connection,
    consumer: &str,
    event_id: EventId,
) -> Result<bool, StoreError> {
    connection
        .prepare_cached("SELECT 1 FROM ddd_inbox WHERE consumer = ?1 AND event_id = ?2")
        .and_then(|mut statement| statement.exists(params![consumer, &event_id.as_bytes()[..]]))
        .map_err(sql_error("reading the inbox"))
}

fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
    )
}

fn stream_events(
    connection: &Connection,
    stream: &StreamId,
    after: Version,
) -> Result<Vec<RawEnvelope>, StoreError> {
    let doing = "loading a stream";
    let mut statement = connection
        .prepare_cached(concat!(
            "SELECT ",
            event_columns!(),
            " FROM ddd_events AS e WHERE e.aggregate_type = ?1 \
             AND e.aggregate_id = ?2 AND e.version > ?3 ORDER BY e.version"
        ))
        .map_err(sql_error(doing))?;
    let mut rows = statement
        .query(params![
            stream.aggregate_type.as_ref(),
            stream.aggregate_id,
            signed(after)
        ])
        .map_err(sql_error(doing))?;
    let mut events = Vec::new();
    while let Some(row) = rows.next().map_err(sql_error(doing))? {
        events.push(row::envelope(row)?);
    }
    Ok(events)
}

fn latest_snapshot(
    connection: &Connection,
    stream: &StreamId,
) -> Result<Option<Snapshot>, StoreError> {
    let row: Option<(i64, u32, String, i64)> = connection
        .prepare_cached(
            "SELECT version, schema_version, state, taken_at FROM ddd_snapshots \
             WHERE aggregate_type = ?1 AND aggregate_id = ?2",
        )
        .and_then(|mut statement| {
            statement
                .query_row(
                    params![stream.aggregate_type.as_ref(), stream.aggregate_id],
                    |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?, row.get(3)?)),
                )
                .optional()
        })
        .map_err(sql_error("loading a snapshot"))?;
    row.map(|(version, schema_version, state, taken_at)| {
        Ok(Snapshot {
            version: u64::try_from(version).unwrap_or(0),
            schema_version,
            state: serde_json::from_str(&state).map_err(|error| {
                StoreError::permanent(format!("SQLite: a snapshot does not parse: {error}"))
            })?,
            taken_at: row::timestamp("taken_at", taken_at)?,
        })
    })
    .transpose()
}

fn stored_event(
    connection: &Connection,
    event_id: EventId,
) -> Result<Option<RawEnvelope>, StoreError> {
    let mut statement = connection
        .prepare_cached(concat!(
            "SELECT ",
            event_columns!(),
            " FROM ddd_events AS e WHERE e.event_id = ?1"
        ))
        .map_err(sql_error("reading a stored event"))?;
    let mut rows = statement
        .query([&event_id.as_bytes()[..]])
        .map_err(sql_error("reading a stored event"))?;
    match rows.next().map_err(sql_error("reading a stored event"))? {
        Some(row) => row::envelope(row).map(Some),
        None => Ok(None),
    }
}

impl WriteTx<'_> {
    /// Appends within the writer's transaction, so the events commit with the other writes
    /// of this closure. Runs in a savepoint of its own: a refused append writes nothing
    /// even when the closure carries on.
    pub fn append<E: DomainEvent>(
        &self,
        request: AppendRequest<E>,
    ) -> Result<Appended<E>, AppendError> {
        let encoded = EncodedAppend::new(&request)?;
        let written = self.savepoint(|| self.append_encoded(&encoded))?;
        appended(request, written)
    }

    pub(crate) fn append_encoded(&self, request: &EncodedAppend) -> Result<Written, AppendError> {
        // A one-event append looks its id up only when something refuses it: a retry of a
        // stored event (after a lost reply) is refused by the inbox, the version or the
        // unique event id, and is then answered with the first copy; a new one pays no
        // lookup. A batch is looked up first, because a failed insert may have written its
        // first events already, and they would look stored.
        let connection = self.connection;
        let single = request.events.len() == 1;
        if !single && let Some(stored) = self.already_stored(request)? {
            return Ok(stored);
        }
        if let Some(mark) = &request.inbox
            && is_processed(connection, &mark.consumer, mark.event_id)?
        {
            return self.stored_or(request, AppendError::AlreadyProcessed(mark.clone()));
        }
        let actual = stream_version(connection, &request.stream)?;
        if !request.expected.accepts(actual) {
            return self.stored_or(
                request,
                AppendError::Conflict {
                    stream: request.stream.clone(),
                    expected: request.expected,
                    actual,
                },
            );
        }
        let positions = match self.insert(request, actual) {
            Ok(positions) => positions,
            Err(error) if single && is_unique_violation(&error) => {
                return self.stored_or(request, store_error("appending", error).into());
            }
            Err(error) => return Err(store_error("appending", error).into()),
        };
        if let Some(mark) = &request.inbox {
            self.mark_processed(&mark.consumer, mark.event_id)?;
        }
        Ok(Written::New {
            before: actual,
            positions,
            recorded_at: request.recorded_at,
        })
    }

    /// The first copies when every event of the request is stored already; `refusal`
    /// otherwise.
    fn stored_or(
        &self,
        request: &EncodedAppend,
        refusal: AppendError,
    ) -> Result<Written, AppendError> {
        match self.already_stored(request)? {
            Some(stored) => Ok(stored),
            None => Err(refusal),
        }
    }

    /// Inserts the events and their outbox rows. A failed insert can leave earlier events of
    /// the batch written: every caller runs it in a savepoint or a transaction of its own
    /// that is rolled back on error.
    fn insert(
        &self,
        request: &EncodedAppend,
        before: Version,
    ) -> Result<Vec<Position>, rusqlite::Error> {
        let connection = self.connection;
        let mut insert = connection.prepare_cached(INSERT_EVENT)?;
        let recorded_at = request.recorded_at.timestamp_micros();
        let mut positions = Vec::with_capacity(request.events.len());
        for (version, event) in (before + 1..).zip(&request.events) {
            insert.execute(params![
                &event.event_id.as_bytes()[..],
                request.stream.aggregate_type.as_ref(),
                request.stream.aggregate_id,
                signed(version),
                recorded_at,
                event.event_type,
                event.schema_version,
                &event.correlation_id.as_bytes()[..],
                event.causation_id.as_ref().map(|id| &id.as_bytes()[..]),
                event.traceparent,
                event.tracestate,
                event.metadata,
                event.payload,
            ])?;
            let position = connection.last_insert_rowid();
            if self.settings.outbox {
                connection
                    .prepare_cached("INSERT INTO ddd_outbox (position) VALUES (?1)")
                    .and_then(|mut statement| statement.execute([position]))?;
            }
            positions.push(u64::try_from(position).unwrap_or(0));
        }
        Ok(positions)
    }

    /// The first copies when every event of the request is stored already (a retry).
    fn already_stored(&self, request: &EncodedAppend) -> Result<Option<Written>, AppendError> {
        if request.events.is_empty() {
            return Ok(None);
        }
        let mut events = Vec::with_capacity(request.events.len());
        for event in &request.events {
            if let Some(stored) = stored_event(self.connection, event.event_id)? {
                events.push(stored);
            }
        }
        if !checks::classify_duplicates(&request.stream, events.len(), request.events.len())? {
            return Ok(None);
        }
        if let Some(stray) = events.iter().find(|event| !request.stream.holds(event)) {
            return Err(AppendError::InvalidBatch {
                stream: request.stream.clone(),
                reason: format!("event id {} is stored in another stream", stray.event_id),
            });
        }
        Ok(Some(Written::Stored {
            events,
            version: stream_version(self.connection, &request.stream)?,
        }))
    }

    /// Records in this transaction that `consumer` processed `event_id`; `false` when it
    /// was recorded before, and then the handler must not apply its effect again.
    pub fn mark_processed(&self, consumer: &str, event_id: EventId) -> Result<bool, StoreError> {
        let inserted = self
            .connection
            .prepare_cached(
                "INSERT OR IGNORE INTO ddd_inbox (consumer, event_id, processed_at) \
                 VALUES (?1, ?2, ?3)",
            )
            .and_then(|mut statement| {
                statement.execute(params![
                    consumer,
                    &event_id.as_bytes()[..],
                    Utc::now().timestamp_micros()
                ])
            })
            .map_err(sql_error("writing the inbox"))?;
        Ok(inserted == 1)
    }
}

impl SqliteStore {
    /// Opens by URL (see [`Config::from_url`]): creates the file if needed, switches it to
    /// WAL, runs the migrations, starts the writer.
    pub async fn connect(url: &str) -> Result<Self, ConnectError> {
        Self::connect_with(Config::from_url(url)?).await
    }

    /// Opens the database file at `path` with the default configuration.
    pub async fn open(path: impl Into<PathBuf>) -> Result<Self, ConnectError> {
        Self::connect_with(Config::new(path)).await
    }

    /// Opens with a configuration.
    pub async fn connect_with(config: Config) -> Result<Self, ConnectError> {
        tokio::task::spawn_blocking(move || open_blocking(&config))
            .await
            .map_err(|error| ConnectError::Thread(std::io::Error::other(error.to_string())))?
    }

    /// Claims `view` for a rebuild in this process; `None` while another rebuild of it runs.
    pub(crate) fn claim_rebuild(&self, view: &'static str) -> Option<RebuildClaim> {
        let mut rebuilding = self
            .inner
            .rebuilding
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        rebuilding.insert(view).then(|| RebuildClaim {
            store: self.clone(),
            view,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `work` on the write connection, in the group transaction and a savepoint of its
    /// own: what it writes commits (with the other queued writes) when it returns `Ok`, and
    /// is rolled back when it returns `Err`. The answer comes after the commit. Keep it
    /// short: every other write waits for it. It runs on the writer thread, or on the
    /// caller's thread (in `block_in_place`) when nothing else is being written.
    pub async fn write<F, T, E>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&WriteTx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        self.inner.writer.run(work).await
    }

    /// Runs `work` on a read-only connection (a WAL snapshot; never waits for the writer).
    pub async fn read<F, T>(&self, work: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        self.inner.readers.read(work).await
    }

    /// How many transactions the writer committed, and how many writes they held.
    pub fn writer_stats(&self) -> WriterStats {
        self.inner.writer.stats()
    }

    pub(crate) async fn read_events(
        &self,
        sql: &'static str,
        parameters: [i64; 2],
        doing: &'static str,
    ) -> Result<Vec<RawEnvelope>, StoreError> {
        self.read(move |connection| query_events(connection, sql, parameters, doing))
            .await
    }
}

/// The events `sql` (selecting [`event_columns!`]) finds with `parameters`.
fn query_events(
    connection: &Connection,
    sql: &'static str,
    parameters: [i64; 2],
    doing: &'static str,
) -> Result<Vec<RawEnvelope>, StoreError> {
    let mut statement = connection.prepare_cached(sql).map_err(sql_error(doing))?;
    let mut rows = statement.query(parameters).map_err(sql_error(doing))?;
    let mut events = Vec::new();
    while let Some(row) = rows.next().map_err(sql_error(doing))? {
        events.push(row::envelope(row)?);
    }
    Ok(events)
}

/// The events after `?1`, at most `?2`. The limit is written `+?2`: SQLite (3.51, built with
/// STAT4) plans with the value of a parameter bound straight to `LIMIT`, and so prepares the
/// statement again each time it is bound anew, which cost more than reading a batch of
/// events; as an expression it is only read when the statement runs.
pub(crate) const EVENTS_AFTER: &str = concat!(
    "SELECT ",
    event_columns!(),
    " FROM ddd_events AS e WHERE e.position > ?1 ORDER BY e.position LIMIT +?2"
);

/// Up to `limit` events after `after` in the global order: `read_all` on a reader, and a
/// view's step in the writer's transaction (the events it folds commit with its rows).
pub(crate) fn events_after(
    connection: &Connection,
    after: Position,
    limit: usize,
) -> Result<Vec<RawEnvelope>, StoreError> {
    let limit = i64::try_from(limit).unwrap_or(i64::MAX);
    query_events(
        connection,
        EVENTS_AFTER,
        [signed(after), limit],
        "reading all events",
    )
}

fn open_blocking(config: &Config) -> Result<SqliteStore, ConnectError> {
    let connection = open_writer_with_retry(config)?;
    let readers =
        Readers::open(&config.path, config.readers, config.busy_timeout).map_err(|source| {
            ConnectError::Open {
                path: config.path.clone(),
                source,
            }
        })?;
    let settings = Settings {
        outbox: config.outbox,
    };
    let writer = Writer::spawn(connection, settings, config.batch, config.queue)
        .map_err(ConnectError::Thread)?;
    Ok(SqliteStore {
        inner: Arc::new(Inner {
            path: config.path.clone(),
            writer,
            readers: Arc::new(readers),
            rebuilding: std::sync::Mutex::default(),
            signal: ddd_core::OutboxSignal::default(),
        }),
    })
}

/// Opens the write connection, retrying while another process keeps the file locked.
fn open_writer_with_retry(config: &Config) -> Result<Connection, ConnectError> {
    let started = Instant::now();
    let mut backoff = Duration::from_millis(50);
    let mut attempts = 0;
    loop {
        attempts += 1;
        let error = match open_writer(config) {
            Ok(connection) => return Ok(connection),
            Err(error) => error,
        };
        let source = match error {
            ConnectError::Open { source, .. } | ConnectError::Migration { source, .. }
                if is_transient(&source) =>
            {
                source
            }
            other => return Err(other),
        };
        if started.elapsed() + backoff > config.connect_retry {
            return Err(ConnectError::Locked {
                path: config.path.clone(),
                attempts,
                waited: started.elapsed(),
                source,
            });
        }
        tracing::warn!(path = %config.path.display(), error = %source, "database locked; retrying");
        std::thread::sleep(backoff);
        backoff = (backoff * 2).min(Duration::from_secs(1));
    }
}

fn open_writer(config: &Config) -> Result<Connection, ConnectError> {
    let open_error = |source| ConnectError::Open {
        path: config.path.clone(),
        source,
    };
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if config.create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let connection = Connection::open_with_flags(&config.path, flags).map_err(open_error)?;
    connection
        .busy_timeout(config.busy_timeout)
        .map_err(open_error)?;
    let mode: String = connection
        .pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))
        .map_err(open_error)?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(ConnectError::NoWal {
            path: config.path.clone(),
            found: mode,
        });
    }
    connection
        .pragma_update(None, "synchronous", config.synchronous.pragma())
        .map_err(open_error)?;
    connection.set_prepared_statement_cache_capacity(64);
    if config.migrate {
        migrate::run(&connection)?;
    }
    Ok(connection)
}

impl SqliteStore {
    /// What this store's relays wait on between polls.
    pub(crate) fn relay_signal(&self) -> ddd_core::OutboxListener {
        self.inner.signal.subscribe()
    }
}

impl EventStore for SqliteStore {
    async fn append<E: DomainEvent>(
        &self,
        request: AppendRequest<E>,
    ) -> Result<Appended<E>, AppendError> {
        let encoded = EncodedAppend::new(&request)?;
        let written = self.write(move |tx| tx.append_encoded(&encoded)).await?;
        self.inner.signal.raise();
        appended(request, written)
    }

    async fn load<E: DomainEvent>(
        &self,
        stream: &StreamId,
        after: Version,
    ) -> Result<Vec<Envelope<E>>, StoreError> {
        let stream = stream.clone();
        let raw = self
            .read(move |connection| stream_events(connection, &stream, after))
            .await?;
        raw.into_iter().map(row::typed).collect()
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RawEnvelope>, StoreError> {
        self.read(move |connection| events_after(connection, after, limit))
            .await
    }

    async fn save_snapshot(&self, stream: &StreamId, snapshot: Snapshot) -> Result<(), StoreError> {
        let stream = stream.clone();
        let state = serde_json::to_string(&snapshot.state)
            .map_err(|error| StoreError::permanent(format!("encoding a snapshot: {error}")))?;
        self.write(move |tx| {
            tx.connection()
                .prepare_cached(
                    "INSERT INTO ddd_snapshots \
                         (aggregate_type, aggregate_id, version, schema_version, state, taken_at) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6) \
                     ON CONFLICT (aggregate_type, aggregate_id) DO UPDATE SET \
                         version = excluded.version, schema_version = excluded.schema_version, \
                         state = excluded.state, taken_at = excluded.taken_at \
                     WHERE ddd_snapshots.version <= excluded.version",
                )
                .and_then(|mut statement| {
                    statement.execute(params![
                        stream.aggregate_type.as_ref(),
                        stream.aggregate_id,
                        signed(snapshot.version),
                        snapshot.schema_version,
                        state,
                        snapshot.taken_at.timestamp_micros(),
                    ])
                })
                .map(|_| ())
                .map_err(sql_error("saving a snapshot"))
        })
        .await
    }

    async fn load_snapshot(&self, stream: &StreamId) -> Result<Option<Snapshot>, StoreError> {
        let stream = stream.clone();
        self.read(move |connection| latest_snapshot(connection, &stream))
            .await
    }

    async fn load_latest<E: DomainEvent>(
        &self,
        stream: &StreamId,
    ) -> Result<(Option<Snapshot>, Vec<Envelope<E>>), StoreError> {
        let stream = stream.clone();
        // Both reads on one reader: one handoff to the blocking pool instead of two.
        let (snapshot, raw) = self
            .read(move |connection| {
                let snapshot = latest_snapshot(connection, &stream)?;
                let after = snapshot.as_ref().map_or(0, |snapshot| snapshot.version);
                Ok((snapshot, stream_events(connection, &stream, after)?))
            })
            .await?;
        let events = raw.into_iter().map(row::typed).collect::<Result<_, _>>()?;
        Ok((snapshot, events))
    }

    async fn is_processed(&self, consumer: &str, event_id: EventId) -> Result<bool, StoreError> {
        let consumer = consumer.to_owned();
        self.read(move |connection| is_processed(connection, &consumer, event_id))
            .await
    }
}

#[cfg(test)]
mod tests {
    use rusqlite::{Connection, StatementStatus};

    use super::EVENTS_AFTER;

    /// A statement SQLite had to prepare again on every run cost a read of events half its
    /// time: the cached statement must stay prepared whatever is bound.
    #[test]
    fn reading_events_reuses_its_prepared_statement() {
        let connection = Connection::open_in_memory().expect("in memory");
        crate::migrate::run(&connection).expect("migrations");
        for after in 0..10_i64 {
            let mut statement = connection.prepare_cached(EVENTS_AFTER).expect("prepares");
            let mut rows = statement.query([after, 10 + after]).expect("runs");
            assert!(rows.next().expect("steps").is_none(), "no events");
        }
        let statement = connection.prepare_cached(EVENTS_AFTER).expect("cached");
        assert_eq!(statement.get_status(StatementStatus::RePrepare), 0);
    }
}
