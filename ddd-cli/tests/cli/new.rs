//! `ddd new`: a starter model generated through the same pipeline as `ddd generate`, built,
//! linted and tested; names it refuses; the cargo-generate template made from it.

use std::path::Path;

use crate::generate::check_workspace;
use crate::harness::Test;

#[test]
fn new_writes_a_model_and_its_workspace_that_builds_lints_and_passes_its_tests() {
    let out = Test::new()
        .args(["new", "order-tracking"])
        .stdout_has("order-tracking.ddd")
        .stdout_has("cargo run")
        .success();
    let dir = out.path("order-tracking");
    for path in [
        "order-tracking.ddd",
        "Cargo.toml",
        "Cargo.lock",
        ".ddd/manifest.json",
        "app/src/main.rs",
        "services/order-tracking/src/lib.rs",
        "services/order-tracking/src/item/behaviour.rs",
    ] {
        assert!(dir.join(path).is_file(), "{path} is missing");
    }
    check_workspace(&dir);
    // `ddd generate` takes over: the same model changes nothing.
    Test::within(out)
        .args([
            "generate",
            "order-tracking/order-tracking.ddd",
            "--out",
            "order-tracking",
            "--check",
        ])
        .success();
}

#[test]
fn new_refuses_bad_names_and_existing_directories() {
    Test::new()
        .args(["new", "../escape"])
        .stderr_has("invalid service name `../escape`")
        .status(2);
    Test::new()
        .args(["new", "core"])
        .stderr_has("a Rust keyword or a built-in crate")
        .status(2);
    Test::new()
        .file("taken", "")
        .args(["new", "x", "--out", "."])
        .stderr_has("exists and is not empty")
        .status(3);
}

/// `templates/service` of the repository is what `ddd new` makes, with placeholders.
#[test]
fn the_cargo_generate_template_is_up_to_date() {
    let template = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/service");
    let template = template.to_string_lossy().into_owned();
    Test::new()
        .args([
            "new",
            "x",
            "--cargo-generate-template",
            &template,
            "--check",
        ])
        .success();
}
