//! Models that must be accepted: unusual names (contextual keywords as names, a context
//! `Core`, an aggregate `Event`), every type, every constraint and relation kind.

use ddd_model::ir::{Constraint, Number, Target, Type};
use ddd_model::{Format, Severity, load};

const UNUSUAL: &str = include_str!("models/good/unusual.ddd");

fn unusual() -> ddd_model::Loaded {
    load(UNUSUAL, Format::Ddd).unwrap_or_else(|rejected| {
        let rendered = ddd_model::diagnostic::render_to_string(
            ddd_model::SourceFile {
                name: "unusual.ddd",
                text: UNUSUAL,
            },
            &rejected.diagnostics,
        );
        panic!("unusual.ddd must be accepted:\n{rendered}")
    })
}

#[test]
fn unusual_names_are_accepted_without_warnings() {
    let loaded = unusual();
    let warnings: Vec<_> = loaded
        .diagnostics
        .iter()
        .filter(|d| d.severity != Severity::Note)
        .collect();
    assert!(warnings.is_empty(), "{warnings:#?}");
    let system = &loaded.system;
    assert_eq!(system.name, "Core");
    let (context, event) = system.aggregate("Event").expect("aggregate Event");
    assert_eq!(context.name, "Core");
    let names: Vec<&str> = event
        .fields
        .iter()
        .take(4)
        .map(|f| f.name.as_str())
        .collect();
    assert_eq!(names, ["event", "value", "command", "map"]);
    let item = &event.entities[0];
    assert_eq!(item.fields[0].name, "command");
    assert_eq!(item.fields[1].name, "map");
    let create = event.command("Create").expect("Create");
    assert_eq!(create.params[0].doc.as_deref(), Some("The event's name."));
    assert_eq!(event.command("Rename").expect("Rename").emits.len(), 2);
    let user = system.aggregate("User").expect("User").1;
    assert!(
        user.command("Register")
            .expect("one-line aggregate")
            .creates
    );
}

#[test]
fn every_type_of_the_language_is_read() {
    let loaded = unusual();
    let (_, event) = loaded.system.aggregate("Event").expect("Event");
    let types: Vec<String> = event.fields.iter().map(|f| f.ty.to_string()).collect();
    for expected in [
        "String",
        "i64",
        "u8",
        "Map<String, Json>",
        "Status",
        "Vec<String>",
        "bool",
        "i8",
        "i16",
        "i32",
        "u64",
        "u16",
        "f32",
        "f64",
        "DateTime",
        "Date",
        "Uuid",
        "Json",
        "Option<UserId>",
        "Vec<Option<Amount>>",
        "Map<String, Vec<Item>>",
        "Option<String>",
    ] {
        assert!(
            types.iter().any(|t| t == expected),
            "no field of type {expected}: {types:?}"
        );
    }
    let amount = &loaded.system.values[0];
    assert_eq!(amount.fields[0].ty, Type::Decimal);
    assert_eq!(amount.fields[1].ty.to_string(), "Currency");
}

#[test]
fn constraints_keep_their_bounds() {
    let loaded = unusual();
    let (_, event) = loaded.system.aggregate("Event").expect("Event");
    let constraint = |field: &str| event.field(field).expect(field).constraints.clone();
    assert!(matches!(
        constraint("event")[..],
        [Constraint::Len {
            min: Some(1),
            max: Some(80),
            ..
        }]
    ));
    assert!(matches!(
        constraint("value")[..],
        [Constraint::Range {
            min: Some(Number::Int(-5)),
            max: Some(Number::Int(5)),
            ..
        }]
    ));
    assert!(matches!(
        constraint("command")[..],
        [Constraint::Range {
            min: None,
            max: Some(Number::Int(9)),
            ..
        }]
    ));
    assert!(matches!(
        constraint("big")[..],
        [Constraint::Range {
            max: Some(Number::Int(18_446_744_073_709_551_615)),
            ..
        }]
    ));
    assert!(matches!(
        constraint("fraction")[..],
        [Constraint::Range {
            min: Some(Number::Float(0.5)),
            max: None,
            ..
        }]
    ));
    let code = constraint("code");
    assert!(
        matches!(&code[..], [Constraint::Pattern { regex, .. }, Constraint::Len { .. }] if regex == "^[A-Z]{3}$")
    );
    assert_eq!(code[0].to_string(), "@pattern(\"^[A-Z]{3}$\")");
}

#[test]
fn every_relation_kind_is_read() {
    let loaded = unusual();
    let kinds: Vec<&str> = loaded
        .system
        .relations
        .iter()
        .map(|r| r.kind.as_str())
        .collect();
    assert_eq!(kinds.len(), 7);
    assert!(loaded.system.relations[5].both_ways && loaded.system.relations[6].both_ways);
    assert_eq!(
        loaded.system.relations[0].doc.as_deref(),
        Some("Upstream first.")
    );
}

#[test]
fn policies_between_unusual_names_translate() {
    let loaded = unusual();
    let core = loaded.system.context("Core").expect("Core");
    let register = core.policies[0].translation.as_ref().expect("translation");
    assert_eq!(register.target, Target::NewFromEventId);
    assert!(!register.needs_code());
    let edge = loaded.system.context("Edge").expect("Edge");
    let note = edge.policies[0].translation.as_ref().expect("translation");
    // `Renamed` comes from `Event`, not `Tracker`, and carries no `TrackerId`.
    assert!(matches!(note.target, Target::NeedsCode { .. }));
}

#[test]
fn windows_line_endings_read_the_same() {
    let shop = include_str!("../../examples/shop/shop.ddd");
    let unix = load(shop, Format::Ddd).expect("shop").system;
    let windows = load(&shop.replace('\n', "\r\n"), Format::Ddd)
        .expect("shop with CRLF")
        .system;
    assert_eq!(windows, unix);
    assert_eq!(windows.values[0].doc, unix.values[0].doc);
}

#[test]
fn one_line_forms_and_trailing_commas() {
    let model = "system S\nvalue V { a: i32, b: String, }\nenum E { X, Y, }\ncontext C { aggregate A { command Make(v: V,) creates emits Made, event Made(v: V) }, publishes Made }\n";
    let system = load(model, Format::Ddd)
        .unwrap_or_else(|r| panic!("{:#?}", r.diagnostics))
        .system;
    assert_eq!(system.values[0].fields.len(), 2);
    assert_eq!(system.enums[0].variants.len(), 2);
    assert_eq!(system.contexts[0].publishes.len(), 1);
}
