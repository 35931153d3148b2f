//! `ddd new`: a standalone service crate from `templates/service/`, built, linted and
//! tested; names it refuses; template overrides.

use crate::generate::cargo;
use crate::harness::Test;

#[test]
fn new_writes_a_service_crate_that_builds_lints_and_passes_its_tests() {
    let out = Test::new().args(["new", "order-tracking"]).success();
    let dir = out.path("order-tracking");
    for path in [
        "Cargo.toml",
        "Cargo.lock",
        ".gitignore",
        "src/lib.rs",
        "src/main.rs",
    ] {
        assert!(dir.join(path).is_file(), "{path} is missing");
    }
    // One crate, not a workspace of services; nothing of cargo-generate's own.
    for path in ["services", "model.ddd", ".ddd", "cargo-generate.toml"] {
        assert!(!dir.join(path).exists(), "{path} should not be written");
    }
    let manifest = std::fs::read_to_string(dir.join("Cargo.toml")).expect("a manifest");
    assert!(
        manifest.contains("name = \"order-tracking\"") && manifest.contains("[workspace]"),
        "{manifest}"
    );
    let main = std::fs::read_to_string(dir.join("src/main.rs")).expect("a binary");
    assert!(main.contains("use order_tracking::router;"), "{main}");
    cargo(&dir, &["fmt", "--check"]);
    cargo(&dir, &["clippy", "--all-targets", "--", "-D", "warnings"]);
    cargo(&dir, &["test"]);
}

#[test]
fn new_refuses_bad_names_and_existing_directories() {
    Test::new()
        .args(["new", "../escape"])
        .stderr_has("invalid service name")
        .status(2);
    Test::new()
        .args(["new", "Core"])
        .stderr_has("a Rust keyword or a crate the service uses")
        .status(2);
    Test::new()
        .file("taken", "")
        .args(["new", "x", "--out", "."])
        .stderr_has("exists and is not empty")
        .status(3);
}

#[test]
fn new_fills_an_empty_directory_and_reads_template_overrides() {
    let test = Test::new();
    let templates = test.dir().join("templates/service");
    std::fs::create_dir_all(&templates).expect("a template directory");
    std::fs::write(
        templates.join("README.md.jinja"),
        "# {{ crate_name | kebab_case }}\n",
    )
    .expect("a template");
    std::fs::create_dir(test.dir().join("svc")).expect("an empty directory");
    let out = test
        .args(["new", "billing", "--out", "svc", "--templates", "templates"])
        .success();
    let read = |path: &str| std::fs::read_to_string(out.path("svc").join(path)).ok();
    assert_eq!(read("README.md").as_deref(), Some("# billing\n"));
    assert!(read("src/lib.rs").is_some_and(|lib| lib.contains("Item")));
    // Everything was staged beside `svc/` and moved in: nothing is left there.
    let beside: Vec<String> = std::fs::read_dir(out.path("."))
        .expect("the test directory")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|name| name.starts_with(".ddd"))
        .collect();
    assert!(beside.is_empty(), "{beside:?}");
}
