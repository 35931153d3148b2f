//! Rules of validation and derivation, one small model each.

use ddd_model::ir::{Conversion, Source, System, Target, Type, TypePath};
use ddd_model::{Code, Format, Name, Severity, load};

/// `(code, line, column)` of every error and warning.
fn problems(model: &str) -> Vec<(Code, usize, usize)> {
    let diagnostics = match load(model, Format::Ddd) {
        Ok(loaded) => loaded.diagnostics,
        Err(rejected) => rejected.diagnostics,
    };
    diagnostics
        .iter()
        .filter(|d| d.severity != Severity::Note)
        .map(|d| {
            let (line, column) = d.line_col(model).unwrap_or((0, 0));
            (d.code, line, column)
        })
        .collect()
}

fn accepted(model: &str) -> System {
    match load(model, Format::Ddd) {
        Ok(loaded) => loaded.system,
        Err(rejected) => panic!("{:#?}", rejected.diagnostics),
    }
}

/// A system with a publishing `Source` context (event `Happened` with `fields`) and a
/// `Target` context whose policy runs `Act(params)` of aggregate `Sink`.
fn policy_model(types: &str, fields: &str, params: &str, mapping: &str) -> String {
    format!(
        "system S\n{types}\ncontext Source {{\n  aggregate Emitter {{\n    command Go({fields}) creates emits Happened\n    event Happened({fields})\n  }}\n  publishes Happened\n}}\ncontext Target {{\n  aggregate Sink {{\n    command Act({params}) creates emits Acted\n    event Acted()\n  }}\n  on Source.Happened run Sink.Act{mapping}\n}}\n"
    )
}

fn translated(model: &str) -> Vec<(String, Source)> {
    let system = accepted(model);
    let policy = &system.context("Target").expect("Target").policies[0];
    let translation = policy.translation.as_ref().expect("a translation");
    translation
        .fields
        .iter()
        .map(|f| (f.field.to_string(), f.source.clone()))
        .collect()
}

fn from_event(field: &str, conversion: Conversion) -> Source {
    Source::EventField {
        field: Name::new(field),
        conversion,
    }
}

#[test]
fn records_with_the_same_fields_in_another_order_convert() {
    let types = "value A { x: i32, y: String }\nvalue B { y: String, x: i32 }";
    let fields = translated(&policy_model(types, "a: A", "b: B", " with b = a"));
    let pair = |c: &Conversion| matches!(c, Conversion::Record(p) if p.from == TypePath::parse("A").unwrap() && p.to == TypePath::parse("B").unwrap());
    assert!(
        matches!(&fields[0].1, Source::EventField { conversion, .. } if pair(conversion)),
        "{fields:?}"
    );
}

#[test]
fn records_with_different_fields_do_not_convert() {
    let types = "value A { x: i32, y: String }\nvalue B { x: i32 }";
    let model = policy_model(types, "a: A", "b: B", " with b = a");
    let line = model
        .lines()
        .position(|l| l.contains(" on "))
        .expect("policy line")
        + 1;
    assert_eq!(problems(&model), [(Code::MappingMismatch, line, 44)]);
}

#[test]
fn a_value_fills_an_option_but_not_the_other_way() {
    let fields = translated(&policy_model("", "a: i64", "b: Option<i64>", " with b = a"));
    assert_eq!(
        fields[0].1,
        from_event("a", Conversion::Some(Box::new(Conversion::Same)))
    );
    let model = policy_model("", "a: Option<i64>", "b: i64", " with b = a");
    assert_eq!(problems(&model).len(), 1);
    assert_eq!(problems(&model)[0].0, Code::MappingMismatch);
}

#[test]
fn conversion_is_element_wise() {
    let types = "value A { x: i32 }\nvalue B { x: Option<i32> }";
    let fields = translated(&policy_model(
        types,
        "a: Vec<Option<A>>, m: Map<String, A>",
        "a: Vec<Option<B>>, m: Map<String, B>",
        "",
    ));
    let record = Conversion::Record(Box::new(ddd_model::ir::RecordPair {
        from: TypePath::parse("A").unwrap(),
        to: TypePath::parse("B").unwrap(),
    }));
    assert_eq!(
        fields[0].1,
        from_event(
            "a",
            Conversion::Vec(Box::new(Conversion::Option(Box::new(record.clone()))))
        )
    );
    assert_eq!(
        fields[1].1,
        from_event("m", Conversion::Map(Box::new(record)))
    );
}

#[test]
fn recursive_records_convert_without_looping() {
    let types = "value Node { label: String, children: Vec<Node> }\nvalue Tree { label: String, children: Vec<Tree> }";
    let system = accepted(&policy_model(types, "root: Node", "root: Tree", ""));
    let translation = system.context("Target").unwrap().policies[0]
        .translation
        .clone()
        .unwrap();
    assert!(!translation.needs_code());
    assert_eq!(translation.conversions.len(), 1);
    let children = &translation.conversions[0].fields[1].conversion;
    assert!(matches!(children, Conversion::Vec(inner) if matches!(**inner, Conversion::Record(_))));
}

#[test]
fn different_enums_do_not_convert() {
    let types = "enum A { X }\nenum B { X }";
    let model = policy_model(types, "a: A", "b: B", " with b = a");
    assert_eq!(problems(&model)[0].0, Code::MappingMismatch);
}

#[test]
fn an_unmapped_field_of_another_type_needs_code() {
    let fields = translated(&policy_model("", "a: String", "a: i64", ""));
    assert!(
        matches!(&fields[0].1, Source::NeedsCode { reason } if reason.contains("`a: i64` cannot be filled from the event field `a: String`"))
    );
}

#[test]
fn the_target_is_ambiguous_with_two_id_fields() {
    let model = "system S\ncontext C {\n  aggregate Order {\n    command Open() creates emits Opened\n    command Merge() emits Merged\n    event Opened()\n    event Merged(a: OrderId, b: OrderId)\n  }\n  publishes Merged\n  on C.Merged run Order.Merge\n}\n";
    let system = accepted(model);
    let target = &system.contexts[0].policies[0]
        .translation
        .as_ref()
        .unwrap()
        .target;
    assert!(
        matches!(target, Target::NeedsCode { reason } if reason.contains("2 fields of type `OrderId` (`a`, `b`)")),
        "{target:?}"
    );
}

#[test]
fn the_emitting_aggregate_is_the_target_when_it_is_the_same_aggregate() {
    let model = "system S\ncontext C {\n  aggregate Order {\n    command Open() creates emits Opened\n    command Close() emits Closed\n    event Opened()\n    event Closed()\n  }\n  publishes Opened\n  on C.Opened run Order.Close\n}\n";
    let system = accepted(model);
    let target = &system.contexts[0].policies[0]
        .translation
        .as_ref()
        .unwrap()
        .target;
    assert_eq!(*target, Target::EmittingAggregate);
}

#[test]
fn a_creates_command_does_not_read_the_state() {
    let model = "system S\ncontext C {\n  aggregate A {\n    note: String\n    command Make() creates emits Made\n    command Touch() emits Made\n    event Made(note: String)\n  }\n}\n";
    let system = accepted(model);
    let aggregate = &system.contexts[0].aggregates[0];
    assert!(aggregate.commands[0].emit_plans[0].fields[0].needs_code());
    assert!(matches!(
        aggregate.commands[1].emit_plans[0].fields[0].source,
        Source::StateField { .. }
    ));
}

#[test]
fn the_innermost_definition_wins() {
    let model = "system S\nvalue Address { a: i32 }\ncontext C {\n  value Address { b: i32 }\n  aggregate A {\n    value Address { c: i32 }\n    here: Address\n    command Make() creates emits Made\n    event Made()\n  }\n  aggregate B {\n    there: Address\n    command Make() creates emits Made2\n    event Made2()\n  }\n}\n";
    let diagnostics = load(model, Format::Ddd).expect("accepted").diagnostics;
    assert_eq!(
        diagnostics
            .iter()
            .filter(|d| d.code == Code::ShadowedType)
            .count(),
        3
    );
    let system = accepted(model);
    let path = |ty: &Type| ty.path().map(|(_, p)| p.to_string());
    assert_eq!(
        path(&system.contexts[0].aggregates[0].fields[0].ty).as_deref(),
        Some("C.A.Address")
    );
    assert_eq!(
        path(&system.contexts[0].aggregates[1].fields[0].ty).as_deref(),
        Some("C.Address")
    );
}

#[test]
fn a_vec_or_map_breaks_a_value_cycle() {
    let model = "system S\nvalue A { b: Vec<B> }\nvalue B { a: Map<String, A>, also: Option<Vec<A>> }\ncontext C { aggregate X { command Make() creates emits Made, event Made() } }\n";
    assert_eq!(problems(model), []);
}

#[test]
fn long_value_chains_and_cycles_do_not_overflow() {
    let n = 5_000;
    let mut chain = String::from("system S\n");
    for i in 0..n {
        chain.push_str(&format!("value V{i} {{ next: V{} }}\n", i + 1));
    }
    chain.push_str(&format!("value V{n} {{ x: i32 }}\ncontext C {{ aggregate X {{ command Make(v: V0) creates emits Made, event Made() }} }}\n"));
    assert_eq!(problems(&chain), []);
    let cycle = chain.replace(
        &format!("value V{n} {{ x: i32 }}"),
        &format!("value V{n} {{ x: V0 }}"),
    );
    assert_eq!(problems(&cycle), [(Code::ValueCycle, 2, 18)]);
}

#[test]
fn json_names_need_the_right_case_too() {
    let json = r#"{"name": "", "contexts": [{"name": "sales", "aggregates": [{"name": "Order",
        "commands": [{"name": "Place", "creates": true, "emits": ["Placed"]}], "events": [{"name": "Placed"}]}]}]}"#;
    let rejected = load(json, Format::Json).expect_err("bad names");
    let found: Vec<(Code, Option<String>)> = rejected
        .diagnostics
        .iter()
        .map(|d| (d.code, d.location.as_ref().and_then(|l| l.path.clone())))
        .collect();
    assert_eq!(
        found,
        [
            (Code::BadCase, Some("$.name".to_owned())),
            (Code::BadCase, Some("$.contexts[0].name".to_owned())),
        ]
    );
}

#[test]
fn json_type_paths_outside_the_scope_are_not_visible() {
    let json = r#"{"name": "S", "contexts": [{"name": "C", "aggregates": [
        {"name": "A", "entities": [{"name": "Line"}], "commands": [{"name": "Make", "creates": true, "emits": ["Made"]}], "events": [{"name": "Made"}]},
        {"name": "B", "fields": [{"name": "line", "type": {"entity": "C.A.Line"}}], "commands": [{"name": "Make", "creates": true, "emits": ["Made2"]}], "events": [{"name": "Made2"}]}
    ]}]}"#;
    let rejected = load(json, Format::Json).expect_err("not visible");
    assert_eq!(rejected.diagnostics[0].code, Code::InvalidType);
    assert_eq!(
        rejected.diagnostics[0].message,
        "`C.A.Line` is not visible here"
    );
}

#[test]
fn records_sharing_a_failing_field_type_are_compared_quickly() {
    // Without caching failures, comparing 30 levels of records with two fields each that
    // both fail at the bottom would take 2^30 steps.
    let depth = 30;
    let mut types = String::new();
    for side in ["A", "B"] {
        for i in 0..depth {
            types.push_str(&format!(
                "value {side}{i} {{ l: {side}{n}, r: {side}{n} }}\n",
                n = i + 1
            ));
        }
    }
    types.push_str(&format!(
        "value A{depth} {{ x: i32 }}\nvalue B{depth} {{ x: String }}\n"
    ));
    let model = policy_model(&types, "a: A0", "b: B0", " with b = a");
    assert_eq!(
        problems(&model).last().map(|p| p.0),
        Some(Code::MappingMismatch)
    );
}

#[test]
fn ir_lookups_find_definitions() {
    let system = accepted(include_str!("../../examples/shop/shop.ddd"));
    let line = TypePath::parse("Ordering.Order.OrderLine").unwrap();
    assert_eq!(
        system.type_def(&line).map(|d| d.kind().as_str()),
        Some("entity")
    );
    assert_eq!(system.record(&line).map(|r| r.fields.len()), Some(3));
    assert!(
        system
            .type_def(&TypePath::parse("Ordering.OrderStatus").unwrap())
            .is_some()
    );
    assert!(
        system
            .type_def(&TypePath::parse("Ordering.Nope").unwrap())
            .is_none()
    );
    let (context, order) = system.aggregate("Order").unwrap();
    assert_eq!(
        (context.name.as_str(), order.id_type_name().as_str()),
        ("Ordering", "OrderId")
    );
    assert!(context.publishes("OrderPaid"));
    assert_eq!(
        context.event("OrderPaid").map(|(a, _)| a.name.as_str()),
        Some("Order")
    );
}
