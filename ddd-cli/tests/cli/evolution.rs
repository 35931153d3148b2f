//! Events across versions of a model, end to end: a generated workspace records events with
//! one build, and the build generated from the next version of the model reads them (its
//! defaults fill what old payloads lack, with no code); a step defaults cannot bridge gets an
//! upcaster stub that fails loudly until written; and the generated README's CI command tells
//! a safe change from a breaking one.
//!
//! `system Evolving`: its packages share no build artefacts with any other test's.

use std::path::Path;
use std::process::Command;

use serde_json::{Value, json};

use crate::artefacts::{asyncapi_validator, errors, yaml_file};
use crate::diff::git;
use crate::generate::cargo;
use crate::harness::{Output, Test};
use crate::shop::{Databases, Process, build_binaries, env_url, eventually, free_port, get, post};

/// Sales records deals and publishes their closing; Billing counts the closings it mirrors
/// and starts a ledger for each (a policy).
const V1: &str = r#"system Evolving

context Sales {
  aggregate Deal {
    note: String
    reason: String

    command Open(note: String) creates emits DealOpened
    command Close(reason: String, remark: String) emits DealClosed

    event DealOpened(note: String)
    event DealClosed(reason: String, remark: String)
  }

  publishes DealClosed
}

context Billing {
  aggregate Ledger {
    label: String

    command Start(label: String) creates emits LedgerStarted

    event LedgerStarted(label: String)
  }

  view ClosedDeals by reason: String {
    deals: u32
    on Sales.DealClosed sets deals = deals + 1
  }

  view LedgerLabels from Ledger {
    label: String
  }

  on Sales.DealClosed run Ledger.Start with label = reason
}

map {
  Sales -> Billing : customer-supplier
}
"#;

/// `DealClosed` v2 gains a field with a default, which the state copies; a view of each
/// context is keyed by it, so both read the closing v1 recorded through the default, and
/// Billing's policy labels its ledgers with it.
fn v2() -> String {
    V1.replace(
        "with label = reason",
        "with label = closed_by",
    )
    .replace(
        "    reason: String\n\n",
        "    reason: String\n    closed_by: String\n\n",
    )
    .replace(
        "event DealClosed(reason: String, remark: String)",
        r#"event DealClosed v2(reason: String, remark: String, closed_by: String = "seller")"#,
    )
    .replace(
        "  publishes DealClosed",
        "  view Closers by closed_by: String {\n    deals: u32\n    on Deal.DealClosed sets deals = deals + 1\n  }\n\n  publishes DealClosed",
    )
    .replace(
        "  view ClosedDeals",
        "  view BilledClosers by closed_by: String {\n    deals: u32\n    on Sales.DealClosed sets deals = deals + 1\n  }\n\n  view ClosedDeals",
    )
}

/// `DealClosed` v3 drops `reason`: no default can say what an old closing means now.
fn v3() -> String {
    v2().replace(
        "event DealClosed v2(reason: String, ",
        "event DealClosed v3(",
    )
    .replace(
        "view ClosedDeals by reason: String",
        "view ClosedDeals by closed_by: String",
    )
}

fn generate(out: Output, model: &str) -> Output {
    std::fs::write(out.path("evolving.ddd"), model).expect("the model");
    Test::within(out)
        .args(["generate", "evolving.ddd", "--out", "out", "-q"])
        .success()
}

fn start(dir: &Path, port: u16) -> Process {
    build_binaries(dir, &["build", "-p", "evolving"], &["evolving"]);
    let env = [
        ("HTTP_ADDR", format!("127.0.0.1:{port}")),
        ("RUST_LOG", "info".to_owned()),
    ];
    Process::start("evolving", dir, &env, port)
}

/// The rows of a view once it has `count` of them.
fn rows(port: u16, route: &str, count: usize) -> Vec<Value> {
    eventually(&format!("{route} has {count} row(s)"), || {
        let items = get(port, route).body["items"].as_array()?.clone();
        (items.len() == count).then_some(items)
    })
}

#[test]
fn events_of_v1_are_read_by_v2_through_defaults_and_by_v3_only_through_its_upcaster() {
    let out = generate(Output::scratch(), V1);
    let dir = out.path("out");
    let port = free_port();
    let app = start(&dir, port);
    let response = post(port, "/deals", &json!({ "note": "first" }));
    assert_eq!(response.status, 201, "{}", response.body);
    let deal = response.body["id"].as_str().expect("an id").to_owned();
    let response = post(
        port,
        &format!("/deals/{deal}/close"),
        &json!({ "reason": "won", "remark": "at last" }),
    );
    assert_eq!(response.status, 200, "{}", response.body);
    rows(port, "/closed-deals", 1);
    app.stop_gracefully();

    // v2: a field with a default needs no code, and the stored v1 closing reads through it
    // in the aggregate, a view of Sales and a view of Billing (the mirrored copy, read
    // through the contracts crate as a policy reads the bus).
    let out = generate(out, &v2());
    let module =
        std::fs::read_to_string(dir.join("services/sales/src/deal/mod.rs")).expect("the aggregate");
    assert!(module.contains("#[event(version = 2)]"), "{module}");
    assert!(
        module.contains(r#"#[serde(default = "default_deal_closed_closed_by")]"#),
        "{module}"
    );
    assert!(!dir.join("contracts/src/sales/upcast").exists());
    let app = start(&dir, port);
    let state = get(port, &format!("/deals/{deal}")).body;
    assert_eq!(state["state"]["reason"], "won", "{state}");
    assert_eq!(state["state"]["closed_by"], "seller", "{state}");
    for route in ["/closers", "/billed-closers"] {
        let rows = rows(port, route, 1);
        assert_eq!(
            (&rows[0]["closed_by"], &rows[0]["deals"]),
            (&json!("seller"), &json!(1)),
            "{route}: {rows:?}"
        );
    }
    app.stop_gracefully();

    // v3: a removed field is a step defaults cannot bridge. The stub compiles and refuses the
    // old closing, naming the event and the versions, until a person writes it.
    let out = generate(out, &v3());
    let stub = dir.join("contracts/src/sales/upcast/deal_closed_v3.rs");
    let text = std::fs::read_to_string(&stub).expect("an upcaster stub");
    assert!(text.starts_with("// Yours"), "{text}");
    // The stub, the chain and the defaults build with no warning and are formatted.
    cargo(&dir, &["fmt", "--check"]);
    cargo(
        &dir,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    );
    let app = start(&dir, port);
    let refused = get(port, &format!("/deals/{deal}"));
    assert_eq!(refused.status, 500, "{}", refused.body);
    let log = app.stop_gracefully();
    assert!(
        log.contains(
            "event `DealClosed` v1: no upcaster from v2 to v3 yet: write contracts/src/sales/upcast/deal_closed_v3.rs"
        ),
        "{log}"
    );

    // Back to v2: the workspace recorded v3, so the lower version is a located error and
    // nothing is written.
    std::fs::write(out.path("evolving.ddd"), v2()).expect("the model");
    Test::within(out)
        .args(["generate", "evolving.ddd", "--out", "out"])
        .stderr_has("error[evolution]: event `Sales.Deal.DealClosed` is v2 in the model, but this workspace was generated with v3")
        .stderr_has("evolving.ddd:13:")
        .status(1);
}

/// How many events of the database at `url` its relay has yet to publish.
fn unpublished(url: &str) -> Option<u64> {
    let output = Command::new("psql")
        .args([url, "-tAc", "SELECT count(*) FROM ddd_outbox"])
        .output()
        .expect("psql runs (the PostgreSQL client must be installed)");
    String::from_utf8_lossy(&output.stdout).trim().parse().ok()
}

/// Each context its own service on its own PostgreSQL database, over NATS. Billing's v1
/// build subscribes and stops; Sales v1 records and publishes a closing, which waits on the
/// bus; Billing's v2 build then reads that v1 payload: its policy runs with the default, and
/// its new view, fed from the same mirrored copy, keys it by the default too.
#[test]
fn on_postgres_and_nats_a_v2_policy_reads_a_closing_v1_published() {
    let bus = env_url("NATS_URL", "nats://127.0.0.1:4222");
    let run = uuid::Uuid::new_v4().simple().to_string()[..12].to_owned();
    let databases = Databases::create(&format!("evolving_{run}"), &["sales", "billing"]);
    let services = ["evolving-sales", "evolving-billing"];
    let build = ["build", "--workspace", "--bins", "--all-features"];
    let out = generate(Output::scratch(), V1);
    let dir = out.path("out");
    build_binaries(&dir, &build, &services);
    let start = |context: &str, port: u16| {
        let env = [
            ("HTTP_ADDR", format!("127.0.0.1:{port}")),
            ("DATABASE_URL", databases.url(context)),
            ("BUS_URL", bus.clone()),
            ("BUS_NAMESPACE", format!("evolving-{run}")),
            ("RUST_LOG", "info".to_owned()),
        ];
        Process::start(&format!("evolving-{context}"), &dir, &env, port)
    };
    let (sales_port, billing_port) = (free_port(), free_port());
    start("billing", billing_port).stop_gracefully();
    let sales = start("sales", sales_port);
    let response = post(sales_port, "/deals", &json!({ "note": "first" }));
    assert_eq!(response.status, 201, "{}", response.body);
    let deal = response.body["id"].as_str().expect("an id").to_owned();
    let closing = json!({ "reason": "won", "remark": "at last" });
    let response = post(sales_port, &format!("/deals/{deal}/close"), &closing);
    assert_eq!(response.status, 200, "{}", response.body);
    eventually("Sales published the closing", || {
        (unpublished(&databases.url("sales"))? == 0).then_some(())
    });
    sales.stop_gracefully();

    let out = generate(out, &v2());
    build_binaries(&dir, &build, &services);
    let billing = start("billing", billing_port);
    let ledgers = rows(billing_port, "/ledger-labels", 1);
    assert_eq!(ledgers[0]["label"], "seller", "{ledgers:?}");
    let closers = rows(billing_port, "/billed-closers", 1);
    assert_eq!(closers[0]["closed_by"], "seller", "{closers:?}");
    billing.stop_gracefully();
    drop(out);
}

/// The `ddd diff` line of the generated README's "Changing the model".
fn documented_command(readme: &str) -> Vec<String> {
    let line = readme
        .lines()
        .find(|line| line.starts_with("ddd diff "))
        .expect("the README documents a `ddd diff` command");
    line.split_whitespace().skip(1).map(str::to_owned).collect()
}

#[test]
fn the_readme_ci_command_passes_a_safe_change_and_stops_a_removed_published_field() {
    // The workspace is the repository, with its model at the root, as the README assumes.
    let out = Test::new()
        .file("evolving.ddd", V1)
        .args(["generate", "evolving.ddd", "--out", ".", "-q"])
        .success();
    let origin = tempfile::tempdir().expect("a directory for the remote");
    git(origin.path(), &["init", "-q", "--bare", "-b", "main"]);
    let root = out.dir.path().to_path_buf();
    git(&root, &["init", "-q", "-b", "main"]);
    git(&root, &["add", "."]);
    git(&root, &["commit", "-q", "-m", "v1"]);
    let remote = origin.path().to_string_lossy().into_owned();
    git(&root, &["remote", "add", "origin", &remote]);
    git(&root, &["push", "-q", "origin", "main"]);
    let readme = std::fs::read_to_string(root.join("README.md")).expect("the README");
    let command = documented_command(&readme);
    assert_eq!(
        command,
        ["diff", "git:origin/main:evolving.ddd", "evolving.ddd"]
    );
    let diff = |out: Output| {
        let mut test = Test::within(out);
        for arg in &command {
            test = test.arg(arg);
        }
        test
    };

    // A new version with a default: allowed, exit 0.
    std::fs::write(root.join("evolving.ddd"), v2()).expect("the model");
    let out = diff(out)
        .stdout_has("event `Sales.Deal.DealClosed`")
        .success();

    // A published field removed without a new version: breaking, exit 7.
    let removed = V1.replace(
        "event DealClosed(reason: String, remark: String)",
        "event DealClosed(reason: String)",
    );
    std::fs::write(root.join("evolving.ddd"), removed).expect("the model");
    diff(out)
        .stdout_has("breaking: event field `Sales.Deal.DealClosed.remark` removed")
        .stdout_has(": 1 breaking,")
        .status(7);
}

#[test]
fn the_asyncapi_document_keeps_the_recorded_versions_and_stays_valid() {
    let out = generate(Output::scratch(), V1);
    let out = generate(out, &v2());
    let out = generate(out, &v3());
    let document = yaml_file(&out, "docs/asyncapi.yaml");
    let found = errors(&asyncapi_validator(), &document);
    assert!(found.is_empty(), "{}", found.join("\n"));
    let channel = &document["channels"]["Sales.DealClosed"]["messages"];
    let versions: Vec<&Value> = ["DealClosed.v1", "DealClosed.v2", "DealClosed"]
        .iter()
        .map(|name| {
            let reference = channel[name]["$ref"]
                .as_str()
                .expect("a message of the version");
            let id = reference.trim_start_matches("#/components/messages/");
            &document["components"]["messages"][id]["x-version"]
        })
        .collect();
    assert_eq!(versions, [&json!(1), &json!(2), &json!(3)]);
}
