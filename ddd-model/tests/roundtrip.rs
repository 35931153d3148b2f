//! The IR read back from JSON and YAML equals the IR read from `.ddd`, and JSON/YAML written
//! with unresolved names (as a person would) resolves to the same model.

use ddd_model::ir::System;
use ddd_model::{Format, load};
use serde_json::Value;

const MODELS: &[(&str, &str)] = &[
    ("shop.ddd", include_str!("../../models/shop.ddd")),
    ("unusual.ddd", include_str!("models/good/unusual.ddd")),
];

fn from_ddd(name: &str, text: &str) -> System {
    load(text, Format::Ddd)
        .unwrap_or_else(|r| panic!("{name}: {:?}", r.diagnostics))
        .system
}

#[test]
fn ddd_to_json_to_ir_is_the_identity() {
    for (name, text) in MODELS {
        let system = from_ddd(name, text);
        let json = serde_json::to_string_pretty(&system).expect("serializes");
        let back: System = serde_json::from_str(&json).expect("deserializes");
        assert_eq!(back, system, "{name}: plain serde round trip");
        let checked = load(&json, Format::Json)
            .unwrap_or_else(|r| panic!("{name}: {:?}", r.diagnostics))
            .system;
        assert_eq!(checked, system, "{name}: JSON re-checked");
    }
}

#[test]
fn ddd_to_yaml_to_ir_is_the_identity() {
    for (name, text) in MODELS {
        let system = from_ddd(name, text);
        let yaml = serde_saphyr::to_string(&system).expect("serializes");
        let back: System = serde_saphyr::from_str(&yaml).expect("deserializes");
        assert_eq!(back, system, "{name}: plain serde round trip");
        let checked = load(&yaml, Format::Yaml)
            .unwrap_or_else(|r| panic!("{name}: {:?}", r.diagnostics))
            .system;
        assert_eq!(checked, system, "{name}: YAML re-checked");
    }
}

/// Writes the model the way a person would: type references by bare name, nothing derived.
fn handwritten(value: &mut Value) {
    match value {
        Value::Object(map) => {
            for derived in ["translation", "emit_plans", "apply"] {
                map.remove(derived);
            }
            for kind in ["value", "entity", "enum"] {
                if map.len() == 1
                    && let Some(Value::String(path)) = map.get(kind)
                {
                    let name = path.rsplit('.').next().unwrap_or_default().to_owned();
                    map.clear();
                    map.insert("named".into(), Value::String(name));
                    return;
                }
            }
            if map.len() == 1
                && let Some(Value::String(aggregate)) = map.get("id")
            {
                let name = format!("{aggregate}Id");
                map.clear();
                map.insert("named".into(), Value::String(name));
                return;
            }
            map.values_mut().for_each(handwritten);
        }
        Value::Array(items) => items.iter_mut().for_each(handwritten),
        _ => {}
    }
}

#[test]
fn handwritten_json_resolves_and_derives_like_ddd() {
    for (name, text) in MODELS {
        let system = from_ddd(name, text);
        let mut json = serde_json::to_value(&system).expect("serializes");
        handwritten(&mut json);
        let written = json.to_string();
        assert!(
            !written.contains("\"translation\"") && written.contains("\"named\""),
            "{name}"
        );
        let checked = load(&written, Format::Json)
            .unwrap_or_else(|r| panic!("{name}: {:?}", r.diagnostics))
            .system;
        assert_eq!(checked, system, "{name}");
    }
}

#[test]
fn the_schema_describes_the_serialized_ir() {
    let schema = ddd_model::schema::json_schema();
    let definitions = schema["$defs"].as_object().expect("$defs");
    for name in [
        "Context",
        "Aggregate",
        "Command",
        "Event",
        "Policy",
        "Relation",
        "Type",
        "Translation",
        "Constraint",
    ] {
        assert!(definitions.contains_key(name), "no {name} in the schema");
    }
    let required: Vec<&str> = schema["required"]
        .as_array()
        .expect("required")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(required, ["name"]);
    let kinds = schema["$defs"]["RelationKind"].to_string();
    assert!(
        kinds.contains("shared-kernel") && kinds.contains("anticorruption-layer"),
        "{kinds}"
    );
}
