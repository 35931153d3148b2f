//! `docs/asyncapi.yaml`: AsyncAPI 3.0 for every published event. Each goes on the subject
//! `<system>.<Context>.<Event>` (`ddd_core::bus::subject`) as the JSON of its envelope
//! (`ddd_core::RawEnvelope`), with the event's fields as the payload.

use ddd_model::System;
use ddd_model::ir::{Aggregate, Context, Event};
use serde_json::{Map, Value, json};

use super::schemas::{Schemas, Sorted, describe};
use ddd_names as names;

const PREFIX: &str = "#/components/schemas/";

/// The document, as YAML, `header` as its first line's comment.
pub(crate) fn document(system: &System, header: &str) -> String {
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
            let envelope = envelope(&mut schemas, context, aggregate, event);
            let mut message = json!({
                "name": event.name.as_str(),
                "title": format!("{} {}", context.name, event.name),
                "contentType": "application/json",
                "correlationId": {
                    "description": "Ties together everything one request started, across contexts.",
                    "location": "$message.payload#/correlation_id",
                },
                "payload": envelope,
            });
            describe(&mut message, event.doc.as_deref());
            messages.insert(id.clone(), message);
            let mut channel = json!({
                "address": ddd_subject(&system_kebab, context, event),
                "title": format!("{}.{}", context.name, event.name),
                "messages": {
                    event.name.to_string(): { "$ref": format!("#/components/messages/{id}") },
                },
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
                    "messages": [{ "$ref": format!("#/channels/{id}/messages/{}", event.name) }],
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

/// The envelope of one event, as `serde_json` writes `ddd_core::Envelope`.
fn envelope(
    schemas: &mut Schemas<'_>,
    context: &Context,
    aggregate: &Aggregate,
    event: &Event,
) -> Value {
    let scope = format!("{}.{}", context.name, aggregate.name);
    let mut payload = schemas.object(&event.fields);
    describe(&mut payload, event.doc.as_deref());
    let payload = schemas.define(format!("{scope}.event.{}", event.name), payload);
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
            "schema_version": { "type": "integer", "minimum": 0, "maximum": u32::MAX },
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
    schemas.define(format!("{scope}.envelope.{}", event.name), envelope)
}
