//! Subscribing: a group member per subscription, polled by a thread of its own; per
//! partition one delivery in flight, settled by committing offsets.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::{Duration, Instant};

use ddd_core::{
    BusError, ConsumerConfig, Delivery, Message, RawEnvelope, Redelivery, Subscription,
};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance};
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::{ClientContext, Message as _, Offset, TopicPartitionList};
use tokio::sync::Notify;

use crate::config::millis;
use crate::publish::header;
use crate::{Shared, error, publish, system_of};

/// The reason given when a delivery comes back after its last attempt ran out of ack wait.
const ACK_WAIT_EXPIRED: &str = "not acknowledged within the ack wait";
/// Offset metadata recording how often the message at the committed offset was delivered.
const ATTEMPTS: &str = "ddd.attempts=";
/// How long one poll of the consumer waits for a message.
const POLL: Duration = Duration::from_millis(50);
/// The pause before a commit refused during a rebalance is tried again.
const REBALANCE_RETRY: Duration = Duration::from_millis(50);
/// How long a lookup of committed offsets may take.
const LOOKUP: Duration = Duration::from_secs(5);

type Tp = (String, i32);
type KafkaConsumer = BaseConsumer<Member>;

/// A fetched message, kept until it is settled.
#[derive(Clone)]
struct Record {
    offset: i64,
    payload: Option<Vec<u8>>,
    headers: Vec<(String, Vec<u8>)>,
}

impl Record {
    fn new(message: &BorrowedMessage<'_>) -> Self {
        let headers = message.headers().map_or_else(Vec::new, |headers| {
            headers
                .iter()
                .map(|h| {
                    (
                        h.key.to_owned(),
                        h.value.map(<[u8]>::to_vec).unwrap_or_default(),
                    )
                })
                .collect()
        });
        Self {
            offset: message.offset(),
            payload: message.payload().map(<[u8]>::to_vec),
            headers,
        }
    }

    fn header(&self, name: &str) -> Option<String> {
        self.headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| String::from_utf8_lossy(value).into_owned())
    }
}

/// How often the message at the committed offset was delivered, per the offset metadata.
#[derive(Clone, Copy)]
struct Prior {
    offset: i64,
    attempts: u32,
}

struct InFlight {
    token: u64,
    attempt: u32,
    deadline: Instant,
}

#[derive(Default)]
struct Partition {
    records: VecDeque<Record>,
    /// `None` until the committed offset's metadata was read.
    prior: Option<Prior>,
    in_flight: Option<InFlight>,
    paused: bool,
}

#[derive(Default)]
struct State {
    partitions: HashMap<Tp, Partition>,
    assigned: bool,
    stopped: bool,
    rotation: usize,
    next_token: u64,
}

/// What the polling thread, the subscription and its deliveries share.
struct Group {
    name: String,
    state: Mutex<State>,
    notify: Notify,
}

impl Group {
    fn lock(&self) -> MutexGuard<'_, State> {
        // Nothing panics while the lock is held; a poisoned state is still consistent.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The consumer's context: rebalances replace the partitions the member serves.
struct Member {
    group: Arc<Group>,
}

impl ClientContext for Member {}

impl ConsumerContext for Member {
    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let mut state = self.group.lock();
        match rebalance {
            // Eager protocol: an assignment is the member's whole set of partitions.
            Rebalance::Assign(assigned) => {
                state.partitions = assigned
                    .elements()
                    .iter()
                    .map(|e| ((e.topic().to_owned(), e.partition()), Partition::default()))
                    .collect();
                state.assigned = true;
                // librdkafka keeps a partition paused through a rebalance that gives it back
                // (confluentinc/librdkafka#1849), while the fresh state above says it runs
                // with an empty buffer: it would never be read again.
                if let Err(e) = consumer.resume(assigned) {
                    tracing::warn!(consumer = %self.group.name, error = %e, "resume the assigned partitions");
                }
            }
            // Deliveries in flight become stale: the next owner delivers them again.
            Rebalance::Revoke(_) => state.partitions.clear(),
            Rebalance::Error(e) => {
                tracing::warn!(consumer = %self.group.name, error = %e, "rebalance failed");
            }
        }
        drop(state);
        self.group.notify.notify_waiters();
    }
}

/// One member of a durable consumer (a group member). Dropping it leaves the group; the
/// partitions it served go to the other members, which deliver its unacknowledged
/// messages again.
pub struct KafkaSubscription {
    shared: Arc<Shared>,
    config: ConsumerConfig,
    group: Arc<Group>,
    consumer: Weak<KafkaConsumer>,
}

impl fmt::Debug for KafkaSubscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaSubscription")
            .field("consumer", &self.config.name)
            .field("subjects", &self.config.subjects)
            .finish_non_exhaustive()
    }
}

impl KafkaSubscription {
    pub(crate) async fn open(
        shared: Arc<Shared>,
        config: ConsumerConfig,
    ) -> Result<Self, BusError> {
        config.check()?;
        let topics = topics_of(&shared, &config).await?;
        let settings = consumer_settings(&shared, &config.name);
        let start = settings.clone();
        let (group_id, at) = (config.name.clone(), topics.clone());
        tokio::task::spawn_blocking(move || start_at_the_end(&start, &group_id, &at))
            .await
            .map_err(|e| BusError::Unavailable(format!("offset task: {e}")))??;

        let group = Arc::new(Group {
            name: config.name.clone(),
            state: Mutex::new(State::default()),
            notify: Notify::new(),
        });
        let member = Member {
            group: Arc::clone(&group),
        };
        let consumer: Arc<KafkaConsumer> = Arc::new(
            settings
                .create_with_context(member)
                .map_err(|e| error::config("create the consumer", &e))?,
        );
        let names: Vec<&str> = topics.iter().map(String::as_str).collect();
        consumer
            .subscribe(&names)
            .map_err(|e| error::kafka("subscribe", &e))?;
        let weak = Arc::downgrade(&consumer);
        let (polled, prefetch) = (Arc::clone(&group), shared.config.prefetch);
        std::thread::Builder::new()
            .name(format!("ddd-kafka-{}", config.name))
            .spawn(move || poll_loop(&consumer, &polled, prefetch))
            .map_err(|e| BusError::Unavailable(format!("polling thread: {e}")))?;
        let subscription = Self {
            shared,
            config,
            group,
            consumer: weak,
        };
        subscription.joined().await?;
        Ok(subscription)
    }

    /// Waits until the group assigned partitions to this member, so that what is published
    /// after `subscribe` returns is shared with it.
    async fn joined(&self) -> Result<(), BusError> {
        let limit = self.shared.config.join_timeout;
        let deadline = tokio::time::Instant::now() + limit;
        loop {
            let notified = self.group.notify.notified();
            tokio::pin!(notified);
            notified.as_mut().enable();
            if self.group.lock().assigned {
                return Ok(());
            }
            if tokio::time::timeout_at(deadline, notified).await.is_err() {
                return Err(BusError::Unavailable(format!(
                    "consumer `{}` got no partitions within {limit:?}",
                    self.config.name
                )));
            }
        }
    }

    /// Hands out the head of a partition that has none in flight, after taking back
    /// deliveries whose ack wait ran out. Partitions take turns.
    fn take(&self) -> Option<(Tp, Record, u32, u64)> {
        let mut state = self.group.lock();
        let now = Instant::now();
        for partition in state.partitions.values_mut() {
            expire(partition, now);
        }
        let tp = next_ready(&mut state)?;
        let token = state.next_token;
        state.next_token += 1;
        let deadline = now + self.config.ack_wait;
        let partition = state.partitions.get_mut(&tp)?;
        let record = partition.records.front()?.clone();
        let attempt = match partition.prior {
            Some(prior) if prior.offset == record.offset => prior.attempts.saturating_add(1),
            _ => 1,
        };
        partition.in_flight = Some(InFlight {
            token,
            attempt,
            deadline,
        });
        Some((tp, record, attempt, token))
    }

    fn next_deadline(&self) -> Option<Instant> {
        self.group
            .lock()
            .partitions
            .values()
            .filter_map(|p| p.in_flight.as_ref().map(|f| f.deadline))
            .min()
    }

    /// Turns a handed-out record into a delivery, or settles it here when the consumer must
    /// not see it (filtered out, undecodable, out of attempts).
    async fn accept(
        &self,
        tp: Tp,
        record: Record,
        attempt: u32,
        token: u64,
    ) -> Option<KafkaDelivery> {
        let settle = Settle {
            group: Arc::clone(&self.group),
            consumer: self.consumer.clone(),
            tp,
            offset: record.offset,
            token,
        };
        let subject = record.header(header::SUBJECT).unwrap_or_default();
        let decoded = record
            .payload
            .as_deref()
            .ok_or_else(|| "the record has no value".to_owned())
            .and_then(|p| serde_json::from_slice::<RawEnvelope>(p).map_err(|e| e.to_string()));
        let envelope = match decoded {
            Ok(envelope) if !subject.is_empty() => envelope,
            Ok(_) => {
                self.reject(
                    settle,
                    &record,
                    &subject,
                    attempt,
                    "the record has no `ddd-subject` header",
                )
                .await;
                return None;
            }
            Err(e) => {
                self.reject(settle, &record, &subject, attempt, &e).await;
                return None;
            }
        };
        if !self.config.wants(&subject) {
            settle.advance();
            return None;
        }
        let delivery = KafkaDelivery {
            shared: Arc::clone(&self.shared),
            consumer: self.config.name.clone(),
            max_deliver: self.config.max_deliver,
            message: Message::new(subject, envelope),
            attempt,
            settle,
        };
        let delivery = delivery.admit(ACK_WAIT_EXPIRED).await?;
        delivery.settle.record_attempt(attempt);
        Some(delivery)
    }

    async fn reject(
        &self,
        settle: Settle,
        record: &Record,
        subject: &str,
        attempt: u32,
        error: &str,
    ) {
        let event_id = record
            .header(header::EVENT_ID)
            .and_then(|id| id.parse().ok());
        let subject = if subject.is_empty() {
            &settle.tp.0
        } else {
            subject
        };
        let letter = Message::undecodable(
            &self.config.name,
            subject,
            record.payload.as_deref().unwrap_or_default(),
            event_id,
            attempt,
            &format!("does not decode: {error}"),
        );
        match publish::publish(&self.shared, &[letter]).await {
            Ok(()) => settle.advance(),
            Err(e) => {
                tracing::warn!(consumer = %self.config.name, error = %e, "cannot dead-letter an undecodable record; it comes back");
                settle.retry();
            }
        }
    }
}

impl Subscription for KafkaSubscription {
    type Delivery = KafkaDelivery;

    /// The next delivery. Broker outages are waited out (librdkafka reconnects), so this
    /// only returns once there is a message.
    async fn next(&mut self) -> Result<Option<KafkaDelivery>, BusError> {
        loop {
            let notified = self.group.notify.notified();
            tokio::pin!(notified);
            // Registered before looking, so a message arriving in between still wakes us.
            notified.as_mut().enable();
            if let Some((tp, record, attempt, token)) = self.take() {
                if let Some(delivery) = self.accept(tp, record, attempt, token).await {
                    return Ok(Some(delivery));
                }
                continue;
            }
            match self.next_deadline() {
                Some(deadline) => {
                    let _ = tokio::time::timeout_at(deadline.into(), notified).await;
                }
                None => notified.await,
            }
        }
    }
}

impl Drop for KafkaSubscription {
    fn drop(&mut self) {
        // The polling thread sees it, leaves the group and closes the consumer.
        self.group.lock().stopped = true;
    }
}

/// The next partition, in turn, whose head can be handed out: none in flight, its prior
/// attempts known, a record buffered.
fn next_ready(state: &mut State) -> Option<Tp> {
    let mut ready: Vec<&Tp> = state
        .partitions
        .iter()
        .filter(|(_, p)| p.in_flight.is_none() && p.prior.is_some() && !p.records.is_empty())
        .map(|(tp, _)| tp)
        .collect();
    if ready.is_empty() {
        return None;
    }
    ready.sort();
    let turn = state.rotation % ready.len();
    let tp = ready[turn].clone();
    state.rotation = state.rotation.wrapping_add(1);
    Some(tp)
}

/// Takes back a delivery whose ack wait ran out: its attempt counts as failed.
fn expire(partition: &mut Partition, now: Instant) {
    let expired = partition
        .in_flight
        .as_ref()
        .is_some_and(|f| f.deadline <= now);
    if expired
        && let (Some(in_flight), Some(head)) =
            (partition.in_flight.take(), partition.records.front())
    {
        partition.prior = Some(Prior {
            offset: head.offset,
            attempts: in_flight.attempt,
        });
    }
}

/// The topics a consumer reads, created if needed: one per system its filters name.
async fn topics_of(shared: &Shared, config: &ConsumerConfig) -> Result<Vec<String>, BusError> {
    let mut systems = BTreeSet::new();
    for filter in &config.subjects {
        let system = system_of(filter);
        if system == "*" || system == ">" {
            return Err(BusError::InvalidConsumer(format!(
                "filter `{filter}` of consumer `{}` must start with a system name: topics \
                 are per system",
                config.name
            )));
        }
        systems.insert(system);
    }
    let mut topics = Vec::new();
    for system in systems {
        topics.push(shared.topic(system).await?);
    }
    Ok(topics)
}

fn consumer_settings(shared: &Shared, group: &str) -> rdkafka::ClientConfig {
    let config = &shared.config;
    let mut settings = config.client();
    let heartbeat = (config.session_timeout / 3).max(Duration::from_millis(100));
    settings
        .set("group.id", group)
        .set("client.id", format!("ddd-{group}"))
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", millis(config.session_timeout))
        .set("heartbeat.interval.ms", millis(heartbeat))
        .set("partition.assignment.strategy", "roundrobin")
        .set("fetch.wait.max.ms", "100");
    settings
}

/// A new group starts at the end of its topics: commits the high watermark of every
/// partition that has no committed offset yet, before the group is joined.
fn start_at_the_end(
    settings: &rdkafka::ClientConfig,
    group: &str,
    topics: &[String],
) -> Result<(), BusError> {
    let probe: BaseConsumer = settings
        .create()
        .map_err(|e| error::config("create the consumer", &e))?;
    let mut all = TopicPartitionList::new();
    for topic in topics {
        let metadata = probe
            .fetch_metadata(Some(topic), LOOKUP)
            .map_err(|e| error::kafka("topic metadata", &e))?;
        for partition in metadata.topics().iter().flat_map(|t| t.partitions()) {
            all.add_partition(topic, partition.id());
        }
    }
    let committed = probe
        .committed_offsets(all, LOOKUP)
        .map_err(|e| error::kafka("committed offsets", &e))?;
    let mut start = TopicPartitionList::new();
    for element in committed.elements() {
        if element.offset() != Offset::Invalid {
            continue;
        }
        let (_, high) = probe
            .fetch_watermarks(element.topic(), element.partition(), LOOKUP)
            .map_err(|e| error::kafka("watermarks", &e))?;
        start
            .add_partition_offset(element.topic(), element.partition(), Offset::Offset(high))
            .map_err(|e| error::kafka("offsets", &e))?;
    }
    if start.count() > 0 {
        // Members of the group that joined meanwhile committed their own: theirs stand.
        if let Err(e) = probe.commit(&start, CommitMode::Sync) {
            tracing::debug!(%group, error = %e, "initial offsets not committed");
        }
    }
    Ok(())
}

/// The polling thread of one member: fetches into the partitions' buffers, pauses
/// partitions that are far ahead, reads the committed offsets of new partitions, and runs
/// the rebalance callbacks (inside `poll`).
fn poll_loop(consumer: &Arc<KafkaConsumer>, group: &Arc<Group>, prefetch: usize) {
    while !group.lock().stopped {
        match consumer.poll(POLL) {
            Some(Ok(message)) => receive(group, &message),
            Some(Err(e)) => tracing::debug!(consumer = %group.name, error = %e, "poll"),
            None => {}
        }
        load_priors(consumer, group);
        flow_control(consumer, group, prefetch);
    }
    consumer.unsubscribe();
}

fn receive(group: &Group, message: &BorrowedMessage<'_>) {
    let tp = (message.topic().to_owned(), message.partition());
    let mut state = group.lock();
    // A message of a partition revoked meanwhile is the next owner's.
    if let Some(partition) = state.partitions.get_mut(&tp) {
        partition.records.push_back(Record::new(message));
        drop(state);
        group.notify.notify_waiters();
    }
}

/// Reads, for partitions just assigned, how often the message at the committed offset was
/// delivered before.
fn load_priors(consumer: &KafkaConsumer, group: &Group) {
    let mut unknown = TopicPartitionList::new();
    for (topic, partition) in group
        .lock()
        .partitions
        .iter()
        .filter(|(_, p)| p.prior.is_none())
        .map(|(tp, _)| tp)
    {
        unknown.add_partition(topic, *partition);
    }
    if unknown.count() == 0 {
        return;
    }
    let committed = match consumer.committed_offsets(unknown, LOOKUP) {
        Ok(committed) => committed,
        Err(e) => {
            tracing::debug!(consumer = %group.name, error = %e, "committed offsets not read yet");
            return;
        }
    };
    let mut state = group.lock();
    for element in committed.elements() {
        let tp = (element.topic().to_owned(), element.partition());
        if let Some(partition) = state.partitions.get_mut(&tp) {
            let attempts = element
                .metadata()
                .strip_prefix(ATTEMPTS)
                .and_then(|n| n.parse().ok())
                .unwrap_or(0);
            let offset = match element.offset() {
                Offset::Offset(offset) => offset,
                _ => -1,
            };
            partition.prior = Some(Prior { offset, attempts });
        }
    }
    drop(state);
    group.notify.notify_waiters();
}

/// Pauses partitions whose buffer holds `prefetch` messages; resumes them at half.
fn flow_control(consumer: &KafkaConsumer, group: &Group, prefetch: usize) {
    let (mut pause, mut resume) = (TopicPartitionList::new(), TopicPartitionList::new());
    {
        let mut state = group.lock();
        for ((topic, number), partition) in &mut state.partitions {
            let buffered = partition.records.len();
            if !partition.paused && buffered >= prefetch {
                partition.paused = true;
                pause.add_partition(topic, *number);
            } else if partition.paused && buffered <= prefetch / 2 {
                partition.paused = false;
                resume.add_partition(topic, *number);
            }
        }
    }
    if pause.count() > 0
        && let Err(e) = consumer.pause(&pause)
    {
        tracing::debug!(consumer = %group.name, error = %e, "pause");
    }
    if resume.count() > 0
        && let Err(e) = consumer.resume(&resume)
    {
        tracing::debug!(consumer = %group.name, error = %e, "resume");
    }
}

/// Settles one handed-out record: commits offsets and moves its partition on.
struct Settle {
    group: Arc<Group>,
    consumer: Weak<KafkaConsumer>,
    tp: Tp,
    offset: i64,
    token: u64,
}

impl Settle {
    /// Whether this is still the partition's delivery in flight (not expired, not revoked).
    fn current(&self) -> bool {
        self.group
            .lock()
            .partitions
            .get(&self.tp)
            .and_then(|p| p.in_flight.as_ref())
            .is_some_and(|f| f.token == self.token)
    }

    fn offsets(&self, offset: i64, metadata: &str) -> Result<TopicPartitionList, BusError> {
        let mut offsets = TopicPartitionList::new();
        offsets
            .add_partition_offset(&self.tp.0, self.tp.1, Offset::Offset(offset))
            .map_err(|e| error::kafka("offsets", &e))?;
        if let Some(mut element) = offsets.find_partition(&self.tp.0, self.tp.1) {
            element.set_metadata(metadata);
        }
        Ok(offsets)
    }

    /// Records, in the committed offset's metadata, that the record is being delivered for
    /// the `attempt`-th time; asynchronous, since losing it only undercounts attempts.
    fn record_attempt(&self, attempt: u32) {
        let Some(consumer) = self.consumer.upgrade() else {
            return;
        };
        match self.offsets(self.offset, &format!("{ATTEMPTS}{attempt}")) {
            Ok(offsets) => {
                if let Err(e) = consumer.commit(&offsets, CommitMode::Async) {
                    tracing::debug!(consumer = %self.group.name, error = %e, "attempt not recorded");
                }
            }
            Err(e) => tracing::debug!(error = %e, "attempt not recorded"),
        }
    }

    /// Commits past the record (synchronously) and moves on to the next one. A commit
    /// refused because the group is rebalancing is tried again once the rebalance is over,
    /// unless the rebalance took the partition away: then the delivery is stale, its new
    /// owner delivers it again, and the ack has nothing left to do (as for any delivery
    /// taken back).
    async fn commit(self, timeout: Duration) -> Result<(), BusError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if !self.current() {
                // Taken back (ack wait) or revoked: it is, or will be, delivered again.
                return Ok(());
            }
            match self.commit_once(deadline, timeout).await? {
                Ok(()) => {
                    self.finish();
                    return Ok(());
                }
                Err(e) if rebalancing(&e) && tokio::time::Instant::now() < deadline => {
                    tracing::debug!(consumer = %self.group.name, error = %e, "commit during a rebalance; trying again");
                    tokio::time::sleep(REBALANCE_RETRY).await;
                }
                Err(e) => return Err(error::kafka("commit", &e)),
            }
        }
    }

    /// One synchronous commit past the record: the outer error is the bus's (timeout, the
    /// subscription gone), the inner one Kafka's answer.
    async fn commit_once(
        &self,
        deadline: tokio::time::Instant,
        timeout: Duration,
    ) -> Result<Result<(), rdkafka::error::KafkaError>, BusError> {
        let consumer = self
            .consumer
            .upgrade()
            .ok_or_else(|| BusError::Unavailable("the subscription was dropped".to_owned()))?;
        let offsets = self.offsets(self.offset + 1, "")?;
        tokio::time::timeout_at(
            deadline,
            tokio::task::spawn_blocking(move || consumer.commit(&offsets, CommitMode::Sync)),
        )
        .await
        .map_err(|_| BusError::Timeout(timeout))?
        .map_err(|e| BusError::Unavailable(format!("commit task: {e}")))
    }

    /// Moves on without waiting for the commit (the record needs no handling).
    fn advance(self) {
        if let (Some(consumer), Ok(offsets)) =
            (self.consumer.upgrade(), self.offsets(self.offset + 1, ""))
            && let Err(e) = consumer.commit(&offsets, CommitMode::Async)
        {
            tracing::debug!(consumer = %self.group.name, error = %e, "skip not committed");
        }
        self.finish();
    }

    fn finish(&self) {
        let mut state = self.group.lock();
        if let Some(partition) = state.partitions.get_mut(&self.tp)
            && partition
                .in_flight
                .as_ref()
                .is_some_and(|f| f.token == self.token)
        {
            partition.in_flight = None;
            partition.records.pop_front();
        }
        drop(state);
        self.group.notify.notify_waiters();
    }

    /// Hands the same record out again, counting this attempt as failed.
    fn retry(self) {
        let mut state = self.group.lock();
        if let Some(partition) = state.partitions.get_mut(&self.tp)
            && let Some(in_flight) = partition.in_flight.take_if(|f| f.token == self.token)
        {
            partition.prior = Some(Prior {
                offset: self.offset,
                attempts: in_flight.attempt,
            });
        }
        drop(state);
        self.group.notify.notify_waiters();
    }
}

/// A message delivered by a [`KafkaSubscription`]. Dropping it unsettled hands it out
/// again after the ack wait; its partition waits until then.
pub struct KafkaDelivery {
    shared: Arc<Shared>,
    consumer: String,
    max_deliver: u32,
    message: Message,
    attempt: u32,
    settle: Settle,
}

impl fmt::Debug for KafkaDelivery {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KafkaDelivery")
            .field("consumer", &self.consumer)
            .field("partition", &self.settle.tp)
            .field("offset", &self.settle.offset)
            .field("event_id", &self.message.envelope.event_id)
            .field("attempt", &self.attempt)
            .finish()
    }
}

impl Delivery for KafkaDelivery {
    fn message(&self) -> &Message {
        &self.message
    }

    fn attempt(&self) -> u32 {
        self.attempt
    }

    async fn ack(self) -> Result<(), BusError> {
        self.settle.commit(self.shared.config.publish_timeout).await
    }

    async fn nack(self, reason: &str) -> Result<(), BusError> {
        self.nack_or_dead_letter(reason).await
    }

    async fn dead_letter(self, reason: &str) -> Result<(), BusError> {
        self.dead_letter_now(reason).await
    }
}

impl Redelivery for KafkaDelivery {
    fn consumer(&self) -> &str {
        &self.consumer
    }

    fn max_deliver(&self) -> u32 {
        self.max_deliver
    }

    async fn redeliver(self) -> Result<(), BusError> {
        self.settle.retry();
        Ok(())
    }

    /// Produces the dead letter, then commits past the record.
    async fn park(self, letter: Message) -> Result<(), BusError> {
        publish::publish(&self.shared, &[letter]).await?;
        self.settle.commit(self.shared.config.publish_timeout).await
    }
}

/// Whether a commit was refused because the group is rebalancing (or had just rebalanced,
/// so the member's generation is out of date): it succeeds once the member rejoined, if the
/// partition is still its own.
fn rebalancing(error: &rdkafka::error::KafkaError) -> bool {
    use rdkafka::types::RDKafkaErrorCode::{
        IllegalGeneration, RebalanceInProgress, UnknownMemberId,
    };
    matches!(
        error.rdkafka_error_code(),
        Some(RebalanceInProgress | IllegalGeneration | UnknownMemberId)
    )
}

#[cfg(test)]
mod tests {
    use rdkafka::error::KafkaError;
    use rdkafka::types::RDKafkaErrorCode;

    #[test]
    fn commits_refused_by_a_rebalance_are_tried_again_and_others_are_not() {
        for code in [
            RDKafkaErrorCode::RebalanceInProgress,
            RDKafkaErrorCode::IllegalGeneration,
            RDKafkaErrorCode::UnknownMemberId,
        ] {
            assert!(
                super::rebalancing(&KafkaError::ConsumerCommit(code)),
                "{code:?}"
            );
        }
        for code in [
            RDKafkaErrorCode::OffsetOutOfRange,
            RDKafkaErrorCode::GroupAuthorizationFailed,
            RDKafkaErrorCode::RequestTimedOut,
        ] {
            assert!(
                !super::rebalancing(&KafkaError::ConsumerCommit(code)),
                "{code:?}"
            );
        }
    }
}
