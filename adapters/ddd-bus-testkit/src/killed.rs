//! A consumer process killed with `SIGKILL` after handling a message, before acking it.
//!
//! The child is the test binary itself, run again on one test (`child_test`) with the
//! scenario in an environment variable: that test calls [`child`], which does nothing in a
//! normal run. Both processes record effects through a [`FileInbox`] in a shared directory,
//! so the file system decides which of them handles an event.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use ddd_core::testing::conformance::event_bus::next;
use ddd_core::testing::conformance::{PATIENCE, unique};
use ddd_core::{ConsumerConfig, Delivery, EventBus, EventId, Inbox};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncBufReadExt, BufReader};

use crate::events;
use crate::inbox::FileInbox;

/// The variable that turns a run of the child test into the child.
const CHILD_ENV: &str = "DDD_BUS_TESTKIT_CHILD";
/// The line the child prints once it handled a message.
const HANDLED: &str = "ddd-bus-testkit handled ";
/// How many messages the scenario publishes.
const COUNT: usize = 5;

#[derive(Serialize, Deserialize)]
struct Scenario {
    consumer: String,
    subjects: Vec<String>,
    ack_wait_ms: u64,
    dir: PathBuf,
}

impl Scenario {
    fn config(&self) -> ConsumerConfig {
        ConsumerConfig::new(self.consumer.clone(), self.subjects.clone())
            .ack_wait(Duration::from_millis(self.ack_wait_ms))
    }

    fn inbox(&self) -> FileInbox {
        FileInbox::new(self.dir.join("inbox")).expect("inbox directory")
    }

    fn effects(&self) -> PathBuf {
        self.dir.join("effects.log")
    }
}

/// Handles a delivery the way a consumer with an inbox does: the effect (a line in the
/// effects log) happens only for the process that wins the inbox mark.
async fn handle(scenario: &Scenario, inbox: &FileInbox, event_id: EventId) {
    let first = inbox
        .mark_processed(&scenario.consumer, event_id)
        .await
        .expect("inbox");
    if first {
        let mut log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(scenario.effects())
            .expect("effects log");
        writeln!(log, "{event_id}").expect("record the effect");
    }
}

/// The parent: creates the consumer, publishes, runs the child until it handled a message,
/// kills it with `SIGKILL`, then consumes as the same consumer and checks that the killed
/// delivery came back and that every event had its effect exactly once.
///
/// `child_test` is the name of the test (in the running test binary) that calls [`child`];
/// `child_env` are variables the child needs to connect like the parent (a key prefix).
pub async fn consumer_killed_before_ack<B: EventBus>(
    bus: &B,
    child_test: &str,
    child_env: &[(&str, &str)],
) {
    let prefix = unique("kill");
    let dir = std::env::temp_dir().join(unique("ddd-bus-kill"));
    let scenario = Scenario {
        consumer: unique("c"),
        subjects: vec![format!("{prefix}.>")],
        ack_wait_ms: 2000,
        dir: dir.clone(),
    };
    drop(
        bus.subscribe(scenario.config())
            .await
            .expect("create the consumer"),
    );
    let sent = events(&format!("{prefix}.ctx.Tick"), COUNT);
    bus.publish(sent.clone()).await.expect("publish");

    let killed = run_child_until_handled(&scenario, child_test, child_env).await;

    let inbox = scenario.inbox();
    let mut subscription = bus.subscribe(scenario.config()).await.expect("subscribe");
    let mut redelivered = None;
    while count_effects(&scenario).len() < COUNT || redelivered.is_none() {
        let delivery = next(&mut subscription, "a delivery after the kill").await;
        let id = delivery.message().envelope.event_id;
        if id == killed {
            redelivered = Some(delivery.attempt());
        }
        handle(&scenario, &inbox, id).await;
        delivery.ack().await.expect("ack");
    }

    let effects = count_effects(&scenario);
    let attempt = redelivered.expect("the killed delivery came back");
    assert!(
        attempt >= 2,
        "the redelivery of the killed delivery counts as a further attempt, got {attempt}"
    );
    for message in &sent {
        assert_eq!(
            effects.get(&message.envelope.event_id),
            Some(&1),
            "every event has its effect exactly once"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Runs the child and kills it once it says it handled a message; returns that message's id.
async fn run_child_until_handled(
    scenario: &Scenario,
    child_test: &str,
    child_env: &[(&str, &str)],
) -> EventId {
    let exe = std::env::current_exe().expect("the test binary");
    let mut process = tokio::process::Command::new(exe)
        .args([child_test, "--exact", "--nocapture", "--test-threads", "1"])
        .envs(child_env.iter().copied())
        .env(
            CHILD_ENV,
            serde_json::to_string(scenario).expect("scenario"),
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn the child consumer");
    let stdout = process.stdout.take().expect("child stdout");
    let mut lines = BufReader::new(stdout).lines();
    let handled = tokio::time::timeout(PATIENCE * 3, async {
        while let Some(line) = lines.next_line().await.expect("child output") {
            // libtest may have started the line ("test child ... ").
            if let Some((_, id)) = line.split_once(HANDLED) {
                return id.trim().parse::<EventId>().expect("event id");
            }
            // The child's test harness output, for when it fails.
            eprintln!("child: {line}");
        }
        panic!("the child consumer exited before handling a message")
    })
    .await
    .expect("the child consumer handles a message in time");
    // SIGKILL: no destructor, no ack, no goodbye to the broker.
    process.kill().await.expect("kill -9 the child");
    handled
}

fn count_effects(scenario: &Scenario) -> HashMap<EventId, usize> {
    let text = std::fs::read_to_string(scenario.effects()).unwrap_or_default();
    let mut counts = HashMap::new();
    for line in text.lines() {
        let id: EventId = line.parse().expect("effects log line");
        *counts.entry(id).or_default() += 1;
    }
    counts
}

/// The child: when this process was started by [`consumer_killed_before_ack`], subscribes
/// with `connect()`'s bus, handles one delivery, says so, and waits to be killed without
/// acking it. Otherwise returns at once.
pub async fn child<B, F>(connect: impl FnOnce() -> F)
where
    B: EventBus,
    F: Future<Output = B>,
{
    let Ok(spec) = std::env::var(CHILD_ENV) else {
        return;
    };
    let scenario: Scenario = serde_json::from_str(&spec).expect("scenario");
    let bus = connect().await;
    let mut subscription = bus.subscribe(scenario.config()).await.expect("subscribe");
    let delivery = next(&mut subscription, "the child's delivery").await;
    let id = delivery.message().envelope.event_id;
    handle(&scenario, &scenario.inbox(), id).await;
    let mut stdout = std::io::stdout();
    writeln!(stdout, "{HANDLED}{id}").expect("stdout");
    stdout.flush().expect("stdout");
    // Hold the delivery (and the subscription) unacknowledged until the parent kills us.
    let _held = (delivery, subscription);
    std::future::pending::<()>().await;
}
