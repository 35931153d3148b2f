//! An event store in memory: complete (outbox, inbox, snapshots) and safe under concurrency.

use std::any::Any;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use crate::aggregate::{ExpectedVersion, Version};
use crate::event::{CodecError, DomainEvent, Envelope, EventId, Position, RawEnvelope};
use crate::outbox::{Inbox, Lease, LeaseRecord, Outbox, OutboxSignal};
use crate::store::{
    AppendError, AppendRequest, Appended, EventStore, Snapshot, StoreError, StreamId, checks,
};

type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

/// A recorded envelope with its event type erased, so one store holds every aggregate's
/// events and hands them back typed (a clone, no serialization on the command path) or
/// encoded (for `read_all` and the outbox).
trait Record: Any + Send + Sync {
    fn raw(&self) -> Result<RawEnvelope, CodecError>;
    fn as_any(&self) -> &dyn Any;
    fn recorded_at(&self) -> chrono::DateTime<chrono::Utc>;
}

impl<E: DomainEvent> Record for Envelope<E> {
    fn raw(&self) -> Result<RawEnvelope, CodecError> {
        self.to_raw()
    }

    fn as_any(&self) -> &dyn Any {
        self
    }

    fn recorded_at(&self) -> chrono::DateTime<chrono::Utc> {
        self.recorded_at
    }
}

fn typed<E: DomainEvent>(record: &dyn Record) -> Result<Envelope<E>, CodecError> {
    if let Some(envelope) = record.as_any().downcast_ref::<Envelope<E>>() {
        return Ok(envelope.clone());
    }
    // Read as another type than it was written with (a view over several aggregates, a
    // newer schema): go through the encoded form, as a database-backed store would.
    record.raw()?.decode_own()
}

#[derive(Default)]
pub(super) struct State {
    /// Positions (1-based) of each stream's events, in version order.
    streams: FastMap<StreamId, Vec<Position>>,
    /// Every event in global order; index = position - 1.
    log: Vec<Arc<dyn Record>>,
    positions_by_id: FastMap<EventId, Position>,
    snapshots: HashMap<StreamId, Snapshot>,
    processed: HashSet<(String, EventId)>,
    /// Every position up to here is published; `published_ahead` holds those marked beyond
    /// it (a relay that skipped some), so marking costs nothing per append.
    published_upto: Position,
    published_ahead: BTreeSet<Position>,
    /// The relay lease: relays over clones of this store in one process still take turns.
    lease: Option<LeaseRecord>,
    /// The views' tables and checkpoints, under the same lock as the log so a fold reads
    /// and writes atomically.
    pub(super) views: super::views::Tables,
}

impl State {
    /// The events after `after`, at most `limit`, encoded.
    pub(super) fn raw_after(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RawEnvelope>, CodecError> {
        let head = self.head();
        (after + 1..=head)
            .take(limit)
            .map(|position| self.record(position).raw())
            .collect()
    }

    /// The last position.
    pub(super) fn head(&self) -> Position {
        self.log.len() as Position
    }

    /// When the event at `position` was recorded.
    pub(super) fn recorded_at(&self, position: Position) -> Option<chrono::DateTime<chrono::Utc>> {
        let index = usize::try_from(position.checked_sub(1)?).ok()?;
        Some(self.log.get(index)?.recorded_at())
    }

    /// Where the event `id` is in the global order.
    pub(super) fn position_of(&self, id: EventId) -> Option<Position> {
        self.positions_by_id.get(&id).copied()
    }

    fn record(&self, position: Position) -> &Arc<dyn Record> {
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
            .map(|&position| typed::<E>(self.record(position).as_ref()))
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
        let actual = self.stream_version(&request.stream);
        let accepted = request.expected.accepts(actual);
        // A retry after a lost reply either conflicts (its expectation is stale) or expects
        // nothing; only then can the ids be stored already, so only then look them up.
        let maybe_retry = !accepted || request.expected == ExpectedVersion::Any;
        if maybe_retry && let Some(appended) = self.already_stored(&request)? {
            return Ok(appended);
        }
        if let Some(mark) = &request.inbox
            && self
                .processed
                .contains(&(mark.consumer.clone(), mark.event_id))
        {
            return Err(AppendError::AlreadyProcessed(mark.clone()));
        }
        if !accepted {
            return Err(AppendError::Conflict {
                stream: request.stream,
                expected: request.expected,
                actual,
            });
        }
        if request.events.is_empty() {
            return Ok(Appended {
                events: Vec::new(),
                version: actual,
                already_stored: false,
            });
        }
        self.claim_ids(&request)?;
        Ok(self.store(request, actual))
    }

    /// Indexes the batch's ids, or changes nothing when one is stored already (in another
    /// stream: the same stream's copies were found as a retry before).
    fn claim_ids<E>(&mut self, request: &AppendRequest<E>) -> Result<(), AppendError> {
        let first = self.log.len() as Position + 1;
        for (offset, event) in (0..).zip(&request.events) {
            if let Some(previous) = self.positions_by_id.insert(event.event_id, first + offset) {
                self.positions_by_id.insert(event.event_id, previous);
                for earlier in &request.events[..usize::try_from(offset).unwrap_or(0)] {
                    self.positions_by_id.remove(&earlier.event_id);
                }
                return Err(AppendError::InvalidBatch {
                    stream: request.stream.clone(),
                    reason: format!("event id {} is stored already", event.event_id),
                });
            }
        }
        Ok(())
    }

    fn store<E: DomainEvent>(&mut self, request: AppendRequest<E>, actual: Version) -> Appended<E> {
        if let Some(mark) = request.inbox {
            self.processed.insert((mark.consumer, mark.event_id));
        }
        // In one process the caller's clock is the store's: keep the `recorded_at` the
        // envelopes were made with rather than reading the clock again.
        let first = self.log.len() as Position + 1;
        let mut stored = request.events;
        for ((envelope, version), position) in stored.iter_mut().zip(actual + 1..).zip(first..) {
            envelope.version = version;
            envelope.position = position;
            self.log.push(Arc::new(envelope.clone()));
        }
        let positions = first..first + stored.len() as Position;
        match self.streams.get_mut(&request.stream) {
            Some(existing) => existing.extend(positions),
            None => {
                self.streams.insert(request.stream, positions.collect());
            }
        }
        Appended {
            version: actual + stored.len() as Version,
            events: stored,
            already_stored: false,
        }
    }

    fn pending(&self, limit: usize) -> Vec<Arc<dyn Record>> {
        let head = self.log.len() as Position;
        (self.published_upto + 1..=head)
            .filter(|position| !self.published_ahead.contains(position))
            .take(limit)
            .map(|position| Arc::clone(self.record(position)))
            .collect()
    }

    fn mark_published(&mut self, position: Position) {
        if position <= self.published_upto {
            return;
        }
        self.published_ahead.insert(position);
        while self.published_ahead.remove(&(self.published_upto + 1)) {
            self.published_upto += 1;
        }
    }

    fn mark_all_published(&mut self, event_ids: &[EventId]) {
        for id in event_ids {
            if let Some(position) = self.positions_by_id.get(id).copied() {
                self.mark_published(position);
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
    signal: OutboxSignal,
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

    pub(super) fn lock(&self) -> MutexGuard<'_, State> {
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
        let appended = self.lock().append(request)?;
        // Positions here have no gaps and show in order: under the lock.
        self.signal.recorded(&appended.events);
        Ok(appended)
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
            .map(|&position| typed::<E>(state.record(position).as_ref()).map_err(StoreError::from))
            .collect()
    }

    async fn read_all(
        &self,
        after: Position,
        limit: usize,
    ) -> Result<Vec<RawEnvelope>, StoreError> {
        let records: Vec<Arc<dyn Record>> = {
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
        let records = self.lock().pending(limit);
        records
            .iter()
            .map(|record| record.raw().map_err(StoreError::from))
            .collect()
    }

    async fn mark_published(&self, event_ids: &[EventId]) -> Result<(), StoreError> {
        self.lock().mark_all_published(event_ids);
        Ok(())
    }

    fn signal(&self) -> Option<crate::outbox::OutboxListener> {
        Some(self.signal.subscribe())
    }

    async fn claim_lease(
        &self,
        holder: uuid::Uuid,
        ttl: std::time::Duration,
    ) -> Result<Option<Lease>, StoreError> {
        let mut state = self.lock();
        let now = tokio::time::Instant::now();
        let granted = LeaseRecord::claim(state.lease.as_ref(), holder, ttl, now);
        if let Some(record) = granted {
            state.lease = Some(record);
        }
        Ok(granted.map(|record| record.lease))
    }

    async fn release_lease(&self, lease: Lease) -> Result<(), StoreError> {
        let mut state = self.lock();
        if let Some(record) = state.lease.as_mut().filter(|record| record.lease == lease) {
            record.expires = tokio::time::Instant::now();
        }
        Ok(())
    }

    async fn mark_published_under(
        &self,
        event_ids: &[EventId],
        lease: Lease,
    ) -> Result<bool, StoreError> {
        let mut state = self.lock();
        if state.lease.is_none_or(|record| record.lease != lease) {
            return Ok(false);
        }
        state.mark_all_published(event_ids);
        Ok(true)
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
