//! The client of the shop's flow benchmark (`scripts/bench-shop-flow.sh`,
//! docs/benchmarks/shop-flow.md). A flow is what `scripts/shop-flow.sh` walks, timed from the
//! checkout to the order shipped:
//!
//! 1. `checkout → placed`: Cart records `CartCheckedOut`; its relay publishes it; Ordering's
//!    policy places the order (the translation in user code);
//! 2. `placed → requested`: Ordering's relay publishes `OrderPlaced`; Payments' policy
//!    requests the payment;
//! 3. `capture`: the client captures it (a command);
//! 4. `captured → paid`: Payments' relay, Ordering's policy marks the order paid;
//! 5. `paid → prepared`: Ordering's relay, Shipping's policy prepares the shipment;
//! 6. `address + dispatch`: the client sets the address and dispatches (two commands);
//! 7. `dispatched → shipped`: Shipping's relay, Ordering's policy marks the order shipped.
//!
//! Each hop is seen on the aggregates (`GET /orders/{id}`, ids derived as the policies derive
//! them), not on views, so a view's refresh interval is not in the figures. Polls are 1 ms
//! apart; every request goes over a kept-alive connection per context.
//!
//! `latency`: one customer, `--flows` flows one after another (after `--warmup` untimed).
//! `load`: `--customers` customers at once for `--seconds`, each walking flows.
//! One line per mode on stdout:
//!
//! ```text
//! mode=latency customers=1 flows=200 seconds=4.1 flows_per_sec=48.6 p50_ms=19.8 p99_ms=31.0 placed_p50_ms=... requested_p50_ms=... ...
//! ```
//!
//! ```text
//! shop-flow-client latency --addr HOST:PORT [--flows 200] [--warmup 20]
//! shop-flow-client load --addr HOST:PORT [--customers 16] [--seconds 20]
//! ```
//!
//! `--catalog`, `--cart`, `--ordering`, `--payments`, `--shipping` address the contexts of the
//! services; each defaults to `--addr`.

#[path = "../../view-http/src/http.rs"]
#[allow(dead_code, reason = "the views' bench reads response headers this one does not")]
mod http;
#[path = "../../view-http/src/options.rs"]
mod options;

use std::net::SocketAddr;
use std::process::ExitCode;
use std::rc::Rc;
use std::time::{Duration, Instant};

use http::{Connection, Response};
use options::Options;
use serde_json::{Value, json};
use uuid::Uuid;

const USAGE: &str = "usage: shop-flow-client latency --addr HOST:PORT [--flows N] [--warmup N]
       shop-flow-client load --addr HOST:PORT [--customers N] [--seconds N]
       (--catalog, --cart, --ordering, --payments, --shipping: one context each)";

/// The policies' consumers, whose names derive the ids of what they create (uuid v5 of the
/// event id), as the generated policies do.
const ORDERING_PLACES: &str = "ordering-on-cart-cart-checked-out-run-order-place-order";
const PAYMENTS_REQUESTS: &str = "payments-on-ordering-order-placed-run-payment-request-payment";
const SHIPPING_PREPARES: &str = "shipping-on-ordering-order-paid-run-shipment-prepare-shipment";

/// How long a hop may take before the flow is called stuck.
const HOP_TIMEOUT: Duration = Duration::from_secs(30);
const POLL: Duration = Duration::from_millis(1);

/// The hops of a flow, in order, as reported.
const HOPS: [&str; 7] = [
    "placed",
    "requested",
    "capture",
    "paid",
    "prepared",
    "address_dispatch",
    "shipped",
];

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some((mode, options)) = args.split_first() else {
        eprintln!("{USAGE}");
        return ExitCode::from(2);
    };
    let outcome = Options::parse(options).and_then(|options| {
        // One thread: the client shares the machine with the shop, and mostly waits on it.
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime");
        let local = tokio::task::LocalSet::new();
        local.block_on(&runtime, async {
            match mode.as_str() {
                "latency" => latency(&options).await,
                "load" => load(&options).await,
                other => Err(format!("unknown mode `{other}`")),
            }
        })
    });
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("shop-flow-client: FAILED: {error}\n{USAGE}");
            ExitCode::FAILURE
        }
    }
}

/// The shop's options.
trait ShopOptions {
    fn shop(&self) -> Result<Addresses, String>;
}

impl ShopOptions for Options {
    /// Each context at `--<context>`, else at `--addr`.
    fn shop(&self) -> Result<Addresses, String> {
        let addr = |context: &str| match self.get(context) {
            Some(_) => self.addr(context),
            None => self.addr("addr"),
        };
        Ok(Addresses {
            catalog: addr("catalog")?,
            cart: addr("cart")?,
            ordering: addr("ordering")?,
            payments: addr("payments")?,
            shipping: addr("shipping")?,
        })
    }
}

#[derive(Clone, Copy)]
struct Addresses {
    catalog: SocketAddr,
    cart: SocketAddr,
    ordering: SocketAddr,
    payments: SocketAddr,
    shipping: SocketAddr,
}

/// A customer's connections, one per context.
struct Customer {
    cart: Connection,
    ordering: Connection,
    payments: Connection,
    shipping: Connection,
    products: Rc<[String; 2]>,
}

/// How long each hop of one flow took, and the whole.
struct Timed {
    hops: [Duration; HOPS.len()],
    total: Duration,
}

async fn latency(options: &Options) -> Result<(), String> {
    let shop = options.shop()?;
    let flows = options.number("flows", 200)?;
    let warmup = options.number("warmup", 20)?;
    let products = Rc::new(products(shop.catalog).await?);
    let mut customer = Customer::new(shop, products);
    for _ in 0..warmup {
        customer.flow().await?;
    }
    let started = Instant::now();
    let mut timed = Vec::new();
    for _ in 0..flows {
        timed.push(customer.flow().await?);
    }
    report("latency", 1, &timed, started.elapsed());
    Ok(())
}

async fn load(options: &Options) -> Result<(), String> {
    let shop = options.shop()?;
    let customers = options.number("customers", 16)?;
    let seconds = options.number("seconds", 20)?;
    let products = Rc::new(products(shop.catalog).await?);
    let started = Instant::now();
    let until = started + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    for _ in 0..customers {
        let mut customer = Customer::new(shop, Rc::clone(&products));
        tasks.push(tokio::task::spawn_local(async move {
            let mut timed = Vec::new();
            while Instant::now() < until {
                timed.push(customer.flow().await?);
            }
            Ok::<_, String>(timed)
        }));
    }
    let mut timed = Vec::new();
    for task in tasks {
        timed.extend(task.await.map_err(|error| error.to_string())??);
    }
    report("load", customers, &timed, started.elapsed());
    Ok(())
}

fn report(mode: &str, customers: u64, timed: &[Timed], elapsed: Duration) {
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let mut totals: Vec<Duration> = timed.iter().map(|t| t.total).collect();
    let mut line = format!(
        "mode={mode} customers={customers} flows={} seconds={:.1} flows_per_sec={:.1} p50_ms={:.1} p99_ms={:.1}",
        timed.len(),
        elapsed.as_secs_f64(),
        timed.len() as f64 / elapsed.as_secs_f64(),
        ms(percentile(&mut totals, 0.50)),
        ms(percentile(&mut totals, 0.99)),
    );
    for (index, hop) in HOPS.iter().enumerate() {
        let mut durations: Vec<Duration> = timed.iter().map(|t| t.hops[index]).collect();
        line.push_str(&format!(
            " {hop}_p50_ms={:.1}",
            ms(percentile(&mut durations, 0.50))
        ));
    }
    println!("{line}");
}

fn percentile(values: &mut [Duration], p: f64) -> Duration {
    if values.is_empty() {
        return Duration::ZERO;
    }
    values.sort_unstable();
    let rank = ((values.len() as f64 * p).ceil() as usize).clamp(1, values.len());
    values[rank - 1]
}

fn money(cents: i64) -> Value {
    json!({ "amount_cents": cents, "currency": "EUR" })
}

/// A tea and a jam, for every cart.
async fn products(catalog: SocketAddr) -> Result<[String; 2], String> {
    let mut connection = Connection::new(catalog);
    let mut ids = Vec::new();
    for (name, cents) in [("Tea", 450), ("Jam", 320)] {
        let body = json!({ "name": name, "price": money(cents) }).to_string();
        let created = expect(connection.post("/products", &body).await, 201, "a product")?;
        ids.push(id(&created)?);
    }
    Ok([ids[0].clone(), ids[1].clone()])
}

impl Customer {
    fn new(shop: Addresses, products: Rc<[String; 2]>) -> Self {
        Self {
            cart: Connection::new(shop.cart),
            ordering: Connection::new(shop.ordering),
            payments: Connection::new(shop.payments),
            shipping: Connection::new(shop.shipping),
            products,
        }
    }

    async fn flow(&mut self) -> Result<Timed, String> {
        let body = json!({ "customer": Uuid::new_v4().to_string() }).to_string();
        let cart = id(&expect(
            self.cart.post("/shopping-carts", &body).await,
            201,
            "a cart",
        )?)?;
        for (product, quantity, cents) in [(&self.products[0], 2, 450), (&self.products[1], 1, 320)]
        {
            let item =
                json!({ "product": product, "quantity": quantity, "unit_price": money(cents) });
            let path = format!("/shopping-carts/{cart}/add-item");
            expect(self.cart.post(&path, &item.to_string()).await, 200, "an item")?;
        }

        let mut hops = [Duration::ZERO; HOPS.len()];
        let started = Instant::now();
        let mut lap = started;
        let mut split = |hop: usize| {
            let now = Instant::now();
            hops[hop] = now - lap;
            lap = now;
        };
        let path = format!("/shopping-carts/{cart}/check-out");
        expect(self.cart.post(&path, "{}").await, 200, "the checkout")?;
        let checked_out = event_id(&mut self.cart, &format!("/shopping-carts/{cart}"), "CartCheckedOut").await?;
        let order = derived(checked_out, ORDERING_PLACES);
        let order_path = format!("/orders/{order}");
        until(&mut self.ordering, &order_path, "the order placed", |body| {
            body["state"]["total"]["amount_cents"] == 1220
        })
        .await?;
        split(0);

        let placed = event_id(&mut self.ordering, &order_path, "OrderPlaced").await?;
        let payment = derived(placed, PAYMENTS_REQUESTS);
        let payment_path = format!("/payments/{payment}");
        until(&mut self.payments, &payment_path, "the payment requested", |_| true).await?;
        split(1);

        let path = format!("{payment_path}/capture");
        expect(self.payments.post(&path, "{}").await, 200, "the capture")?;
        split(2);

        until(&mut self.ordering, &order_path, "the order paid", |body| {
            body["state"]["status"] == "Paid"
        })
        .await?;
        split(3);

        let paid = event_id(&mut self.ordering, &order_path, "OrderPaid").await?;
        let shipment = derived(paid, SHIPPING_PREPARES);
        let shipment_path = format!("/shipments/{shipment}");
        until(&mut self.shipping, &shipment_path, "the shipment prepared", |_| true).await?;
        split(4);

        let address = json!({ "address": { "street": "1 Long Lane", "city": "Leeds", "zip": "LS1 4AP" } });
        let path = format!("{shipment_path}/set-address");
        expect(self.shipping.post(&path, &address.to_string()).await, 200, "the address")?;
        let path = format!("{shipment_path}/dispatch");
        let dispatch = json!({ "dispatched_at": "2026-12-01T12:00:00Z" }).to_string();
        expect(self.shipping.post(&path, &dispatch).await, 200, "the dispatch")?;
        split(5);

        until(&mut self.ordering, &order_path, "the order shipped", |body| {
            body["state"]["status"] == "Shipped"
        })
        .await?;
        split(6);
        Ok(Timed {
            hops,
            total: started.elapsed(),
        })
    }
}

/// GETs `path` every millisecond until it answers 200 with a body `done` accepts.
async fn until(
    connection: &mut Connection,
    path: &str,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Result<Value, String> {
    let deadline = Instant::now() + HOP_TIMEOUT;
    loop {
        let response = connection
            .get(path, None)
            .await
            .map_err(|error| format!("GET {path}: {error}"))?;
        if response.status == 200 {
            let body: Value = serde_json::from_slice(&response.body)
                .map_err(|error| format!("GET {path}: {error}"))?;
            if done(&body) {
                return Ok(body);
            }
        } else if response.status != 404 {
            return Err(format!("GET {path}: {} {}", response.status, response.text()));
        }
        if Instant::now() > deadline {
            return Err(format!("{what}: not within {HOP_TIMEOUT:?} ({path})"));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The id of the `event_type` event of the aggregate at `path`.
async fn event_id(connection: &mut Connection, path: &str, event_type: &str) -> Result<Uuid, String> {
    let events = expect(connection.get(&format!("{path}/events"), None).await, 200, "events")?;
    let events: Value = serde_json::from_slice(&events.body).map_err(|error| error.to_string())?;
    events
        .as_array()
        .into_iter()
        .flatten()
        .find(|event| event["type"] == event_type)
        .and_then(|event| event["event_id"].as_str()?.parse().ok())
        .ok_or_else(|| format!("{path} has no {event_type}: {events}"))
}

fn derived(event: Uuid, consumer: &str) -> Uuid {
    Uuid::new_v5(&event, consumer.as_bytes())
}

fn expect(
    response: std::io::Result<Response>,
    status: u16,
    what: &str,
) -> Result<Response, String> {
    let response = response.map_err(|error| format!("{what}: {error}"))?;
    if response.status == status {
        Ok(response)
    } else {
        Err(format!(
            "{what}: expected {status}, got {} {}",
            response.status,
            response.text()
        ))
    }
}

fn id(response: &Response) -> Result<String, String> {
    let body: Value = serde_json::from_slice(&response.body).map_err(|error| error.to_string())?;
    body["id"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| format!("no id in {}", response.text()))
}
