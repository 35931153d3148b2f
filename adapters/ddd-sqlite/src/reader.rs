//! Read-only connections. In WAL mode a reader sees the last commit when its statement
//! starts and never waits for the writer.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use ddd_core::StoreError;
use rusqlite::{Connection, OpenFlags};
use tokio::sync::Semaphore;

/// A fixed set of read connections, each used by one blocking task at a time.
#[derive(Debug)]
pub(crate) struct Readers {
    idle: Mutex<Vec<Connection>>,
    permits: Arc<Semaphore>,
}

impl Readers {
    pub(crate) fn open(
        path: &Path,
        count: usize,
        busy_timeout: Duration,
    ) -> Result<Self, rusqlite::Error> {
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let idle = (0..count)
            .map(|_| {
                let connection = Connection::open_with_flags(path, flags)?;
                connection.busy_timeout(busy_timeout)?;
                connection.set_prepared_statement_cache_capacity(64);
                Ok(connection)
            })
            .collect::<Result<Vec<_>, rusqlite::Error>>()?;
        Ok(Self {
            permits: Arc::new(Semaphore::new(idle.len())),
            idle: Mutex::new(idle),
        })
    }

    /// Runs `read` on a free connection, on the blocking pool. The connection goes back to
    /// the pool from the blocking task itself, so a caller that stops waiting (a timeout, a
    /// cancelled request) does not lose it.
    pub(crate) async fn read<T, F>(self: &Arc<Self>, read: F) -> Result<T, StoreError>
    where
        F: FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
        T: Send + 'static,
    {
        let permit = Arc::clone(&self.permits)
            .acquire_owned()
            .await
            .map_err(|_| StoreError::permanent("SQLite: the readers were closed"))?;
        let readers = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let connection = readers
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop()
                .ok_or_else(|| StoreError::permanent("SQLite: no idle reader under a permit"))?;
            let outcome = catch_unwind(AssertUnwindSafe(|| read(&connection)))
                .unwrap_or_else(|_| Err(StoreError::permanent("SQLite: a read panicked")));
            readers
                .idle
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(connection);
            outcome
        })
        .await
        .map_err(|error| StoreError::permanent(format!("SQLite: a read task failed: {error}")))?
    }
}
