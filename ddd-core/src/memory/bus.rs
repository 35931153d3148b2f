//! The in-process bus: the modular monolith's broker, with the same semantics as the real
//! ones (durable named consumers, competing consumers, redelivery, dead letters).

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

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
}

#[derive(Default)]
struct GroupState {
    ready: VecDeque<Pending>,
    in_flight: HashMap<u64, InFlight>,
    /// Ack deadlines in the order deliveries were handed out; all share one ack wait, so
    /// this is also deadline order.
    deadlines: VecDeque<(Instant, u64)>,
    next_tag: u64,
}

struct Pending {
    message: Arc<Message>,
    /// Deliveries so far.
    attempts: u32,
}

struct InFlight {
    message: Arc<Message>,
    attempt: u32,
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
            state.ready.len() + state.in_flight.len()
        })
    }
}

impl BusInner {
    fn publish_now(&self, messages: Vec<Message>) -> Result<(), BusError> {
        if self.closed.load(Ordering::SeqCst) {
            return Err(BusError::Closed);
        }
        let groups: Vec<Arc<Group>> = lock(&self.groups).values().cloned().collect();
        let messages: Vec<Arc<Message>> = messages.into_iter().map(Arc::new).collect();
        // One lock and one wake-up per consumer per batch, not per message.
        for group in &groups {
            let mut wanted = messages
                .iter()
                .filter(|message| group.config.wants(&message.subject))
                .peekable();
            if wanted.peek().is_none() {
                continue;
            }
            lock(&group.state)
                .ready
                .extend(wanted.map(|message| Pending {
                    message: Arc::clone(message),
                    attempts: 0,
                }));
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

    fn group(&self, config: ConsumerConfig) -> Result<Arc<Group>, BusError> {
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
        });
        groups.insert(group.config.name.clone(), Arc::clone(&group));
        Ok(group)
    }
}

impl Group {
    /// Hands out the next ready message, after taking back deliveries whose ack wait ran out.
    fn take(self: &Arc<Self>, bus: &Arc<BusInner>) -> Option<InProcessDelivery> {
        let mut state = lock(&self.state);
        let now = Instant::now();
        let exhausted = self.expire(&mut state, now);
        let delivery = state.ready.pop_front().map(|pending| {
            let tag = state.next_tag;
            state.next_tag += 1;
            let attempt = pending.attempts + 1;
            let message = Arc::clone(&pending.message);
            state.in_flight.insert(tag, InFlight { message, attempt });
            state.deadlines.push_back((now + self.config.ack_wait, tag));
            InProcessDelivery {
                group: Arc::clone(self),
                bus: Arc::clone(bus),
                tag,
                message: pending.message,
                attempt,
                settled: false,
            }
        });
        drop(state);
        for in_flight in exhausted {
            bus.dead_letter(
                &self.config.name,
                &in_flight.message,
                in_flight.attempt,
                ACK_WAIT_EXPIRED,
            );
        }
        delivery
    }

    /// Takes back deliveries whose ack wait ran out; returns those that used up their attempts
    /// and must be dead-lettered once the lock is released.
    fn expire(&self, state: &mut GroupState, now: Instant) -> Vec<InFlight> {
        let mut exhausted = Vec::new();
        while let Some(&(deadline, tag)) = state.deadlines.front() {
            if deadline > now {
                break;
            }
            state.deadlines.pop_front();
            if let Some(in_flight) = state.in_flight.remove(&tag) {
                exhausted.extend(self.retry(state, in_flight));
            }
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
            .deadlines
            .front()
            .map(|(deadline, _)| *deadline)
    }

    /// Settles a delivery; `None` when its ack wait ran out and it was taken back already.
    fn settle(&self, tag: u64) -> Option<InFlight> {
        let mut state = lock(&self.state);
        let in_flight = state.in_flight.remove(&tag)?;
        state.deadlines.retain(|(_, t)| *t != tag);
        Some(in_flight)
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
            if let Some(delivery) = self.group.take(&self.bus) {
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
            if let Some(delivery) = self.group.take(&self.bus) {
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
    bus: Arc<BusInner>,
    tag: u64,
    message: Arc<Message>,
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
        // Published with no lock held: the dead-letter subject may match this very consumer.
        if let Some(in_flight) = exhausted {
            self.bus.dead_letter(
                &self.group.config.name,
                &in_flight.message,
                in_flight.attempt,
                reason,
            );
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
