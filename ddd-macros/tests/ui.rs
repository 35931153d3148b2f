//! Compile-fail and compile-pass cases of every derive, in `tests/ui/<derive>/{pass,fail}`.
//!
//! The `.stderr` files are rustc's output and change between compiler versions; they are
//! written for the toolchain below and the test is skipped on any other. Regenerate them
//! with `TRYBUILD=overwrite cargo test -p ddd-macros --test ui` and read the result. Run the
//! cases of one derive with `DDD_UI_ONLY=command`.

use std::process::Command;

/// The compiler the `.stderr` files were written with.
const TOOLCHAIN: &str = "rustc 1.95.";

const DERIVES: &[&str] = &[
    "aggregate",
    "domain_event",
    "command",
    "value_object",
    "entity",
    "bounded_context",
];

fn rustc_version() -> String {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".to_owned());
    Command::new(rustc)
        .arg("--version")
        .output()
        .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
        .unwrap_or_default()
}

#[test]
fn ui() {
    let version = rustc_version();
    if !version.starts_with(TOOLCHAIN) {
        eprintln!("skipping the UI tests: they are written for {TOOLCHAIN}x, this is {version}");
        return;
    }
    let only = std::env::var("DDD_UI_ONLY").ok();
    let cases = trybuild::TestCases::new();
    for derive in DERIVES
        .iter()
        .filter(|derive| only.as_deref().is_none_or(|only| only == **derive))
    {
        cases.pass(format!("tests/ui/{derive}/pass/*.rs"));
        cases.compile_fail(format!("tests/ui/{derive}/fail/*.rs"));
    }
}
