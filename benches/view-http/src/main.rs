//! The client of the views' HTTP benchmark (`scripts/bench-view-http.sh`,
//! docs/benchmarks/views.md), against the generated Ordering service of `examples/shop/shop.ddd`
//! (`shop-ordering`) and its two views: `OrderSummary` (`GET /order-summaries`, a row per
//! order, filtered on `customer`) and `CustomerTotals` (`GET /customer-totals/{customer}`,
//! a row per customer).
//!
//! `latency`: `--tasks` tasks, each on its own kept-alive connection, loop: a fresh
//! customer, `POST /orders` for it, at once a read of one view with the command's
//! `Consistency-Token` (the views alternate from one iteration to the next), then the same
//! read without the token (the row is visible by then: the baseline). The first `--warmup`
//! iterations of each task are not timed. One line per view on stdout:
//!
//! ```text
//! view=order-summaries tasks=1 n=1500 commands=1650 cmd_p50_ms=1.2 cmd_p99_ms=3.4 token_p50_ms=... token_p99_ms=... token_max_ms=... plain_p50_ms=... plain_p99_ms=... found=1500 missed=0
//! ```
//!
//! A token read that does not show the order (the row missing, or a 503: the view did not
//! catch up within the service's `VIEW_WAIT_MS`) is a miss: each is described on stderr, with
//! how long the row then took to show to reads without the token, and any miss makes the
//! exit code 1.
//!
//! `load`: `--concurrency` tasks place `--orders` orders over `--customers` customers, then
//! one more order, whose token both views are read with (retried on 503) until they show it:
//! the views have caught up. It checks that the customers' totals add up to every order
//! placed, and writes the request paths wrk rotates through into `--out`:
//! `summaries.paths` (`/order-summaries?customer=C&sort=-placed_at&limit=50` per customer),
//! `totals.paths` (`/customer-totals/C` per customer), `orders.paths` (`/orders/ID` per
//! order, shuffled). One line on stdout:
//!
//! ```text
//! orders=100000 customers=300 seconds=41.2 orders_per_sec=2427 p50_ms=6.1 p99_ms=15.2 catch_up_ms=3 commands=100001
//! ```
//!
//! ```text
//! view-http-client latency --addr HOST:PORT [--tasks 1] [--iterations 3000] [--warmup 300]
//! view-http-client load --addr HOST:PORT --out DIR [--orders 100000] [--customers 300] [--concurrency 16]
//! ```
//!
//! `--iterations` and `--warmup` are totals over the tasks.

mod http;
mod options;

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use http::{Connection, Response};
use options::Options;
use serde_json::Value;
use uuid::Uuid;

const USAGE: &str = "usage: view-http-client latency --addr HOST:PORT [--tasks N] [--iterations N] [--warmup N]
       view-http-client load --addr HOST:PORT --out DIR [--orders N] [--customers N] [--concurrency N]";

/// The misses described on stderr, at most.
const MISSES_SHOWN: usize = 10;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((mode, options)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let options = match Options::parse(options) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("view-http-client: {error}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // One thread: the client shares the machine with the service, and waits on it.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a tokio runtime");
    let outcome = runtime.block_on(async {
        match mode.as_str() {
            "latency" => latency(&options).await,
            "load" => load(&options).await,
            other => Err(format!("unknown mode `{other}`\n{USAGE}")),
        }
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("view-http-client: FAILED: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The two views, and how a response shows an order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum ViewKind {
    Summaries,
    Totals,
}

const VIEWS: [ViewKind; 2] = [ViewKind::Summaries, ViewKind::Totals];

impl ViewKind {
    fn name(self) -> &'static str {
        match self {
            Self::Summaries => "order-summaries",
            Self::Totals => "customer-totals",
        }
    }

    /// The read of `customer`'s rows.
    fn path(self, customer: &str) -> String {
        match self {
            Self::Summaries => {
                format!("/order-summaries?customer={customer}&sort=-placed_at&limit=50")
            }
            Self::Totals => format!("/customer-totals/{customer}"),
        }
    }

    /// Whether `response` shows order `order` (a customer's only order): `Ok(false)` when the
    /// row is not there yet, an error for anything but 200 or a missing row.
    fn shows(self, response: &Response, order: &str) -> Result<bool, String> {
        match (self, response.status) {
            (_, 200) => {}
            (Self::Totals, 404) => return Ok(false),
            (_, status) => return Err(format!("{status}: {}", response.text())),
        }
        let body: Value = serde_json::from_slice(&response.body)
            .map_err(|error| format!("{error}: {}", response.text()))?;
        Ok(match self {
            Self::Summaries => body["items"]
                .as_array()
                .is_some_and(|items| items.iter().any(|item| item["id"].as_str() == Some(order))),
            Self::Totals => body["orders"].as_u64().is_some_and(|orders| orders >= 1),
        })
    }
}

/// `POST /orders` of one order of one line for `customer`.
fn order_body(customer: &str) -> String {
    format!(
        r#"{{"customer":"{customer}","lines":[{{"product":"{}","quantity":1,"unit_price":{{"amount_cents":100,"currency":"EUR"}}}}],"total":{{"amount_cents":100,"currency":"EUR"}}}}"#,
        Uuid::new_v4()
    )
}

/// Places an order for `customer`: its id and its consistency token.
async fn place(connection: &mut Connection, customer: &str) -> Result<(String, String), String> {
    let response = connection
        .post("/orders", &order_body(customer))
        .await
        .map_err(|error| format!("POST /orders: {error}"))?;
    if response.status != 201 {
        return Err(format!(
            "POST /orders: {}: {}",
            response.status,
            response.text()
        ));
    }
    let id = response
        .location
        .as_deref()
        .and_then(|location| location.strip_prefix("/orders/"))
        .ok_or("POST /orders: 201 without a Location /orders/{id}")?
        .to_owned();
    let token = response
        .token
        .ok_or("POST /orders: 201 without a Consistency-Token")?;
    Ok((id, token))
}

/// A view read's outcome.
async fn read(
    connection: &mut Connection,
    view: ViewKind,
    customer: &str,
    token: Option<&str>,
) -> Result<Response, String> {
    let path = view.path(customer);
    connection
        .get(&path, token)
        .await
        .map_err(|error| format!("GET {path}: {error}"))
}

/// The timings of one view.
#[derive(Debug, Default)]
struct Samples {
    command: Vec<Duration>,
    token: Vec<Duration>,
    plain: Vec<Duration>,
    found: usize,
    missed: usize,
    commands: usize,
}

impl Samples {
    fn merge(&mut self, other: Self) {
        self.command.extend(other.command);
        self.token.extend(other.token);
        self.plain.extend(other.plain);
        self.found += other.found;
        self.missed += other.missed;
        self.commands += other.commands;
    }
}

/// Nearest-rank percentile `p` (0–100) of sorted `values`, in ms.
fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((p / 100.0 * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1].as_secs_f64() * 1000.0
}

fn p50_p99(values: &mut [Duration]) -> (f64, f64) {
    values.sort_unstable();
    (percentile(values, 50.0), percentile(values, 99.0))
}

async fn latency(options: &Options) -> Result<(), String> {
    let addr = options.addr("addr")?;
    let tasks = options.number("tasks", 1)?.max(1);
    let iterations = options.number("iterations", 3000)?;
    let warmup = options.number("warmup", 300)?;
    let misses = Arc::new(AtomicUsize::new(0));
    let mut handles = Vec::with_capacity(tasks);
    for task in 0..tasks {
        // The totals over the tasks, shared out.
        let share = |total: usize| total / tasks + usize::from(task < total % tasks);
        let (timed, untimed) = (share(iterations), share(warmup));
        let misses = Arc::clone(&misses);
        handles.push(tokio::spawn(async move {
            customer_loop(addr, task, untimed, timed, &misses).await
        }));
    }
    let mut samples = [Samples::default(), Samples::default()];
    for handle in handles {
        let [summaries, totals] = handle.await.map_err(|error| error.to_string())??;
        samples[0].merge(summaries);
        samples[1].merge(totals);
    }
    for (view, samples) in VIEWS.iter().zip(&mut samples) {
        let (cmd_p50, cmd_p99) = p50_p99(&mut samples.command);
        let (token_p50, token_p99) = p50_p99(&mut samples.token);
        let token_max = samples
            .token
            .last()
            .map_or(f64::NAN, |max| max.as_secs_f64() * 1000.0);
        let (plain_p50, plain_p99) = p50_p99(&mut samples.plain);
        println!(
            "view={} tasks={tasks} n={} commands={} cmd_p50_ms={cmd_p50:.3} cmd_p99_ms={cmd_p99:.3} \
             token_p50_ms={token_p50:.3} token_p99_ms={token_p99:.3} token_max_ms={token_max:.3} \
             plain_p50_ms={plain_p50:.3} plain_p99_ms={plain_p99:.3} found={} missed={}",
            view.name(),
            samples.token.len(),
            samples.commands,
            samples.found,
            samples.missed,
        );
    }
    let missed: usize = samples.iter().map(|samples| samples.missed).sum();
    if missed > 0 {
        return Err(format!(
            "{missed} reads with a consistency token did not show their command (above)"
        ));
    }
    Ok(())
}

/// One task of `latency`: `untimed` then `timed` iterations on its own connection.
async fn customer_loop(
    addr: SocketAddr,
    task: usize,
    untimed: usize,
    timed: usize,
    misses: &AtomicUsize,
) -> Result<[Samples; 2], String> {
    let mut connection = Connection::new(addr);
    let mut samples = [Samples::default(), Samples::default()];
    for iteration in 0..untimed + timed {
        let which = (iteration + task) % 2;
        let view = VIEWS[which];
        let samples = &mut samples[which];
        let customer = Uuid::new_v4().to_string();

        let started = Instant::now();
        let (order, token) = place(&mut connection, &customer).await?;
        let command = started.elapsed();
        samples.commands += 1;

        let started = Instant::now();
        let response = read(&mut connection, view, &customer, Some(&token)).await?;
        let token_read = started.elapsed();
        let shown = match response.status {
            503 => false,
            _ => view
                .shows(&response, &order)
                .map_err(|error| format!("GET {} with a token: {error}", view.path(&customer)))?,
        };
        if !shown {
            let visible_after = wait_visible(&mut connection, view, &customer, &order).await?;
            let count = misses.fetch_add(1, Ordering::Relaxed);
            if count < MISSES_SHOWN {
                eprintln!(
                    "MISS: GET {} with the token of order {order} answered {} after {:.3} ms: {}; \
                     without the token the row showed {visible_after}",
                    view.path(&customer),
                    response.status,
                    token_read.as_secs_f64() * 1000.0,
                    response.text(),
                );
            }
            if iteration >= untimed {
                samples.missed += 1;
            }
            continue;
        }

        let started = Instant::now();
        let response = read(&mut connection, view, &customer, None).await?;
        let plain = started.elapsed();
        if !view.shows(&response, &order)? {
            return Err(format!(
                "GET {} showed order {order} with its token, then not without it: {}",
                view.path(&customer),
                response.text()
            ));
        }
        if iteration >= untimed {
            samples.command.push(command);
            samples.token.push(token_read);
            samples.plain.push(plain);
            samples.found += 1;
        }
    }
    Ok(samples)
}

/// After a miss: how long until reads without the token show the order (polled every ms,
/// for up to 10 s), described.
async fn wait_visible(
    connection: &mut Connection,
    view: ViewKind,
    customer: &str,
    order: &str,
) -> Result<String, String> {
    let started = Instant::now();
    while started.elapsed() < Duration::from_secs(10) {
        let response = read(connection, view, customer, None).await?;
        if view.shows(&response, order)? {
            return Ok(format!(
                "{:.1} ms later",
                started.elapsed().as_secs_f64() * 1000.0
            ));
        }
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    Ok("not within 10 s".to_owned())
}

async fn load(options: &Options) -> Result<(), String> {
    let addr = options.addr("addr")?;
    let orders = options.number("orders", 100_000)?;
    let count = options.number("customers", 300)?.max(1);
    let concurrency = options.number("concurrency", 16)?.max(1);
    let out = PathBuf::from(options.get("out").ok_or("--out is required")?);
    let customers: Arc<Vec<String>> =
        Arc::new((0..count).map(|_| Uuid::new_v4().to_string()).collect());

    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut handles = Vec::with_capacity(concurrency);
    for _ in 0..concurrency {
        let (next, customers) = (Arc::clone(&next), Arc::clone(&customers));
        handles.push(tokio::spawn(async move {
            let mut connection = Connection::new(addr);
            let mut placed = Vec::new();
            let mut latencies = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= orders {
                    return Ok::<_, String>((placed, latencies));
                }
                let began = Instant::now();
                let (order, _) = place(&mut connection, &customers[n % customers.len()]).await?;
                latencies.push(began.elapsed());
                placed.push(order);
            }
        }));
    }
    let mut ids = Vec::with_capacity(orders);
    let mut latencies = Vec::with_capacity(orders);
    for handle in handles {
        let (placed, times) = handle.await.map_err(|error| error.to_string())??;
        ids.extend(placed);
        latencies.extend(times);
    }
    let seconds = started.elapsed().as_secs_f64();
    let (p50, p99) = p50_p99(&mut latencies);

    // One more order, placed after every other committed: once both views show it with its
    // token, they have folded every order.
    let mut connection = Connection::new(addr);
    let (last, token) = place(&mut connection, &customers[0]).await?;
    ids.push(last.clone());
    let caught_up = Instant::now();
    for view in VIEWS {
        loop {
            let response = read(&mut connection, view, &customers[0], Some(&token)).await?;
            if response.status == 503 {
                eprintln!("load: {} still behind: {}", view.name(), response.text());
                continue;
            }
            if !view.shows(&response, &last)? {
                return Err(format!(
                    "GET {} with the last order's token does not show it: {}",
                    view.path(&customers[0]),
                    response.text()
                ));
            }
            break;
        }
    }
    let catch_up = caught_up.elapsed();

    // Every order counted once.
    let mut counted = 0;
    for customer in customers.iter() {
        let response = read(&mut connection, ViewKind::Totals, customer, None).await?;
        let body: Value = serde_json::from_slice(&response.body)
            .map_err(|error| format!("{error}: {}", response.text()))?;
        counted += body["orders"]
            .as_u64()
            .ok_or_else(|| format!("customer-totals/{customer}: {}", response.text()))?;
    }
    if counted != ids.len() as u64 {
        return Err(format!(
            "the customers' totals count {counted} orders, {} were placed",
            ids.len()
        ));
    }
    let response = read(&mut connection, ViewKind::Summaries, &customers[0], None).await?;
    let body: Value = serde_json::from_slice(&response.body).map_err(|error| error.to_string())?;
    let first_page = body["items"].as_array().map_or(0, Vec::len);

    std::fs::create_dir_all(&out).map_err(|error| format!("{}: {error}", out.display()))?;
    let write = |name: &str, lines: Vec<String>| -> Result<(), String> {
        let path: &Path = &out.join(name);
        std::fs::write(path, lines.join("\n") + "\n")
            .map_err(|error| format!("{}: {error}", path.display()))
    };
    write(
        "summaries.paths",
        customers
            .iter()
            .map(|c| ViewKind::Summaries.path(c))
            .collect(),
    )?;
    write(
        "totals.paths",
        customers.iter().map(|c| ViewKind::Totals.path(c)).collect(),
    )?;
    shuffle(&mut ids);
    write(
        "orders.paths",
        ids.iter().map(|id| format!("/orders/{id}")).collect(),
    )?;
    #[allow(clippy::cast_precision_loss)]
    let rate = orders as f64 / seconds;
    println!(
        "orders={orders} customers={count} seconds={seconds:.1} orders_per_sec={rate:.0} \
         p50_ms={p50:.3} p99_ms={p99:.3} catch_up_ms={:.1} first_page={first_page} commands={}",
        catch_up.as_secs_f64() * 1000.0,
        ids.len(),
    );
    Ok(())
}

/// Fisher–Yates with a xorshift seeded from a random UUID.
fn shuffle<T>(items: &mut [T]) {
    let mut state = (Uuid::new_v4().as_u128() as u64) | 1;
    for i in (1..items.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        #[allow(clippy::cast_possible_truncation)]
        let j = (state % (i as u64 + 1)) as usize;
        items.swap(i, j);
    }
}
