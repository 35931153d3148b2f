//! Ack confirmations awaited off the consumer's path.
//!
//! A confirmed ack (`+ACK` sent with a reply subject, answered by the server once it recorded
//! the ack) costs a round trip; awaiting it inside `Delivery::ack` makes a consumer take one
//! message per round trip. Here `ack` registers the ack, sends it and returns; a task per
//! subscription collects the server's answers on one wildcard inbox, and an ack made while
//! the window is full waits for the oldest answer, so at most a window of acks is unconfirmed.
//!
//! An ack whose answer does not come within the request timeout is counted and logged, and
//! [`NatsSubscription::flush_acks`](crate::NatsSubscription::flush_acks) reports it. It is
//! not reported by a later `ack`: that would say a delivery "comes again" when its own ack
//! was recorded. Either the server recorded the unconfirmed ack (nothing comes again) or it
//! did not, and then it delivers the message again after the ack wait, which a consumer
//! with an inbox drops as a duplicate: at-least-once holds in both cases.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use async_nats::jetstream::message::AckKind;
use async_nats::{Subject, Subscriber};
use ddd_core::BusError;
use futures_util::StreamExt;
use tokio::sync::{Notify, OwnedSemaphorePermit, Semaphore, oneshot};
use tokio::time::Instant;

use crate::{Shared, error};

/// The confirmations of one subscription's acks.
pub(crate) struct Acks {
    client: async_nats::Client,
    /// The server answers the ack numbered `n` on `<inbox>.<n>`.
    inbox: String,
    next_id: AtomicU64,
    window: Arc<Semaphore>,
    size: u32,
    waiting: Arc<Waiting>,
    /// Dropped with the subscription and its deliveries, which tells the task to finish.
    _alive: oneshot::Sender<()>,
    timeout: Duration,
}

/// What the acks and the collecting task share.
#[derive(Default)]
struct Waiting {
    /// Acks sent and not confirmed, by number: also the order of their deadlines.
    acks: Mutex<Awaiting>,
    /// Wakes the task to time an ack when it had none to time.
    first: Notify,
    /// Acks not confirmed in time since the last flush.
    unconfirmed: AtomicU64,
}

#[derive(Default)]
struct Awaiting {
    by_id: BTreeMap<u64, Awaited>,
    /// The task ended with the client: nothing collects answers any more.
    closed: bool,
}

/// An ack sent and not yet confirmed; it holds a place in the window until dropped.
struct Awaited {
    deadline: Instant,
    /// The ack subject of the message (`$JS.ACK.<stream>.<consumer>...`), for the log.
    ack: Subject,
    _place: OwnedSemaphorePermit,
}

impl Waiting {
    fn acks(&self) -> MutexGuard<'_, Awaiting> {
        // Nothing panics while it is held; a poisoned map is still consistent.
        self.acks.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl Acks {
    /// Subscribes to the answers and starts the task that collects them.
    pub(crate) async fn start(
        shared: &Shared,
        consumer: &str,
        window: usize,
    ) -> Result<Self, BusError> {
        let client = shared.client.clone();
        let inbox = client.new_inbox();
        let answers = client
            .subscribe(Subject::from(format!("{inbox}.*")))
            .await
            .map_err(|e| error::unavailable("subscribe to ack confirmations", e))?;
        let size = u32::try_from(window).unwrap_or(u32::MAX);
        let timeout = shared.config.request_timeout;
        let waiting = Arc::new(Waiting::default());
        let (alive, gone) = oneshot::channel();
        tokio::spawn(collect(
            answers,
            Arc::clone(&waiting),
            gone,
            timeout,
            consumer.to_owned(),
        ));
        Ok(Self {
            client,
            inbox,
            next_id: AtomicU64::new(0),
            window: Arc::new(Semaphore::new(size as usize)),
            size,
            waiting,
            _alive: alive,
            timeout,
        })
    }

    /// Sends `+ACK` for `raw` and returns; its confirmation is awaited in the background.
    pub(crate) async fn ack(&self, raw: &async_nats::jetstream::Message) -> Result<(), BusError> {
        let Some(ack) = raw.reply.clone() else {
            return Err(BusError::Rejected(
                "a message without an ack subject cannot be acknowledged".to_owned(),
            ));
        };
        let place = Arc::clone(&self.window)
            .acquire_owned()
            .await
            .map_err(|e| error::unavailable("ack window", e))?;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        // Registered before it is sent, so its answer cannot come first.
        let awaited = Awaited {
            deadline: Instant::now() + self.timeout,
            ack: ack.clone(),
            _place: place,
        };
        let first = {
            let mut acks = self.waiting.acks();
            if acks.closed {
                None
            } else {
                acks.by_id.insert(id, awaited);
                Some(acks.by_id.len() == 1)
            }
        };
        let Some(first) = first else {
            // Nothing collects answers: confirm this one in place (it fails as the client
            // is closed, which is the error to give).
            return raw.double_ack().await.map_err(|e| error::settle("ack", &e));
        };
        if first {
            self.waiting.first.notify_one();
        }
        self.client
            .publish_with_reply(
                ack,
                Subject::from(format!("{}.{id}", self.inbox)),
                AckKind::Ack.into(),
            )
            .await
            .map_err(|e| error::unavailable("ack not sent", e))
    }

    /// Waits until every ack sent so far is confirmed or timed out; fails when some were
    /// not confirmed since the last flush.
    pub(crate) async fn flush(&self) -> Result<(), BusError> {
        let all = self
            .window
            .acquire_many(self.size)
            .await
            .map_err(|e| error::unavailable("ack window", e))?;
        drop(all);
        match self.waiting.unconfirmed.swap(0, Ordering::Relaxed) {
            0 => Ok(()),
            missed => Err(BusError::Unavailable(format!(
                "{missed} ack(s) not confirmed within {:?}; their messages may be delivered \
                 again",
                self.timeout
            ))),
        }
    }
}

/// Collects the answers until the subscription and its deliveries are gone and nothing is
/// awaited any more, or the client closed.
async fn collect(
    answers: Subscriber,
    waiting: Arc<Waiting>,
    gone: oneshot::Receiver<()>,
    timeout: Duration,
    consumer: String,
) {
    collect_until_done(answers, &waiting, gone, timeout, &consumer).await;
    // Places in the window are given back, and later acks confirm themselves.
    let abandoned = {
        let mut acks = waiting.acks();
        acks.closed = true;
        std::mem::take(&mut acks.by_id)
    };
    drop(abandoned);
}

async fn collect_until_done(
    mut answers: Subscriber,
    waiting: &Waiting,
    mut gone: oneshot::Receiver<()>,
    timeout: Duration,
    consumer: &str,
) {
    let timer = tokio::time::sleep(timeout);
    tokio::pin!(timer);
    let mut armed = false;
    let mut open = true;
    loop {
        // Armed for the oldest deadline when there is one and it is not armed: deadlines
        // only grow, so a timer set for an ack confirmed since just fires early.
        if !armed && let Some(awaited) = waiting.acks().by_id.values().next() {
            timer.as_mut().reset(awaited.deadline);
            armed = true;
        }
        if !open && !armed {
            return;
        }
        tokio::select! {
            answer = answers.next() => {
                let Some(answer) = answer else { return };
                if let Some(id) = id_of(&answer.subject) {
                    // Dropped outside the lock: it frees a place in the window.
                    let confirmed = waiting.acks().by_id.remove(&id);
                    drop(confirmed);
                }
            }
            () = &mut timer, if armed => {
                armed = false;
                let now = Instant::now();
                let expired = {
                    let mut acks = waiting.acks();
                    let mut expired = Vec::new();
                    while let Some(entry) = acks.by_id.first_entry() {
                        if entry.get().deadline > now {
                            break;
                        }
                        expired.push(entry.remove());
                    }
                    expired
                };
                for awaited in expired {
                    waiting.unconfirmed.fetch_add(1, Ordering::Relaxed);
                    tracing::warn!(
                        consumer = %consumer,
                        ack = %awaited.ack,
                        "ack not confirmed within {timeout:?}; if the server did not record \
                         it, the message is delivered again after the ack wait"
                    );
                }
            }
            () = waiting.first.notified(), if !armed => {}
            _ = &mut gone, if open => open = false,
        }
    }
}

/// The ack number of an answer on `<inbox>.<n>`.
fn id_of(subject: &Subject) -> Option<u64> {
    subject.as_str().rsplit_once('.')?.1.parse().ok()
}
