//! The shop's monolith against its own OpenAPI document: schemathesis (PyPI, `st`) generates
//! requests from the document the running service serves, valid and invalid, and runs all
//! of its checks on the answers (no 5xx, only documented statuses, bodies and headers as
//! documented, schema-valid requests accepted and invalid ones refused, writes that the
//! document says need a token refused without one). A fixed seed and a bounded number of
//! examples per operation keep a run reproducible and short.

use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::SHOP;
use crate::harness::Test;
use crate::shop::{Process, build_binaries, free_port, get};

/// A system name of its own: generated workspaces share one target directory, and another
/// test builds the shop's packages under the shop's name at the same time.
const SYSTEM: &str = "ShopContract";
const BINARY: &str = "shop-contract";

/// The seed of every run, so that a failure found once is found again.
const SEED: &str = "20261207";
/// Examples per operation and phase: bounded, so that a run takes about half a minute.
const EXAMPLES: &str = "25";

/// Statuses a schema-valid request may get besides a success, because they depend on the
/// state it meets rather than on its form: schemathesis' default list (no token, no such
/// aggregate, a refused command, throttled, a server error which its own check reports)
/// with 412, the answer to an `If-Match` naming another version than the aggregate's.
const STATE_DEPENDENT: [&str; 9] = [
    "2xx", "3xx", "401", "403", "404", "409", "412", "429", "5xx",
];

#[test]
fn the_shop_answers_as_its_openapi_document_says() {
    let model = SHOP.replacen("system Shop\n", &format!("system {SYSTEM}\n"), 1);
    assert_ne!(
        model, SHOP,
        "the shop's model no longer starts with `system Shop`"
    );
    let out = Test::new()
        .file("shop.ddd", &model)
        .args(["generate", "shop.ddd", "--out", "out", "-q"])
        .success();
    let dir = out.path("out");
    build_binaries(&dir, &["build", "-p", BINARY], &[BINARY]);
    let open = run_against(&dir, &[], EXAMPLES);
    assert!(
        !secured(&open),
        "without JWT settings the document declares security"
    );
    // With a secret, the writes the document says need a token refuse requests without one
    // (schemathesis sends none): fewer examples, as every write stops at the 401.
    let secret = ("JWT_HS256_SECRET", "a-secret-of-at-least-thirty-two-bytes!");
    let guarded = run_against(&dir, &[secret], "5");
    assert!(
        secured(&guarded),
        "with a secret the document declares no security"
    );
}

/// Runs the monolith with `settings` and schemathesis against it; returns the document it
/// served.
fn run_against(dir: &Path, settings: &[(&str, &str)], examples: &str) -> Value {
    let port = free_port();
    let mut env = vec![
        ("HTTP_ADDR", format!("127.0.0.1:{port}")),
        ("RUST_LOG", "warn".to_owned()),
    ];
    env.extend(
        settings
            .iter()
            .map(|(name, value)| (*name, (*value).to_owned())),
    );
    let monolith = Process::start(BINARY, dir, &env, port);
    let document = get(port, "/openapi.json").body;
    let config = dir.join("schemathesis.toml");
    std::fs::write(&config, checks_config(&document)).expect("the config is written");
    let run = schemathesis(dir, &config, port, examples);
    monolith.stop_gracefully();
    let said = String::from_utf8_lossy(&run.stdout) + String::from_utf8_lossy(&run.stderr);
    assert!(run.status.success(), "schemathesis failed:\n{said}");
    // Every operation but the one serving the document schemathesis reads.
    let tested = operations(&document).count() - 1;
    assert!(
        said.contains(&format!("Tested: {tested}\n")),
        "not every one of the {tested} operations was tested:\n{said}"
    );
    document
}

/// Whether the document declares a security scheme and writes that need it.
fn secured(document: &Value) -> bool {
    document["components"].get("securitySchemes").is_some()
        && operations(document).any(|operation| operation.get("security").is_some())
}

/// `st run` over the served document with every check.
fn schemathesis(dir: &Path, config: &Path, port: u16, examples: &str) -> std::process::Output {
    let config = config.to_str().expect("a UTF-8 path");
    let url = format!("http://127.0.0.1:{port}/openapi.json");
    Command::new("st")
        .args(["--config-file", config, "run", &url, "--checks", "all"])
        .args(["--seed", SEED, "--max-examples", examples])
        // One worker and no example database: the same seed makes the same requests.
        .args([
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--no-color",
        ])
        .current_dir(dir)
        .output()
        .unwrap_or_else(|error| {
            panic!(
                "cannot run schemathesis' `st` ({error}): install it with \
                 `python3 -m pip install --user schemathesis` (scripts/test-all.sh does)"
            )
        })
}

/// The checks' configuration: [`STATE_DEPENDENT`] statuses for schema-valid requests, and
/// also 400 on the operations that take a value only the service issues (a consistency
/// token, a page cursor). The document can say no more of such a value than its alphabet,
/// so a generated one matches the schema and is still not one the service made.
fn checks_config(document: &Value) -> String {
    let quoted = |statuses: &[&str]| {
        let quoted: Vec<String> = statuses.iter().map(|s| format!("\"{s}\"")).collect();
        format!("[{}]", quoted.join(", "))
    };
    let opaque: Vec<String> = operations(document)
        .filter(|operation| {
            operation["parameters"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|parameter| {
                    ["after", "Consistency-Token"]
                        .contains(&parameter["name"].as_str().unwrap_or_default())
                })
        })
        .filter_map(|operation| operation["operationId"].as_str())
        .map(|id| format!("\"{id}\""))
        .collect();
    assert!(
        !opaque.is_empty(),
        "the shop's views take tokens and cursors"
    );
    let mut with_400 = STATE_DEPENDENT.to_vec();
    with_400.push("400");
    format!(
        "[checks.positive_data_acceptance]\nexpected-statuses = {}\n\n\
         [[operations]]\ninclude-operation-id = [{}]\n\
         checks.positive_data_acceptance.expected-statuses = {}\n",
        quoted(&STATE_DEPENDENT),
        opaque.join(", "),
        quoted(&with_400),
    )
}

/// Every operation of the document.
fn operations(document: &Value) -> impl Iterator<Item = &Value> {
    document["paths"]
        .as_object()
        .into_iter()
        .flat_map(|paths| paths.values())
        .filter_map(Value::as_object)
        .flat_map(|item| item.values())
}
