//! `docs/asyncapi.yaml`: AsyncAPI 3.0 for every published event. Each goes on the subject
//! `<system>.<Context>.<Event>` (`ddd_core::bus::subject`) as the JSON of its envelope
//! (`ddd_core::RawEnvelope`), with the event's fields as the payload. Each message carries
//! its event's schema version (`x-version`: AsyncAPI 3 messages have no field for it); the
//! older versions the workspace recorded stay documented as messages of their own on the
//! same channel, for as long as a reader may meet them (an outbox or a stream holding
//! payloads written before the version went up).

use ddd_model::System;
use ddd_model::ir::{Aggregate, Context, Event};
use serde_json::{Map, Value, json};

use super::history::{History, Schema};
use super::schemas::{Schemas, Sorted, describe};
use ddd_names as names;

const PREFIX: &str = "#/components/schemas/";

/// The document, as YAML, `header` as its first line's comment.
pub(crate) fn document(system: &System, header: &str, history: &History) -> String {
    let system_kebab = names::namespace(&system.name);
    let mut schemas = Schemas::new(system, PREFIX);
    schemas.define(
        "trace-context".into(),
        json!({
            "type": "object",
            "description": "W3C Trace Context of the request that caused the event.",
            "properties": {
                "traceparent": { "type": "string", "pattern": "^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$" },
                "tracestate": { "type": "string" },
            },
            "required": ["traceparent"],
        }),
    );
    let mut channels = Map::new();
    let mut operations = Map::new();
    let mut messages = Map::new();
    for context in &system.contexts {
        for name in &context.publishes {
            let Some((aggregate, event)) = context.event(name) else {
                continue;
            };
            let id = format!("{}.{}", context.name, event.name);
            let mut payload = schemas.payload(&event.name, event.version, &event.fields);
            describe(&mut payload, event.doc.as_deref());
            let current = envelope(&mut schemas, context, aggregate, event, None, payload);
            let mut current = message(context, event, event.version, current);
            describe(&mut current, event.doc.as_deref());
            messages.insert(id.clone(), current);
            let mut channel_messages = Map::new();
            channel_messages.insert(
                event.name.to_string(),
                json!({ "$ref": format!("#/components/messages/{id}") }),
            );
            let older = history
                .of(context, &aggregate.name, &event.name)
                .map(|recorded| recorded.versions.range(..event.version))
                .into_iter()
                .flatten();
            for (&version, schema) in older {
                let payload = old_payload(&mut schemas, event, version, schema);
                let old = envelope(
                    &mut schemas,
                    context,
                    aggregate,
                    event,
                    Some(version),
                    payload,
                );
                let mut old = message(context, event, version, old);
                describe(
                    &mut old,
                    Some(&format!(
                        "{} as v{version} wrote it: stored and queued payloads of that version are still delivered, and read as v{} (its defaults fill what they lack, an upcaster the rest).",
                        event.name, event.version
                    )),
                );
                let old_id = format!("{id}.v{version}");
                messages.insert(old_id.clone(), old);
                channel_messages.insert(
                    format!("{}.v{version}", event.name),
                    json!({ "$ref": format!("#/components/messages/{old_id}") }),
                );
            }
            let sent: Vec<Value> = channel_messages
                .keys()
                .map(|name| json!({ "$ref": format!("#/channels/{id}/messages/{name}") }))
                .collect();
            let mut channel = json!({
                "address": ddd_subject(&system_kebab, context, event),
                "title": format!("{}.{}", context.name, event.name),
                "messages": channel_messages,
            });
            describe(
                &mut channel,
                Some(&format!(
                    "{}'s {} events, published by the {} context.",
                    aggregate.name, event.name, context.name
                )),
            );
            channels.insert(id.clone(), channel);
            operations.insert(
                format!("{id}.send"),
                json!({
                    "action": "send",
                    "title": format!("{} publishes {}", context.name, event.name),
                    "summary": format!("The outbox relay of {} publishes each recorded {} once it is committed (at least once: consumers deduplicate by `event_id`).", context.name, event.name),
                    "channel": { "$ref": format!("#/channels/{id}") },
                    "messages": sent,
                    "tags": [{ "name": context.name.as_str() }],
                }),
            );
        }
    }
    let mut info = json!({
        "title": format!("{} events", system.name),
        "version": "0.1.0",
    });
    describe(
        &mut info,
        Some(
            system
                .doc
                .as_deref()
                .unwrap_or("The events the contexts publish to each other over the message bus."),
        ),
    );
    let document = json!({
        "asyncapi": "3.0.0",
        "info": info,
        "defaultContentType": "application/json",
        "servers": {
            "nats": {
                "host": "localhost:4222",
                "protocol": "nats",
                "description": "NATS JetStream (`BUS_URL=nats://HOST:PORT`); RabbitMQ and Redis Streams carry the same messages on the same subjects.",
            },
        },
        "channels": channels,
        "operations": operations,
        "components": {
            "messages": messages,
            "schemas": schemas.into_defs(),
        },
    });
    let yaml = serde_saphyr::to_string(&Sorted(&document)).unwrap_or_default();
    format!("# {header}\n{yaml}")
}

/// `ddd_core::bus::subject(SYSTEM, Context, Event)`.
fn ddd_subject(system_kebab: &str, context: &Context, event: &Event) -> String {
    names::subject(system_kebab, &context.name, &event.name)
}

/// The message of one version of an event.
fn message(context: &Context, event: &Event, version: u32, envelope: Value) -> Value {
    let title = if version == event.version {
        format!("{} {}", context.name, event.name)
    } else {
        format!("{} {} v{version}", context.name, event.name)
    };
    json!({
        "name": event.name.as_str(),
        "title": title,
        "x-version": version,
        "contentType": "application/json",
        "correlationId": {
            "description": "Ties together everything one request started, across contexts.",
            "location": "$message.payload#/correlation_id",
        },
        "payload": envelope,
    })
}

/// The payload of an older version, from its recorded schema: a field the current version
/// has with the same type is described as it is now; any other only by its type as written.
fn old_payload(schemas: &mut Schemas<'_>, event: &Event, version: u32, schema: &Schema) -> Value {
    let same: Vec<ddd_model::ir::Field> = schema
        .fields
        .iter()
        .filter_map(|old| {
            event
                .fields
                .iter()
                .find(|f| f.name == old.name.as_str() && f.ty.to_string() == old.ty)
                .cloned()
        })
        .collect();
    let mut payload = schemas.payload(&event.name, version, &same);
    let mut required: Vec<Value> = Vec::new();
    for old in &schema.fields {
        if !old.ty.starts_with("Option<") {
            required.push(json!(old.name));
        }
        if same.iter().any(|f| f.name == old.name.as_str()) {
            continue;
        }
        payload["properties"][old.name.as_str()] = json!({
            "description": format!("`{}` in the model of v{version}.", old.ty),
        });
    }
    if required.is_empty() {
        if let Some(object) = payload.as_object_mut() {
            object.remove("required");
        }
    } else {
        payload["required"] = Value::Array(required);
    }
    payload
}

/// The envelope of one version of an event (`None`: the current one), as `serde_json`
/// writes `ddd_core::Envelope`.
fn envelope(
    schemas: &mut Schemas<'_>,
    context: &Context,
    aggregate: &Aggregate,
    event: &Event,
    old: Option<u32>,
    payload: Value,
) -> Value {
    let scope = format!("{}.{}", context.name, aggregate.name);
    let suffix = old
        .map(|version| format!(".v{version}"))
        .unwrap_or_default();
    let payload = schemas.define(format!("{scope}.event.{}{suffix}", event.name), payload);
    let version = old.unwrap_or(event.version);
    let trace = schemas.reference("trace-context");
    let envelope = json!({
        "type": "object",
        "description": format!("A recorded {}, in its envelope.", event.name),
        "properties": {
            "event_id": { "type": "string", "format": "uuid", "description": "Unique; consumers deduplicate by it." },
            "aggregate_type": { "const": aggregate.name.as_str() },
            "aggregate_id": { "type": "string", "format": "uuid", "description": format!("The {}'s id.", aggregate.name) },
            "version": { "type": "integer", "minimum": 1, "description": "Position in the aggregate's stream." },
            "position": { "type": "integer", "minimum": 0, "description": "Position in the store's global order." },
            "recorded_at": { "type": "string", "format": "date-time" },
            "event_type": { "const": event.name.as_str() },
            "schema_version": { "const": version, "description": "The version of the event's schema the payload was written with." },
            "correlation_id": { "type": "string", "format": "uuid" },
            "causation_id": { "type": "string", "format": "uuid", "description": "The command or event that caused this one." },
            "trace": trace,
            "metadata": { "type": "object", "description": "Free-form metadata." },
            "payload": payload,
        },
        "required": [
            "event_id", "aggregate_type", "aggregate_id", "version", "position", "recorded_at",
            "event_type", "schema_version", "correlation_id", "payload",
        ],
    });
    schemas.define(format!("{scope}.envelope.{}{suffix}", event.name), envelope)
}
