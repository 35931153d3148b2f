//! The cqrs-es contender: `CqrsFramework` over postgres-es's `PersistedEventStore` in its
//! events-only mode (`postgres_es::postgres_cqrs`, no queries, no snapshots), the same
//! BankAccount logic as ours.
//!
//! Per command cqrs-es reads the aggregate's whole stream (`SELECT … ORDER BY sequence`),
//! replays it into a fresh aggregate, handles the command, and commits the new events in a
//! transaction (`BEGIN`, one `INSERT` per event, `COMMIT`): four round trips. A concurrent
//! writer of the same stream makes the commit fail on the primary key
//! (`AggregateError::AggregateConflict`); the caller retries.

use std::sync::Arc;

use cqrs_es::event_sink::EventSink;
use cqrs_es::persist::{PersistedEventRepository, SerializedEvent};
use cqrs_es::{Aggregate, EventStore as _};
use postgres_es::{PostgresCqrs, PostgresEventRepository};
use serde::{Deserialize, Serialize};
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{Executor as _, PgPool};

use crate::domain::{
    Account, BankAccountCommand, BankAccountError, BankAccountEvent, decide, evolve,
};

/// The aggregate: the shared [`Account`] state.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct BankAccount(pub Account);

impl Aggregate for BankAccount {
    const TYPE: &'static str = "BankAccount";
    type Command = BankAccountCommand;
    type Event = BankAccountEvent;
    type Error = BankAccountError;
    type Services = ();

    async fn handle(
        &mut self,
        command: BankAccountCommand,
        _service: &(),
        sink: &EventSink<Self>,
    ) -> Result<(), BankAccountError> {
        let event = decide(&self.0, command)?;
        sink.write(event, self).await;
        Ok(())
    }

    fn apply(&mut self, event: BankAccountEvent) {
        evolve(&mut self.0, &event);
    }
}

impl cqrs_es::DomainEvent for BankAccountEvent {
    fn event_type(&self) -> String {
        self.name().to_owned()
    }

    fn event_version(&self) -> String {
        "1.0".to_owned()
    }
}

/// postgres-es's tables, as in its repository's `db/init.sql` (the `events` table it writes
/// and reads, and `snapshots`, unused in events-only mode), in schema `schema`.
pub fn ddl(schema: &str) -> String {
    format!(
        "CREATE SCHEMA {schema};
CREATE TABLE {schema}.events
(
    aggregate_type text                         NOT NULL,
    aggregate_id   text                         NOT NULL,
    sequence       bigint CHECK (sequence >= 0) NOT NULL,
    event_type     text                         NOT NULL,
    event_version  text                         NOT NULL,
    payload        json                         NOT NULL,
    metadata       json                         NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, sequence)
);
CREATE TABLE {schema}.snapshots
(
    aggregate_type   text                                 NOT NULL,
    aggregate_id     text                                 NOT NULL,
    last_sequence    bigint CHECK (last_sequence >= 0)    NOT NULL,
    current_snapshot bigint CHECK (current_snapshot >= 0) NOT NULL,
    payload          json                                 NOT NULL,
    PRIMARY KEY (aggregate_type, aggregate_id, last_sequence)
);"
    )
}

/// cqrs-es in one schema: its pool (whose connections use the schema) and the framework.
pub struct Contender {
    pub pool: PgPool,
    pub framework: Arc<PostgresCqrs<BankAccount>>,
}

impl Contender {
    /// Creates the tables in `schema` and a pool of `pool_size` connections to it.
    pub async fn create(
        admin: &PgPool,
        url: &str,
        schema: &str,
        pool_size: u32,
    ) -> Result<Self, sqlx::Error> {
        admin.execute(ddl(schema).as_str()).await?;
        let options: PgConnectOptions = url
            .parse::<PgConnectOptions>()?
            .options([("search_path", schema)]);
        let pool = PgPoolOptions::new()
            .max_connections(pool_size)
            .connect_with(options)
            .await?;
        let framework = Arc::new(postgres_es::postgres_cqrs(pool.clone(), vec![], ()));
        Ok(Self { pool, framework })
    }

    /// The aggregate as cqrs-es loads it (a replay), and its version.
    pub async fn load(&self, id: &str) -> (BankAccount, usize) {
        let store = cqrs_es::persist::PersistedEventStore::<_, BankAccount>::new_event_store(
            PostgresEventRepository::new(self.pool.clone()),
        );
        let context = store.load_aggregate(id).await.expect("cqrs-es loads");
        (context.aggregate, context.current_sequence)
    }

    /// Stores `events` as the stream of `id`, as cqrs-es would have (its serialized form),
    /// in batches: building a 2,000-event stream through `execute` would replay O(n²) events.
    pub async fn seed(&self, id: &str, events: &[BankAccountEvent]) {
        let repository = PostgresEventRepository::new(self.pool.clone());
        for (batch_index, batch) in events.chunks(500).enumerate() {
            let serialized: Vec<SerializedEvent> = batch
                .iter()
                .enumerate()
                .map(|(offset, event)| {
                    SerializedEvent::new(
                        id.to_owned(),
                        batch_index * 500 + offset + 1,
                        BankAccount::TYPE.to_owned(),
                        cqrs_es::DomainEvent::event_type(event),
                        cqrs_es::DomainEvent::event_version(event),
                        serde_json::to_value(event).expect("an event serializes"),
                        serde_json::json!({}),
                    )
                })
                .collect();
            repository
                .persist::<BankAccount>(&serialized, None)
                .await
                .expect("seeding cqrs-es's stream");
        }
    }
}
