//! An event store in memory: complete (outbox, inbox, snapshots) and safe under concurrency.

use std::any::Any;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::Utc;

use crate::aggregate::Version;
use crate::event::{CodecError, DomainEvent, Envelope, EventId, Payload, Position, RawEnvelope};
use crate::outbox::{Inbox, Outbox};
use crate::store::{
    AppendError, AppendRequest, Appended, EventStore, Snapshot, StoreError, StreamId, checks,
};

/// An event stored with its type erased, so one store holds every aggregate's events and can
/// hand them back typed (no serialization on the command path) or encoded (for `read_all`).
trait StoredEvent: Any + Send + Sync {
    fn encode(&self) -> Result<Payload, CodecError>;
    fn as_any(&self) -> &dyn Any;
}

impl<E: DomainEvent> StoredEvent for E {
    fn encode(&self) -> Result<Payload, CodecError> {
        DomainEvent::encode(self)
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

struct Record {
    envelope: Envelope<()>,
    event: Box<dyn StoredEvent>,
}

impl Record {
    fn typed<E: DomainEvent>(&self) -> Result<Envelope<E>, CodecError> {
        let event = match self.event.as_any().downcast_ref::<E>() {
            Some(event) => event.clone(),
            // Read as another type than it was written with (a view over several aggregates,
            // a newer schema): go through the encoded form, as a database-backed store would.
            None => E::decode(
                &self.envelope.event_type,
                self.envelope.schema_version,
                self.event.encode()?,
            )?
            .ok_or_else(|| CodecError::UnknownType(self.envelope.event_type.to_string()))?,
        };
        Ok(self.envelope.clone().map(|()| event))
    }

    fn raw(&self) -> Result<RawEnvelope, CodecError> {
        let payload = self.event.encode()?;
        Ok(self.envelope.clone().map(|()| payload))
    }
}

#[derive(Default)]
struct State {
    /// Positions (1-based) of each stream's events, in version order.
    streams: HashMap<StreamId, Vec<Position>>,
    /// Every event in global order; index = position - 1.
    log: Vec<Arc<Record>>,
    positions_by_id: HashMap<EventId, Position>,
    snapshots: HashMap<StreamId, Snapshot>,
    processed: HashSet<(String, EventId)>,
    unpublished: BTreeSet<Position>,
}

impl State {
    fn record(&self, position: Position) -> &Arc<Record> {
        &self.log[usize::try_from(position - 1).expect("positions fit in memory")]
    }

    fn stream_version(&self, stream: &StreamId) -> Version {
        self.streams
            .get(stream)
            .map_or(0, |positions| positions.len() as Version)
    }

    /// The stored copies when every id of the request is stored already.
    fn already_stored<E: DomainEvent>(
        &self,
        request: &AppendRequest<E>,
    ) -> Result<Option<Appended<E>>, AppendError> {
        let found: Vec<Position> = request
            .events
            .iter()
            .filter_map(|event| self.positions_by_id.get(&event.event_id).copied())
            .collect();
        if !checks::classify_duplicates(&request.stream, found.len(), request.events.len())? {
            return Ok(None);
        }
        let events = found
            .iter()
            .map(|&position| self.record(position).typed::<E>())
            .collect::<Result<Vec<_>, _>>()?;
        if let Some(stray) = events.iter().find(|event| !request.stream.holds(event)) {
            return Err(AppendError::InvalidBatch {
                stream: request.stream.clone(),
                reason: format!("event id {} is stored in another stream", stray.event_id),
            });
        }
        Ok(Some(Appended {
            version: self.stream_version(&request.stream),
            events,
            already_stored: true,
        }))
    }

    fn append<E: DomainEvent>(
        &mut self,
        request: AppendRequest<E>,
    ) -> Result<Appended<E>, AppendError> {
        checks::batch_is_well_formed(&request)?;
        if let Some(appended) = self.already_stored(&request)? {
            return Ok(appended);
        }
        if let Some(mark) = &request.inbox
            && self
                .processed
                .contains(&(mark.consumer.clone(), mark.event_id))
        {
            return Err(AppendError::AlreadyProcessed(mark.clone()));
        }
        let actual = self.stream_version(&request.stream);
        if !request.expected.accepts(actual) {
            return Err(AppendError::Conflict {
                stream: request.stream,
                expected: request.expected,
                actual,
            });
        }
        if let Some(mark) = request.inbox {
            self.processed.insert((mark.consumer, mark.event_id));
        }
        let recorded_at = Utc::now();
        let mut version = actual;
        let mut stored = Vec::with_capacity(request.events.len());
        for mut envelope in request.events {
            version += 1;
            let position = self.log.len() as Position + 1;
            envelope.version = version;
            envelope.position = position;
            envelope.recorded_at = recorded_at;
            self.index(&request.stream, &envelope);
            self.log.push(Arc::new(Record {
                envelope: envelope.clone().map(|_| ()),
                event: Box::new(envelope.payload.clone()),
            }));
            stored.push(envelope);
        }
        Ok(Appended {
            events: stored,
            version,
            already_stored: false,
        })
    }

    fn index<E>(&mut self, stream: &StreamId, envelope: &Envelope<E>) {
        self.positions_by_id
            .insert(envelope.event_id, envelope.position);
        self.unpublished.insert(envelope.position);
        match self.streams.get_mut(stream) {
            Some(positions) => positions.push(envelope.position),
            None => {
                self.streams.insert(stream.clone(), vec![envelope.position]);
            }
        }
    }
}

/// An event store that keeps everything in memory. Clones share the same store.
///
/// Events are kept typed and encoded only when read as raw envelopes, so the command path
/// does no serialization. It implements [`EventStore`], [`Outbox`] (every appended event is
/// pending until marked published) and [`Inbox`].
#[derive(Clone, Default)]
pub struct InMemoryEventStore {
    state: Arc<Mutex<State>>,
}

impl std::fmt::Debug for InMemoryEventStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("InMemoryEventStore")
            .field("streams", &state.streams.len())
            .field("events", &state.log.len())
            .finish_non_exhaustive()
    }
}

impl InMemoryEventStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing in this store panics while holding the lock, and every mutation leaves the
        // state consistent before the next, so a poisoned lock's data is still sound.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// How many events the store holds.
    pub fn len(&self) -> usize {
        self.lock().log.len()
    }

    /// Whether the store holds no events.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl EventStore for InMemoryEventStore {
    async fn append<E: DomainEvent>(
        &self,
        request: AppendRequest<E>,
    ) -> Result<Appended<E>, AppendError> {
        self.lock().append(request)
    }

    async fn load<E: DomainEvent>(
        &self,
        stream: &StreamId,
        after: Version,
    ) -> Result<Vec<Envelope<E>>, StoreError> {
        let state = self.lock();
        let Some(positions) = state.streams.get(stream) else {
            return Ok(Vec::new());
        };
        let skip = usize::try_from(after).unwrap_or(usize::MAX);
        positions
            .iter()
            .skip(skip)
            .map(|&position| {
                state
                    .record(position)
                    .typed::<E>()
                    .map_err(StoreError::from)
            })
            .collect()
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RawEnvelope>, StoreError> {
        let records: Vec<Arc<Record>> = {
            let state = self.lock();
            let start = usize::try_from(after)
                .unwrap_or(usize::MAX)
                .min(state.log.len());
            let end = start.saturating_add(limit).min(state.log.len());
            state.log[start..end].to_vec()
        };
        // Encoding happens outside the lock: records are immutable once stored.
        records
            .iter()
            .map(|record| record.raw().map_err(StoreError::from))
            .collect()
    }

    async fn save_snapshot(&self, stream: &StreamId, snapshot: Snapshot) -> Result<(), StoreError> {
        let mut state = self.lock();
        let newer_exists = state
            .snapshots
            .get(stream)
            .is_some_and(|existing| existing.version > snapshot.version);
        if !newer_exists {
            state.snapshots.insert(stream.clone(), snapshot);
        }
        Ok(())
    }

    async fn load_snapshot(&self, stream: &StreamId) -> Result<Option<Snapshot>, StoreError> {
        Ok(self.lock().snapshots.get(stream).cloned())
    }

    async fn is_processed(&self, consumer: &str, event_id: EventId) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .processed
            .contains(&(consumer.to_owned(), event_id)))
    }
}

impl Outbox for InMemoryEventStore {
    async fn pending(&self, limit: usize) -> Result<Vec<RawEnvelope>, StoreError> {
        let records: Vec<Arc<Record>> = {
            let state = self.lock();
            state
                .unpublished
                .iter()
                .take(limit)
                .map(|&position| Arc::clone(state.record(position)))
                .collect()
        };
        records
            .iter()
            .map(|record| record.raw().map_err(StoreError::from))
            .collect()
    }

    async fn mark_published(&self, event_ids: &[EventId]) -> Result<(), StoreError> {
        let mut state = self.lock();
        for id in event_ids {
            if let Some(position) = state.positions_by_id.get(id).copied() {
                state.unpublished.remove(&position);
            }
        }
        Ok(())
    }
}

impl Inbox for InMemoryEventStore {
    async fn is_processed(&self, consumer: &str, event_id: EventId) -> Result<bool, StoreError> {
        EventStore::is_processed(self, consumer, event_id).await
    }

    async fn mark_processed(&self, consumer: &str, event_id: EventId) -> Result<bool, StoreError> {
        Ok(self
            .lock()
            .processed
            .insert((consumer.to_owned(), event_id)))
    }
}
