//! Property tests over the readers, parser, validator and renderer: no input makes them
//! panic or hang. 16,900 cases in a normal run; run longer (every property with N cases) with
//! `DDD_FUZZ_CASES=50000 cargo test --release -p ddd-model --test fuzz`.

use std::time::{Duration, Instant};

use ddd_model::diagnostic::{self, SourceFile};
use ddd_model::{Diagnostic, Format, load, load_bytes};
use proptest::prelude::*;

const SHOP: &str = include_str!("../../examples/shop/shop.ddd");
const UNUSUAL: &str = include_str!("models/good/unusual.ddd");
const BEHAVIOUR: &str = include_str!("models/good/behaviour.ddd");
const VIEWS: &str = include_str!("models/good/views.ddd");

/// Generous: a case this slow means a hang (quadratic blow-up, endless loop), not slowness.
const HANG: Duration = Duration::from_secs(5);

fn cases(default: u32) -> ProptestConfig {
    let scale = std::env::var("DDD_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse::<u32>().ok());
    ProptestConfig {
        cases: scale.map_or(default, |n| n.max(1)),
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Loads, renders, and checks what must hold for any input.
fn exercise(text: &str, format: Format) {
    let started = Instant::now();
    let diagnostics = match load(text, format) {
        Ok(loaded) => {
            // An accepted model survives its own JSON unchanged.
            let json = serde_json::to_string(&loaded.system).expect("an accepted model serializes");
            let again = load(&json, Format::Json).expect("an accepted model's JSON is accepted");
            assert_eq!(again.system, loaded.system);
            loaded.diagnostics
        }
        Err(rejected) => {
            assert!(
                rejected.diagnostics.iter().any(Diagnostic::is_error),
                "rejected without an error"
            );
            rejected.diagnostics
        }
    };
    for d in &diagnostics {
        if let Some(span) = d.location.as_ref().and_then(|l| l.span) {
            assert!(
                span.start <= span.end && span.end as usize <= text.len(),
                "span out of the text: {d:?}"
            );
            assert!(
                text.is_char_boundary(span.start as usize)
                    && text.is_char_boundary(span.end as usize)
            );
        }
    }
    let rendered = diagnostic::render_to_string(SourceFile { name: "fuzz", text }, &diagnostics);
    assert!(!rendered.contains("failed to render"), "{rendered}");
    assert!(started.elapsed() < HANG, "took {:?}", started.elapsed());
}

/// Words and punctuation of the language, so random sequences reach deep into the parser.
fn token() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec![
        "system",
        "value",
        "enum",
        "entity",
        "context",
        "aggregate",
        "command",
        "event",
        "creates",
        "emits",
        "publishes",
        "on",
        "run",
        "with",
        "map",
        "Shop",
        "Order",
        "OrderId",
        "Money",
        "Placed",
        "Place",
        "Core",
        "Event",
        "lines",
        "event",
        "value",
        "id",
        "type",
        "Vec",
        "Option",
        "Map",
        "String",
        "i64",
        "u8",
        "f64",
        "Uuid",
        "{",
        "}",
        "(",
        ")",
        "<",
        ">",
        ",",
        ":",
        ".",
        "=",
        "@len",
        "@range",
        "@pattern",
        "(1..=9)",
        "(..)",
        "(\"[a-z\")",
        "->",
        "<->",
        "..",
        "..=",
        "-",
        "customer-supplier",
        "shared-kernel",
        "\n",
        "\n",
        "\n",
        " ",
        "///doc\n",
        "// c\n",
        "\"str",
        "0",
        "-5",
        "1.5",
        "99999999999999999999999999999999999999999",
        "é",
        "$",
        // Behaviour, scopes and evolution.
        "requires",
        "else",
        "sets",
        "lifecycle",
        "by",
        "in",
        "not",
        "and",
        "or",
        "none",
        "true",
        "count(",
        "sum(",
        "some(",
        "upsert(",
        "@key",
        "view",
        "from",
        "@filter",
        "@sort",
        "v2",
        "import",
        "core",
        "[",
        "]",
        "open-host",
        "==",
        "!=",
        "+",
        "*",
        ";",
        "Catalog.ProductId",
    ])
}

/// A copy of `base` with a few random edits: deletions, duplications and insertions.
fn mutated(base: &'static str) -> impl Strategy<Value = String> {
    let edit = (0..base.len(), 0usize..40, token(), 0u8..3);
    prop::collection::vec(edit, 1..6).prop_map(move |edits| {
        let mut text = base.to_owned();
        for (at, len, word, kind) in edits {
            let at = floor(&text, at.min(text.len()));
            let end = floor(&text, (at + len).min(text.len()));
            match kind {
                0 => text.replace_range(at..end, ""),
                1 => {
                    let copy = text[at..end].to_owned();
                    text.insert_str(end, &copy);
                }
                _ => text.insert_str(at, word),
            }
        }
        text
    })
}

fn floor(text: &str, mut at: usize) -> usize {
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    at
}

proptest! {
    #![proptest_config(cases(3_000))]

    #[test]
    fn arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..2_048)) {
        let started = Instant::now();
        for format in [Format::Ddd, Format::Json, Format::Yaml] {
            let _ = load_bytes(&bytes, format);
        }
        prop_assert!(started.elapsed() < HANG);
    }

    #[test]
    fn token_soup(words in prop::collection::vec(token(), 0..300)) {
        exercise(&words.join(" "), Format::Ddd);
    }
}

proptest! {
    #![proptest_config(cases(2_000))]

    #[test]
    fn mutated_shop(text in mutated(SHOP)) {
        exercise(&text, Format::Ddd);
    }

    #[test]
    fn arbitrary_text(chars in prop::collection::vec(any::<char>(), 0..300)) {
        exercise(&String::from_iter(chars), Format::Ddd);
    }
}

proptest! {
    #![proptest_config(cases(1_000))]

    #[test]
    fn mutated_unusual(text in mutated(UNUSUAL)) {
        exercise(&text, Format::Ddd);
    }

    #[test]
    fn mutated_behaviour(text in mutated(BEHAVIOUR)) {
        exercise(&text, Format::Ddd);
    }

    #[test]
    fn mutated_views(text in mutated(VIEWS)) {
        exercise(&text, Format::Ddd);
    }

    /// Random expressions in a `from` view's field and a `by` view's `sets`.
    #[test]
    fn random_view_expressions(value in expression(), set in expression()) {
        let text = with_context(
            "    command Add(sku: String, quantity: u32) emits Added\n    event Added(sku: String, quantity: u32)\n",
            &format!(
                "  view V from A {{\n    x: i64 = {value}\n  }}\n  view W by sku: String {{\n    total: i64\n    on A.Added sets total = {set}\n  }}\n"
            ),
        );
        exercise(&text, Format::Ddd);
    }

    /// Random expressions in a guard and in `sets`, over a state with every kind of field.
    #[test]
    fn random_expressions(rule in expression(), value in expression(), list in expression()) {
        let text = with_behaviour(&format!(
            "    command Go(q: u32) requires {rule} emits Went\n    event Went(q: u32) sets n = {value}, items = {list}\n"
        ));
        exercise(&text, Format::Ddd);
    }

    /// Random lifecycles over the enum `status`, with states and commands that exist or not.
    #[test]
    fn random_lifecycles(transitions in prop::collection::vec(transition(), 0..8), field in field_name()) {
        let text = with_behaviour(&format!(
            "    lifecycle {field} {{\n{}\n    }}\n",
            transitions.join("\n")
        ));
        exercise(&text, Format::Ddd);
    }
}

proptest! {
    #![proptest_config(cases(500))]

    /// Well-typed rules and values are accepted, whatever their shape.
    #[test]
    fn well_typed_expressions_are_accepted(rule in typed_rule(), value in integer()) {
        let text = with_behaviour(&format!(
            "    command Go(q: u32) requires {rule} emits Went\n    event Went(q: u32) sets m = {value}\n"
        ));
        let loaded = load(&text, Format::Ddd)
            .unwrap_or_else(|r| panic!("{text}\n{:#?}", r.diagnostics));
        let go = &loaded.system.contexts[0].aggregates[0].commands[2];
        let typed = go.requires[0].rule.checked().expect("typed");
        prop_assert_eq!(&typed.ty, &ddd_model::ir::Type::Bool);
        exercise(&text, Format::Ddd);
    }
}

/// Integer expressions over the `u32` and `i64` names of [`with_behaviour`].
fn integer() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(vec![
        "n",
        "m",
        "q",
        "0",
        "7",
        "count(items)",
        "count(tags)",
        "sum(items, quantity)",
        "sum(items, price.cents * quantity)",
        "len(\"text\")",
    ])
    .prop_map(str::to_owned);
    leaf.prop_recursive(3, 16, 2, |inner| {
        (
            inner.clone(),
            prop::sample::select(vec!["+", "-", "*"]),
            inner,
        )
            .prop_map(|(a, op, b)| format!("({a} {op} {b})"))
    })
}

/// `bool` expressions over the names of [`with_behaviour`].
fn typed_rule() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(vec![
        "b",
        "true",
        "note == none",
        "none != note",
        "note == some(\"x\")",
        "status in {Open, Paid}",
        "status == Closed",
        "count(items) > 0",
    ])
    .prop_map(str::to_owned);
    leaf.prop_recursive(4, 32, 2, |inner| {
        let comparison = prop::sample::select(vec!["<", "<=", ">", ">=", "==", "!="]);
        prop_oneof![
            inner.clone().prop_map(|a| format!("not ({a})")),
            (
                inner.clone(),
                prop::sample::select(vec!["and", "or"]),
                inner
            )
                .prop_map(|(a, op, b)| format!("({a}) {op} ({b})")),
            (integer(), comparison, integer()).prop_map(|(a, op, b)| format!("{a} {op} {b}")),
        ]
    })
}

/// A model with state of every kind and `members` added to its aggregate.
fn with_behaviour(members: &str) -> String {
    with_context(members, "")
}

/// [`with_behaviour`], with `others` added to the context after the aggregate.
fn with_context(members: &str, others: &str) -> String {
    format!(
        "system S\nvalue Money {{ cents: i64, currency: String }}\ncontext C {{\n  enum Status {{ Open, Paid, Closed }}\n  aggregate A {{\n    n: u32\n    m: i64\n    b: bool\n    note: Option<String>\n    status: Status\n    items: Vec<Item>\n    tags: Map<String, i64>\n    entity Item {{ sku: String @key, quantity: u32, price: Money }}\n    command Make() creates emits Made\n    command Stop() emits Stopped\n    event Made()\n    event Stopped()\n{members}  }}\n{others}}}\n"
    )
}

fn field_name() -> impl Strategy<Value = &'static str> {
    prop::sample::select(vec!["status", "n", "note", "nope"])
}

/// `A, B -> C by X, Y` with states and commands of the model or not.
fn transition() -> impl Strategy<Value = String> {
    let state = || prop::sample::select(vec!["Open", "Paid", "Closed", "Gone"]);
    let command = prop::sample::select(vec!["Go", "Stop", "Make", "Nope"]);
    (
        prop::collection::vec(state(), 1..3),
        state(),
        prop::collection::vec(command, 1..3),
    )
        .prop_map(|(from, to, by)| {
            format!("      {} -> {to} by {}", from.join(", "), by.join(", "))
        })
}

/// Expressions of the language over the names of [`with_behaviour`], well typed or not.
fn expression() -> impl Strategy<Value = String> {
    let leaf = prop::sample::select(vec![
        "n",
        "m",
        "b",
        "q",
        "note",
        "status",
        "items",
        "tags",
        "Open",
        "Paid",
        "Gone",
        "none",
        "true",
        "false",
        "0",
        "1",
        "-1",
        "1.5",
        "\"x\"",
        "price.cents",
        "sku",
        "quantity",
        "zzz",
        "n.cents",
        "99999999999999999999999",
    ])
    .prop_map(str::to_owned);
    leaf.prop_recursive(5, 48, 4, |inner| {
        let operator = prop::sample::select(vec![
            "+", "-", "*", "==", "!=", "<", "<=", ">", ">=", "and", "or",
        ]);
        let function = prop::sample::select(vec![
            "count", "sum", "len", "some", "append", "upsert", "remove", "insert", "delete", "frob",
        ]);
        let field = prop::sample::select(vec!["sku", "quantity", "price", "cents", "nope"]);
        prop_oneof![
            (inner.clone(), operator, inner.clone()).prop_map(|(a, op, b)| format!("{a} {op} {b}")),
            inner.clone().prop_map(|a| format!("not {a}")),
            inner.clone().prop_map(|a| format!("({a})")),
            inner.clone().prop_map(|a| format!("-{a}")),
            (function, prop::collection::vec(inner.clone(), 0..4))
                .prop_map(|(f, args)| format!("{f}({})", args.join(", "))),
            (inner.clone(), prop::collection::vec(inner.clone(), 0..3))
                .prop_map(|(a, set)| format!("{a} in {{{}}}", set.join(", "))),
            prop::collection::vec((field, inner.clone()), 0..4).prop_map(|fields| {
                let fields: Vec<String> = fields.iter().map(|(f, v)| format!("{f}: {v}")).collect();
                format!("Item {{ {} }}", fields.join(", "))
            }),
        ]
    })
}

proptest! {
    #![proptest_config(cases(400))]

    /// The shop as JSON with random edits (names, types, lists), checked as JSON and YAML.
    #[test]
    fn mutated_shop_json(text in mutated(*SHOP_JSON)) {
        exercise(&text, Format::Json);
        exercise(&text, Format::Yaml);
    }
}

static SHOP_JSON: std::sync::LazyLock<&'static str> = std::sync::LazyLock::new(|| {
    let system = load(SHOP, Format::Ddd).expect("shop").system;
    Box::leak(
        serde_json::to_string_pretty(&system)
            .expect("json")
            .into_boxed_str(),
    )
});

/// A model whose one guard is `rule`, over a `bool` `b`, a `u32` `n` and a list `items`.
fn with_guard(rule: &str) -> String {
    format!(
        "system S\nvalue M {{ c: i64 }}\ncontext C {{\n  aggregate A {{\n    b: bool\n    n: u32\n    items: Vec<M>\n    command Make() creates emits Made\n    command Go() requires {rule} emits Made\n    event Made(b: bool, n: u32, items: Vec<M>)\n  }}\n}}\n"
    )
}

/// Deep nesting and long chains of operators: whatever reads an expression recurses as deep
/// as its tree, so both are refused past a depth, never a stack overflow.
#[test]
fn deep_and_long_expressions_are_refused_or_accepted_without_overflow() {
    type Shape = fn(usize) -> String;
    let shapes: [(&str, Shape); 9] = [
        ("not", |n| format!("{}b", "not ".repeat(n))),
        ("brackets", |n| {
            format!("{}b{}", "(".repeat(n), ")".repeat(n))
        }),
        ("negation", |n| format!("{}1 < 0", "-".repeat(n))),
        ("sum chain", |n| format!("{} > 0", vec!["n"; n].join(" + "))),
        ("and chain", |n| vec!["b"; n].join(" and ")),
        ("product chain", |n| {
            format!("{} > 0", vec!["n"; n].join(" * "))
        }),
        ("calls", |n| {
            format!("{}n{} != none", "some(".repeat(n), ")".repeat(n))
        }),
        ("sets", |n| {
            format!("{}b{}", "b in {".repeat(n), "}".repeat(n))
        }),
        ("nested sums", |n| {
            format!("{}c{} > 0", "sum(items, ".repeat(n), ")".repeat(n))
        }),
    ];
    for (name, shape) in shapes {
        for n in [1, 10, 40, 47, 48, 49, 100, 5_000, 200_000] {
            let text = with_guard(&shape(n));
            let started = Instant::now();
            let result = load(&text, Format::Ddd);
            assert!(
                started.elapsed() < HANG,
                "{name} × {n}: took {:?}",
                started.elapsed()
            );
            if n <= 40 {
                assert!(
                    result.is_ok(),
                    "{name} × {n} is accepted: {:?}",
                    result.err()
                );
            }
            if n >= 100 {
                let rejected = result.expect_err("too deep");
                assert!(
                    rejected
                        .diagnostics
                        .iter()
                        .any(|d| d.message.contains("nested too deeply")
                            || d.message.contains("expression too long")),
                    "{name} × {n}: {:?}",
                    rejected.diagnostics
                );
            }
            // The same rule read from JSON goes through the same parser.
            if n <= 100 {
                let json = serde_json::json!({
                    "name": "S",
                    "contexts": [{"name": "C", "aggregates": [{
                        "name": "A",
                        "fields": [{"name": "b", "type": "bool"}],
                        "commands": [
                            {"name": "Make", "creates": true, "emits": ["Made"]},
                            {"name": "Go", "requires": [{"rule": shape(n)}], "emits": ["Made"]}
                        ],
                        "events": [{"name": "Made", "fields": [{"name": "b", "type": "bool"}]}]
                    }]}]
                });
                exercise(&json.to_string(), Format::Json);
            }
        }
    }
}
