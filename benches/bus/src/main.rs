//! Bus adapters vs raw clients: publish + consume throughput and latency (Kafka on
//! librdkafka's in-process mock cluster).
//!
//! Every contender publishes the same messages (one JSON envelope) in batches with the
//! same confirm window while one consumer receives and acks each, on fresh streams / queues /
//! keys that are removed afterwards. All contenders run interleaved in one process (a warm-up
//! round, then `--rounds` rounds; the order rotates each round) on a 2-worker tokio runtime.
//! Throughput is wall-clock, first publish → last ack (the work is IO-bound); latency is a
//! message's batch publish start → its receipt by the consumer. Prints markdown to stdout.
//!
//! ```text
//! ddd-bench-bus [--messages 20000] [--kafka-messages 2000] [--memory-messages 100000] [--batch 1000] [--window 256]
//!               [--rounds 3] [--warmup 1] [--only nats-ours,nats-raw,...]
//! ```

mod kafka;
mod measure;
mod memory;
mod nats;
mod rabbitmq;
mod redis_streams;
mod workload;

use std::time::Duration;

use crate::measure::Sample;

pub struct Settings {
    pub messages: usize,
    pub kafka_messages: usize,
    pub memory_messages: usize,
    pub batch: usize,
    pub window: usize,
    rounds: usize,
    warmup: usize,
    only: Option<Vec<Contender>>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Contender {
    NatsOurs,
    NatsOursUnconfirmed,
    NatsOursHeaders,
    NatsRaw,
    NatsRawDoubleAck,
    RabbitOurs,
    RabbitRaw,
    RedisOurs,
    RedisOursDedup,
    RedisRaw,
    KafkaOurs,
    KafkaRaw,
    MemoryOurs,
    MemoryRaw,
}

impl Contender {
    const ALL: [Self; 14] = [
        Self::NatsOurs,
        Self::NatsOursUnconfirmed,
        Self::NatsOursHeaders,
        Self::NatsRaw,
        Self::NatsRawDoubleAck,
        Self::RabbitOurs,
        Self::RabbitRaw,
        Self::RedisOurs,
        Self::RedisOursDedup,
        Self::RedisRaw,
        Self::KafkaOurs,
        Self::KafkaRaw,
        Self::MemoryOurs,
        Self::MemoryRaw,
    ];

    fn key(self) -> &'static str {
        match self {
            Self::NatsOurs => "nats-ours",
            Self::NatsOursUnconfirmed => "nats-ours-unconfirmed",
            Self::NatsOursHeaders => "nats-ours-headers",
            Self::NatsRaw => "nats-raw",
            Self::NatsRawDoubleAck => "nats-raw-double-ack",
            Self::RabbitOurs => "rabbitmq-ours",
            Self::RabbitRaw => "rabbitmq-raw",
            Self::RedisOurs => "redis-ours",
            Self::RedisOursDedup => "redis-ours-dedup",
            Self::RedisRaw => "redis-raw",
            Self::KafkaOurs => "kafka-ours",
            Self::KafkaRaw => "kafka-raw",
            Self::MemoryOurs => "memory-ours",
            Self::MemoryRaw => "memory-raw",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::NatsOurs => {
                "ours: `ddd_nats::NatsBus` (defaults: acks confirmed in the background, only `Nats-Msg-Id`)"
            }
            Self::NatsOursUnconfirmed => "ours, `confirm_acks(false)` (informative)",
            Self::NatsOursHeaders => "ours, `envelope_headers(true)`: 4 more headers (informative)",
            Self::NatsRaw => "raw async-nats: JetStream publish + pull consumer, `ack()`",
            Self::NatsRawDoubleAck => "raw async-nats, `double_ack()` (informative)",
            Self::RabbitOurs => "ours: `ddd_rabbitmq::RabbitMqBus`",
            Self::RabbitRaw => "raw lapin: confirms + quorum queue + `basic.consume`",
            Self::RedisOurs => "ours: `ddd_redis::RedisBus` (default: no deduplication)",
            Self::RedisOursDedup => "ours, `dedup_window(Some(120 s))` (informative)",
            Self::RedisRaw => "raw redis: pipelined `XADD` + `XREADGROUP`/`XACK`",
            Self::KafkaOurs => "ours: `ddd_kafka::KafkaBus` (mock cluster)",
            Self::KafkaRaw => "raw rdkafka: idempotent `acks=all` + sync commit per message",
            Self::MemoryOurs => "ours: `ddd_core::memory::InProcessBus`",
            Self::MemoryRaw => "tokio `mpsc::unbounded_channel`",
        }
    }

    /// The section it is reported in, and whether it is the baseline there.
    fn section(self) -> (&'static str, bool) {
        match self {
            Self::NatsOurs
            | Self::NatsOursUnconfirmed
            | Self::NatsOursHeaders
            | Self::NatsRawDoubleAck => ("NATS JetStream", false),
            Self::NatsRaw => ("NATS JetStream", true),
            Self::RabbitOurs => ("RabbitMQ", false),
            Self::RabbitRaw => ("RabbitMQ", true),
            Self::RedisOurs | Self::RedisOursDedup => ("Redis Streams", false),
            Self::RedisRaw => ("Redis Streams", true),
            Self::KafkaOurs => ("Kafka (librdkafka mock cluster)", false),
            Self::KafkaRaw => ("Kafka (librdkafka mock cluster)", true),
            Self::MemoryOurs => ("In process", false),
            Self::MemoryRaw => ("In process", true),
        }
    }

    async fn run(self, settings: &Settings, system: &str) -> Result<Sample, String> {
        match self {
            Self::NatsOurs => nats::ours(settings, system, true, false).await,
            Self::NatsOursUnconfirmed => nats::ours(settings, system, false, false).await,
            Self::NatsOursHeaders => nats::ours(settings, system, true, true).await,
            Self::NatsRaw => nats::raw(settings, system, nats::Ack::Plain).await,
            Self::NatsRawDoubleAck => nats::raw(settings, system, nats::Ack::Double).await,
            Self::RabbitOurs => rabbitmq::ours(settings, system).await,
            Self::RabbitRaw => rabbitmq::raw(settings, system).await,
            Self::RedisOurs => redis_streams::ours(settings, system, false).await,
            Self::RedisOursDedup => redis_streams::ours(settings, system, true).await,
            Self::RedisRaw => redis_streams::raw(settings, system).await,
            Self::KafkaOurs => kafka::ours(settings, system).await,
            Self::KafkaRaw => kafka::raw(settings, system).await,
            Self::MemoryOurs => memory::ours(settings, system).await,
            Self::MemoryRaw => memory::raw(settings, system).await,
        }
    }
}

const USAGE: &str = "usage: ddd-bench-bus [--messages N] [--kafka-messages N] [--memory-messages N] [--batch B] \
                     [--window W] [--rounds R] [--warmup W] [--only nats-ours,nats-raw,...]";

fn parse_args() -> Result<Settings, String> {
    let mut settings = Settings {
        messages: 20_000,
        kafka_messages: 2_000,
        memory_messages: 100_000,
        batch: 1000,
        window: 256,
        rounds: 3,
        warmup: 1,
        only: None,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it
            .next()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        let number = || {
            value
                .parse::<usize>()
                .map(|n| n.max(1))
                .map_err(|e| format!("{flag}: {e}"))
        };
        match flag.as_str() {
            "--messages" => settings.messages = number()?,
            "--kafka-messages" => settings.kafka_messages = number()?,
            "--memory-messages" => settings.memory_messages = number()?,
            "--batch" => settings.batch = number()?,
            "--window" => settings.window = number()?,
            "--rounds" => settings.rounds = number()?,
            "--warmup" => settings.warmup = value.parse().map_err(|e| format!("{flag}: {e}"))?,
            "--only" => {
                let mut only = Vec::new();
                for name in value.split(',') {
                    let contender = Contender::ALL
                        .into_iter()
                        .find(|c| c.key() == name.trim())
                        .ok_or_else(|| format!("--only: unknown contender `{name}`"))?;
                    only.push(contender);
                }
                settings.only = Some(only);
            }
            _ => return Err(format!("unknown argument `{flag}`\n{USAGE}")),
        }
    }
    Ok(settings)
}

fn main() {
    if std::env::var_os("RUST_LOG").is_some() {
        tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
            .with_writer(std::io::stderr)
            .init();
    }
    let settings = match parse_args() {
        Ok(settings) => settings,
        Err(message) => {
            eprintln!("{message}");
            std::process::exit(2);
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let contenders: Vec<Contender> = settings
        .only
        .clone()
        .unwrap_or_else(|| Contender::ALL.to_vec());
    let mut samples: Vec<Vec<Sample>> = vec![Vec::new(); contenders.len()];
    let mut failures: Vec<Vec<String>> = vec![Vec::new(); contenders.len()];
    let run_id = format!("{}x{}", std::process::id(), unix_seconds() % 100_000);
    for round in 0..settings.warmup + settings.rounds {
        let measured = round >= settings.warmup;
        for offset in 0..contenders.len() {
            let index = (offset + round) % contenders.len();
            let contender = contenders[index];
            let system = format!("bb{run_id}r{round}c{index}");
            let started = std::time::Instant::now();
            let outcome = runtime.block_on(contender.run(&settings, &system));
            match &outcome {
                Ok(s) => eprintln!(
                    "round {round}{} {:<22} {:>10.0} msg/s p50 {:>8.2} ms p99 {:>8.2} ms ({:.1?} with setup)",
                    if measured { "" } else { " (warm-up)" },
                    contender.key(),
                    s.rate,
                    ms(s.p50),
                    ms(s.p99),
                    started.elapsed()
                ),
                Err(e) => eprintln!("round {round} {}: FAILED: {e}", contender.key()),
            }
            if measured {
                match outcome {
                    Ok(sample) => samples[index].push(sample),
                    Err(e) => failures[index].push(e),
                }
            }
        }
    }
    report(&settings, &contenders, &samples, &failures);
}

fn unix_seconds() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    let n = values.len();
    match n {
        0 => f64::NAN,
        _ if n % 2 == 1 => values[n / 2],
        _ => (values[n / 2 - 1] + values[n / 2]) / 2.0,
    }
}

struct Summary {
    rate: f64,
    rate_min: f64,
    rate_max: f64,
    wall: f64,
    p50: f64,
    p99: f64,
}

fn summarize(samples: &[Sample]) -> Summary {
    let mut rates: Vec<f64> = samples.iter().map(|s| s.rate).collect();
    let mut walls: Vec<f64> = samples.iter().map(|s| s.wall.as_secs_f64()).collect();
    let mut p50: Vec<f64> = samples.iter().map(|s| ms(s.p50)).collect();
    let mut p99: Vec<f64> = samples.iter().map(|s| ms(s.p99)).collect();
    Summary {
        rate_min: rates.iter().copied().fold(f64::INFINITY, f64::min),
        rate_max: rates.iter().copied().fold(0.0, f64::max),
        rate: median(&mut rates),
        wall: median(&mut walls),
        p50: median(&mut p50),
        p99: median(&mut p99),
    }
}

fn report(
    settings: &Settings,
    contenders: &[Contender],
    samples: &[Vec<Sample>],
    failures: &[Vec<String>],
) {
    println!(
        "- workload: {} messages per broker run ({} on Kafka, {} in process), envelope {} bytes of JSON, \
         published in batches of {} (one `publish` call each) with a confirm window of {}, \
         one consumer acking each message; {} measured round(s) after {} warm-up round(s), \
         order rotated per round; medians over rounds",
        settings.messages,
        settings.kafka_messages.min(settings.messages),
        settings.memory_messages,
        workload::envelope_bytes(),
        settings.batch,
        settings.window,
        settings.rounds,
        settings.warmup,
    );
    let mut sections: Vec<&str> = Vec::new();
    for c in contenders {
        if !sections.contains(&c.section().0) {
            sections.push(c.section().0);
        }
    }
    for section in sections {
        println!();
        println!("#### {section}");
        println!();
        println!(
            "| contender | msgs/s (median) | min–max | wall s | p50 latency ms | p99 latency ms | vs baseline |"
        );
        println!("|---|---:|---:|---:|---:|---:|---:|");
        let baseline = contenders
            .iter()
            .position(|c| c.section() == (section, true))
            .filter(|&i| !samples[i].is_empty())
            .map(|i| summarize(&samples[i]).rate);
        for (i, c) in contenders.iter().enumerate() {
            if c.section().0 != section {
                continue;
            }
            if samples[i].is_empty() {
                println!(
                    "| {} | failed: {} | | | | | |",
                    c.label(),
                    failures[i].first().map_or("no run", String::as_str)
                );
                continue;
            }
            let s = summarize(&samples[i]);
            let ratio = baseline.map_or("–".to_owned(), |b| format!("{:.2}×", s.rate / b));
            let failed = if failures[i].is_empty() {
                String::new()
            } else {
                format!(" ({} failed run(s))", failures[i].len())
            };
            println!(
                "| {}{failed} | {:.0} | {:.0}–{:.0} | {:.2} | {:.2} | {:.2} | {ratio} |",
                c.label(),
                s.rate,
                s.rate_min,
                s.rate_max,
                s.wall,
                s.p50,
                s.p99
            );
        }
    }
}
