//! Contender (b): cqrs-es 0.5 `CqrsFramework` over its `MemStore`, with no queries.
//!
//! Per command cqrs-es loads the aggregate's whole stream (the `MemStore` clones it out of its
//! map), replays it into a fresh aggregate, handles the command through an `EventSink`, and
//! commits by cloning the stream again, pushing the new envelopes and writing the vector back.
//! `MemStore` also prints two lines to stdout per command ("loading: …", "storing: …"); the
//! benchmark sends stdout to /dev/null.
//!
//! [`QuietMemStore`] is an informative extra: `MemStore`'s code verbatim minus those two
//! `println!`s, to show how much of cqrs-es's cost is the printing.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use cqrs_es::event_sink::EventSink;
use cqrs_es::mem_store::MemStoreAggregateContext;
use cqrs_es::{Aggregate, AggregateError, EventEnvelope, EventStore};
use serde::{Deserialize, Serialize};

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

/// cqrs-es 0.5.0's `MemStore` (src/mem_store.rs, Apache-2.0) with its two `println!` calls
/// removed and nothing else changed.
#[derive(Debug, Clone)]
pub struct QuietMemStore<A: Aggregate + Send + Sync> {
    events: Arc<RwLock<HashMap<String, Vec<EventEnvelope<A>>>>>,
}

impl<A: Aggregate> Default for QuietMemStore<A> {
    fn default() -> Self {
        Self {
            events: Arc::default(),
        }
    }
}

impl<A: Aggregate> QuietMemStore<A> {
    fn load_committed_events(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        let committed_events = self
            .events
            .read()
            .unwrap()
            .get(aggregate_id)
            .into_iter()
            .flatten()
            .cloned()
            .collect();
        Ok(committed_events)
    }

    fn aggregate_id(events: &[EventEnvelope<A>]) -> String {
        let &first_event = events.iter().peekable().peek().unwrap();
        first_event.aggregate_id.to_string()
    }

    fn wrap_events(
        aggregate_id: &str,
        current_sequence: usize,
        resultant_events: Vec<A::Event>,
        base_metadata: HashMap<String, String>,
    ) -> Vec<EventEnvelope<A>> {
        let mut sequence = current_sequence;
        resultant_events
            .into_iter()
            .map(|payload| {
                sequence += 1;
                EventEnvelope {
                    aggregate_id: aggregate_id.to_string(),
                    sequence,
                    payload,
                    metadata: base_metadata.clone(),
                }
            })
            .collect()
    }
}

impl<A: Aggregate> EventStore<A> for QuietMemStore<A> {
    type AC = MemStoreAggregateContext<A>;

    async fn load_events(
        &self,
        aggregate_id: &str,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        self.load_committed_events(aggregate_id)
    }

    async fn load_aggregate(
        &self,
        aggregate_id: &str,
    ) -> Result<MemStoreAggregateContext<A>, AggregateError<A::Error>> {
        let committed_events = self.load_events(aggregate_id).await?;
        let mut aggregate = A::default();
        let mut current_sequence = 0;
        for envelope in committed_events {
            current_sequence = envelope.sequence;
            let event = envelope.payload;
            aggregate.apply(event);
        }
        Ok(MemStoreAggregateContext {
            aggregate_id: aggregate_id.to_string(),
            aggregate,
            current_sequence,
        })
    }

    async fn commit(
        &self,
        events: Vec<A::Event>,
        context: MemStoreAggregateContext<A>,
        metadata: HashMap<String, String>,
    ) -> Result<Vec<EventEnvelope<A>>, AggregateError<A::Error>> {
        let aggregate_id = context.aggregate_id;
        let current_sequence = context.current_sequence;
        let wrapped_events = Self::wrap_events(&aggregate_id, current_sequence, events, metadata);
        if wrapped_events.is_empty() {
            return Ok(Vec::default());
        }
        let aggregate_id = Self::aggregate_id(&wrapped_events);
        let mut new_events = self.load_committed_events(&aggregate_id).unwrap();
        for event in &wrapped_events {
            new_events.push(event.clone());
        }
        self.events
            .write()
            .unwrap()
            .insert(aggregate_id, new_events);
        Ok(wrapped_events)
    }
}
