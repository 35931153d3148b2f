//! `ddd diff OLD NEW`: the gate on breaking changes, its two formats, its exit statuses, and
//! models read from git revisions.

use std::path::Path;
use std::process::Command;

use crate::SHOP;
use crate::harness::Test;

/// The shop with `from` replaced by `to`, which must be in it.
fn shop_with(from: &str, to: &str) -> String {
    assert!(SHOP.contains(from), "the shop has no {from:?}");
    SHOP.replacen(from, to, 1)
}

/// The shop without the published `OrderCancelled`'s `reason`.
fn shop_without_reason() -> String {
    shop_with(
        "event OrderCancelled v2(reason: String, cancelled_by",
        "event OrderCancelled v2(cancelled_by",
    )
}

/// `ddd diff old.ddd new.ddd` of the shop and `new`.
fn shop_to(new: &str) -> Test {
    Test::new()
        .file("old.ddd", SHOP)
        .file("new.ddd", new)
        .args(["diff", "old.ddd", "new.ddd"])
}

#[test]
fn removing_a_published_field_of_the_shop_fails_naming_both_locations() {
    shop_to(&shop_without_reason())
        .stdout_has("breaking: event field `Ordering.Order.OrderCancelled.reason` removed\n")
        .stdout_has("  --> old.ddd:112:29 (old)\n")
        .stdout_has("  --> new.ddd:112:11 (new, where it was)\n")
        .stdout_has("  = breaks: stored events, other contexts\n")
        .stdout_has("1 change(s) from `old.ddd` to `new.ddd`: 1 breaking, 0 allowed by a new event version, 0 safe\n")
        .stderr("error: 1 breaking change(s) from `old.ddd` to `new.ddd`\n")
        .status(7);
}

#[test]
fn json_names_both_locations_and_the_verdict() {
    let output = shop_to(&shop_without_reason())
        .args(["--format", "json"])
        .status(7);
    let report: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON");
    assert_eq!(report["breaking"], true);
    assert_eq!(
        report["summary"],
        serde_json::json!({ "changes": 1, "breaking": 1, "allowed": 0, "safe": 0 })
    );
    assert_eq!(
        report["changes"][0],
        serde_json::json!({
            "item": "event-field",
            "path": "Ordering.Order.OrderCancelled.reason",
            "change": "removed",
            "verdict": "breaking",
            "breaks": ["stored-events", "other-contexts"],
            "allowed": [],
            "details": [],
            "old": { "file": "old.ddd", "line": 112, "column": 29 },
            "new": { "file": "new.ddd", "line": 112, "column": 11 },
        })
    );
}

#[test]
fn the_same_model_has_no_changes() {
    shop_to(SHOP)
        .stdout("no changes from `old.ddd` to `new.ddd`\n")
        .stderr("")
        .success();
}

#[test]
fn a_change_in_a_new_event_version_is_allowed() {
    let new = shop_with(
        "event OrderCancelled v2(reason: String, cancelled_by",
        "event OrderCancelled v3(cancelled_by",
    );
    shop_to(&new)
        .stdout_has("safe: event `Ordering.Order.OrderCancelled` changed\n")
        .stdout_has("  = version v2 → v3\n")
        .stdout_has("allowed: event field `Ordering.Order.OrderCancelled.reason` removed\n")
        .stdout_has("  = allowed by a new event version for: stored events, other contexts\n")
        .stdout_has("2 change(s) from `old.ddd` to `new.ddd`: 0 breaking, 1 allowed by a new event version, 1 safe\n")
        .stderr("")
        .success();
}

#[test]
fn safe_changes_exit_zero() {
    let new = shop_with(
        "event OrderCancelled v2(reason: String, cancelled_by: String = \"customer\")",
        "event OrderCancelled v2(reason: String, cancelled_by: String = \"customer\", note: Option<String>)",
    );
    shop_to(&new)
        .stdout_has("safe: event field `Ordering.Order.OrderCancelled.note` added\n")
        .stdout_has("  --> old.ddd:112:11 (old, where it is added)\n")
        .stdout_has("0 breaking, 0 allowed by a new event version, 1 safe")
        .stderr("")
        .success();
}

#[test]
fn a_model_with_errors_is_reported_like_check_and_nothing_is_compared() {
    let broken = shop_with(
        "lines: Vec<OrderLine>\n    total",
        "lines: Vec<OrderLin>\n    total",
    );
    shop_to(&broken)
        .stdout("")
        .stderr_has("error[unknown-type]: unknown type `OrderLin`")
        .stderr_has("┌─ new.ddd:88:16")
        .stderr_has("error: the new model `new.ddd` has 1 error(s); nothing was compared")
        .status(1);
}

#[test]
fn errors_on_both_sides_are_all_reported() {
    let broken = "system Shop\ncontext Sales {\n  aggregate Order {\n    command Place() creates emits Placd\n    event Placed()\n  }\n}\n";
    Test::new()
        .file("old.ddd", broken)
        .file("new.ddd", &broken.replace("Placd", "Plac"))
        .args(["diff", "old.ddd", "new.ddd"])
        .stdout("")
        .stderr_has("┌─ old.ddd:4:35")
        .stderr_has("┌─ new.ddd:4:35")
        .stderr_has("error: the old model `old.ddd` has 1 error(s) and the new model `new.ddd` has 1 error(s); nothing was compared")
        .status(1);
}

#[test]
fn a_lowered_version_is_a_located_error() {
    let lowered = shop_with("event OrderCancelled v2(", "event OrderCancelled v1(");
    shop_to(&lowered)
        .stdout("")
        .stderr_has("error[evolution]: event `OrderCancelled` goes from version v2 down to v1")
        .stderr_has("┌─ new.ddd:112:26")
        .stderr_has("error: the new model `new.ddd` has 1 error(s) against the old one")
        .status(1);
}

#[test]
fn a_default_of_the_wrong_type_is_a_located_error() {
    let wrong = shop_with(
        "cancelled_by: String = \"customer\"",
        "cancelled_by: String = 42",
    );
    shop_to(&wrong)
        .stdout("")
        .stderr_has("error[type-mismatch]")
        .stderr_has("┌─ new.ddd:112:68")
        .stderr_has("the new model `new.ddd` has 1 error(s)")
        .status(1);
}

#[test]
fn an_unreadable_side_is_an_io_error() {
    Test::new()
        .file("new.ddd", SHOP)
        .args(["diff", "missing.ddd", "new.ddd"])
        .stderr_has("error: cannot read `missing.ddd`")
        .status(3);
}

pub(crate) fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .current_dir(dir)
        .args([
            "-c",
            "user.name=ddd",
            "-c",
            "user.email=ddd@example.invalid",
        ])
        .args(args)
        .status()
        .expect("git runs");
    assert!(status.success(), "git {args:?}");
}

#[test]
fn a_model_is_read_from_a_git_revision() {
    let test = Test::new().file("shop.ddd", SHOP);
    git(test.dir(), &["init", "--quiet"]);
    git(test.dir(), &["add", "shop.ddd"]);
    git(test.dir(), &["commit", "--quiet", "-m", "the shop"]);
    let test = Test::within(
        test.args(["diff", "git:HEAD:shop.ddd", "shop.ddd"])
            .stdout_has("no changes")
            .success(),
    );
    // The working tree moves on; the committed model is the old one.
    test.file("shop.ddd", &shop_without_reason())
        .args(["diff", "git:HEAD:shop.ddd", "shop.ddd"])
        .stdout_has("  --> git:HEAD:shop.ddd:112:29 (old)\n")
        .stdout_has("  --> shop.ddd:112:11 (new, where it was)\n")
        .stderr_has("error: 1 breaking change(s) from `git:HEAD:shop.ddd` to `shop.ddd`")
        .status(7);
}

#[test]
fn a_directory_of_a_git_revision_is_read_from_its_root_file_and_imports() {
    let root = "system Shop\nimport \"sales.ddd\"\n";
    let sales = "context Sales {\n  aggregate Order {\n    command Place(note: String) creates emits Placed\n    event Placed(note: String)\n  }\n  publishes Placed\n}\n";
    let test = Test::new()
        .file("models/shop.ddd", root)
        .file("models/sales.ddd", sales);
    git(test.dir(), &["init", "--quiet"]);
    git(test.dir(), &["add", "models"]);
    git(test.dir(), &["commit", "--quiet", "-m", "the model"]);
    Test::within(test.args(["diff", "git:HEAD:models", "models"]).success())
        .file(
            "models/sales.ddd",
            &sales.replace("event Placed(note: String)", "event Placed()"),
        )
        .args(["diff", "git:HEAD:models", "models"])
        .stdout_has("breaking: event field `Sales.Order.Placed.note` removed\n")
        .stdout_has("  --> git:HEAD:models/sales.ddd:4:18 (old)\n")
        .stdout_has("  --> models/sales.ddd:4:11 (new, where it was)\n")
        .status(7);
}

#[test]
fn a_bad_revision_is_reported() {
    let test = Test::new().file("shop.ddd", SHOP);
    git(test.dir(), &["init", "--quiet"]);
    test.args(["diff", "git:no-such-rev:shop.ddd", "shop.ddd"])
        .stderr_has("error: cannot read `git:no-such-rev:shop.ddd`")
        .status(3);
}

#[test]
fn help_tells_the_forms_of_a_model_and_the_exit_status() {
    Test::new()
        .args(["diff", "--help"])
        .stdout_has("git:REV:PATH")
        .stdout_has("7  diff: a change breaks stored events, other contexts or HTTP clients")
        .success();
}
