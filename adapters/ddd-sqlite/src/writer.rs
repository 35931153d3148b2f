//! The one write connection, and the thread that commits whatever writes are queued in one
//! transaction (group commit), each in a savepoint of its own so one write's failure does not
//! fail the others. A write that finds nothing being written or queued commits in place, on
//! its caller's thread. Callers get their answer only after the commit.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, TryLockError};

use ddd_core::StoreError;
use rusqlite::Connection;
use tokio::runtime::RuntimeFlavor;
use tokio::sync::{mpsc, oneshot};

use crate::error::store_error;

/// What every write of one store shares.
#[derive(Debug)]
pub(crate) struct Settings {
    pub(crate) outbox: bool,
}

/// Counts of what the writer committed, to see group commit at work.
#[derive(Debug, Default)]
pub(crate) struct Counters {
    transactions: AtomicU64,
    writes: AtomicU64,
}

/// Transactions the writer committed and the writes in them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WriterStats {
    /// Transactions committed (each one fsync with `synchronous=full`).
    pub transactions: u64,
    /// Writes (appends, marks, checkpoints, closures) committed in them.
    pub writes: u64,
}

/// The writer's transaction, as a write sees it: the connection, inside a savepoint that is
/// released when the write returns `Ok` and rolled back when it returns `Err`.
#[derive(Debug)]
pub struct WriteTx<'c> {
    pub(crate) connection: &'c Connection,
    pub(crate) settings: &'c Settings,
}

impl WriteTx<'_> {
    /// The connection, for the application's own writes (read models, its tables).
    pub fn connection(&self) -> &Connection {
        self.connection
    }

    /// Runs `work` in a savepoint of its own: released on `Ok`, rolled back on `Err`, so a
    /// failed step leaves nothing half written even when the caller carries on.
    pub(crate) fn savepoint<T, E: From<StoreError>>(
        &self,
        work: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        run_sql(self.connection, "SAVEPOINT ddd_step")?;
        let outcome = work();
        let end = if outcome.is_ok() {
            run_sql(self.connection, "RELEASE ddd_step")
        } else {
            run_sql(self.connection, "ROLLBACK TO ddd_step")
                .and_then(|()| run_sql(self.connection, "RELEASE ddd_step"))
        };
        end?;
        outcome
    }
}

fn run_sql(connection: &Connection, sql: &str) -> Result<(), StoreError> {
    connection
        .prepare_cached(sql)
        .and_then(|mut statement| statement.execute([]))
        .map(|_| ())
        .map_err(|error| store_error(sql, error))
}

/// Why a whole group was not committed.
#[derive(Clone, Debug)]
struct Failure {
    message: String,
    retryable: bool,
}

impl Failure {
    fn from_error(error: &StoreError) -> Self {
        Self {
            message: error.to_string(),
            retryable: error.is_retryable(),
        }
    }

    fn to_error(&self) -> StoreError {
        let message = format!("the write was not committed: {}", self.message);
        if self.retryable {
            StoreError::transient(message)
        } else {
            StoreError::permanent(message)
        }
    }
}

/// One queued write.
trait Job: Send {
    /// Runs the write inside the group's transaction; whether to keep what it wrote.
    fn run(&mut self, tx: &WriteTx<'_>) -> bool;
    /// Answers the caller once the group committed, or failed to.
    fn finish(self: Box<Self>, failure: Option<&Failure>);
}

struct Task<F, T, E> {
    work: Option<F>,
    outcome: Option<Result<T, E>>,
    reply: oneshot::Sender<Result<T, E>>,
}

impl<F, T, E> Job for Task<F, T, E>
where
    F: FnOnce(&WriteTx<'_>) -> Result<T, E> + Send,
    T: Send,
    E: From<StoreError> + Send,
{
    fn run(&mut self, tx: &WriteTx<'_>) -> bool {
        let Some(work) = self.work.take() else {
            return false;
        };
        let outcome = catch_unwind(AssertUnwindSafe(|| work(tx))).unwrap_or_else(|_| {
            Err(StoreError::permanent("SQLite: a write panicked; it was rolled back").into())
        });
        let keep = outcome.is_ok();
        self.outcome = Some(outcome);
        keep
    }

    fn finish(self: Box<Self>, failure: Option<&Failure>) {
        let answer = match (self.outcome, failure) {
            // A refused write wrote nothing: its own answer stands whatever the group did.
            (Some(Err(error)), _) => Err(error),
            (Some(Ok(value)), None) => Ok(value),
            (_, Some(failure)) => Err(failure.to_error().into()),
            (None, None) => Err(StoreError::permanent("SQLite: a write was not run").into()),
        };
        // The caller may have gone (a cancelled request): the write stands all the same.
        let _ = self.reply.send(answer);
    }
}

/// The handle callers queue writes on. The thread stops when every handle is dropped.
#[derive(Debug)]
pub(crate) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
    shared: Arc<Shared>,
}

/// What the writer thread and callers writing in place share.
#[derive(Debug)]
struct Shared {
    /// The write connection: held by whoever commits, the thread or a caller in place.
    connection: Mutex<Connection>,
    settings: Settings,
    counters: Counters,
}

impl Shared {
    // A write that panics is caught inside the job (`catch_unwind`) and its transaction
    // rolled back, so a poisoned lock guards a connection in a known state.
    fn connection(&self) -> MutexGuard<'_, Connection> {
        self.connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// The connection if nobody holds it.
    fn idle_connection(&self) -> Option<MutexGuard<'_, Connection>> {
        match self.connection.try_lock() {
            Ok(connection) => Some(connection),
            Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
            Err(TryLockError::WouldBlock) => None,
        }
    }

    /// Commits `group` in one transaction and answers its members.
    fn commit(&self, connection: &Connection, mut group: Vec<Box<dyn Job>>) {
        let writes = group.len() as u64;
        let failure = commit_group(connection, &self.settings, &mut group);
        if failure.is_none() {
            self.counters.transactions.fetch_add(1, Ordering::Relaxed);
            self.counters.writes.fetch_add(writes, Ordering::Relaxed);
        }
        for job in group {
            job.finish(failure.as_ref());
        }
    }
}

impl Writer {
    /// Starts the writer thread on `connection`.
    pub(crate) fn spawn(
        connection: Connection,
        settings: Settings,
        batch: usize,
        queue: usize,
    ) -> std::io::Result<Self> {
        let (jobs, queued) = mpsc::channel(queue.max(1));
        let shared = Arc::new(Shared {
            connection: Mutex::new(connection),
            settings,
            counters: Counters::default(),
        });
        let thread_shared = Arc::clone(&shared);
        std::thread::Builder::new()
            .name("ddd-sqlite-writer".into())
            .spawn(move || serve(&thread_shared, queued, batch.max(1)))?;
        Ok(Self { jobs, shared })
    }

    /// Queues `work` and waits for its answer, which comes after the commit.
    pub(crate) async fn run<F, T, E>(&self, work: F) -> Result<T, E>
    where
        F: FnOnce(&WriteTx<'_>) -> Result<T, E> + Send + 'static,
        T: Send + 'static,
        E: From<StoreError> + Send + 'static,
    {
        let stopped = || E::from(StoreError::permanent("SQLite: the writer thread stopped"));
        let (reply, mut answer) = oneshot::channel();
        let task: Box<dyn Job> = Box::new(Task {
            work: Some(work),
            outcome: None,
            reply,
        });
        let task = match self.in_place(task) {
            Ok(()) => return answer.try_recv().unwrap_or_else(|_| Err(stopped())),
            Err(task) => task,
        };
        self.jobs.send(task).await.map_err(|_| stopped())?;
        answer.await.unwrap_or_else(|_| Err(stopped()))
    }

    /// Commits `task` on the caller's thread when nothing else is being written or queued:
    /// a lone writer then pays no hand-off to the writer thread and back (two thread
    /// wake-ups, 10-15 % of a one-event append in the benchmark). Only on a multi-thread
    /// runtime, where `block_in_place` lets the worker's other tasks move on while this one
    /// syncs.
    fn in_place(&self, task: Box<dyn Job>) -> Result<(), Box<dyn Job>> {
        let multi_thread = tokio::runtime::Handle::try_current()
            .is_ok_and(|runtime| runtime.runtime_flavor() == RuntimeFlavor::MultiThread);
        let nothing_queued = self.jobs.capacity() == self.jobs.max_capacity();
        if !multi_thread || !nothing_queued {
            return Err(task);
        }
        let Some(connection) = self.shared.idle_connection() else {
            return Err(task);
        };
        tokio::task::block_in_place(|| self.shared.commit(&connection, vec![task]));
        Ok(())
    }

    pub(crate) fn stats(&self) -> WriterStats {
        let counters = &self.shared.counters;
        WriterStats {
            transactions: counters.transactions.load(Ordering::Relaxed),
            writes: counters.writes.load(Ordering::Relaxed),
        }
    }
}

fn serve(shared: &Shared, mut queued: mpsc::Receiver<Box<dyn Job>>, batch: usize) {
    while let Some(first) = queued.blocking_recv() {
        let connection = shared.connection();
        let mut group = Vec::with_capacity(batch.min(64));
        group.push(first);
        // Whatever queued up while the last group was being synced joins this one.
        while group.len() < batch {
            match queued.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        shared.commit(&connection, group);
    }
}

/// Runs every job of the group in one transaction; `Some` when the group was not committed.
fn commit_group(
    connection: &Connection,
    settings: &Settings,
    group: &mut [Box<dyn Job>],
) -> Option<Failure> {
    if let Err(error) = run_sql(connection, "BEGIN IMMEDIATE") {
        return Some(Failure::from_error(&error));
    }
    let tx = WriteTx {
        connection,
        settings,
    };
    if let [alone] = group {
        // Alone in its transaction, a write needs no savepoint: a refused one is rolled back
        // with the transaction (two statements fewer for every commit of a lone writer).
        let keep = alone.run(&tx);
        if let Err(error) = still_open(connection) {
            return Some(Failure::from_error(&error));
        }
        if !keep {
            rollback(connection);
            return None;
        }
    } else {
        for job in group.iter_mut() {
            if let Err(error) = run_job(connection, &tx, job.as_mut()) {
                rollback(connection);
                return Some(Failure::from_error(&error));
            }
        }
    }
    match run_sql(connection, "COMMIT") {
        Ok(()) => None,
        Err(error) => {
            rollback(connection);
            Some(Failure::from_error(&error))
        }
    }
}

fn run_job(connection: &Connection, tx: &WriteTx<'_>, job: &mut dyn Job) -> Result<(), StoreError> {
    run_sql(connection, "SAVEPOINT ddd_write")?;
    let keep = job.run(tx);
    still_open(connection)?;
    if !keep {
        run_sql(connection, "ROLLBACK TO ddd_write")?;
    }
    run_sql(connection, "RELEASE ddd_write")
}

/// Whether the group's transaction survived a write: SQLite rolls the whole transaction
/// back after some errors (an IO error, a full disk), and the writes before are gone too.
fn still_open(connection: &Connection) -> Result<(), StoreError> {
    if connection.is_autocommit() {
        return Err(StoreError::transient(
            "SQLite rolled the transaction back after an error",
        ));
    }
    Ok(())
}

fn rollback(connection: &Connection) {
    if !connection.is_autocommit()
        && let Err(error) = connection.execute_batch("ROLLBACK")
    {
        tracing::error!(%error, "SQLite: rolling back a failed group");
    }
}
