//! The raw append throughput of the store a generated service runs on: the baseline of the
//! HTTP benchmark (`scripts/bench-http.sh`, docs/benchmarks/http.md).
//!
//! Each operation appends one event to a new stream with `ExpectedVersion::NoStream`, the
//! shape of the write behind `POST /shopping-carts` (the creating command `OpenCart`: one
//! event on a new stream, and its outbox row). The store is opened exactly as the generated
//! service opens it: `ddd_sqlite::Config::from_url` + `SqliteStore::connect_with` for
//! `sqlite://PATH`, `PostgresStore::connect` for `postgres://...`, outbox on (the default).
//! `--concurrency` tasks append in a loop on tokio's multi-thread runtime with its default
//! worker count (what `#[tokio::main]` gives the service) for `--warmup` seconds, untimed,
//! then for `--seconds`. The result is one line on stdout:
//!
//! ```text
//! ops=20480 seconds=10.000 ops_per_sec=2048.0 p50_ms=7.512 p99_ms=15.004 errors=0
//! ```
//!
//! Any failed append is counted, reported on stderr and makes the exit code 1.
//!
//! ```text
//! raw-append --url URL [--concurrency 16] [--seconds 10] [--warmup 2]
//! ```

use std::borrow::Cow;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use ddd_core::event::codec;
use ddd_core::{
    AppendRequest, CodecError, DomainEvent, Envelope, EventStore, ExpectedVersion, Payload,
    StreamId,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

const USAGE: &str = "usage: raw-append --url sqlite://PATH|postgres://... [--concurrency N] [--seconds S] [--warmup S]";

/// The aggregate type the streams belong to, as the generated Cart names its streams.
const AGGREGATE: &str = "Cart";

/// A tiny event, the size of `CartOpened { customer }`.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
enum CartEvent {
    CartOpened { customer: Uuid },
}

impl DomainEvent for CartEvent {
    fn event_type(&self) -> &'static str {
        "CartOpened"
    }

    fn schema_version(&self) -> u32 {
        1
    }

    fn event_types() -> &'static [&'static str] {
        &["CartOpened"]
    }

    fn encode(&self) -> Result<Payload, CodecError> {
        codec::encode_variant(self.event_type(), self)
    }

    fn decode(
        event_type: &str,
        _schema_version: u32,
        payload: Payload,
    ) -> Result<Option<Self>, CodecError> {
        match event_type {
            "CartOpened" => codec::decode_variant(event_type, event_type, payload).map(Some),
            _ => Ok(None),
        }
    }
}

#[derive(Debug)]
struct Args {
    url: String,
    concurrency: usize,
    seconds: f64,
    warmup: f64,
}

fn parse_args() -> Result<Args, String> {
    let mut url = None;
    let mut args = Args {
        url: String::new(),
        concurrency: 16,
        seconds: 10.0,
        warmup: 2.0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || {
            it.next()
                .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))
        };
        let bad = |error: &dyn std::fmt::Display| format!("{flag}: {error}\n{USAGE}");
        match flag.as_str() {
            "--url" => url = Some(value()?),
            "--concurrency" => {
                args.concurrency = value()?.parse::<usize>().map_err(|e| bad(&e))?;
                if args.concurrency == 0 {
                    return Err(bad(&"must be at least 1"));
                }
            }
            "--seconds" => args.seconds = seconds(&value()?).map_err(|e| bad(&e))?,
            "--warmup" => args.warmup = seconds(&value()?).map_err(|e| bad(&e))?,
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    args.url = url.ok_or_else(|| format!("--url is required\n{USAGE}"))?;
    if args.seconds <= 0.0 {
        return Err(format!("--seconds must be positive\n{USAGE}"));
    }
    Ok(args)
}

fn seconds(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(value) if value.is_finite() && value >= 0.0 => Ok(value),
        _ => Err(format!("`{text}` is not a number of seconds")),
    }
}

/// The store behind the URL, opened as the generated service opens it.
#[derive(Clone)]
enum Store {
    Sqlite(ddd_sqlite::SqliteStore),
    Postgres(ddd_postgres::PostgresStore),
}

impl Store {
    async fn open(url: &str) -> Result<Self, String> {
        match url.split_once("://").map(|(scheme, _)| scheme) {
            Some("sqlite") => {
                let config =
                    ddd_sqlite::Config::from_url(url).map_err(|error| format!("{url}: {error}"))?;
                if let Some(dir) = config
                    .path()
                    .parent()
                    .filter(|dir| !dir.as_os_str().is_empty())
                {
                    std::fs::create_dir_all(dir)
                        .map_err(|error| format!("{}: {error}", dir.display()))?;
                }
                ddd_sqlite::SqliteStore::connect_with(config)
                    .await
                    .map(Self::Sqlite)
                    .map_err(|error| format!("{url}: {error}"))
            }
            Some("postgres" | "postgresql") => ddd_postgres::PostgresStore::connect(url)
                .await
                .map(Self::Postgres)
                .map_err(|error| format!("{url}: {error}")),
            _ => Err(format!(
                "`{url}`: expected `sqlite://PATH` or `postgres://...`"
            )),
        }
    }

    /// One `CartOpened` on a new stream.
    async fn open_cart(&self) -> Result<(), ddd_core::AppendError> {
        let cart = Uuid::now_v7();
        let event_id = Uuid::now_v7();
        let event = CartEvent::CartOpened {
            customer: Uuid::new_v4(),
        };
        let request = AppendRequest {
            stream: StreamId::new(AGGREGATE, cart.to_string()),
            expected: ExpectedVersion::NoStream,
            events: vec![Envelope {
                event_id,
                aggregate_type: Cow::Borrowed(AGGREGATE),
                aggregate_id: cart.to_string(),
                version: 1,
                position: 0,
                recorded_at: chrono::Utc::now(),
                event_type: Cow::Borrowed(event.event_type()),
                schema_version: 1,
                correlation_id: event_id,
                causation_id: None,
                trace: None,
                metadata: Default::default(),
                payload: event,
            }],
            inbox: None,
        };
        match self {
            Self::Sqlite(store) => store.append(request).await.map(drop),
            Self::Postgres(store) => store.append(request).await.map(drop),
        }
    }
}

/// What one task did while the clock ran.
#[derive(Default)]
struct Tally {
    /// The latency of each successful append, in µs.
    latencies: Vec<u32>,
    errors: u64,
}

/// Appends until `stop`, recording the latencies of those that started at or after `from`.
async fn append_until(store: Store, from: Instant, stop: Instant) -> Tally {
    let mut tally = Tally::default();
    loop {
        let started = Instant::now();
        if started >= stop {
            return tally;
        }
        let outcome = store.open_cart().await;
        if started < from {
            continue;
        }
        match outcome {
            Ok(()) => tally
                .latencies
                .push(u32::try_from(started.elapsed().as_micros()).unwrap_or(u32::MAX)),
            Err(error) => {
                if tally.errors == 0 {
                    eprintln!("raw-append: append failed: {error}");
                }
                tally.errors += 1;
            }
        }
    }
}

/// The `q` quantile of sorted latencies, in ms.
fn quantile(sorted: &[u32], q: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((q * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    f64::from(sorted[rank - 1]) / 1000.0
}

async fn run(args: Args) -> Result<bool, String> {
    let store = Store::open(&args.url).await?;
    let from = Instant::now() + Duration::from_secs_f64(args.warmup);
    let stop = from + Duration::from_secs_f64(args.seconds);
    let tasks: Vec<_> = (0..args.concurrency)
        .map(|_| tokio::spawn(append_until(store.clone(), from, stop)))
        .collect();
    let mut latencies = Vec::new();
    let mut errors = 0;
    for task in tasks {
        let tally = task
            .await
            .map_err(|error| format!("an append task failed: {error}"))?;
        latencies.extend(tally.latencies);
        errors += tally.errors;
    }
    // Appends that finished after `stop` count too: the window closes when the last one ends.
    let wall = from.elapsed().as_secs_f64();
    latencies.sort_unstable();
    let ops = latencies.len();
    println!(
        "ops={ops} seconds={wall:.3} ops_per_sec={:.1} p50_ms={:.3} p99_ms={:.3} errors={errors}",
        ops as f64 / wall,
        quantile(&latencies, 0.50),
        quantile(&latencies, 0.99),
    );
    Ok(errors == 0)
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(args) => args,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("raw-append: cannot start the runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(args)) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("raw-append: {message}");
            ExitCode::FAILURE
        }
    }
}
