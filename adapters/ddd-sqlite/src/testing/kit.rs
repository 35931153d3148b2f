//! What `ddd-store-testkit` asks of the store: a child's handle, writes that roll back or stay
//! open, a handler's own writes beside the inbox, and the balances projection in a table.

use std::time::Duration;

use ddd_core::testing::conformance::Tick;
use ddd_core::testing::conformance::account::AccountEvent;
use ddd_core::{
    AppendError, AppendRequest, DomainEvent, Envelope, EventId, ProjectionError, StoreError,
    StreamId,
};
use ddd_store_testkit::projection::{self, Balances};
use ddd_store_testkit::{OwnWrites, SqlBalances, TestStore};
use rusqlite::params;

use crate::{SqlProjection, SqliteStore, WriteTx};

fn permanent(error: rusqlite::Error) -> StoreError {
    StoreError::permanent(error.to_string())
}

impl TestStore for SqliteStore {
    const CONCURRENT_WRITES: bool = false;

    async fn open(url: &str) -> Self {
        Self::connect(url)
            .await
            .unwrap_or_else(|error| panic!("opening {url}: {error}"))
    }

    async fn append_rolled_back<E: DomainEvent>(&self, request: AppendRequest<E>) {
        let outcome = self
            .write(move |tx| {
                tx.append(request)?;
                Err::<(), _>(AppendError::InvalidBatch {
                    stream: StreamId::new("Account", "-"),
                    reason: "the rest of the write failed".into(),
                })
            })
            .await;
        assert!(outcome.is_err());
    }

    async fn append_held_open(&self, request: AppendRequest<Tick>, hold: Duration) -> EventId {
        self.write(move |tx| {
            let appended = tx.append(request)?;
            // The writer's transaction stays open: this runs inside it.
            std::thread::sleep(hold);
            Ok::<_, AppendError>(appended.events[0].event_id)
        })
        .await
        .expect("slow write")
    }
}

impl OwnWrites for SqliteStore {
    async fn create_effects(&self) {
        self.write(|tx| {
            tx.connection()
                .execute_batch(
                    "CREATE TABLE effects (count INTEGER NOT NULL); INSERT INTO effects VALUES (0)",
                )
                .map_err(permanent)
        })
        .await
        .expect("table");
    }

    async fn count_once(&self, consumer: &str, event_id: EventId) -> bool {
        let consumer = consumer.to_owned();
        self.write(move |tx| {
            if !tx.mark_processed(&consumer, event_id)? {
                return Ok(false);
            }
            tx.connection()
                .execute("UPDATE effects SET count = count + 1", [])
                .map_err(permanent)?;
            Ok::<_, StoreError>(true)
        })
        .await
        .expect("handle")
    }

    async fn effects(&self) -> i64 {
        self.read(|connection| {
            connection
                .query_row("SELECT count FROM effects", [], |row| row.get(0))
                .map_err(permanent)
        })
        .await
        .expect("count")
    }
}

/// The kit's balances read model in a table of the file.
#[derive(Debug, Default)]
pub struct BalancesTable;

impl SqlProjection for BalancesTable {
    type Event = AccountEvent;
    const NAME: &'static str = projection::NAME;

    fn apply(
        &self,
        tx: &WriteTx<'_>,
        event: &Envelope<AccountEvent>,
    ) -> Result<(), ProjectionError> {
        tx.connection()
            .execute(
                "INSERT INTO balances (account, balance, events) VALUES (?1, ?2, 1) \
                 ON CONFLICT (account) DO UPDATE SET balance = balance + ?2, events = events + 1",
                params![event.aggregate_id, projection::change(event)?],
            )
            .map_err(|error| ProjectionError(error.to_string()))?;
        Ok(())
    }

    fn reset(&self, tx: &WriteTx<'_>) -> Result<(), ProjectionError> {
        tx.connection()
            .execute("DELETE FROM balances", [])
            .map_err(|error| ProjectionError(error.to_string()))?;
        Ok(())
    }
}

impl SqlBalances for SqliteStore {
    type Balances = BalancesTable;

    async fn create_balances(&self) {
        self.write(|tx| {
            tx.connection()
                .execute_batch(
                    "CREATE TABLE balances (account TEXT PRIMARY KEY, balance INTEGER NOT NULL, \
                     events INTEGER NOT NULL)",
                )
                .map_err(permanent)
        })
        .await
        .expect("read model table");
    }

    async fn balances(&self) -> Balances {
        self.read(|connection| {
            let mut statement = connection
                .prepare("SELECT account, balance, events FROM balances")
                .map_err(permanent)?;
            let rows = statement
                .query_map([], |row| Ok((row.get(0)?, (row.get(1)?, row.get(2)?))))
                .map_err(permanent)?;
            rows.collect::<Result<_, _>>().map_err(permanent)
        })
        .await
        .expect("read model")
    }

    async fn damage_balances(&self) {
        self.write(|tx| {
            tx.connection()
                .execute("UPDATE balances SET balance = -1", [])
                .map_err(permanent)
        })
        .await
        .expect("damage the read model");
    }
}
