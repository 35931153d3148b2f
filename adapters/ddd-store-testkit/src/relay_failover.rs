//! Replicas of a service, each with an outbox relay over one store, the one that publishes
//! killed with SIGKILL several times while events keep being appended: one relay publishes
//! at a time (about one publish per committed event), another takes over within the lease's
//! time-to-live, every committed event is published by the relays themselves (no drain by
//! the test afterwards), in per-aggregate order, and nothing uncommitted is.
//!
//! Each relay runs in a child process (the store's test binary, re-run on its ignored test
//! [`CHILD_TEST`]) and publishes into a file of its own, one line per message with the time
//! it was published: the parent tells which replica leads by whose file grows, and measures
//! the takeover after each kill and the longest gap between two publishes.
//!
//! ```ignore
//! #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
//! #[ignore = "a replica of replicas_take_turns_and_take_over_from_a_killed_leader"]
//! async fn relay_failover_child() {
//!     relay_failover::child::<MyStore>().await;
//! }
//!
//! #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
//! async fn replicas_take_turns_and_take_over_from_a_killed_leader() {
//!     let load = relay_failover::Load::test();
//!     let report = relay_failover::run(&store, &url, &load).await;
//!     report.assert_one_publisher_and_takeovers_within(load.ttl);
//! }
//! ```

use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use ddd_core::{EventId, Message, Relay};

use crate::child::{self, Running};
use crate::file_bus::{self, FileBus, Published, micros_since_epoch};
use crate::relay_crash::{assert_in_order, routing, write};
use crate::{TestStore, everything};

/// The name the store's ignored test that runs [`child()`] must have.
pub const CHILD_TEST: &str = "relay_failover_child";
const CHILD_URL: &str = "DDD_FAILOVER_URL";
const CHILD_BUS: &str = "DDD_FAILOVER_BUS";
const CHILD_TTL_MS: &str = "DDD_FAILOVER_TTL_MS";
const CHILD_UNLEASED: &str = "DDD_FAILOVER_UNLEASED";
/// How often an idle relay polls, as generated services run theirs.
const INTERVAL: Duration = Duration::from_millis(20);
/// How long the relays get to publish what the writer committed last.
const SETTLE: Duration = Duration::from_secs(30);

/// What runs: how many replicas, how many kills, the lease.
#[derive(Clone, Debug)]
pub struct Load {
    /// Relays running at once (a killed one is replaced, as an orchestrator restarts it).
    pub replicas: usize,
    /// How many times the publishing replica is killed.
    pub kills: u32,
    /// How long the writer appends when nothing is killed, and between kills.
    pub steady: Duration,
    /// The relays' lease time-to-live.
    pub ttl: Duration,
    /// Relays without the lease, each publishing what it finds pending (the behaviour
    /// before the lease), for comparison.
    pub unleased: bool,
}

impl Load {
    /// Three replicas, three kills of the leader, a lease of one second.
    pub fn test() -> Self {
        Self {
            replicas: 3,
            kills: 3,
            steady: Duration::from_millis(500),
            ttl: Duration::from_secs(1),
            unleased: false,
        }
    }
}

/// What a run measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// Events committed by the writer.
    pub committed: usize,
    /// Messages the relays published (copies included).
    pub published: usize,
    /// For each kill, the time from the SIGKILL to the first publish by another replica.
    pub takeovers: Vec<Duration>,
    /// The longest time between two publishes while the writer was appending.
    pub longest_gap: Duration,
}

impl Report {
    /// Publishes per committed event.
    pub fn publishes_per_event(&self) -> f64 {
        // Counts of a test run: far below 2^52, exact as floats.
        #[expect(clippy::cast_precision_loss, reason = "counts of a test run")]
        let ratio = self.published as f64 / self.committed.max(1) as f64;
        ratio
    }

    /// Each event went on the bus about once (at most 5 % copies overall), and each
    /// takeover came within three times the lease's time-to-live (the lease running out,
    /// then a standby's next try, on a machine busy with other work).
    pub fn assert_one_publisher_and_takeovers_within(&self, ttl: Duration) {
        eprintln!("{self:?}");
        assert!(
            self.publishes_per_event() <= 1.05,
            "{} publishes for {} events: more than one relay published",
            self.published,
            self.committed
        );
        for takeover in &self.takeovers {
            assert!(
                *takeover < ttl * 3,
                "a takeover took {takeover:?} with a lease of {ttl:?}: {self:?}"
            );
        }
    }
}

/// A replica: opens the store and its bus file, says so, relays until killed. Returns at
/// once in a run that is not a child.
pub async fn child<S: TestStore>() {
    let (Some(url), Some(bus), Some(ttl)) = (
        child::var::<String>(CHILD_URL),
        child::var::<PathBuf>(CHILD_BUS),
        child::var::<u64>(CHILD_TTL_MS),
    ) else {
        return;
    };
    let store = S::open(&url).await;
    let relay = Relay::new(store, FileBus::open(&bus), routing())
        .batch_size(64)
        .lease_ttl(Duration::from_millis(ttl));
    child::up();
    if child::var::<bool>(CHILD_UNLEASED) == Some(true) {
        loop {
            let _ = relay.drain().await;
            tokio::time::sleep(INTERVAL).await;
        }
    }
    let _ = relay.run(INTERVAL, std::future::pending()).await;
}

/// The replicas and their bus files.
struct Replicas {
    dir: tempfile::TempDir,
    env: Vec<(&'static str, String)>,
    running: Vec<(usize, Running)>,
    started: usize,
}

impl Replicas {
    fn new(url: &str, load: &Load) -> Self {
        let dir = tempfile::tempdir().expect("a directory for the bus files");
        let mut env = vec![
            (CHILD_URL, url.to_owned()),
            (CHILD_TTL_MS, load.ttl.as_millis().to_string()),
        ];
        if load.unleased {
            env.push((CHILD_UNLEASED, "true".to_owned()));
        }
        Self {
            dir,
            env,
            running: Vec::new(),
            started: 0,
        }
    }

    fn file(&self, replica: usize) -> PathBuf {
        self.dir.path().join(format!("replica-{replica}.jsonl"))
    }

    async fn start(&mut self) {
        let replica = self.started;
        self.started += 1;
        let mut env = self.env.clone();
        env.push((CHILD_BUS, self.file(replica).display().to_string()));
        self.running
            .push((replica, Running::start(CHILD_TEST, &env).await));
    }

    /// Every replica's publishes, each tagged with its replica.
    fn published(&self) -> Vec<(usize, Published)> {
        (0..self.started)
            .flat_map(|replica| {
                file_bus::read(&self.file(replica))
                    .into_iter()
                    .map(move |published| (replica, published))
            })
            .collect()
    }

    /// The running replica that published last, once one published after `since`.
    async fn leader(&self, since: u64) -> usize {
        let deadline = Instant::now() + SETTLE;
        loop {
            let latest = self
                .published()
                .into_iter()
                .filter(|(_, published)| published.at > since)
                .max_by_key(|(_, published)| published.at);
            if let Some((replica, _)) = latest
                && self.running.iter().any(|(running, _)| *running == replica)
            {
                return replica;
            }
            assert!(Instant::now() < deadline, "no replica publishes");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn kill(&mut self, replica: usize) {
        let at = self
            .running
            .iter()
            .position(|(running, _)| *running == replica)
            .expect("a running replica");
        let (_, child) = self.running.swap_remove(at);
        child.kill().await;
    }

    async fn kill_all(&mut self) {
        for (_, child) in self.running.drain(..) {
            child.kill().await;
        }
    }
}

/// The scenario, on `store` (reachable at `url` by the replicas).
pub async fn run<S: TestStore>(store: &S, url: &str, load: &Load) -> Report {
    let mut replicas = Replicas::new(url, load);
    for _ in 0..load.replicas {
        replicas.start().await;
    }
    let stop = Arc::new(AtomicBool::new(false));
    let writer = tokio::spawn(write(store.clone(), Arc::clone(&stop), crate::rng::seed()));
    let writing_since = micros_since_epoch(SystemTime::now());

    let mut takeovers = Vec::new();
    tokio::time::sleep(load.steady).await;
    for _ in 0..load.kills {
        let leader = replicas.leader(writing_since).await;
        let killed_at = micros_since_epoch(SystemTime::now());
        replicas.kill(leader).await;
        replicas.start().await;
        let next = replicas.leader(killed_at).await;
        let first = replicas
            .published()
            .into_iter()
            .filter(|(replica, published)| *replica == next && published.at > killed_at)
            .map(|(_, published)| published.at)
            .min()
            .expect("the new leader published");
        takeovers.push(Duration::from_micros(first - killed_at));
        tokio::time::sleep(load.steady).await;
    }
    stop.store(true, Ordering::SeqCst);
    let uncommitted = writer.await.expect("writer");
    let writing_until = micros_since_epoch(SystemTime::now());

    let stored_ids: HashSet<EventId> = everything(store).await.iter().map(|e| e.event_id).collect();
    let deadline = Instant::now() + SETTLE;
    let published = loop {
        let published = replicas.published();
        let ids: HashSet<EventId> = published
            .iter()
            .map(|(_, published)| published.message.envelope.event_id)
            .collect();
        if stored_ids.is_subset(&ids) || Instant::now() > deadline {
            break published;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    replicas.kill_all().await;

    let mut by_time: Vec<(u64, Message)> = published
        .into_iter()
        .map(|(_, published)| (published.at, published.message))
        .collect();
    by_time.sort_by_key(|(at, _)| *at);
    let published_ids: HashSet<EventId> = by_time
        .iter()
        .map(|(_, message)| message.envelope.event_id)
        .collect();
    assert!(stored_ids.len() > 100, "the writer kept writing");
    assert_eq!(
        published_ids, stored_ids,
        "every committed event published by the relays, nothing else"
    );
    assert!(
        uncommitted.is_disjoint(&published_ids),
        "an uncommitted event was published"
    );
    let messages: Vec<Message> = by_time.iter().map(|(_, message)| message.clone()).collect();
    assert_in_order(&messages);
    let longest_gap = by_time
        .windows(2)
        .filter(|pair| pair[1].0 <= writing_until)
        .map(|pair| pair[1].0 - pair[0].0)
        .max()
        .unwrap_or(0);
    Report {
        committed: stored_ids.len(),
        published: by_time.len(),
        takeovers,
        longest_gap: Duration::from_micros(longest_gap),
    }
}
