//! What `ddd-store-testkit` asks of the store: a child's handle, transactions that roll back
//! or stay open, a handler's own writes beside the inbox, and the balances projection in a
//! table.

use std::time::Duration;

use ddd_core::testing::conformance::Tick;
use ddd_core::testing::conformance::account::AccountEvent;
use ddd_core::{AppendError, AppendRequest, DomainEvent, Envelope, EventId, ProjectionError};
use ddd_store_testkit::projection::{self, Balances};
use ddd_store_testkit::{OwnWrites, SqlBalances, TestStore};
use sqlx::PgConnection;

use crate::{PostgresStore, SqlProjection};

impl TestStore for PostgresStore {
    const CONCURRENT_WRITES: bool = true;

    async fn open(url: &str) -> Self {
        Self::connect(url)
            .await
            .unwrap_or_else(|error| panic!("connecting to {url}: {error}"))
    }

    async fn append_rolled_back<E: DomainEvent>(&self, request: AppendRequest<E>) {
        let mut transaction = self.pool().begin().await.expect("begin");
        match self.append_in(&mut transaction, request).await {
            Ok(_) | Err(AppendError::Conflict { .. }) => {}
            Err(other) => panic!("append in a transaction: {other}"),
        }
        transaction.rollback().await.expect("rollback");
    }

    async fn append_held_open(&self, request: AppendRequest<Tick>, hold: Duration) -> EventId {
        let mut transaction = self.pool().begin().await.expect("begin");
        let appended = self
            .append_in(&mut transaction, request)
            .await
            .expect("append");
        tokio::time::sleep(hold).await;
        transaction.commit().await.expect("commit");
        appended.events[0].event_id
    }
}

impl OwnWrites for PostgresStore {
    async fn create_effects(&self) {
        sqlx::raw_sql(
            "CREATE TABLE effects (count BIGINT NOT NULL); INSERT INTO effects VALUES (0)",
        )
        .execute(self.pool())
        .await
        .expect("table");
    }

    async fn count_once(&self, consumer: &str, event_id: EventId) -> bool {
        let mut transaction = self.pool().begin().await.expect("begin");
        if !self
            .mark_processed_in(&mut transaction, consumer, event_id)
            .await
            .expect("inbox")
        {
            return false;
        }
        sqlx::query("UPDATE effects SET count = count + 1")
            .execute(&mut *transaction)
            .await
            .expect("effect");
        transaction.commit().await.expect("commit");
        true
    }

    async fn effects(&self) -> i64 {
        sqlx::query_scalar("SELECT count FROM effects")
            .fetch_one(self.pool())
            .await
            .expect("count")
    }
}

/// The kit's balances read model in a table of the schema.
#[derive(Debug, Default)]
pub struct BalancesTable;

impl SqlProjection for BalancesTable {
    type Event = AccountEvent;
    const NAME: &'static str = projection::NAME;

    async fn apply(
        &self,
        transaction: &mut PgConnection,
        event: &Envelope<AccountEvent>,
    ) -> Result<(), ProjectionError> {
        sqlx::query(
            "INSERT INTO balances (account, balance, events) VALUES ($1, $2, 1) \
             ON CONFLICT (account) DO UPDATE SET balance = balances.balance + $2, \
             events = balances.events + 1",
        )
        .bind(&event.aggregate_id)
        .bind(projection::change(event)?)
        .execute(transaction)
        .await
        .map_err(|error| ProjectionError(error.to_string()))?;
        Ok(())
    }

    async fn reset(&self, transaction: &mut PgConnection) -> Result<(), ProjectionError> {
        sqlx::query("DELETE FROM balances")
            .execute(transaction)
            .await
            .map_err(|error| ProjectionError(error.to_string()))?;
        Ok(())
    }
}

impl SqlBalances for PostgresStore {
    type Balances = BalancesTable;

    async fn create_balances(&self) {
        sqlx::query(
            "CREATE TABLE balances (account TEXT PRIMARY KEY, balance BIGINT NOT NULL, \
             events BIGINT NOT NULL)",
        )
        .execute(self.pool())
        .await
        .expect("read model table");
    }

    async fn balances(&self) -> Balances {
        let rows: Vec<(String, i64, i64)> =
            sqlx::query_as("SELECT account, balance, events FROM balances")
                .fetch_all(self.pool())
                .await
                .expect("read model");
        rows.into_iter()
            .map(|(account, balance, events)| (account, (balance, events)))
            .collect()
    }

    async fn damage_balances(&self) {
        sqlx::query("UPDATE balances SET balance = -1")
            .execute(self.pool())
            .await
            .expect("damage the read model");
    }
}
