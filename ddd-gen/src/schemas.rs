//! JSON Schemas of model types, exactly as serde writes and reads the generated Rust types:
//! ids are UUID strings, `DateTime` RFC 3339, `Decimal` a string (`rust_decimal`'s serde),
//! enums their variant names, records closed objects (`deny_unknown_fields`), `Option`
//! optional and nullable. Shared by the OpenAPI and AsyncAPI documents.

use std::collections::BTreeMap;

use ddd_model::System;
use ddd_model::ir::{Constraint, Field, Number, Type, TypeDef, TypePath};
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The named schemas a document needs, collected while its fields are described.
#[derive(Debug)]
pub(crate) struct Schemas<'a> {
    system: &'a System,
    /// Where a reference points: `#/components/schemas/`.
    prefix: &'static str,
    defs: BTreeMap<String, Value>,
}

impl<'a> Schemas<'a> {
    pub(crate) fn new(system: &'a System, prefix: &'static str) -> Self {
        Schemas {
            system,
            prefix,
            defs: BTreeMap::new(),
        }
    }

    /// `{"$ref": ...}` to the named schema.
    pub(crate) fn reference(&self, name: &str) -> Value {
        json!({ "$ref": format!("{}{name}", self.prefix) })
    }

    /// Adds a named schema and returns a reference to it.
    pub(crate) fn define(&mut self, name: String, schema: Value) -> Value {
        let reference = self.reference(&name);
        self.defs.insert(name, schema);
        reference
    }

    pub(crate) fn into_defs(self) -> BTreeMap<String, Value> {
        self.defs
    }

    /// A closed object of `fields`: what serde writes for a struct or a struct variant, and
    /// (with `deny_unknown_fields`) all it accepts. A field is required unless an `Option`:
    /// serde reads a missing `Option` field as `None`.
    pub(crate) fn object(&mut self, fields: &[Field]) -> Value {
        let mut properties = Map::new();
        let mut required = Vec::new();
        for field in fields {
            let mut schema = self.field(field);
            if let (Some(doc), Some(object)) = (&field.doc, schema.as_object_mut())
                && !object.contains_key("$ref")
            {
                object.insert("description".into(), json!(doc));
            }
            properties.insert(field.name.to_string(), schema);
            if !matches!(field.ty, Type::Option(_)) {
                required.push(json!(field.name.as_str()));
            }
        }
        let mut object = json!({
            "type": "object",
            "properties": properties,
            "additionalProperties": false,
        });
        if !required.is_empty() {
            object["required"] = Value::Array(required);
        }
        object
    }

    /// The payload of one version of an event: [`Schemas::object`] titled with the event and
    /// its version, which `x-version` also carries (JSON Schema has no field for it), as the
    /// envelope's `schema_version` does.
    pub(crate) fn payload(&mut self, event: &str, version: u32, fields: &[Field]) -> Value {
        let mut payload = self.object(fields);
        payload["title"] = json!(format!("{event} v{version}"));
        payload["x-version"] = json!(version);
        payload
    }

    /// A field's schema with its constraints; through `Option` they apply to the value.
    pub(crate) fn field(&mut self, field: &Field) -> Value {
        self.constrained(&field.ty, &field.constraints)
    }

    fn constrained(&mut self, ty: &Type, constraints: &[Constraint]) -> Value {
        if let Type::Option(inner) = ty {
            return nullable(self.constrained(inner.without_option(), constraints));
        }
        let mut schema = self.ty(ty);
        if let Some(object) = schema.as_object_mut() {
            for constraint in constraints {
                constrain(ty, constraint, object);
            }
        }
        schema
    }

    /// The schema of a type; values, entities and enums become named schemas.
    pub(crate) fn ty(&mut self, ty: &Type) -> Value {
        match ty {
            Type::Bool => json!({ "type": "boolean" }),
            Type::I8
            | Type::I16
            | Type::I32
            | Type::I64
            | Type::U8
            | Type::U16
            | Type::U32
            | Type::U64 => {
                let (min, max) = ty.integer_bounds().unwrap_or((i128::MIN, i128::MAX));
                json!({ "type": "integer", "minimum": int(min), "maximum": int(max) })
            }
            Type::F32 => json!({ "type": "number", "format": "float" }),
            Type::F64 => json!({ "type": "number", "format": "double" }),
            Type::String => json!({ "type": "string" }),
            Type::Uuid => json!({ "type": "string", "format": "uuid" }),
            Type::DateTime => json!({ "type": "string", "format": "date-time" }),
            Type::Date => json!({ "type": "string", "format": "date" }),
            // rust_decimal's `serde` feature writes the number as a string, never with an
            // exponent, so that no precision is lost in a JSON double.
            Type::Decimal => json!({
                "type": "string",
                "pattern": "^-?[0-9]+(\\.[0-9]+)?$",
                "description": "A decimal number, as a string.",
            }),
            Type::Json => json!({ "description": "Any JSON value." }),
            Type::Option(inner) => nullable(self.ty(inner.without_option())),
            Type::Vec(inner) => json!({ "type": "array", "items": self.ty(inner) }),
            Type::Map(inner) => json!({ "type": "object", "additionalProperties": self.ty(inner) }),
            Type::Id(aggregate) => json!({
                "type": "string",
                "format": "uuid",
                "description": format!("The id of a {aggregate}."),
            }),
            Type::Value(path) | Type::Entity(path) | Type::Enum(path) => self.named(path),
            // A checked model has none left; anything is what such a field could hold.
            Type::Named(_) => json!({}),
        }
    }

    fn named(&mut self, path: &TypePath) -> Value {
        let name = path.to_string();
        if self.defs.contains_key(&name) {
            return self.reference(&name);
        }
        // Reserved before the fields are described, so a record that contains itself
        // (through a `Vec` or an `Option`) refers to itself instead of recursing forever.
        self.defs.insert(name.clone(), json!({}));
        let schema = match self.system.type_def(path) {
            Some(TypeDef::Value(record) | TypeDef::Entity(record)) => {
                let mut object = self.object(&record.fields);
                describe(&mut object, record.doc.as_deref());
                object
            }
            Some(TypeDef::Enum(e)) => {
                // Unit variants: serde writes each as its name.
                let variants: Vec<&str> = e.variants.iter().map(|v| v.name.as_str()).collect();
                let mut schema = json!({ "type": "string", "enum": variants });
                describe(&mut schema, e.doc.as_deref());
                schema
            }
            None => json!({}),
        };
        self.define(name, schema)
    }

    /// Whether building a command of these fields can break a constraint (a 422).
    pub(crate) fn constrained_fields(&self, fields: &[Field]) -> bool {
        let mut seen = Vec::new();
        fields.iter().any(|f| self.has_constraints(f, &mut seen))
    }

    fn has_constraints(&self, field: &Field, seen: &mut Vec<TypePath>) -> bool {
        if !field.constraints.is_empty() {
            return true;
        }
        let mut ty = &field.ty;
        while let Type::Option(inner) | Type::Vec(inner) | Type::Map(inner) = ty {
            ty = inner;
        }
        let Some((_, path)) = ty.path() else {
            return false;
        };
        if seen.contains(path) {
            return false;
        }
        seen.push(path.clone());
        self.system
            .record(path)
            .is_some_and(|r| r.fields.iter().any(|f| self.has_constraints(f, seen)))
    }
}

pub(crate) fn describe(schema: &mut Value, doc: Option<&str>) {
    if let (Some(doc), Some(object)) = (doc, schema.as_object_mut()) {
        object.insert("description".into(), json!(doc));
    }
}

/// `schema`, or `null`.
fn nullable(schema: Value) -> Value {
    let Value::Object(mut object) = schema else {
        return schema;
    };
    if !object.contains_key("type") && !object.contains_key("$ref") {
        // No type: it already takes null (`Json`).
        return Value::Object(object);
    }
    match object.get("type") {
        Some(Value::String(ty)) if !object.contains_key("enum") => {
            let ty = json!([ty, "null"]);
            object.insert("type".into(), ty);
            Value::Object(object)
        }
        _ => json!({ "oneOf": [Value::Object(object), { "type": "null" }] }),
    }
}

fn constrain(ty: &Type, constraint: &Constraint, schema: &mut Map<String, Value>) {
    match (constraint, ty) {
        (Constraint::Len { min, max, .. }, _) => {
            let (low, high) = match ty {
                Type::String => ("minLength", "maxLength"),
                Type::Vec(_) => ("minItems", "maxItems"),
                Type::Map(_) => ("minProperties", "maxProperties"),
                _ => return,
            };
            if let Some(min) = min {
                schema.insert(low.into(), json!(min));
            }
            if let Some(max) = max {
                schema.insert(high.into(), json!(max));
            }
        }
        (Constraint::Range { min, max, .. }, _) if ty.integer_bounds().is_some() => {
            let (lowest, highest) = ty.integer_bounds().unwrap_or((i128::MIN, i128::MAX));
            if let Some(min) = min {
                schema.insert("minimum".into(), bound(*min, lowest, highest));
            }
            if let Some(max) = max {
                schema.insert("maximum".into(), bound(*max, lowest, highest));
            }
        }
        (Constraint::Range { min, max, .. }, Type::F32 | Type::F64) => {
            for (key, value) in [("minimum", min), ("maximum", max)] {
                if let Some(value) = value {
                    schema.insert(key.into(), json!(value.as_f64()));
                }
            }
        }
        (Constraint::Pattern { regex, .. }, Type::String) => {
            schema.insert("pattern".into(), json!(anchored(regex)));
        }
        // A range on a `Decimal` (a string in JSON) has no JSON Schema keyword: the service
        // still checks it (422).
        _ => {}
    }
}

/// An integer bound, kept within the type's own.
fn bound(value: Number, lowest: i128, highest: i128) -> Value {
    match value {
        Number::Int(value) => int(value.clamp(lowest, highest)),
        Number::Float(value) => json!(value),
    }
}

fn int(value: i128) -> Value {
    match (i64::try_from(value), u64::try_from(value)) {
        (Ok(small), _) => json!(small),
        (_, Ok(big)) => json!(big),
        // Integer types end at the bounds of i64 and u64.
        _ => json!(value as f64),
    }
}

/// `@pattern` matches the whole string; JSON Schema's `pattern` any part of it.
fn anchored(regex: &str) -> String {
    if regex.starts_with('^') && regex.ends_with('$') {
        regex.to_owned()
    } else {
        format!("^(?:{regex})$")
    }
}

/// Pretty JSON with a trailing newline, every object's keys in sorted order.
pub(crate) fn pretty(value: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}

/// A borrowed `Value` that serializes with every object's keys in sorted order, whichever
/// map serde_json was built with (`preserve_order` keeps insertion order): the documents
/// must be byte-identical. Nothing is copied.
pub(crate) struct Sorted<'a>(pub(crate) &'a Value);

impl Serialize for Sorted<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Object(object) => {
                let mut entries: Vec<(&String, &Value)> = object.iter().collect();
                if !maps_are_sorted() {
                    entries.sort_unstable_by_key(|(key, _)| *key);
                }
                serializer.collect_map(entries.into_iter().map(|(key, value)| (key, Sorted(value))))
            }
            Value::Array(items) => serializer.collect_seq(items.iter().map(Sorted)),
            other => other.serialize(serializer),
        }
    }
}

/// Whether serde_json's maps keep their keys sorted already (built without
/// `preserve_order`, which another crate of the build could turn on): then there is
/// nothing for [`Sorted`] to sort.
fn maps_are_sorted() -> bool {
    static SORTED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *SORTED.get_or_init(|| {
        let mut probe = serde_json::Map::new();
        probe.insert("b".to_owned(), Value::Null);
        probe.insert("a".to_owned(), Value::Null);
        probe.keys().next().is_some_and(|key| key == "a")
    })
}
