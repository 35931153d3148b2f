//! The IR read back from JSON and YAML equals the IR read from `.ddd`, and JSON/YAML written
//! with unresolved names (as a person would) resolves to the same model.

use ddd_model::ir::System;
use ddd_model::{Format, load};
use serde_json::Value;

const MODELS: &[(&str, &str)] = &[
    ("shop.ddd", include_str!("../../examples/shop/shop.ddd")),
    ("unusual.ddd", include_str!("models/good/unusual.ddd")),
    ("behaviour.ddd", include_str!("models/good/behaviour.ddd")),
    ("views.ddd", include_str!("models/good/views.ddd")),
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
            for derived in ["translation", "emit_plans", "apply", "copy", "resolved"] {
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
        "View",
        "ViewField",
        "ViewHandler",
        "HandledEvent",
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
    for (definition, property) in [
        ("Context", "kind"),
        ("Context", "aliases"),
        ("Aggregate", "lifecycles"),
        ("Aggregate", "aliases"),
        ("Command", "requires"),
        ("Event", "version"),
        ("Event", "sets"),
        ("Field", "key"),
        ("Field", "default"),
        ("Relation", "from_roles"),
        ("Relation", "to_roles"),
        ("Context", "views"),
        ("View", "source"),
        ("ViewField", "filter"),
        ("ViewField", "sort"),
        ("ViewField", "value"),
        ("ViewHandler", "resolved"),
    ] {
        assert!(
            definitions[definition]["properties"]
                .get(property)
                .is_some(),
            "no {definition}.{property} in the schema"
        );
    }
    // Every model serialized, derived parts included, is valid against the schema.
    for (name, text) in MODELS {
        let json = serde_json::to_value(from_ddd(name, text)).expect("serializes");
        if let Err(problem) = conforms(&schema, &schema, &json, "$") {
            panic!("{name}: {problem}");
        }
    }
    // And the check can fail: a field the schema does not know, a kind it does not list.
    let mut json = serde_json::to_value(from_ddd(MODELS[0].0, MODELS[0].1)).expect("serializes");
    json["contexts"][0]["kind"] = "central".into();
    assert!(conforms(&schema, &schema, &json, "$").is_err());
    json["contexts"][0]["kind"] = "core".into();
    json["contexts"][0]["aggregates"][0]["lifecycle"] = Value::Array(Vec::new());
    let problem = conforms(&schema, &schema, &json, "$").expect_err("an unknown field");
    assert!(problem.contains("`lifecycle`"), "{problem}");
}

/// Whether `value` is valid against `schema` (the parts of JSON Schema that schemars writes:
/// `$ref`, `type`, `enum`, `const`, `properties`, `required`, `additionalProperties`,
/// `items`, `oneOf`, `anyOf`, `minimum`). `Err` names the first place that is not.
fn conforms(root: &Value, schema: &Value, value: &Value, at: &str) -> Result<(), String> {
    if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
        let name = reference.trim_start_matches("#/$defs/");
        return conforms(root, &root["$defs"][name], value, at);
    }
    for (keyword, exactly_one) in [("oneOf", true), ("anyOf", false)] {
        if let Some(options) = schema.get(keyword).and_then(Value::as_array) {
            let matching = options
                .iter()
                .filter(|option| conforms(root, option, value, at).is_ok())
                .count();
            if matching == 0 || (exactly_one && matching > 1) {
                return Err(format!(
                    "{at}: {matching} of the {keyword} options fit {value}"
                ));
            }
        }
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::Array(types) => types.iter().filter_map(Value::as_str).collect(),
            other => other.as_str().into_iter().collect(),
        };
        let fits = |ty: &str| match ty {
            "object" => value.is_object(),
            "array" => value.is_array(),
            "string" => value.is_string(),
            "boolean" => value.is_boolean(),
            "integer" => value.is_i64() || value.is_u64(),
            "number" => value.is_number(),
            "null" => value.is_null(),
            _ => false,
        };
        if !types.iter().any(|ty| fits(ty)) {
            return Err(format!("{at}: {value} is not of type {types:?}"));
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array)
        && !allowed.contains(value)
    {
        return Err(format!("{at}: {value} is not one of {allowed:?}"));
    }
    if let Some(constant) = schema.get("const")
        && constant != value
    {
        return Err(format!("{at}: {value} is not {constant}"));
    }
    if let (Some(minimum), Some(number)) = (
        schema.get("minimum").and_then(Value::as_f64),
        value.as_f64(),
    ) && number < minimum
    {
        return Err(format!("{at}: {number} is below {minimum}"));
    }
    if let Value::Object(object) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        for required in schema
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if !object.contains_key(required) {
                return Err(format!("{at}: `{required}` is required"));
            }
        }
        for (key, item) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(property) => conforms(root, property, item, &format!("{at}.{key}"))?,
                None if schema.get("additionalProperties") == Some(&Value::Bool(false)) => {
                    return Err(format!("{at}: `{key}` is not in the schema"));
                }
                None => {}
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            conforms(root, item_schema, item, &format!("{at}[{i}]"))?;
        }
    }
    Ok(())
}
