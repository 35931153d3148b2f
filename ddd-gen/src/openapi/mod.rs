//! The OpenAPI 3.1 document of a service (`services/<context>/openapi.json`, which the
//! service serves at `/openapi.json`) and of the modular monolith (`app/openapi.json`):
//! the routes `ddd-service`'s `AggregateApi` serves for each aggregate and its `ViewApi`
//! for each view, the probes and the metrics, with request and response bodies described
//! from the model.

mod views;

use std::collections::BTreeMap;

use ddd_model::System;
use ddd_model::ir::{Aggregate, Command, Context};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::parallel;
use super::schemas::{Schemas, Sorted, describe, pretty};
use ddd_names as names;
use ddd_names::http::{self, Outcome};

const PREFIX: &str = "#/components/schemas/";
const PROBLEM: &str = http::PROBLEM_JSON;

/// The documents of every context's service (with its default port), in the model's
/// order, and of the monolith: every context's routes in one, merged from the services'
/// documents rather than described twice, and serialized from them without a copy (at
/// 1,000 aggregates it is 18 MB, most of the generation time otherwise).
pub(crate) fn documents(
    system: &System,
    ports: &[usize],
    prefixes: &[String],
    header: &str,
) -> (Vec<String>, String) {
    let contexts: Vec<(&Context, usize)> =
        system.contexts.iter().zip(ports.iter().copied()).collect();
    let services: Vec<Value> = parallel::map(&contexts, |(context, port)| {
        service(system, context, *port, header)
    });
    std::thread::scope(|scope| {
        let monolith = scope.spawn(|| pretty(&monolith(system, &services, prefixes, header)));
        let services = parallel::map(&services, |service| pretty(&Sorted(service)));
        let monolith = monolith
            .join()
            .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        (services, monolith)
    })
}

/// The documents of every context's service only, in the model's order (the catalog links
/// to them; it has no use for the monolith's).
pub(crate) fn service_documents(system: &System, ports: &[usize], header: &str) -> Vec<String> {
    let contexts: Vec<(&Context, usize)> =
        system.contexts.iter().zip(ports.iter().copied()).collect();
    parallel::map(&contexts, |(context, port)| {
        pretty(&Sorted(&service(system, context, *port, header)))
    })
}

fn service(system: &System, context: &Context, port: usize, header: &str) -> Value {
    let title = format!("{} {}", system.name, context.name);
    let doc = context.doc.as_deref().or(system.doc.as_deref());
    let servers = json!([{
        "url": format!("http://localhost:{port}"),
        "description": "The service on its default `HTTP_ADDR`.",
    }]);
    document(system, &[context], &title, doc, Some(servers), header)
}

/// A document made mostly of parts of others, serialized in place.
enum Part<'a> {
    Borrowed(&'a Value),
    Owned(Value),
    Object(BTreeMap<&'a str, Part<'a>>),
    /// An object whose keys are made here (a path under a prefix).
    Keyed(BTreeMap<String, Part<'a>>),
}

impl Serialize for Part<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Part::Borrowed(value) => Sorted(value).serialize(serializer),
            Part::Owned(value) => Sorted(value).serialize(serializer),
            Part::Object(members) => serializer.collect_map(members),
            Part::Keyed(members) => serializer.collect_map(members),
        }
    }
}

/// The members of `value`, an object, as borrowed parts.
fn parts(value: &Value) -> BTreeMap<&str, Part<'_>> {
    value
        .as_object()
        .into_iter()
        .flatten()
        .map(|(key, value)| (key.as_str(), Part::Borrowed(value)))
        .collect()
}

/// The services' documents in one: their paths, schemas and tags (the shared schemas and
/// the probes' routes are the same in each).
fn monolith<'a>(
    system: &System,
    services: &'a [Value],
    prefixes: &[String],
    header: &str,
) -> Part<'a> {
    let Some(first) = services.first() else {
        return Part::Owned(document(
            system,
            &[],
            system.name.as_ref(),
            system.doc.as_deref(),
            None,
            header,
        ));
    };
    let mut info = json!({ "title": format!("{} API", system.name), "version": "0.1.0" });
    describe(&mut info, system.doc.as_deref());
    let mut paths = BTreeMap::new();
    let mut schemas = BTreeMap::new();
    let mut tags: Vec<Value> = Vec::new();
    let mut prefixed: BTreeMap<String, Part<'a>> = BTreeMap::new();
    for ((service, prefix), context) in services.iter().zip(prefixes).zip(&system.contexts) {
        if prefix.is_empty() {
            paths.extend(parts(&service["paths"]));
        } else {
            // The aggregates' and views' routes move under the prefix; the probes stay.
            let routes: Vec<String> = context
                .aggregates
                .iter()
                .map(|a| names::route(&a.name))
                .chain(context.views.iter().map(ddd_model::ir::View::route))
                .collect();
            for (path, item) in service["paths"].as_object().into_iter().flatten() {
                let own = routes.iter().any(|route| {
                    path.strip_prefix(route.as_str())
                        .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
                });
                if own {
                    prefixed.insert(format!("{prefix}{path}"), Part::Borrowed(item));
                } else {
                    paths.insert(path.as_str(), Part::Borrowed(item));
                }
            }
        }
        schemas.extend(parts(&service["components"]["schemas"]));
        let own = service["tags"].as_array().into_iter().flatten();
        tags.extend(own.filter(|tag| tag["name"] != "operations").cloned());
    }
    tags.extend(
        first["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|tag| tag["name"] == "operations")
            .cloned(),
    );
    let mut components = parts(&first["components"]);
    components.insert("schemas", Part::Object(schemas));
    let mut top = parts(first);
    top.remove("servers");
    top.insert("info", Part::Owned(info));
    let mut paths: BTreeMap<String, Part<'a>> = paths
        .into_iter()
        .map(|(path, item)| (path.to_owned(), item))
        .collect();
    paths.append(&mut prefixed);
    top.insert("paths", Part::Keyed(paths));
    top.insert("components", Part::Object(components));
    top.insert("tags", Part::Owned(Value::Array(tags)));
    Part::Object(top)
}

fn document(
    system: &System,
    contexts: &[&Context],
    title: &str,
    doc: Option<&str>,
    servers: Option<Value>,
    header: &str,
) -> Value {
    let mut schemas = Schemas::new(system, PREFIX);
    shared(&mut schemas);
    let mut paths = Map::new();
    let mut tags = Vec::new();
    for context in contexts {
        for aggregate in &context.aggregates {
            let tag = aggregate.name.to_string();
            let mut entry = json!({ "name": tag });
            describe(&mut entry, aggregate.doc.as_deref());
            tags.push(entry);
            routes(&mut schemas, context, aggregate, &mut paths);
        }
        for view in &context.views {
            let mut entry = json!({ "name": view.name.as_str() });
            describe(&mut entry, view.doc.as_deref());
            tags.push(entry);
            views::routes(&mut schemas, context, view, &mut paths);
        }
    }
    operations(&mut paths);
    tags.push(json!({ "name": "operations", "description": "Probes, metrics and this document." }));
    let mut info = json!({
        "title": format!("{title} API"),
        "version": "0.1.0",
    });
    describe(&mut info, doc);
    // The large members are moved in afterwards: `json!` copies what it interpolates.
    let mut document = json!({
        "openapi": "3.1.0",
        "x-generated": header,
        "components": {
            "securitySchemes": {
                "bearer": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "Checked on every write when the service is configured with `JWT_HS256_SECRET`, `JWT_RS256_PUBLIC_KEY` or `JWT_RS256_PUBLIC_KEY_FILE`; reads are open. Without them no write asks for a token: the document a running service serves at `/openapi.json` then declares no security and no 401 or 403.",
                },
            },
            "responses": responses(),
        },
    });
    document["info"] = info;
    document["tags"] = Value::Array(tags);
    document["paths"] = Value::Object(paths);
    document["components"]["schemas"] = Value::Object(schemas.into_defs().into_iter().collect());
    if let Some(servers) = servers {
        document["servers"] = servers;
    }
    document
}

/// The schemas every document shares: the problem, a violation, an accepted command.
fn shared(schemas: &mut Schemas<'_>) {
    schemas.define(
        "violation".into(),
        json!({
            "type": "object",
            "description": "One broken constraint.",
            "properties": {
                "field": { "type": "string", "description": "The field, as a path: `lines[2].quantity`." },
                "constraint": { "type": "string", "description": "`len`, `range`, `pattern` or a custom code." },
                "message": { "type": "string" },
            },
            "required": ["field", "constraint", "message"],
        }),
    );
    let violation = schemas.reference("violation");
    schemas.define(
        "problem".into(),
        json!({
            "type": "object",
            "description": "An error (RFC 9457).",
            "properties": {
                "type": { "type": "string" },
                "title": { "type": "string" },
                "status": { "type": "integer", "minimum": 400, "maximum": 599 },
                "detail": { "type": "string" },
                "field": { "type": "string", "description": "The field a malformed body got wrong (400), or the lifecycle field whose state refused the command (409)." },
                "violations": { "type": "array", "items": violation, "description": "Every broken constraint (422)." },
                "rule": { "type": "string", "description": "The rule of the model the command broke, as written there (409)." },
                "current": { "type": "string", "description": "The lifecycle state the aggregate is in (409)." },
                "allowed": { "type": "array", "items": { "type": "string" }, "description": "The states the command may start from (409)." },
                "parameter": { "type": ["string", "null"], "description": "The query parameter or header a view read got wrong (400)." },
                "view": { "type": "string", "description": "The view that is behind or stopped (503)." },
                "position": { "type": "integer", "description": "Where that view is in the store's events (503)." },
                "wanted": { "type": "integer", "description": "Where the token needs it (503)." },
                "behind": { "type": "integer", "description": "How many events it is behind (503)." },
            },
            "required": ["type", "title", "status", "detail"],
        }),
    );
    schemas.define(
        "accepted".into(),
        json!({
            "type": "object",
            "description": "A handled command: the aggregate and its version after it, and the token a view read passes to see the command (when it recorded events).",
            "properties": {
                "id": { "type": "string", "format": "uuid" },
                "version": { "type": "integer", "minimum": 1 },
                "consistency_token": { "type": "string" },
            },
            "required": ["id", "version"],
            "additionalProperties": false,
        }),
    );
}

/// The error responses of the components, named as `ddd_names::http` names them, with what
/// each means for a command.
fn responses() -> Value {
    let problem = |description: &str| {
        json!({
            "description": description,
            "content": { PROBLEM: { "schema": { "$ref": format!("{PREFIX}problem") } } },
        })
    };
    let described = [
        (
            http::BAD_REQUEST,
            "The body is not the command's JSON (the `field` member names the field), `If-Match` is not a version, or a view query's parameter or consistency token is wrong (the `parameter` member names it).",
        ),
        (
            http::UNAUTHORIZED,
            "No valid bearer token (only when authentication is configured).",
        ),
        (http::FORBIDDEN, "The token lacks the required scope."),
        (http::NOT_FOUND, "No such aggregate, or no such command."),
        (
            http::CONFLICT,
            "The aggregate refused the command, or a concurrent command won.",
        ),
        (
            http::PRECONDITION_FAILED,
            "`If-Match` names another version than the aggregate's.",
        ),
        (
            http::CONTENT_TOO_LARGE,
            "The body is over `BODY_LIMIT_BYTES`.",
        ),
        (
            http::UNSUPPORTED_MEDIA_TYPE,
            "The body is not sent as `Content-Type: application/json`.",
        ),
        (
            http::UNPROCESSABLE,
            "Constraints are broken: `violations` lists every one.",
        ),
        (
            http::INTERNAL,
            "The request failed, in the store most likely: the cause is in the service's log, not in the answer.",
        ),
        (
            http::VIEW_BEHIND,
            "The view had not shown the command of the consistency token within its bound (`behind` says by how many events), or it stopped at an event it cannot fold.",
        ),
    ];
    Value::Object(
        described
            .into_iter()
            .map(|(outcome, description)| (outcome.response.to_owned(), problem(description)))
            .collect(),
    )
}

/// The status of an outcome, as OpenAPI keys responses.
fn status(outcome: Outcome) -> String {
    outcome.status.to_string()
}

/// A reference to the error response of an outcome.
fn error(outcome: Outcome) -> Value {
    json!({ "$ref": format!("#/components/responses/{}", outcome.response) })
}

fn etag() -> Value {
    json!({
        "description": "The aggregate's version, for `If-Match`.",
        "schema": { "type": "string" },
    })
}

fn consistency_token() -> Value {
    json!({
        "description": "Pass it back in a view read's `Consistency-Token` to see this command there.",
        "schema": { "type": "string" },
    })
}

fn routes(
    schemas: &mut Schemas<'_>,
    context: &Context,
    aggregate: &Aggregate,
    paths: &mut Map<String, Value>,
) {
    let route = names::route(&aggregate.name);
    let scope = format!("{}.{}", context.name, aggregate.name);
    let tag = aggregate.name.as_str();
    let id = json!({
        "name": "id",
        "in": "path",
        "required": true,
        "description": format!("The {}'s id.", aggregate.name),
        "schema": { "type": "string", "format": "uuid" },
    });
    let if_match = json!({
        "name": "If-Match",
        "in": "header",
        "required": false,
        "description": "Run the command only if the aggregate is at this version (its `ETag`); 412 otherwise.",
        "schema": { "type": "string", "pattern": http::IF_MATCH_PATTERN },
    });
    let accepted = schemas.reference("accepted");

    if let Some(create) = aggregate.commands.iter().find(|c| c.creates) {
        let body = command_body(schemas, &scope, create);
        let mut operation = write(
            schemas,
            format!("{scope}.create"),
            tag,
            format!(
                "Creates {}: runs `{}` on a new id.",
                ddd_names::with_article(&aggregate.name),
                create.name
            ),
            create,
            body,
            false,
        );
        operation["responses"][status(http::CREATED)] = json!({
            "description": "Created.",
            "headers": {
                "Location": { "description": "The new aggregate.", "schema": { "type": "string" } },
                "ETag": etag(),
                "Consistency-Token": consistency_token(),
            },
            "content": { "application/json": { "schema": accepted } },
        });
        add(paths, route.clone(), "post", operation);
    }

    for command in &aggregate.commands {
        let body = command_body(schemas, &scope, command);
        let mut operation = write(
            schemas,
            format!("{scope}.{}", command.name),
            tag,
            format!(
                "Runs `{}` on {}.",
                command.name,
                ddd_names::with_article(&aggregate.name)
            ),
            command,
            body,
            true,
        );
        let description = match (command.doc.as_deref(), rules(aggregate, command)) {
            (Some(doc), Some(rules)) => Some(format!("{doc}\n\n{rules}")),
            (doc, rules) => rules.or(doc.map(str::to_owned)),
        };
        describe(&mut operation, description.as_deref());
        operation["parameters"] = json!([id, if_match]);
        operation["responses"][status(http::OK)] = json!({
            "description": "Handled.",
            "headers": { "ETag": etag(), "Consistency-Token": consistency_token() },
            "content": { "application/json": { "schema": accepted } },
        });
        let path = format!("{route}/{{id}}/{}", names::command_path(&command.name));
        add(paths, path, "post", operation);
    }

    let mut state = schemas.object(&aggregate.fields);
    // The aggregate struct as serde writes it: its id (none before it is created) and
    // version beside the fields of the model.
    if let Some(properties) = state["properties"].as_object_mut() {
        properties.insert(
            "id".into(),
            json!({ "type": ["string", "null"], "format": "uuid" }),
        );
        properties.insert("version".into(), json!({ "type": "integer", "minimum": 0 }));
    }
    let mut required = vec![json!("id"), json!("version")];
    if let Some(Value::Array(fields)) = state.get("required") {
        required.extend(fields.iter().cloned());
    }
    state["required"] = Value::Array(required);
    describe(&mut state, aggregate.doc.as_deref());
    let state = schemas.define(format!("{scope}.state"), state);
    add(
        paths,
        format!("{route}/{{id}}"),
        "get",
        json!({
            "operationId": format!("{scope}.get"),
            "tags": [tag],
            "summary": format!("{}'s state and version.", sentence(&aggregate.name)),
            "parameters": [id],
            "responses": {
                status(http::OK): {
                    "description": "The aggregate.",
                    "headers": { "ETag": etag() },
                    "content": { "application/json": { "schema": {
                        "type": "object",
                        "properties": {
                            "id": { "type": "string", "format": "uuid" },
                            "version": { "type": "integer", "minimum": 1 },
                            "state": state,
                        },
                        "required": ["id", "version", "state"],
                        "additionalProperties": false,
                    } } },
                },
                status(http::NOT_FOUND): error(http::NOT_FOUND),
                status(http::INTERNAL): error(http::INTERNAL),
            },
        }),
    );

    let recorded: Vec<Value> = aggregate
        .events
        .iter()
        .map(|event| {
            let mut payload = schemas.payload(&event.name, event.version, &event.fields);
            describe(&mut payload, event.doc.as_deref());
            let payload = schemas.define(format!("{scope}.event.{}", event.name), payload);
            json!({
                "type": "object",
                "properties": {
                    "event_id": { "type": "string", "format": "uuid" },
                    "version": { "type": "integer", "minimum": 1 },
                    "type": { "const": event.name.as_str() },
                    "recorded_at": { "type": "string", "format": "date-time" },
                    "correlation_id": { "type": "string", "format": "uuid" },
                    "causation_id": { "type": ["string", "null"], "format": "uuid" },
                    "payload": payload,
                },
                "required": ["event_id", "version", "type", "recorded_at", "correlation_id", "causation_id", "payload"],
                "additionalProperties": false,
            })
        })
        .collect();
    let recorded = schemas.define(format!("{scope}.recorded"), json!({ "oneOf": recorded }));
    add(
        paths,
        format!("{route}/{{id}}/events"),
        "get",
        json!({
            "operationId": format!("{scope}.events"),
            "tags": [tag],
            "summary": format!("{}'s events, oldest first.", sentence(&aggregate.name)),
            "parameters": [id],
            "responses": {
                status(http::OK): {
                    "description": "The recorded events.",
                    "content": { "application/json": { "schema": { "type": "array", "items": recorded } } },
                },
                status(http::NOT_FOUND): error(http::NOT_FOUND),
                status(http::INTERNAL): error(http::INTERNAL),
            },
        }),
    );
}

/// Adds an operation to a path, beside the path's other methods.
fn add(paths: &mut Map<String, Value>, path: String, method: &str, operation: Value) {
    let item = paths.entry(path).or_insert_with(|| json!({}));
    item[method] = operation;
}

/// The named schema of a command's body: its fields as a JSON object.
fn command_body(schemas: &mut Schemas<'_>, scope: &str, command: &Command) -> Value {
    let name = format!("{scope}.command.{}", command.name);
    let mut body = schemas.object(&command.params);
    describe(&mut body, command.doc.as_deref());
    schemas.define(name, body)
}

/// A write: bearer-authenticated, with the errors a command can meet.
fn write(
    schemas: &Schemas<'_>,
    operation_id: String,
    tag: &str,
    summary: String,
    command: &Command,
    body: Value,
    on_existing: bool,
) -> Value {
    let mut responses = Map::new();
    for outcome in [
        http::BAD_REQUEST,
        http::UNAUTHORIZED,
        http::FORBIDDEN,
        http::NOT_FOUND,
        http::CONFLICT,
        http::PRECONDITION_FAILED,
        http::CONTENT_TOO_LARGE,
        http::UNSUPPORTED_MEDIA_TYPE,
        http::UNPROCESSABLE,
        http::INTERNAL,
    ] {
        let applies = match outcome {
            http::NOT_FOUND | http::PRECONDITION_FAILED => on_existing,
            http::UNPROCESSABLE => schemas.constrained_fields(&command.params),
            _ => true,
        };
        if applies {
            responses.insert(status(outcome), error(outcome));
        }
    }
    let required = command
        .params
        .iter()
        .any(|p| !matches!(p.ty, ddd_model::ir::Type::Option(_)));
    json!({
        "operationId": operation_id,
        "tags": [tag],
        "summary": summary,
        "security": [{ "bearer": [] }],
        "requestBody": {
            "required": required,
            "content": { "application/json": { "schema": body } },
        },
        "responses": responses,
    })
}

/// What refuses the command with a 409: the lifecycle states it starts from and its rules.
fn rules(aggregate: &ddd_model::ir::Aggregate, command: &Command) -> Option<String> {
    let mut lines: Vec<String> = aggregate
        .transitions_of(&command.name)
        .map(|(lifecycle, transition)| {
            let from: Vec<String> = transition.from.iter().map(|s| format!("`{s}`")).collect();
            format!("- `{}` is {}", lifecycle.field, from.join(" or "))
        })
        .collect();
    lines.extend(command.requires.iter().map(|guard| match &guard.message {
        Some(message) => format!("- `{}` ({message})", guard.rule),
        None => format!("- `{}`", guard.rule),
    }));
    (!lines.is_empty()).then(|| format!("Refused (409) unless:\n{}", lines.join("\n")))
}

fn operations(paths: &mut Map<String, Value>) {
    let status = |extra: Value| {
        let mut schema = json!({
            "type": "object",
            "properties": { "status": { "type": "string" } },
            "required": ["status"],
        });
        if let (Some(properties), Value::Object(extra)) =
            (schema["properties"].as_object_mut(), extra)
        {
            properties.extend(extra);
        }
        json!({ "application/json": { "schema": schema } })
    };
    let checks = json!({ "checks": {
        "type": "object",
        "description": "Each dependency: `up`, or `down` with the error.",
        "additionalProperties": {
            "type": "object",
            "properties": { "status": { "enum": ["up", "down"] }, "error": { "type": "string" } },
            "required": ["status"],
        },
    } });
    paths.insert(
        "/health/live".into(),
        json!({ "get": {
            "operationId": "health.live",
            "tags": ["operations"],
            "summary": "Liveness: the process serves requests.",
            "responses": { "200": { "description": "Live.", "content": status(json!({})) } },
        } }),
    );
    paths.insert(
        "/health/ready".into(),
        json!({ "get": {
            "operationId": "health.ready",
            "tags": ["operations"],
            "summary": "Readiness: the event store and the message bus answer.",
            "responses": {
                "200": { "description": "Ready.", "content": status(checks.clone()) },
                "503": { "description": "Not ready: a dependency is down.", "content": status(checks) },
            },
        } }),
    );
    paths.insert(
        "/metrics".into(),
        json!({ "get": {
            "operationId": "metrics",
            "tags": ["operations"],
            "summary": "Prometheus metrics: commands, latency, events published, lags, redeliveries, dead letters.",
            "responses": { "200": {
                "description": "The Prometheus text exposition format.",
                "content": { "text/plain": { "schema": { "type": "string" } } },
            } },
        } }),
    );
    paths.insert(
        "/openapi.json".into(),
        json!({ "get": {
            "operationId": "openapi",
            "tags": ["operations"],
            "summary": "This document.",
            "responses": { "200": {
                "description": "OpenAPI 3.1.",
                "content": { "application/json": { "schema": { "type": "object" } } },
            } },
        } }),
    );
}

/// `noun` after its article, at the start of a sentence: `An Order`, `A Cart`.
fn sentence(noun: &str) -> String {
    let phrase = ddd_names::with_article(noun);
    let mut chars = phrase.chars();
    chars
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}
