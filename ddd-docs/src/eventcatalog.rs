//! The model as an EventCatalog v2 folder (`ddd docs --format eventcatalog`), for teams that
//! keep their catalog there:
//!
//! - `domains/<System>/index.mdx`, the system, with a subdomain per context,
//!   `domains/<Context>/index.mdx`, which holds that context's service;
//! - `services/<Context>Service/index.mdx`: what the service sends (its published events)
//!   and receives (the published events its policies and views read), with its OpenAPI and
//!   AsyncAPI documents beside it;
//! - `events/<Context>.<Event>/index.mdx` and `schema.json`: each published event, the JSON
//!   Schema of the message on the bus (the envelope with the event's fields as its payload,
//!   taken from the AsyncAPI document), its version as `N.0.0`;
//! - `teams/<context>-team.mdx`: an owner per context, as EventCatalog asks of every
//!   resource.
//!
//! Only published events are exported: EventCatalog documents what travels between
//! services, and an event no other context may read stays inside its service.

use ddd_model::System;
use ddd_model::ir::{Context, Delivery, Event};
use serde_json::{Map, Value, json};

use crate::site::{Documents, Page};

const SERVICE_VERSION: &str = "0.1.0";

/// Every file of the folder, sorted by path.
pub fn folder(system: &System, documents: &Documents<'_>) -> Vec<Page> {
    let asyncapi: Value = serde_saphyr::from_str(documents.asyncapi).unwrap_or(Value::Null);
    let mut pages = vec![system_domain(system)];
    for (position, context) in system.contexts.iter().enumerate() {
        pages.push(team(context));
        pages.push(domain(context));
        pages.extend(service(system, context, documents, position));
        for name in &context.publishes {
            if let Some((_, event)) = context.event(name) {
                pages.extend(event_pages(system, context, event, &asyncapi));
            }
        }
    }
    pages.sort_by(|a, b| a.path.cmp(&b.path));
    pages
}

fn page(path: String, contents: String) -> Page {
    Page { path, contents }
}

/// An `.mdx` file: YAML front matter (written as JSON, which YAML reads) and a body.
fn mdx(front: &Value, body: &str) -> String {
    let mut out = String::from("---\n");
    for (key, value) in front.as_object().into_iter().flatten() {
        out.push_str(&format!(
            "{key}: {}\n",
            serde_json::to_string(value).unwrap_or_default()
        ));
    }
    out.push_str("---\n\n");
    out.push_str(body.trim_start());
    out.push('\n');
    out
}

/// Text as MDX reads it literally: markdown's and JSX's special characters escaped.
fn text(doc: &str) -> String {
    let mut out = String::with_capacity(doc.len());
    for c in doc.chars() {
        if "\\`*_{}[]<>#|!&".contains(c) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn summary(doc: Option<&str>, otherwise: String) -> String {
    doc.and_then(|d| d.lines().next())
        .map(str::to_owned)
        .unwrap_or(otherwise)
}

fn team_id(context: &Context) -> String {
    format!("{}-team", ddd_names::kebab(&context.name))
}

fn service_id(context: &Context) -> String {
    format!("{}Service", context.name)
}

fn event_id(context: &Context, event: &str) -> String {
    format!("{}.{event}", context.name)
}

fn event_version(event: &Event) -> String {
    format!("{}.0.0", event.version)
}

fn system_domain(system: &System) -> Page {
    let domains: Vec<Value> = system
        .contexts
        .iter()
        .map(|c| json!({ "id": c.name.as_str(), "version": SERVICE_VERSION }))
        .collect();
    let owners: Vec<String> = system.contexts.iter().map(team_id).collect();
    let front = json!({
        "id": system.name.as_str(),
        "name": system.name.as_str(),
        "version": SERVICE_VERSION,
        "summary": summary(system.doc.as_deref(), format!("The {} system.", system.name)),
        "owners": owners,
        "domains": domains,
    });
    let body = format!(
        "{}\n\n<NodeGraph />",
        text(
            system
                .doc
                .as_deref()
                .unwrap_or("Its bounded contexts are its subdomains.")
        )
    );
    page(
        format!("domains/{}/index.mdx", system.name),
        mdx(&front, &body),
    )
}

fn team(context: &Context) -> Page {
    let front = json!({
        "id": team_id(context),
        "name": format!("{} team", context.name),
        "summary": format!("The team that owns the {} context.", context.name),
    });
    let body = format!(
        "Owns the {} context: its model, its service and the events it publishes. Add the team's members here.",
        text(&context.name)
    );
    page(
        format!("teams/{}.mdx", team_id(context)),
        mdx(&front, &body),
    )
}

fn domain(context: &Context) -> Page {
    let mut front = json!({
        "id": context.name.as_str(),
        "name": context.name.as_str(),
        "version": SERVICE_VERSION,
        "summary": summary(context.doc.as_deref(), format!("The {} context.", context.name)),
        "owners": [team_id(context)],
        "services": [{ "id": service_id(context), "version": SERVICE_VERSION }],
    });
    if let Some(kind) = context.kind {
        front["badges"] = json!([{
            "content": format!("{} subdomain", kind.as_str()),
            "backgroundColor": "blue",
            "textColor": "blue",
        }]);
    }
    let body = format!(
        "{}\n\n<NodeGraph />",
        text(context.doc.as_deref().unwrap_or(""))
    );
    page(
        format!("domains/{}/index.mdx", context.name),
        mdx(&front, &body),
    )
}

/// The service's page, its OpenAPI document and the AsyncAPI document of the system.
fn service(
    system: &System,
    context: &Context,
    documents: &Documents<'_>,
    position: usize,
) -> Vec<Page> {
    let dir = format!("services/{}", service_id(context));
    let sends: Vec<Value> = context
        .publishes
        .iter()
        .filter_map(|name| context.event(name))
        .map(|(_, event)| json!({ "id": event_id(context, &event.name), "version": event_version(event) }))
        .collect();
    let mut front = json!({
        "id": service_id(context),
        "name": context.name.as_str(),
        "version": SERVICE_VERSION,
        "summary": summary(context.doc.as_deref(), format!("The service of the {} context.", context.name)),
        "owners": [team_id(context)],
        "sends": sends,
        "receives": receives(system, context),
        "specifications": { "openapiPath": "openapi.json", "asyncapiPath": "asyncapi.yaml" },
    });
    if let Some(object) = front.as_object_mut() {
        object.retain(|_, value| value.as_array().is_none_or(|list| !list.is_empty()));
    }
    let body = format!(
        "{}\n\nThe `{}` service of the generated workspace.\n\n<NodeGraph />",
        text(context.doc.as_deref().unwrap_or("")),
        ddd_names::service_package(&system.name, &context.name)
    );
    let openapi = documents.openapi.get(position).cloned().unwrap_or_default();
    vec![
        page(format!("{dir}/index.mdx"), mdx(&front, &body)),
        page(format!("{dir}/openapi.json"), openapi),
        page(
            format!("{dir}/asyncapi.yaml"),
            documents.asyncapi.to_owned(),
        ),
    ]
}

/// The published events of other contexts that this one's policies and views read, once
/// each, in the order met.
fn receives(system: &System, context: &Context) -> Vec<Value> {
    let policies = context
        .policies
        .iter()
        .map(|p| (p.on.context.as_str(), p.on.event.as_str()));
    let views = context
        .views
        .iter()
        .flat_map(|v| v.handlers.iter().filter_map(|h| h.resolved.as_ref()))
        .filter(|h| h.delivery == Delivery::Bus)
        .map(|h| (h.context.as_str(), h.event.as_str()));
    let mut found: Vec<Value> = Vec::new();
    for (source, name) in policies.chain(views) {
        let Some(upstream) = system.context(source) else {
            continue;
        };
        let Some((_, event)) = upstream.event(name) else {
            continue;
        };
        let pointer = json!({ "id": event_id(upstream, name), "version": event_version(event) });
        if !found.contains(&pointer) {
            found.push(pointer);
        }
    }
    found
}

fn event_pages(system: &System, context: &Context, event: &Event, asyncapi: &Value) -> Vec<Page> {
    let id = event_id(context, &event.name);
    let dir = format!("events/{id}");
    let subject = ddd_names::subject(
        &ddd_names::namespace(&system.name),
        &context.name,
        &event.name,
    );
    let front = json!({
        "id": id,
        "name": event.name.as_str(),
        "version": event_version(event),
        "summary": summary(event.doc.as_deref(), format!("{} of the {} context.", event.name, context.name)),
        "owners": [team_id(context)],
        "schemaPath": "schema.json",
        "badges": [{ "content": format!("subject {subject}"), "backgroundColor": "green", "textColor": "green" }],
    });
    let body = format!(
        "{}\n\nPublished by the {} context on the subject `{subject}`.\n\n<Schema file=\"schema.json\" />\n\n<NodeGraph />",
        text(event.doc.as_deref().unwrap_or("")),
        text(&context.name),
    );
    let schema = message_schema(asyncapi, &id);
    vec![
        page(format!("{dir}/index.mdx"), mdx(&front, &body)),
        page(format!("{dir}/schema.json"), pretty(&schema)),
    ]
}

/// The JSON Schema of message `id` of the AsyncAPI document, standalone: the schemas it
/// refers to, transitively, become its `$defs`.
fn message_schema(asyncapi: &Value, id: &str) -> Value {
    let schemas = &asyncapi["components"]["schemas"];
    let mut root = resolve(schemas, &asyncapi["components"]["messages"][id]["payload"]).clone();
    let mut defs = Map::new();
    let mut pending = references(&root);
    while let Some(name) = pending.pop() {
        if defs.contains_key(&name) {
            continue;
        }
        let schema = schemas[&name].clone();
        pending.extend(references(&schema));
        defs.insert(name, schema);
    }
    let mut defs = Value::Object(defs);
    rewrite(&mut root);
    rewrite(&mut defs);
    if let Some(object) = root.as_object_mut() {
        object.insert(
            "$schema".into(),
            json!("https://json-schema.org/draft/2020-12/schema"),
        );
        object.insert("title".into(), json!(id));
        if defs.as_object().is_some_and(|d| !d.is_empty()) {
            object.insert("$defs".into(), defs);
        }
    }
    root
}

const COMPONENT: &str = "#/components/schemas/";

fn resolve<'a>(schemas: &'a Value, schema: &'a Value) -> &'a Value {
    match schema
        .get("$ref")
        .and_then(Value::as_str)
        .and_then(|r| r.strip_prefix(COMPONENT))
    {
        Some(name) => &schemas[name],
        None => schema,
    }
}

/// The component names `value` refers to.
fn references(value: &Value) -> Vec<String> {
    match value {
        Value::Object(object) => object
            .iter()
            .flat_map(|(key, inner)| match (key.as_str(), inner.as_str()) {
                ("$ref", Some(target)) => target
                    .strip_prefix(COMPONENT)
                    .map(str::to_owned)
                    .into_iter()
                    .collect(),
                _ => references(inner),
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(references).collect(),
        _ => Vec::new(),
    }
}

/// Points references at `$defs`.
fn rewrite(value: &mut Value) {
    match value {
        Value::Object(object) => {
            for (key, inner) in object.iter_mut() {
                match (key.as_str(), inner.as_str()) {
                    ("$ref", Some(target)) => {
                        if let Some(name) = target.strip_prefix(COMPONENT) {
                            *inner = json!(format!("#/$defs/{name}"));
                        }
                    }
                    _ => rewrite(inner),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(rewrite),
        _ => {}
    }
}

fn pretty(value: &Value) -> String {
    let mut text = serde_json::to_string_pretty(value).unwrap_or_default();
    text.push('\n');
    text
}
