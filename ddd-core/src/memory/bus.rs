//! The in-process bus: the modular monolith's broker, with the same semantics as the real
//! ones (durable named consumers, competing consumers, redelivery, dead letters).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use tokio::sync::Notify;
use tokio::time::Instant;

use crate::bus::{BusError, ConsumerConfig, Delivery, EventBus, Message, Subscription};

/// An event bus inside one process. Clones share the same bus.
///
/// Publishing returns once every matching consumer has the message queued. A consumer's queue
/// exists from its first subscription on and outlives its subscriptions (durable), but not
/// the process: durability across restarts comes from the outbox, which republishes what was
/// not marked published.
#[derive(Clone, Default)]
pub struct InProcessBus {
    inner: Arc<BusInner>,
}

impl fmt::Debug for InProcessBus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let consumers: Vec<String> = lock(&self.inner.groups).keys().cloned().collect();
        f.debug_struct("InProcessBus")
            .field("consumers", &consumers)
            .finish_non_exhaustive()
    }
}

#[derive(Default)]
struct BusInner {
    groups: Mutex<HashMap<String, Arc<Group>>>,
    closed: AtomicBool,
}

struct Group {
    config: ConsumerConfig,
    state: Mutex<GroupState>,
    notify: Notify,
    /// The bus the group belongs to, for dead letters; weak since the bus holds the group.
    bus: Weak<BusInner>,
}

#[derive(Default)]
struct GroupState {
    ready: VecDeque<Pending>,
    /// Deliveries handed out, at `tag - first_tag`; `None` once settled. Tags are handed
    /// out in order and all share one ack wait, so this is also ack deadline order. The
    /// front is never `None`: settled entries are dropped as soon as they reach it.
    in_flight: VecDeque<Option<InFlight>>,
    /// The tag of `in_flight[0]`.
    first_tag: u64,
    /// The `Some` entries of `in_flight`.
    unsettled: usize,
}

struct Pending {
    message: Published,
    /// Deliveries so far.
    attempts: u32,
}

struct InFlight {
    message: Published,
    attempt: u32,
    deadline: Instant,
}

/// A published message: an index into its batch, which one allocation shares between every
/// consumer that wants one of its messages, their deliveries and redeliveries (an allocation
/// per message, made by the publisher and freed by the consumer, is what costs most here).
#[derive(Clone)]
struct Published {
    batch: Arc<Vec<Message>>,
    index: usize,
}

impl std::ops::Deref for Published {
    type Target = Message;

    fn deref(&self) -> &Message {
        &self.batch[self.index]
    }
}

const ACK_WAIT_EXPIRED: &str = "not acknowledged within the ack wait";

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // Nothing panics while these locks are held; a poisoned state is still consistent.
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

impl InProcessBus {
    /// A bus with no consumers.
    pub fn new() -> Self {
        Self::default()
    }

    /// Closes the bus: subscriptions end (their `next` returns `None`) and publishing fails.
    pub fn close(&self) {
        self.inner.closed.store(true, Ordering::SeqCst);
        for group in lock(&self.inner.groups).values() {
            group.notify.notify_waiters();
        }
    }

    /// How many messages a consumer has waiting (not yet delivered, or delivered and not
    /// acknowledged): its lag.
    pub fn backlog(&self, consumer: &str) -> usize {
        lock(&self.inner.groups).get(consumer).map_or(0, |group| {
            let state = lock(&group.state);
            state.ready.len() + state.unsettled
        })
    }

    /// Whether no consumer has a message waiting or unacknowledged: everything published so
    /// far has been handled. What a test of a whole system waits for before it looks.
    pub fn is_idle(&self) -> bool {
        lock(&self.inner.groups).values().all(|group| {
            let state = lock(&group.state);
            state.ready.is_empty() && state.unsettled == 0
        })
    }
}

impl BusInner {
    fn publish_now(&self, messages: Vec<Message>) -> Result<(), BusError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(BusError::Closed);
        }
        let groups: Vec<Arc<Group>> = lock(&self.groups).values().cloned().collect();
        let batch = Arc::new(messages);
        // One lock and one wake-up per consumer per batch, not per message.
        for group in &groups {
            // Matched before locking: the consumer waits on this lock, so it only covers a
            // move of the matching messages.
            let mut wanted: VecDeque<Pending> = batch
                .iter()
                .enumerate()
                .filter(|(_, message)| group.config.wants(&message.subject))
                .map(|(index, _)| Pending {
                    message: Published {
                        batch: Arc::clone(&batch),
                        index,
                    },
                    attempts: 0,
                })
                .collect();
            if wanted.is_empty() {
                continue;
            }
            lock(&group.state).ready.append(&mut wanted);
            group.notify.notify_waiters();
        }
        Ok(())
    }

    fn dead_letter(&self, consumer: &str, message: &Message, attempts: u32, reason: &str) {
        let letter = message.clone().into_dead_letter(consumer, attempts, reason);
        // A closed bus has no one left to read dead letters; dropping them then is the same
        // as the process ending, which the outbox and inbox already cover.
        let _ = self.publish_now(vec![letter]);
    }

    fn group(self: &Arc<Self>, config: ConsumerConfig) -> Result<Arc<Group>, BusError> {
        let bus = &Arc::downgrade(self);
        let mut groups = lock(&self.groups);
        if let Some(existing) = groups.get(&config.name) {
            if existing.config.subjects != config.subjects {
                return Err(BusError::InvalidConsumer(format!(
                    "consumer `{}` exists with subjects {:?}, not {:?}",
                    config.name, existing.config.subjects, config.subjects
                )));
            }
            return Ok(Arc::clone(existing));
        }
        let group = Arc::new(Group {
            config,
            state: Mutex::new(GroupState::default()),
            notify: Notify::new(),
            bus: Weak::clone(bus),
        });
        groups.insert(group.config.name.clone(), Arc::clone(&group));
        Ok(group)
    }
}

impl GroupState {
    /// Drops settled entries from the front, so that it is the oldest unsettled delivery.
    fn trim(&mut self) {
        while let Some(None) = self.in_flight.front() {
            self.in_flight.pop_front();
            self.first_tag += 1;
        }
    }
}

impl Group {
    /// Hands out the next ready message, after taking back deliveries whose ack wait ran out.
    fn take(self: &Arc<Self>) -> Option<InProcessDelivery> {
        let mut state = lock(&self.state);
        if state.ready.is_empty() && state.unsettled == 0 {
            return None;
        }
        // One clock read serves both the expiry check and the new deadline.
        let now = Instant::now();
        let exhausted = self.expire(&mut state, now);
        let delivery = state.ready.pop_front().map(|pending| {
            let tag = state.first_tag + state.in_flight.len() as u64;
            let attempt = pending.attempts + 1;
            state.in_flight.push_back(Some(InFlight {
                message: pending.message.clone(),
                attempt,
                deadline: now + self.config.ack_wait,
            }));
            state.unsettled += 1;
            InProcessDelivery {
                group: Arc::clone(self),
                tag,
                message: pending.message,
                attempt,
                settled: false,
            }
        });
        drop(state);
        for in_flight in exhausted {
            self.dead_letter(&in_flight.message, in_flight.attempt, ACK_WAIT_EXPIRED);
        }
        delivery
    }

    /// Takes back deliveries whose ack wait ran out; returns those that used up their attempts
    /// and must be dead-lettered once the lock is released.
    fn expire(&self, state: &mut GroupState, now: Instant) -> Vec<InFlight> {
        let mut exhausted = Vec::new();
        // The front is the oldest unsettled delivery (see `GroupState::in_flight`).
        while let Some(Some(front)) = state.in_flight.front() {
            if front.deadline > now {
                break;
            }
            let Some(Some(in_flight)) = state.in_flight.pop_front() else {
                break;
            };
            state.first_tag += 1;
            state.unsettled -= 1;
            state.trim();
            exhausted.extend(self.retry(state, in_flight));
        }
        exhausted
    }

    /// Queues a failed delivery again, or returns it when its attempts are used up.
    fn retry(&self, state: &mut GroupState, in_flight: InFlight) -> Option<InFlight> {
        if in_flight.attempt >= self.config.max_deliver {
            return Some(in_flight);
        }
        // To the front: a retried message keeps its place ahead of later ones.
        state.ready.push_front(Pending {
            message: in_flight.message,
            attempts: in_flight.attempt,
        });
        self.notify.notify_waiters();
        None
    }

    fn next_deadline(&self) -> Option<Instant> {
        lock(&self.state)
            .in_flight
            .front()
            .and_then(|front| front.as_ref().map(|in_flight| in_flight.deadline))
    }

    /// Settles a delivery; `None` when its ack wait ran out and it was taken back already.
    fn settle(&self, tag: u64) -> Option<InFlight> {
        let mut state = lock(&self.state);
        let index = usize::try_from(tag.checked_sub(state.first_tag)?).ok()?;
        let in_flight = state.in_flight.get_mut(index)?.take()?;
        state.unsettled -= 1;
        state.trim();
        Some(in_flight)
    }

    /// Publishes a dead letter with no lock held: its subject may match this very consumer.
    fn dead_letter(&self, message: &Message, attempts: u32, reason: &str) {
        // A bus that is gone has no one left to read dead letters.
        if let Some(bus) = self.bus.upgrade() {
            bus.dead_letter(&self.config.name, message, attempts, reason);
        }
    }
}

impl EventBus for InProcessBus {
    type Subscription = InProcessSubscription;

    async fn publish(&self, messages: Vec<Message>) -> Result<(), BusError> {
        self.inner.publish_now(messages)
    }

    async fn subscribe(&self, config: ConsumerConfig) -> Result<InProcessSubscription, BusError> {
        config.check()?;
        if self.inner.closed.load(Ordering::SeqCst) {
            return Err(BusError::Closed);
        }
        let group = self.inner.group(config)?;
        Ok(InProcessSubscription {
            group,
            bus: Arc::clone(&self.inner),
        })
    }
}

/// One member of a durable consumer of the [`InProcessBus`].
pub struct InProcessSubscription {
    group: Arc<Group>,
    bus: Arc<BusInner>,
}

impl fmt::Debug for InProcessSubscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InProcessSubscription")
            .field("consumer", &self.group.config.name)
            .finish()
    }
}

impl Subscription for InProcessSubscription {
    type Delivery = InProcessDelivery;

    async fn next(&mut self) -> Result<Option<InProcessDelivery>, BusError> {
        loop {
            // The common case, a message waiting, needs no wake-up registration.
            if self.bus.closed.load(Ordering::SeqCst) {
                return Ok(None);
            }
            if let Some(delivery) = self.group.take() {
                return Ok(Some(delivery));
            }
            let notified = self.group.notify.notified();
            tokio::pin!(notified);
            // Registered before looking, so a publish between the look and the wait still
            // wakes us.
            notified.as_mut().enable();
            if self.bus.closed.load(Ordering::SeqCst) {
                return Ok(None);
            }
            if let Some(delivery) = self.group.take() {
                return Ok(Some(delivery));
            }
            match self.group.next_deadline() {
                Some(deadline) => {
                    let _ = tokio::time::timeout_at(deadline, notified).await;
                }
                None => notified.await,
            }
        }
    }
}

/// A message delivered by the [`InProcessBus`].
pub struct InProcessDelivery {
    group: Arc<Group>,
    tag: u64,
    message: Published,
    attempt: u32,
    settled: bool,
}

impl fmt::Debug for InProcessDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InProcessDelivery")
            .field("consumer", &self.group.config.name)
            .field("subject", &self.message.subject)
            .field("event_id", &self.message.envelope.event_id)
            .field("attempt", &self.attempt)
            .finish()
    }
}

impl InProcessDelivery {
    fn fail(&mut self, reason: &str, give_up: bool) {
        self.settled = true;
        let Some(in_flight) = self.group.settle(self.tag) else {
            return;
        };
        let exhausted = if give_up {
            Some(in_flight)
        } else {
            self.group.retry(&mut lock(&self.group.state), in_flight)
        };
        if let Some(in_flight) = exhausted {
            self.group
                .dead_letter(&in_flight.message, in_flight.attempt, reason);
        }
    }
}

impl Delivery for InProcessDelivery {
    fn message(&self) -> &Message {
        &self.message
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    async fn ack(mut self) -> Result<(), BusError> {
        self.settled = true;
        self.group.settle(self.tag);
        Ok(())
    }

    async fn nack(mut self, reason: &str) -> Result<(), BusError> {
        self.fail(reason, false);
        Ok(())
    }

    async fn dead_letter(mut self, reason: &str) -> Result<(), BusError> {
        self.fail(reason, true);
        Ok(())
    }
}

impl Drop for InProcessDelivery {
    fn drop(&mut self) {
        if !self.settled {
            self.fail("delivery dropped without acknowledgement", false);
        }
    }
}
