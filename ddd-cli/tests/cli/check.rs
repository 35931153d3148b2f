use crate::SHOP;
use crate::harness::Test;

const TYPO: &str = "system Shop\ncontext Sales {\n  aggregate Order {\n    lines: Vec<OrderLin>\n    entity OrderLine { quantity: u32 }\n    command Place() creates emits Placed\n    event Placed()\n  }\n}\n";

#[test]
fn shop_is_accepted_with_its_one_note() {
    Test::new()
        .file("shop.ddd", SHOP)
        .args(["check", "shop.ddd"])
        .stdout("")
        .stderr_has("note[needs-code]: policy `on Cart.CartCheckedOut run Order.PlaceOrder` needs code for `total`")
        .stderr_has("┌─ shop.ddd:132:3")
        .stderr_has("shop.ddd: ok (5 contexts, 6 aggregates, 5 policies); 0 warning(s), 1 note(s)")
        .success();
}

#[test]
fn errors_show_location_source_caret_and_suggestion_and_exit_1() {
    Test::new()
        .file("typo.ddd", TYPO)
        .args(["check", "typo.ddd"])
        .stderr_has("error[unknown-type]: unknown type `OrderLin`")
        .stderr_has("┌─ typo.ddd:4:16")
        .stderr_has("4 │     lines: Vec<OrderLin>")
        .stderr_has("│                ^^^^^^^^ not a type visible here")
        .stderr_has("= help: did you mean `OrderLine`?")
        .stderr_has("error: `typo.ddd` has 1 error(s); nothing was written")
        .stdout("")
        .status(1);
}

#[test]
fn all_errors_of_a_file_come_in_one_run() {
    let model = "system Shop\ncontext Sales {\n  aggregate Order {\n    Total: i64\n    type: u8\n    command Place() emits Placd\n    event Placed()\n  }\n}\n";
    let output = Test::new()
        .file("m.ddd", model)
        .args(["check", "m.ddd"])
        .status(1);
    for expected in [
        "error[bad-case]",
        "error[reserved-name]",
        "error[unknown-event]",
        "error[no-creates]",
    ] {
        assert!(
            output.stderr.contains(expected),
            "{expected} missing:\n{}",
            output.stderr
        );
    }
    assert!(
        output.stderr.contains("has 4 error(s)"),
        "{}",
        output.stderr
    );
}

#[test]
fn quiet_shows_errors_only() {
    Test::new()
        .file("shop.ddd", SHOP)
        .args(["check", "--quiet", "shop.ddd"])
        .stderr("")
        .success();
    Test::new()
        .file("typo.ddd", TYPO)
        .args(["check", "-q", "typo.ddd"])
        .stderr_has("error[unknown-type]")
        .status(1);
}

#[test]
fn short_message_format_is_one_line_per_diagnostic() {
    Test::new()
        .file("typo.ddd", TYPO)
        .args(["check", "--message-format", "short", "typo.ddd"])
        .stderr_has("typo.ddd:4:16: error[unknown-type]: unknown type `OrderLin`\n")
        .stderr_lacks("^^^")
        .status(1);
}

#[test]
fn json_and_yaml_models_are_checked_the_same_way() {
    let json = r#"{"name": "Shop", "contexts": [{"name": "Sales", "aggregates": [{"name": "Order",
        "fields": [{"name": "lines", "type": {"vec": {"named": "OrderLin"}}}],
        "entities": [{"name": "OrderLine"}],
        "commands": [{"name": "Place", "creates": true, "emits": ["Placed"]}], "events": [{"name": "Placed"}]}]}]}"#;
    Test::new()
        .file("m.json", json)
        .args(["check", "m.json"])
        .stderr_has("error[unknown-type]: unknown type `OrderLin`")
        .stderr_has("┌─ m.json at $.contexts[0].aggregates[0].fields[0].type")
        .stderr_has("= help: did you mean `OrderLine`?")
        .status(1);
    let yaml = "name: Shop\ncontexts:\n  - name: Sales\n    aggregates:\n      - name: Order\n        commands: [{name: Place, creates: true, emits: [Placed]}]\n        events: [{name: Placed}]\n";
    Test::new()
        .file("m.yml", yaml)
        .args(["check", "m.yml"])
        .stderr_has("m.yml: ok")
        .success();
}

#[test]
fn emit_prints_the_checked_model() {
    let output = Test::new()
        .file("shop.ddd", SHOP)
        .args(["check", "shop.ddd", "--emit", "json"])
        .success();
    let json: serde_json::Value = serde_json::from_str(&output.stdout).expect("JSON on stdout");
    assert_eq!(json["name"], "Shop");
    let placed = &json["contexts"][2]["policies"][0]["translation"]["fields"][2]["source"];
    assert_eq!(placed["from"], "needs_code");
    // What was emitted reads back as the same model.
    let reread = Test::new()
        .file("shop.json", &output.stdout)
        .args(["check", "shop.json", "--emit", "json"])
        .success();
    assert_eq!(reread.stdout, output.stdout);
    Test::new()
        .file("shop.ddd", SHOP)
        .args(["check", "shop.ddd", "--emit", "yaml"])
        .stdout_has("name: Shop\n")
        .success();
}

#[test]
fn a_rejected_model_writes_nothing() {
    let output = Test::new()
        .file("typo.ddd", TYPO)
        .args(["check", "typo.ddd", "--emit", "json", "-o", "out.json"])
        .status(1);
    assert!(!output.path("out.json").exists());
}

#[test]
fn stdin_is_read_with_a_dash() {
    Test::new()
        .args(["check", "-"])
        .stdin(SHOP)
        .stderr_has("<stdin>: ok")
        .success();
    Test::new()
        .args(["check", "-"])
        .stdin(TYPO)
        .stderr_has("┌─ <stdin>:4:16")
        .status(1);
}

#[test]
fn input_format_overrides_the_extension() {
    Test::new()
        .file("model.txt", SHOP)
        .args(["check", "--input-format", "ddd", "model.txt"])
        .success();
}

#[test]
fn an_unknown_extension_is_a_usage_error() {
    Test::new()
        .file("model.txt", SHOP)
        .args(["check", "model.txt"])
        .stderr_has("error: cannot tell the notation of `model.txt`")
        .status(2);
}

#[test]
fn a_missing_file_is_an_io_error() {
    Test::new()
        .args(["check", "nowhere.ddd"])
        .stderr_has("error: cannot read the model: failed to open file `nowhere.ddd`")
        .status(3);
}

#[test]
fn invalid_utf8_is_a_model_error() {
    let test = Test::new();
    std::fs::write(test.dir().join("bad.ddd"), b"system Shop\n\xff\n").expect("write");
    test.args(["check", "bad.ddd"])
        .stderr_has("error[syntax]: the file is not valid UTF-8")
        .stderr_has("bad.ddd:2:1")
        .status(1);
}

#[test]
fn color_is_used_only_when_asked_or_on_a_terminal() {
    Test::new()
        .file("typo.ddd", TYPO)
        .args(["check", "--color", "always", "typo.ddd"])
        .stderr_has("\u{1b}[")
        .status(1);
    // Not a terminal: no color by default.
    Test::new()
        .file("typo.ddd", TYPO)
        .args(["check", "typo.ddd"])
        .stderr_lacks("\u{1b}[")
        .status(1);
}
