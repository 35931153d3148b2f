//! `ddd_model::diff::diff`: one pair of models per kind of change, with the verdict expected
//! for it (whom it breaks, whom a new event version allows it for).

use ddd_model::diff::{self, Audiences, Change, Diff};
use ddd_model::{Format, System};

const BASE: &str = r#"system Shop

/// Money in minor units.
value Money { amount_cents: i64, currency: String @len(3) }

context Sales {
  enum Status { Open, Closed, Archived }

  aggregate Order {
    customer: Uuid
    total: Money
    status: Status
    note: String

    command Place(customer: Uuid, total: Money, note: String @len(1..=100), coupon: Option<String>) creates emits Placed
    command CloseOrder(reason: String, count: u32) emits OrderClosed

    event Placed(customer: Uuid, total: Money, note: String)
    event OrderClosed(reason: String, count: u32) sets status = Closed
  }

  view OrderList from Order {
    customer: Uuid @filter
    total: Money
  }

  view Totals by customer: Uuid {
    orders: u32
    on Order.Placed sets orders = orders + 1
  }

  publishes Placed, OrderClosed
}

context Billing {
  aggregate Invoice {
    order: Uuid
    command Open(order: Uuid) creates emits Opened
    event Opened(order: Uuid)
  }
  on Sales.Placed run Invoice.Open with order = customer
}

map {
  Sales -> Billing : customer-supplier
}
"#;

/// One change the diff must hold: its path and kind, whom it breaks and whom a new version
/// allows it for (`+`-separated audiences, empty for none).
struct Expect {
    path: &'static str,
    kind: &'static str,
    breaks: &'static str,
    allowed: &'static str,
}

const fn expect(
    path: &'static str,
    kind: &'static str,
    breaks: &'static str,
    allowed: &'static str,
) -> Expect {
    Expect {
        path,
        kind,
        breaks,
        allowed,
    }
}

/// A pair of models: the base with `from` replaced by `to` on the new side.
struct Case {
    name: &'static str,
    edits: &'static [(&'static str, &'static str)],
    breaking: bool,
    expect: &'static [Expect],
}

const CASES: &[Case] = &[
    Case {
        name: "an event field removed without a new version",
        edits: &[(
            "event Placed(customer: Uuid, total: Money, note: String)",
            "event Placed(customer: Uuid, total: Money)",
        )],
        breaking: true,
        expect: &[expect(
            "Sales.Order.Placed.note",
            "removed",
            "stored-events+other-contexts",
            "",
        )],
    },
    Case {
        name: "an event field removed in a new version",
        edits: &[(
            "event Placed(customer: Uuid, total: Money, note: String)",
            "event Placed v2(customer: Uuid, total: Money)",
        )],
        breaking: false,
        expect: &[
            expect("Sales.Order.Placed", "changed", "", ""),
            expect(
                "Sales.Order.Placed.note",
                "removed",
                "",
                "stored-events+other-contexts",
            ),
        ],
    },
    Case {
        name: "an event field added without a default",
        edits: &[
            (
                "CloseOrder(reason: String, count: u32)",
                "CloseOrder(reason: String, count: u32, staff: String)",
            ),
            (
                "OrderClosed(reason: String, count: u32)",
                "OrderClosed(reason: String, count: u32, staff: String)",
            ),
        ],
        breaking: true,
        expect: &[
            expect(
                "Sales.Order.OrderClosed.staff",
                "added",
                "stored-events",
                "",
            ),
            expect("Sales.Order.CloseOrder.staff", "added", "http-clients", ""),
        ],
    },
    Case {
        name: "an event field added with a default",
        edits: &[(
            "OrderClosed(reason: String, count: u32)",
            "OrderClosed(reason: String, count: u32, staff: String = \"shop\")",
        )],
        breaking: false,
        expect: &[expect("Sales.Order.OrderClosed.staff", "added", "", "")],
    },
    Case {
        name: "an optional event field added",
        edits: &[(
            "OrderClosed(reason: String, count: u32)",
            "OrderClosed(reason: String, count: u32, staff: Option<String>)",
        )],
        breaking: false,
        expect: &[expect("Sales.Order.OrderClosed.staff", "added", "", "")],
    },
    Case {
        name: "an event field and a parameter retyped",
        edits: &[
            (
                "CloseOrder(reason: String, count: u32)",
                "CloseOrder(reason: String, count: i8)",
            ),
            (
                "OrderClosed(reason: String, count: u32)",
                "OrderClosed(reason: String, count: i8)",
            ),
        ],
        breaking: true,
        expect: &[
            expect(
                "Sales.Order.CloseOrder.count",
                "changed",
                "http-clients",
                "",
            ),
            expect(
                "Sales.Order.OrderClosed.count",
                "changed",
                "stored-events+other-contexts",
                "",
            ),
        ],
    },
    Case {
        name: "a published event field widened",
        edits: &[(
            "OrderClosed(reason: String, count: u32)",
            "OrderClosed(reason: String, count: u64)",
        )],
        breaking: true,
        // Old payloads still read; a consumer of the old model may get a number too large.
        expect: &[expect(
            "Sales.Order.OrderClosed.count",
            "changed",
            "other-contexts",
            "",
        )],
    },
    Case {
        name: "a published event field made optional",
        edits: &[(
            "OrderClosed(reason: String, count: u32)",
            "OrderClosed(reason: Option<String>, count: u32)",
        )],
        breaking: true,
        expect: &[expect(
            "Sales.Order.OrderClosed.reason",
            "changed",
            "other-contexts",
            "",
        )],
    },
    Case {
        name: "an event no longer published",
        edits: &[("publishes Placed, OrderClosed", "publishes Placed")],
        breaking: true,
        expect: &[expect("Sales.OrderClosed", "removed", "other-contexts", "")],
    },
    Case {
        name: "an event newly published",
        edits: &[(
            "  on Sales.Placed run",
            "  publishes Opened\n  on Sales.Placed run",
        )],
        breaking: false,
        expect: &[expect("Billing.Opened", "added", "", "")],
    },
    Case {
        name: "an event removed",
        edits: &[
            (
                "    command CloseOrder(reason: String, count: u32) emits OrderClosed\n",
                "",
            ),
            (
                "    event OrderClosed(reason: String, count: u32) sets status = Closed\n",
                "",
            ),
            ("publishes Placed, OrderClosed", "publishes Placed"),
        ],
        breaking: true,
        expect: &[
            expect("Sales.Order.OrderClosed", "removed", "stored-events", ""),
            expect("Sales.OrderClosed", "removed", "other-contexts", ""),
            expect("Sales.Order.CloseOrder", "removed", "http-clients", ""),
        ],
    },
    Case {
        name: "an event added",
        edits: &[(
            "    event Placed(",
            "    event Noted(note: String)\n    event Placed(",
        )],
        breaking: false,
        expect: &[expect("Sales.Order.Noted", "added", "", "")],
    },
    Case {
        name: "a required parameter added",
        edits: &[(
            "coupon: Option<String>)",
            "coupon: Option<String>, channel: String)",
        )],
        breaking: true,
        expect: &[expect(
            "Sales.Order.Place.channel",
            "added",
            "http-clients",
            "",
        )],
    },
    Case {
        name: "an optional parameter added",
        edits: &[(
            "coupon: Option<String>)",
            "coupon: Option<String>, channel: Option<String>)",
        )],
        breaking: false,
        expect: &[expect("Sales.Order.Place.channel", "added", "", "")],
    },
    Case {
        name: "a parameter removed",
        edits: &[(", coupon: Option<String>)", ")")],
        breaking: true,
        expect: &[expect(
            "Sales.Order.Place.coupon",
            "removed",
            "http-clients",
            "",
        )],
    },
    Case {
        name: "a parameter's constraint tightened",
        edits: &[("note: String @len(1..=100)", "note: String @len(1..=50)")],
        breaking: true,
        expect: &[expect(
            "Sales.Order.Place.note",
            "changed",
            "http-clients",
            "",
        )],
    },
    Case {
        name: "a parameter's constraint loosened",
        edits: &[("note: String @len(1..=100)", "note: String @len(0..=200)")],
        breaking: false,
        expect: &[expect("Sales.Order.Place.note", "changed", "", "")],
    },
    Case {
        name: "a command becomes creating: its endpoint moves",
        edits: &[(
            "    command CloseOrder(reason: String, count: u32) emits",
            "    command CloseOrder(reason: String, count: u32) creates emits",
        )],
        breaking: true,
        expect: &[expect(
            "Sales.Order.CloseOrder",
            "changed",
            "http-clients",
            "",
        )],
    },
    Case {
        name: "a state field removed",
        edits: &[("    note: String\n", "")],
        breaking: true,
        expect: &[expect("Sales.Order.note", "removed", "http-clients", "")],
    },
    Case {
        name: "a view removed",
        edits: &[(
            "  view OrderList from Order {\n    customer: Uuid @filter\n    total: Money\n  }\n",
            "",
        )],
        breaking: true,
        expect: &[expect("Sales.OrderList", "removed", "http-clients", "")],
    },
    Case {
        name: "a view field removed",
        edits: &[(
            "    customer: Uuid @filter\n    total: Money\n",
            "    customer: Uuid @filter\n",
        )],
        breaking: true,
        expect: &[expect(
            "Sales.OrderList.total",
            "removed",
            "http-clients",
            "",
        )],
    },
    Case {
        name: "a view's filter removed",
        edits: &[("customer: Uuid @filter", "customer: Uuid")],
        breaking: true,
        expect: &[expect(
            "Sales.OrderList.customer",
            "changed",
            "http-clients",
            "",
        )],
    },
    Case {
        name: "a view and a view field added",
        edits: &[(
            "    total: Money\n  }\n",
            "    total: Money\n    status: Status @filter\n  }\n\n  view Orders2 from Order {\n    customer: Uuid\n  }\n",
        )],
        breaking: false,
        expect: &[
            expect("Sales.OrderList.status", "added", "", ""),
            expect("Sales.Orders2", "added", "", ""),
        ],
    },
    Case {
        name: "a field of a value removed",
        edits: &[(
            "value Money { amount_cents: i64, currency: String @len(3) }",
            "value Money { amount_cents: i64 }",
        )],
        breaking: true,
        expect: &[expect(
            "Money.currency",
            "removed",
            "stored-events+other-contexts+http-clients",
            "",
        )],
    },
    Case {
        name: "a field of a value removed, every event carrying it in a new version",
        edits: &[
            (
                "value Money { amount_cents: i64, currency: String @len(3) }",
                "value Money { amount_cents: i64 }",
            ),
            ("event Placed(", "event Placed v2("),
        ],
        breaking: true,
        // Stored payloads and consumers are bridged; HTTP clients still send a currency.
        expect: &[expect(
            "Money.currency",
            "removed",
            "http-clients",
            "stored-events+other-contexts",
        )],
    },
    Case {
        name: "an optional field added to a value",
        edits: &[(
            "currency: String @len(3) }",
            "currency: String @len(3), rate: Option<f64> }",
        )],
        breaking: false,
        expect: &[expect("Money.rate", "added", "", "")],
    },
    Case {
        name: "an enum variant added and one removed, the enum only in the state",
        edits: &[(
            "enum Status { Open, Closed, Archived }",
            "enum Status { Open, Closed, Held }",
        )],
        breaking: false,
        expect: &[
            expect("Sales.Status.Archived", "removed", "", ""),
            expect("Sales.Status.Held", "added", "", ""),
        ],
    },
    Case {
        name: "a context removed",
        edits: &[
            (
                "context Billing {\n  aggregate Invoice {\n    order: Uuid\n    command Open(order: Uuid) creates emits Opened\n    event Opened(order: Uuid)\n  }\n  on Sales.Placed run Invoice.Open with order = customer\n}\n",
                "",
            ),
            ("  Sales -> Billing : customer-supplier\n", ""),
        ],
        breaking: true,
        expect: &[
            expect("Billing", "removed", "stored-events+http-clients", ""),
            expect("map: Sales -> Billing", "removed", "", ""),
        ],
    },
    Case {
        name: "an aggregate removed",
        edits: &[
            (
                "  aggregate Invoice {\n    order: Uuid\n    command Open(order: Uuid) creates emits Opened\n    event Opened(order: Uuid)\n  }\n",
                "",
            ),
            (
                "  on Sales.Placed run Invoice.Open with order = customer\n",
                "",
            ),
        ],
        breaking: true,
        expect: &[
            expect(
                "Billing.Invoice",
                "removed",
                "stored-events+http-clients",
                "",
            ),
            expect(
                "Billing: on Sales.Placed run Invoice.Open",
                "removed",
                "",
                "",
            ),
        ],
    },
    Case {
        name: "a view fed by one more event",
        edits: &[
            (
                "    event Placed(customer: Uuid, total: Money, note: String)\n",
                "    event Placed(customer: Uuid, total: Money, note: String)\n    event Noted(customer: Uuid)\n",
            ),
            (
                "    on Order.Placed sets orders = orders + 1\n",
                "    on Order.Placed sets orders = orders + 1\n    on Order.Noted sets orders = orders\n",
            ),
        ],
        breaking: false,
        expect: &[expect("Sales.Totals on Order.Noted", "added", "", "")],
    },
    Case {
        name: "a context added",
        edits: &[(
            "map {",
            "context Stock {\n  aggregate Item {\n    command Make() creates emits Made\n    event Made()\n  }\n}\n\nmap {",
        )],
        breaking: false,
        expect: &[expect("Stock", "added", "", "")],
    },
    Case {
        name: "the system renamed: every subject changes",
        edits: &[("system Shop", "system Store")],
        breaking: true,
        expect: &[expect("Store", "changed", "other-contexts", "")],
    },
    Case {
        name: "a policy removed",
        edits: &[(
            "  on Sales.Placed run Invoice.Open with order = customer\n",
            "",
        )],
        breaking: false,
        expect: &[expect(
            "Billing: on Sales.Placed run Invoice.Open",
            "removed",
            "",
            "",
        )],
    },
    Case {
        name: "a doc changed",
        edits: &[("/// Money in minor units.", "/// Money, in cents.")],
        breaking: false,
        expect: &[expect("Money", "changed", "", "")],
    },
    Case {
        name: "a version bumped alone",
        edits: &[("event OrderClosed(", "event OrderClosed v3(")],
        breaking: false,
        expect: &[expect("Sales.Order.OrderClosed", "changed", "", "")],
    },
];

fn checked(text: &str) -> System {
    match ddd_model::load(text, Format::Ddd) {
        Ok(loaded) => loaded.system,
        Err(rejected) => panic!("not a valid model:\n{text}\n{:#?}", rejected.diagnostics),
    }
}

fn edited(edits: &[(&str, &str)]) -> String {
    let mut text = BASE.to_owned();
    for (from, to) in edits {
        assert!(text.contains(from), "the base model has no {from:?}");
        text = text.replacen(from, to, 1);
    }
    text
}

fn names(audiences: Audiences) -> String {
    let names: Vec<&str> = audiences.iter().map(|a| a.as_str()).collect();
    names.join("+")
}

fn show(diff: &Diff) -> String {
    let lines: Vec<String> = diff
        .changes
        .iter()
        .map(|c| {
            format!(
                "{} {} {}: breaks [{}] allowed [{}] {:?}",
                c.kind.as_str(),
                c.item.as_str(),
                c.path,
                names(c.breaks),
                names(c.allowed),
                c.details
            )
        })
        .collect();
    lines.join("\n")
}

fn find<'a>(diff: &'a Diff, expect: &Expect) -> Option<&'a Change> {
    diff.changes
        .iter()
        .find(|c| c.path == expect.path && c.kind.as_str() == expect.kind)
}

#[test]
fn the_same_model_has_no_changes() {
    let system = checked(BASE);
    let diff = diff::diff(&system, &system);
    assert!(diff.changes.is_empty(), "{}", show(&diff));
    assert!(diff.errors.is_empty());
}

#[test]
fn each_kind_of_change_has_its_verdict() {
    let old = checked(BASE);
    let mut failures = Vec::new();
    for case in CASES {
        let new = checked(&edited(case.edits));
        let diff = diff::diff(&old, &new);
        let mut wrong = Vec::new();
        if diff.is_breaking() != case.breaking {
            wrong.push(format!(
                "breaking: {}, expected {}",
                diff.is_breaking(),
                case.breaking
            ));
        }
        for expect in case.expect {
            match find(&diff, expect) {
                Some(change)
                    if names(change.breaks) == expect.breaks
                        && names(change.allowed) == expect.allowed => {}
                Some(_) => wrong.push(format!("wrong verdict for {} {}", expect.kind, expect.path)),
                None => wrong.push(format!("no {} {}", expect.kind, expect.path)),
            }
        }
        if !diff.errors.is_empty() {
            wrong.push(format!("errors: {:?}", diff.errors));
        }
        if !wrong.is_empty() {
            failures.push(format!(
                "{}: {}\n{}",
                case.name,
                wrong.join("; "),
                show(&diff)
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n\n"));
}

#[test]
fn changes_are_located_in_both_models() {
    let old_text = BASE;
    let new_text = edited(&[(
        "event Placed(customer: Uuid, total: Money, note: String)",
        "\n    event Placed(customer: Uuid, total: Money, note: u64)",
    )]);
    let diff = diff::diff(&checked(old_text), &checked(&new_text));
    let change = diff
        .changes
        .iter()
        .find(|c| c.path == "Sales.Order.Placed.note")
        .expect("the retyped field");
    let old = change.old.expect("located in the old model");
    let new = change.new.expect("located in the new model");
    assert_eq!(&old_text[old.range()], "note");
    assert_eq!(&new_text[new.range()], "note");
    assert!(
        new.start > old.start,
        "the new model has a line more before it"
    );
}

#[test]
fn a_version_lowered_is_an_error_at_the_new_version() {
    let old = BASE.replace("event OrderClosed(", "event OrderClosed v3(");
    let new = BASE.replace("event OrderClosed(", "event OrderClosed v2(");
    let diff = diff::diff(&checked(&old), &checked(&new));
    assert_eq!(diff.errors.len(), 1, "{:?}", diff.errors);
    let error = &diff.errors[0];
    assert_eq!(error.code, ddd_model::Code::Evolution);
    assert!(error.message.contains("v3 down to v2"), "{}", error.message);
    assert_eq!(error.line_col(&new), Some((19, 23)));
}

#[test]
fn a_changed_default_breaks_stored_events() {
    let old = BASE.replace(
        "count: u32) sets",
        "count: u32, staff: String = \"shop\") sets",
    );
    let new = BASE.replace(
        "count: u32) sets",
        "count: u32, staff: String = \"desk\") sets",
    );
    let removed = BASE.replace("count: u32) sets", "count: u32, staff: String) sets");
    let old = checked(&old);
    for (new, what) in [
        (new, "default `\"shop\"` → `\"desk\"`"),
        (removed, "default `\"shop\"` removed"),
    ] {
        let diff = diff::diff(&old, &checked(&new));
        let change = diff
            .changes
            .iter()
            .find(|c| c.path == "Sales.Order.OrderClosed.staff")
            .expect("the field's default changed");
        assert_eq!(names(change.breaks), "stored-events", "{}", show(&diff));
        assert_eq!(change.details, [what]);
    }
}

#[test]
fn the_line_index_locates_like_a_scan() {
    // A multi-byte character before a change on its line: columns count characters.
    let new_text = edited(&[(
        "currency: String @len(3) }",
        "currency: String @len(3), tag: String @pattern(\"é\"), extra: Option<u8> }",
    )]);
    let sources = ddd_model::Sources::single("new.ddd", new_text.as_str());
    let index = sources.line_index();
    let diff = diff::diff(&checked(BASE), &checked(&new_text));
    let spans: Vec<_> = diff.changes.iter().filter_map(|c| c.new).collect();
    assert!(spans.len() >= 2, "{}", show(&diff));
    for span in spans {
        assert_eq!(index.position(span), sources.position(span));
    }
}
