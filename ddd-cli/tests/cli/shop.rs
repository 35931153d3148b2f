//! The shop, end to end: `examples/shop` as the repository keeps it (its generated part up to
//! date with its model, the files a person wrote filled in), built, linted and tested, then
//! run as a modular monolith and as services on this machine's PostgreSQL and NATS (and once
//! on RabbitMQ), driven over HTTP from an open cart to a shipped order, by this test and by
//! the README's `scripts/shop-flow.sh`.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use uuid::Uuid;

use crate::SHOP;
use crate::generate::{TARGET_DIR_LOCK, cargo_locked, check_workspace, generated_target_dir};
use crate::harness::{Output, Test};

/// The trace every request of a flow carries, as a client's own trace would.
const TRACE_ID: &str = "4bf92f3577b34da6a3ce929d0e0e4736";

/// Consumers whose created aggregate ids the flow derives, as the generated policies do.
const ORDERING_PLACES: &str = "ordering-on-cart-cart-checked-out-run-order-place-order";
const PAYMENTS_REQUESTS: &str = "payments-on-ordering-order-placed-run-payment-request-payment";
const SHIPPING_PREPARES: &str = "shipping-on-ordering-order-paid-run-shipment-prepare-shipment";

/// The repository's root.
fn repository() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("ddd-cli is in the repository")
        .to_path_buf()
}

/// `examples/shop`: the shop as a user keeps it.
fn example() -> PathBuf {
    repository().join("examples/shop")
}

/// A scratch directory where the example's `binaries`, built in place, run from
/// `out/bin`: their data and logs stay out of the repository.
fn built_example(args: &[&str], binaries: &[&str]) -> Output {
    let scratch = Output::scratch();
    build_into(&example(), args, binaries, &scratch.path("out"));
    scratch
}

/// What CI asks of the example: its generated part is what its model generates (a stale one
/// fails with the files named), and it builds with no warnings, passes clippy and rustfmt,
/// and its tests pass (the scenarios of the whole flow, the behaviour it overrides).
#[test]
fn the_shop_example_is_up_to_date_and_builds_lints_and_tests() {
    Test::new()
        .args([
            "generate",
            &example().join("shop.ddd").to_string_lossy(),
            "--out",
            &example().to_string_lossy(),
            "--runtime",
            "path:../..",
            "--check",
        ])
        .success();
    check_workspace(&example());
}

#[test]
fn the_shop_runs_end_to_end_as_a_monolith_and_the_readme_walk_is_green() {
    let out = built_example(&["build", "-p", "shop"], &["shop"]);
    let dir = out.path("out");
    let port = free_port();
    let env = [
        ("HTTP_ADDR", format!("127.0.0.1:{port}")),
        ("RUST_LOG", "info".to_owned()),
    ];
    let monolith = Process::start("shop", &dir, &env, port);
    let shop = Endpoints::all_at(port);
    let flow = shop.run_flow();
    let spent = 2 * 1250 + 3 * 199;
    views_show_the_flow(port, &flow, 1, spent);

    // Killed without a chance to finish anything, restarted on the same files: the views
    // resume from their checkpoints and count nothing twice.
    let mut monolith = monolith;
    monolith.kill();
    let log = monolith.log();
    let monolith = Process::start("shop", &dir, &env, port);
    views_show_the_flow(port, &flow, 1, spent);
    a_read_with_the_token_sees_the_command(port, &flow, spent);
    walk_with_the_flow_script(&[("SHOP_URL", format!("http://127.0.0.1:{port}"))]);
    monolith.stop_gracefully();
    for policy in [ORDERING_PLACES, PAYMENTS_REQUESTS, SHIPPING_PREPARES] {
        assert!(
            log.lines()
                .any(|line| line.contains(TRACE_ID) && line.contains(policy)),
            "no log line of {policy} with the trace id:\n{log}"
        );
    }
    assert_eq!(
        flow.order_events,
        ["OrderPlaced", "OrderPaid", "OrderShipped"]
    );
}

/// `scripts/shop-flow.sh`, as the README has a newcomer run it, completes every step.
fn walk_with_the_flow_script(urls: &[(&str, String)]) {
    let output = flow_script(urls, PATIENCE);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the walk failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        stdout.contains("[14] Views: the customer's totals"),
        "{stdout}"
    );
    assert!(stdout.contains("the whole flow took 14 steps"), "{stdout}");
}

/// `scripts/shop-flow.sh` with these variables, each wait on the bus bounded by `wait`.
fn flow_script(env: &[(&str, String)], wait: Duration) -> std::process::Output {
    Command::new(repository().join("scripts/shop-flow.sh"))
        .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
        .env("WAIT_SECS", wait.as_secs().to_string())
        .output()
        .expect("the flow script runs (bash, curl and jq)")
}

/// The shop as `ddd generate` leaves it, before anyone writes the Cart -> Ordering
/// translation: the walk stops at the order that never comes, saying which step, what it
/// asked and what came back, and showing the dead letter's warning from the log.
#[test]
fn the_walk_stops_at_the_unwritten_translation_and_shows_why() {
    let out = Test::new()
        .file("shop.ddd", &SHOP.replace("system Shop", "system Unwritten"))
        .args(["generate", "shop.ddd", "--out", "out", "-q"])
        .success();
    let dir = out.path("out");
    build_binaries(&dir, &["build", "-p", "unwritten"], &["unwritten"]);
    let port = free_port();
    let env = [
        ("HTTP_ADDR", format!("127.0.0.1:{port}")),
        ("RUST_LOG", "info".to_owned()),
    ];
    let monolith = Process::start("unwritten", &dir, &env, port);
    let output = flow_script(
        &[
            ("SHOP_URL", format!("http://127.0.0.1:{port}")),
            ("SHOP_LOGS", monolith.log.to_string_lossy().into_owned()),
            ("QUIET", "1".to_owned()),
        ],
        Duration::from_secs(3),
    );
    monolith.stop_gracefully();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!output.status.success(), "the walk cannot pass:\n{stderr}");
    for expected in [
        "FAILED at step 5: the order did not happen within 3s",
        "request:  GET http://127.0.0.1:",
        "/order-summaries?customer=",
        r#"response: 200 {"items":[],"next":null}"#,
        "warnings and errors in",
        "event not handled",
        "has no field `total` of type `Money`",
    ] {
        assert!(stderr.contains(expected), "no `{expected}` in:\n{stderr}");
    }
}

/// The customer's orders list the flow's order, shipped, and the customer's totals count
/// `orders` orders worth `spent` cents, each once.
fn views_show_the_flow(port: u16, flow: &Flow, orders: u64, spent: i64) {
    let customer = flow.customer;
    let summaries = eventually("the order summary shows the order shipped", || {
        let page = get(
            port,
            &format!("/order-summaries?customer={customer}&sort=-placed_at"),
        )
        .body;
        let rows = page["items"].as_array()?.clone();
        rows.iter()
            .any(|row| row["id"] == json!(flow.order) && row["status"] == "Shipped")
            .then_some(rows)
    });
    assert_eq!(summaries[0]["line_count"], 2, "{summaries:?}");
    let totals = eventually("the customer's totals count the orders", || {
        let row = get(port, &format!("/customer-totals/{customer}")).body;
        (row["orders"] == json!(orders)).then_some(row)
    });
    assert_eq!(totals["spent_cents"], spent, "{totals}");
    // Nothing counted late: the totals stay.
    std::thread::sleep(Duration::from_millis(300));
    let again = get(port, &format!("/customer-totals/{customer}")).body;
    assert_eq!(again, totals, "counted twice");
}

/// An order placed over HTTP shows, read with its token at once, in the customer's list and
/// totals; a bad filter is a 400 naming it.
fn a_read_with_the_token_sees_the_command(port: u16, flow: &Flow, spent: i64) {
    let customer = flow.customer;
    let total = json!({ "amount_cents": 100, "currency": "EUR" });
    let line = json!({ "product": Uuid::now_v7(), "quantity": 1, "unit_price": total });
    let placed = post(
        port,
        "/orders",
        &json!({ "customer": customer, "lines": [line], "total": total }),
    );
    assert_eq!(placed.status, 201, "{}", placed.body);
    let token = placed.token.expect("a consistency token");
    let order = placed.body["id"].as_str().expect("an id").to_owned();
    let page = get_after(
        port,
        &format!("/order-summaries?customer={customer}&sort=-placed_at"),
        &token,
    );
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(
        page.body["items"][0]["id"],
        json!(order),
        "newest first: {}",
        page.body
    );
    let totals = get_after(port, &format!("/customer-totals/{customer}"), &token);
    assert_eq!(totals.body["orders"], 2, "{}", totals.body);
    assert_eq!(totals.body["spent_cents"], spent + 100, "{}", totals.body);
    let bad = get(port, "/order-summaries?total=5");
    assert_eq!(
        (bad.status, &bad.body["parameter"]),
        (400, &json!("total")),
        "{}",
        bad.body
    );
}

#[test]
fn the_shop_runs_as_services_on_postgres_and_nats_through_a_killed_ordering() {
    services_scenario(&env_url("NATS_URL", "nats://127.0.0.1:4222"));
}

#[test]
fn the_shop_runs_as_services_on_postgres_and_rabbitmq_through_a_killed_ordering() {
    services_scenario(&env_url(
        "AMQP_URL",
        "amqp://guest:guest@127.0.0.1:5672/%2f",
    ));
}

pub(crate) fn env_url(name: &str, default: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| default.to_owned())
}

/// Every context its own process on its own PostgreSQL database, over a real broker; two
/// Payments replicas compete for its events; Ordering is killed with SIGKILL right after
/// the checkout and started again. The flow completes with every step done once, and the
/// flow's trace id is in the log of every service it crossed.
fn services_scenario(bus_url: &str) {
    let binaries = [
        "shop-catalog",
        "shop-cart",
        "shop-ordering",
        "shop-payments",
        "shop-shipping",
    ];
    let out = built_example(
        &["build", "--workspace", "--bins", "--all-features"],
        &binaries,
    );
    let dir = out.path("out");
    let run = Uuid::new_v4().simple().to_string()[..12].to_owned();
    let namespace = format!("shop-e2e-{run}");
    let databases = Databases::create(
        &run,
        &["catalog", "cart", "ordering", "payments", "shipping"],
    );
    let start = |context: &str, port: u16| {
        let env = [
            ("HTTP_ADDR", format!("127.0.0.1:{port}")),
            ("DATABASE_URL", databases.url(context)),
            ("BUS_URL", bus_url.to_owned()),
            ("BUS_NAMESPACE", namespace.clone()),
            ("RUST_LOG", "info".to_owned()),
        ];
        Process::start(&format!("shop-{context}"), &dir, &env, port)
    };
    let shop = Endpoints {
        catalog: free_port(),
        cart: free_port(),
        ordering: free_port(),
        payments: vec![free_port(), free_port()],
        shipping: free_port(),
    };
    let catalog = start("catalog", shop.catalog);
    let cart = start("cart", shop.cart);
    let mut ordering = Some(start("ordering", shop.ordering));
    let payments: Vec<Process> = shop
        .payments
        .iter()
        .map(|&port| start("payments", port))
        .collect();
    let shipping = start("shipping", shop.shipping);

    let mut killed_log = String::new();
    let flow = shop.run_flow_with(|| {
        let mut victim = ordering.take().expect("ordering runs");
        victim.kill();
        killed_log = victim.log();
        ordering = Some(start("ordering", shop.ordering));
    });
    assert_eq!(
        flow.order_events,
        ["OrderPlaced", "OrderPaid", "OrderShipped"]
    );

    // More checkouts: each OrderPlaced is handled by exactly one of the two replicas.
    for _ in 0..3 {
        shop.check_out_a_cart();
    }
    let handled = |process: &Process| {
        process
            .log()
            .lines()
            .filter(|line| line.contains(PAYMENTS_REQUESTS) && line.contains("event handled"))
            .count()
    };
    let placed_orders = 4;
    eventually("every order has its one payment", || {
        let total: usize = payments.iter().map(handled).sum();
        (total >= placed_orders).then_some(())
    });
    std::thread::sleep(Duration::from_secs(1));
    let per_replica: Vec<usize> = payments.iter().map(handled).collect();
    assert_eq!(
        per_replica.iter().sum::<usize>(),
        placed_orders,
        "handled per replica: {per_replica:?}"
    );
    let url = |port: u16| format!("http://127.0.0.1:{port}");
    walk_with_the_flow_script(&[
        ("CATALOG_URL", url(shop.catalog)),
        ("CART_URL", url(shop.cart)),
        ("ORDERING_URL", url(shop.ordering)),
        ("PAYMENTS_URL", url(shop.payments[0])),
        ("SHIPPING_URL", url(shop.shipping)),
    ]);

    let ordering = ordering.take().expect("ordering runs");
    let logs = [
        ("catalog", catalog.stop_gracefully()),
        ("cart", cart.stop_gracefully()),
        (
            "ordering",
            format!("{killed_log}{}", ordering.stop_gracefully()),
        ),
        ("shipping", shipping.stop_gracefully()),
        (
            "payments",
            payments.into_iter().map(Process::stop_gracefully).collect(),
        ),
    ];
    for (context, log) in logs {
        assert!(
            log.contains(TRACE_ID),
            "the trace id is not in {context}'s log:\n{log}"
        );
    }
}

/// A PostgreSQL database per context, dropped at the end.
pub(crate) struct Databases {
    base: String,
    names: Vec<(String, String)>,
}

impl Databases {
    pub(crate) fn create(run: &str, contexts: &[&str]) -> Self {
        let base = env_url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/test");
        let names: Vec<(String, String)> = contexts
            .iter()
            .map(|context| ((*context).to_owned(), format!("shop_e2e_{run}_{context}")))
            .collect();
        for (_, name) in &names {
            psql(&base, &format!("CREATE DATABASE {name}"));
        }
        Self { base, names }
    }

    pub(crate) fn url(&self, context: &str) -> String {
        let (_, name) = self
            .names
            .iter()
            .find(|(c, _)| c == context)
            .expect("a context");
        let (server, _) = self.base.rsplit_once('/').expect("a database URL");
        format!("{server}/{name}")
    }
}

impl Drop for Databases {
    fn drop(&mut self) {
        for (_, name) in &self.names {
            let _ = Command::new("psql")
                .args([
                    self.base.as_str(),
                    "-qc",
                    &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
                ])
                .output();
        }
    }
}

fn psql(url: &str, sql: &str) {
    let output = Command::new("psql")
        .args([url, "-qc", sql])
        .output()
        .expect("psql runs (the PostgreSQL client must be installed)");
    assert!(
        output.status.success(),
        "{sql}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Where each context answers; Payments may run as several replicas.
struct Endpoints {
    catalog: u16,
    cart: u16,
    ordering: u16,
    payments: Vec<u16>,
    shipping: u16,
}

/// What a flow saw.
struct Flow {
    order_events: Vec<String>,
    customer: Uuid,
    order: String,
}

impl Endpoints {
    fn all_at(port: u16) -> Self {
        Self {
            catalog: port,
            cart: port,
            ordering: port,
            payments: vec![port],
            shipping: port,
        }
    }

    fn run_flow(&self) -> Flow {
        self.run_flow_with(|| {})
    }

    /// A cart with one item, checked out.
    fn check_out_a_cart(&self) {
        let cart = created(post(
            self.cart,
            "/shopping-carts",
            &json!({ "customer": Uuid::now_v7() }),
        ));
        let price = json!({ "amount_cents": 500, "currency": "EUR" });
        self.fill_and_check_out(&cart, &[(Uuid::now_v7().to_string(), 1, price)]);
    }

    /// Adds each `(product, quantity, unit price)` to the cart, then checks it out.
    fn fill_and_check_out(&self, cart: &str, items: &[(String, u32, Value)]) {
        for (product, quantity, unit_price) in items {
            let item =
                json!({ "product": product, "quantity": quantity, "unit_price": unit_price });
            ok(post(
                self.cart,
                &format!("/shopping-carts/{cart}/add-item"),
                &item,
            ));
        }
        ok(post(
            self.cart,
            &format!("/shopping-carts/{cart}/check-out"),
            &json!({}),
        ));
    }

    /// Products → cart → checkout → (`after_checkout`) → order → payment → capture →
    /// paid → shipment → dispatch → shipped, every request in one trace.
    fn run_flow_with(&self, after_checkout: impl FnOnce()) -> Flow {
        let price = |cents: i64| json!({ "amount_cents": cents, "currency": "EUR" });
        let book = created(post(
            self.catalog,
            "/products",
            &json!({ "name": "Book", "price": price(1250) }),
        ));
        let pen = created(post(
            self.catalog,
            "/products",
            &json!({ "name": "Pen", "price": price(199) }),
        ));
        let customer = Uuid::now_v7();
        let cart = created(post(
            self.cart,
            "/shopping-carts",
            &json!({ "customer": customer }),
        ));
        self.fill_and_check_out(&cart, &[(book, 2, price(1250)), (pen, 3, price(199))]);
        after_checkout();

        let checked_out = event_id(
            self.cart,
            &format!("/shopping-carts/{cart}"),
            "CartCheckedOut",
        );
        let order = derived(checked_out, ORDERING_PLACES);
        let placed = eventually("the order is placed", || {
            let response = get(self.ordering, &format!("/orders/{order}"));
            (response.status == 200).then_some(response.body)
        });
        assert_eq!(
            placed["state"]["total"],
            price(2 * 1250 + 3 * 199),
            "{placed}"
        );
        assert_eq!(placed["state"]["customer"], json!(customer), "{placed}");

        let order_placed = event_id(self.ordering, &format!("/orders/{order}"), "OrderPlaced");
        let payment = derived(order_placed, PAYMENTS_REQUESTS);
        let requested = eventually("a payment is requested", || {
            self.payments.iter().find_map(|&port| {
                let response = get(port, &format!("/payments/{payment}"));
                (response.status == 200).then_some(response.body)
            })
        });
        assert_eq!(
            requested["state"]["amount"], placed["state"]["total"],
            "{requested}"
        );
        ok(post(
            self.payments[0],
            &format!("/payments/{payment}/capture"),
            &json!({}),
        ));

        let paid = eventually("the order is paid", || {
            event_ids(self.ordering, &format!("/orders/{order}")).remove("OrderPaid")
        });
        let shipment = derived(paid, SHIPPING_PREPARES);
        eventually("a shipment is prepared", || {
            (get(self.shipping, &format!("/shipments/{shipment}")).status == 200).then_some(())
        });
        let dispatch = json!({ "dispatched_at": "2026-11-21T12:00:00Z" });
        // The model's rule: a shipment leaves only with an address.
        let refused = post(
            self.shipping,
            &format!("/shipments/{shipment}/dispatch"),
            &dispatch,
        );
        assert_eq!(refused.status, 409, "{}", refused.body);
        assert_eq!(
            refused.body["rule"],
            "address != none and dispatched == none"
        );
        let address =
            json!({ "address": { "street": "1 Main St", "city": "Springfield", "zip": "12345" } });
        ok(post(
            self.shipping,
            &format!("/shipments/{shipment}/set-address"),
            &address,
        ));
        ok(post(
            self.shipping,
            &format!("/shipments/{shipment}/dispatch"),
            &dispatch,
        ));
        eventually("the order is shipped", || {
            event_ids(self.ordering, &format!("/orders/{order}"))
                .contains_key("OrderShipped")
                .then_some(())
        });
        // Nothing more arrives late: each step happened once.
        std::thread::sleep(Duration::from_millis(500));
        let events = get(self.ordering, &format!("/orders/{order}/events")).body;
        let order_events = events
            .as_array()
            .expect("a list of events")
            .iter()
            .map(|event| event["type"].as_str().unwrap_or_default().to_owned())
            .collect();
        Flow {
            order_events,
            customer,
            order: order.to_string(),
        }
    }
}

/// The id a generated policy gives the aggregate it creates for `event`.
fn derived(event: Uuid, consumer: &str) -> Uuid {
    Uuid::new_v5(&event, consumer.as_bytes())
}

fn event_ids(port: u16, aggregate: &str) -> BTreeMap<String, Uuid> {
    let response = get(port, &format!("{aggregate}/events"));
    if response.status != 200 {
        return BTreeMap::new();
    }
    response
        .body
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|event| {
            let id = event["event_id"].as_str()?.parse().ok()?;
            Some((event["type"].as_str()?.to_owned(), id))
        })
        .collect()
}

fn event_id(port: u16, aggregate: &str, event_type: &str) -> Uuid {
    let ids = event_ids(port, aggregate);
    *ids.get(event_type)
        .unwrap_or_else(|| panic!("{aggregate} has no {event_type}: {ids:?}"))
}

/// Longer than the buses' 30 s ack wait: an event the killed Ordering had taken comes back
/// only after it.
const PATIENCE: Duration = Duration::from_secs(60);

pub(crate) fn eventually<T>(what: &str, mut probe: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + PATIENCE;
    loop {
        if let Some(found) = probe() {
            return found;
        }
        assert!(Instant::now() < deadline, "timed out waiting until {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub(crate) struct Response {
    pub(crate) status: u16,
    pub(crate) body: Value,
    /// The `Consistency-Token` header of a command's response.
    pub(crate) token: Option<String>,
}

fn created(response: Response) -> String {
    assert_eq!(response.status, 201, "{}", response.body);
    response.body["id"].as_str().expect("an id").to_owned()
}

fn ok(response: Response) {
    assert_eq!(response.status, 200, "{}", response.body);
}

pub(crate) fn get(port: u16, path: &str) -> Response {
    http(port, "GET", path, "")
}

pub(crate) fn post(port: u16, path: &str, body: &Value) -> Response {
    http(port, "POST", path, &body.to_string())
}

/// One HTTP/1.1 exchange in the flow's trace.
fn http(port: u16, method: &str, path: &str, body: &str) -> Response {
    http_with(port, method, path, body, None)
}

/// A read that passes a command's consistency token.
fn get_after(port: u16, path: &str, token: &str) -> Response {
    http_with(port, "GET", path, "", Some(token))
}

fn http_with(port: u16, method: &str, path: &str, body: &str, token: Option<&str>) -> Response {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let span: u64 = rand_span();
    let token = token.map_or_else(String::new, |token| {
        format!("Consistency-Token: {token}\r\n")
    });
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         traceparent: 00-{TRACE_ID}-{span:016x}-01\r\n{token}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("receive");
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or(0);
    let token = head.lines().find_map(|line| {
        let (name, value) = line.split_once(':')?;
        name.eq_ignore_ascii_case("consistency-token")
            .then(|| value.trim().to_owned())
    });
    Response {
        status,
        body: serde_json::from_str(body).unwrap_or_else(|_| Value::String(body.to_owned())),
        token,
    }
}

fn rand_span() -> u64 {
    Uuid::new_v4().as_u64_pair().0 | 1
}

/// Builds and copies the binaries into `dir/bin`, where [`Process`] runs them from: the
/// shared target directory's copies belong to whichever test built last.
pub(crate) fn build_binaries(dir: &Path, args: &[&str], binaries: &[&str]) {
    build_into(dir, args, binaries, dir);
}

/// Builds in the workspace `dir` and copies the binaries into `into/bin`.
fn build_into(dir: &Path, args: &[&str], binaries: &[&str], into: &Path) {
    let _lock = TARGET_DIR_LOCK
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    cargo_locked(dir, args);
    std::fs::create_dir_all(into.join("bin")).expect("a bin directory");
    for binary in binaries {
        std::fs::copy(
            generated_target_dir().join("debug").join(binary),
            into.join("bin").join(binary),
        )
        .expect("the binary was built");
    }
}

pub(crate) fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .expect("a free port")
}

/// A generated binary, running until stopped or dropped; its log goes to a file.
pub(crate) struct Process {
    child: Option<Child>,
    log: PathBuf,
}

impl Process {
    pub(crate) fn start(binary: &str, dir: &Path, env: &[(&str, String)], port: u16) -> Self {
        let log = dir.join(format!("{binary}-{port}.log"));
        let file = File::create(&log).expect("a log file");
        let child = Command::new(dir.join("bin").join(binary))
            .current_dir(dir)
            .envs(env.iter().map(|(name, value)| (*name, value.as_str())))
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .expect("the binary starts");
        let mut process = Self {
            child: Some(child),
            log,
        };
        process.wait_until_ready(port);
        process
    }

    fn wait_until_ready(&mut self, port: u16) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Some(Ok(Some(status))) = self.child.as_mut().map(Child::try_wait) {
                panic!("exited with {status} before it was ready:\n{}", self.log());
            }
            if TcpStream::connect(("127.0.0.1", port)).is_ok()
                && get(port, "/health/ready").status == 200
            {
                return;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("not ready on {port} within 60 s:\n{}", self.log());
    }

    pub(crate) fn log(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// SIGTERM, as an orchestrator stops it; it must exit cleanly. Returns its log.
    pub(crate) fn stop_gracefully(mut self) -> String {
        let status = self.terminate();
        let log = self.log();
        assert!(
            status.success(),
            "exited with {status} after SIGTERM:\n{log}"
        );
        log
    }

    /// SIGKILL: no chance to finish anything.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().expect("killed");
            let _ = child.wait();
        }
    }

    fn terminate(&mut self) -> ExitStatus {
        let mut child = self.child.take().expect("running");
        let signalled = Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .expect("kill runs");
        assert!(signalled.success());
        child.wait().expect("it exits")
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        // A failed scenario shows what each service did: the only trace of a CI failure.
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(LOG_TAIL).collect();
            eprintln!(
                "--- last {} lines of {} ---",
                tail.len(),
                self.log.display()
            );
            for line in tail.into_iter().rev() {
                eprintln!("{line}");
            }
        }
    }
}

/// How much of a service's log a failed scenario prints.
const LOG_TAIL: usize = 60;
