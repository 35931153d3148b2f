//! Three replicas of one generated service over one PostgreSQL database and NATS JetStream,
//! as a HorizontalPodAutoscaler runs them, under steady commands over HTTP; the replica whose
//! outbox relay publishes is killed with SIGKILL three times. One relay publishes at a time:
//! the bus carries each committed event about once, every one of them, in per-aggregate
//! order, and after each kill another replica says it took the lease over.

use std::collections::{HashMap, HashSet};
use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::{Shutdown, TcpStream};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::harness::Test;
use crate::shop::{Databases, Process, build_binaries, env_url, eventually, free_port, get, post};

/// One context, one aggregate, every event published. `system Replicas`: a workspace of
/// its own in the shared target directory.
const MODEL: &str = "system Replicas

context Counting : generic {
  aggregate Counter {
    count: u64

    command Open() creates emits Opened
    command Bump(by: u64) emits Bumped

    event Opened()
    event Bumped(by: u64)
  }

  publishes Opened, Bumped
}
";

const BINARY: &str = "replicas-counting";
const COUNTERS: usize = 6;
const KILLS: usize = 3;
const TOOK: &str = "took the outbox relay lease";
const LOST: &str = "lost the outbox relay lease";

#[test]
fn three_replicas_publish_each_event_about_once_through_killed_leaders() {
    let out = Test::new()
        .file("replicas.ddd", MODEL)
        .args(["generate", "replicas.ddd", "--out", "out", "-q"])
        .success();
    let dir = out.path("out");
    build_binaries(
        &dir,
        &["build", "-p", BINARY, "--features", "postgres,nats"],
        &[BINARY],
    );
    let run = Uuid::new_v4().simple().to_string()[..12].to_owned();
    let namespace = format!("replicas-e2e-{run}");
    let databases = Databases::create(&format!("replicas_{run}"), &["counting"]);
    let bus_url = env_url("NATS_URL", "nats://127.0.0.1:4222");
    let tap = Tap::subscribe(&bus_url, &format!("{namespace}.>"));
    let env = [
        ("DATABASE_URL", databases.url("counting")),
        ("BUS_URL", bus_url.clone()),
        ("BUS_NAMESPACE", namespace.clone()),
        ("RUST_LOG", "info".to_owned()),
    ];
    let start = |port: u16| {
        let mut env = env.to_vec();
        env.push(("HTTP_ADDR", format!("127.0.0.1:{port}")));
        Process::start(BINARY, &dir, &env, port)
    };
    let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
    let mut replicas: Vec<Option<Process>> = ports.iter().map(|&port| Some(start(port))).collect();

    let counters: Vec<String> = (0..COUNTERS)
        .map(|n| {
            let opened = post(ports[n % ports.len()], "/counters", &json!({}));
            assert_eq!(opened.status, 201, "{}", opened.body);
            opened.body["id"].as_str().expect("an id").to_owned()
        })
        .collect();
    let mut traffic = Traffic::new(counters);
    traffic.drive(&live(&ports, &replicas), Duration::from_secs(2));
    let mut takeovers = Vec::new();
    for _ in 0..KILLS {
        let leader = the_leader(&replicas);
        let killed = Instant::now();
        replicas[leader].as_mut().expect("the leader runs").kill();
        replicas[leader] = None;
        // Commands keep coming to the other two while one of them takes over.
        let next = loop {
            traffic.drive(&live(&ports, &replicas), Duration::from_millis(200));
            if let Some(next) = leading(&replicas) {
                break next;
            }
            assert!(
                killed.elapsed() < Duration::from_secs(30),
                "no replica took over"
            );
        };
        takeovers.push(killed.elapsed());
        assert_ne!(next, leader);
        traffic.drive(&live(&ports, &replicas), Duration::from_secs(1));
        replicas[leader] = Some(start(ports[leader]));
        traffic.drive(&live(&ports, &replicas), Duration::from_secs(1));
    }

    let committed = traffic.committed(ports[0]);
    eventually("every committed event is on the bus", || {
        let seen = tap.ids();
        committed
            .iter()
            .all(|(id, _, _)| seen.contains(id))
            .then_some(())
    });
    // Anything published late, twice, would show now.
    std::thread::sleep(Duration::from_millis(500));
    for replica in replicas.into_iter().flatten() {
        replica.stop_gracefully();
    }
    let published = tap.messages();
    let gap = tap.longest_gap();
    drop(tap);

    #[expect(clippy::cast_precision_loss, reason = "counts of a test run")]
    let per_event = published.len() as f64 / committed.len() as f64;
    eprintln!(
        "{} events committed, {} published ({per_event:.3} per event); takeovers after \
         SIGKILL as the test saw them (polling logs every 200 ms): {takeovers:?}; longest \
         gap between two messages on the bus: {gap:?}",
        committed.len(),
        published.len()
    );
    assert!(committed.len() > 200, "steady traffic: {}", committed.len());
    assert!(
        per_event <= 1.05,
        "{} messages for {} events: more than one replica published",
        published.len(),
        committed.len()
    );
    let mut next_version: HashMap<&str, u64> = HashMap::new();
    let mut first_copies = HashSet::new();
    for (id, aggregate, version) in &published {
        if first_copies.insert(*id) {
            let expected = next_version.entry(aggregate).or_insert(1);
            assert_eq!(version, expected, "{aggregate}: per-aggregate order");
            *expected += 1;
        }
    }
}

/// The ports of the replicas that run.
fn live(ports: &[u16], replicas: &[Option<Process>]) -> Vec<u16> {
    ports
        .iter()
        .zip(replicas)
        .filter(|(_, replica)| replica.is_some())
        .map(|(port, _)| *port)
        .collect()
}

/// The one running replica whose log says it holds the lease (it took it last and did not
/// lose it since); `None` while none or several do.
fn leading(replicas: &[Option<Process>]) -> Option<usize> {
    let holders: Vec<usize> = replicas
        .iter()
        .enumerate()
        .filter_map(|(n, replica)| {
            let log = replica.as_ref()?.log();
            let took = log.rfind(TOOK)?;
            log.rfind(LOST).is_none_or(|lost| lost < took).then_some(n)
        })
        .collect();
    match holders[..] {
        [one] => Some(one),
        _ => None,
    }
}

fn the_leader(replicas: &[Option<Process>]) -> usize {
    eventually("one replica leads", || leading(replicas))
}

/// Commands, round-robin over the counters and the live replicas.
struct Traffic {
    counters: Vec<String>,
    sent: usize,
}

impl Traffic {
    fn new(counters: Vec<String>) -> Self {
        Self { counters, sent: 0 }
    }

    fn drive(&mut self, ports: &[u16], duration: Duration) {
        let until = Instant::now() + duration;
        while Instant::now() < until {
            let counter = &self.counters[self.sent % self.counters.len()];
            let port = ports[self.sent % ports.len()];
            let bumped = post(
                port,
                &format!("/counters/{counter}/bump"),
                &json!({ "by": 1 }),
            );
            assert_eq!(bumped.status, 200, "{}", bumped.body);
            self.sent += 1;
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Every stored event of the counters: (event id, aggregate id, version).
    fn committed(&self, port: u16) -> Vec<(Uuid, String, u64)> {
        let mut events = Vec::new();
        for counter in &self.counters {
            let listed = get(port, &format!("/counters/{counter}/events"));
            assert_eq!(listed.status, 200, "{}", listed.body);
            for (version, event) in (1..).zip(listed.body.as_array().expect("events")) {
                let id = event["event_id"]
                    .as_str()
                    .and_then(|id| id.parse().ok())
                    .expect("an event id");
                events.push((id, counter.clone(), version));
            }
        }
        events
    }
}

/// A core NATS subscription, spoken over a plain socket. JetStream drops a copy of a
/// message id it has stored (`Nats-Msg-Id` is the event id) from the stream, not from core
/// subscribers: this sees every publish, copies included.
struct Tap {
    socket: TcpStream,
    seen: Arc<Mutex<Vec<(Instant, Value)>>>,
    reader: Option<std::thread::JoinHandle<()>>,
}

impl Tap {
    fn subscribe(url: &str, subject: &str) -> Self {
        let address = url.trim_start_matches("nats://");
        let mut socket = TcpStream::connect(address).expect("NATS answers");
        let mut reader = BufReader::new(socket.try_clone().expect("a second handle"));
        let mut info = String::new();
        reader.read_line(&mut info).expect("INFO");
        write!(
            socket,
            "CONNECT {{\"verbose\":false,\"headers\":true,\"protocol\":1}}\r\n\
             SUB {subject} 1\r\nPING\r\n"
        )
        .expect("subscribe");
        let mut pong = String::new();
        while !pong.starts_with("PONG") {
            pong.clear();
            reader.read_line(&mut pong).expect("PONG");
            assert!(!pong.starts_with("-ERR"), "{pong}");
        }
        let seen = Arc::new(Mutex::new(Vec::new()));
        let mut answer = socket.try_clone().expect("a third handle");
        let into = Arc::clone(&seen);
        let reader = std::thread::spawn(move || {
            while let Some(payload) = next_message(&mut reader, &mut answer) {
                if let Ok(envelope) = serde_json::from_slice::<Value>(&payload) {
                    let mut seen = into.lock().unwrap_or_else(PoisonError::into_inner);
                    seen.push((Instant::now(), envelope));
                }
            }
        });
        Self {
            socket,
            seen,
            reader: Some(reader),
        }
    }

    /// (event id, aggregate id, version) of each message, in arrival order.
    fn messages(&self) -> Vec<(Uuid, String, u64)> {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.iter()
            .map(|(_, envelope)| {
                (
                    envelope["event_id"]
                        .as_str()
                        .and_then(|id| id.parse().ok())
                        .expect("an event id"),
                    envelope["aggregate_id"]
                        .as_str()
                        .expect("an aggregate id")
                        .to_owned(),
                    envelope["version"].as_u64().expect("a version"),
                )
            })
            .collect()
    }

    fn ids(&self) -> HashSet<Uuid> {
        self.messages().into_iter().map(|(id, _, _)| id).collect()
    }

    fn longest_gap(&self) -> Duration {
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        seen.windows(2)
            .map(|pair| pair[1].0 - pair[0].0)
            .max()
            .unwrap_or_default()
    }
}

impl Drop for Tap {
    fn drop(&mut self) {
        let _ = self.socket.shutdown(Shutdown::Both);
        if let Some(reader) = self.reader.take() {
            let _ = reader.join();
        }
    }
}

/// The payload of the next message (`MSG`, or `HMSG` with headers), answering `PING`s on
/// the way; `None` when the connection ends.
fn next_message(reader: &mut BufReader<TcpStream>, answer: &mut TcpStream) -> Option<Vec<u8>> {
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).ok()? == 0 {
            return None;
        }
        let words: Vec<&str> = line.split_whitespace().collect();
        let (headers, total) = match words.first().copied() {
            Some("PING") => {
                answer.write_all(b"PONG\r\n").ok()?;
                continue;
            }
            Some("MSG") => (0, words.last()?.parse::<usize>().ok()?),
            Some("HMSG") => (
                words[words.len() - 2].parse::<usize>().ok()?,
                words.last()?.parse::<usize>().ok()?,
            ),
            _ => continue,
        };
        let mut body = vec![0; total + 2];
        reader.read_exact(&mut body).ok()?;
        body.truncate(total);
        return Some(body.split_off(headers));
    }
}
