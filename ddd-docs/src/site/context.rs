//! A context's page: its aggregates (state, lifecycles, commands with their rules and routes,
//! events), views with their endpoints, policies, the published language and the context
//! map around it, with links to its OpenAPI and AsyncAPI documents.

use std::fmt::Write as _;

use ddd_model::System;
use ddd_model::ir::{Aggregate, Command, Context, Record, View, ViewSource};

use super::event::subscribers;
use super::{Shell, doc, fields_table, paths, section, subject};
use crate::diagrams;
use crate::html::escape;
use crate::svg;

/// One HTTP operation of the context's OpenAPI document.
struct Endpoint {
    method: String,
    path: String,
    operation: String,
    summary: String,
}

pub(super) fn page(system: &System, context: &Context, openapi: &str, shell: &Shell) -> String {
    let root = paths::UP;
    let endpoints = endpoints(openapi);
    let aggregates: String = context
        .aggregates
        .iter()
        .map(|aggregate| aggregate_section(system, context, aggregate, &endpoints))
        .collect();
    let body = format!(
        "<p class=\"crumbs\"><a href=\"{root}{index}\">{system}</a> › context</p>\n<h1>{name}{kind}</h1>\n{doc}\n{apis}{map}{aggregates}{views}{policies}{language}{http}",
        index = paths::INDEX,
        system = escape(&system.name),
        name = escape(&context.name),
        kind = context
            .kind
            .map(|k| format!(" <span class=\"kind {0}\">{0} subdomain</span>", k.as_str()))
            .unwrap_or_default(),
        doc = doc(context.doc.as_deref()),
        apis = apis(context),
        map = section(
            "relations",
            "In the context map",
            &relations(system, context)
        ),
        views = section("views", "Views", &views(context)),
        policies = section("policies", "Policies", &policies(context)),
        language = section(
            "published-language",
            "Published language",
            &published_language(system, context)
        ),
        http = section("http", "HTTP endpoints", &endpoint_table(&endpoints)),
    );
    shell.page(&context.name, root, &body)
}

fn apis(context: &Context) -> String {
    let mut links = format!(
        "<a href=\"{}{}\">OpenAPI document</a>",
        paths::UP,
        paths::openapi(&context.name)
    );
    if !context.publishes.is_empty() {
        let _ = write!(
            links,
            " · <a href=\"{}{}\">AsyncAPI document</a>",
            paths::UP,
            paths::ASYNCAPI
        );
    }
    format!("<p class=\"apis\">{links}</p>\n")
}

/// The operations of an OpenAPI document, by path then method; none when it does not parse.
fn endpoints(openapi: &str) -> Vec<Endpoint> {
    let Ok(document) = serde_json::from_str::<serde_json::Value>(openapi) else {
        return Vec::new();
    };
    let mut found = Vec::new();
    let Some(paths) = document.get("paths").and_then(|p| p.as_object()) else {
        return found;
    };
    for (path, item) in paths {
        for (method, operation) in item.as_object().into_iter().flatten() {
            let text = |key: &str| {
                operation
                    .get(key)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_owned()
            };
            found.push(Endpoint {
                method: method.to_uppercase(),
                path: path.clone(),
                operation: text("operationId"),
                summary: text("summary"),
            });
        }
    }
    found.sort_by(|a, b| (&a.path, &a.method).cmp(&(&b.path, &b.method)));
    found
}

fn endpoint_table(endpoints: &[Endpoint]) -> String {
    if endpoints.is_empty() {
        return String::new();
    }
    let mut out = String::from(
        "<table><thead><tr><th>Method</th><th>Path</th><th>Summary</th></tr></thead><tbody>",
    );
    for e in endpoints {
        let _ = write!(
            out,
            "<tr><td><span class=\"method\">{}</span></td><td><code>{}</code></td><td>{}</td></tr>",
            escape(&e.method),
            escape(&e.path),
            escape(&e.summary)
        );
    }
    out.push_str("</tbody></table>");
    out
}

/// `POST /orders/{id}/cancel`: the route of an operation, found by its id.
fn route(endpoints: &[Endpoint], operation: &str) -> Option<String> {
    endpoints
        .iter()
        .find(|e| e.operation == operation)
        .map(|e| format!("{} {}", e.method, e.path))
}

fn relations(system: &System, context: &Context) -> String {
    let mut items = String::new();
    for relation in &system.relations {
        let (other, side) = if relation.from == context.name {
            (
                &relation.to,
                if relation.both_ways {
                    "partner"
                } else {
                    "upstream of"
                },
            )
        } else if relation.to == context.name {
            (
                &relation.from,
                if relation.both_ways {
                    "partner"
                } else {
                    "downstream of"
                },
            )
        } else {
            continue;
        };
        let roles = |r: &[ddd_model::ir::RelationKind]| -> Vec<&str> {
            r.iter().map(|k| k.as_str()).collect()
        };
        let mine = if relation.from == context.name {
            roles(&relation.from_roles)
        } else {
            roles(&relation.to_roles)
        };
        let _ = write!(
            items,
            "<li>{side} <a href=\"{}{}\">{}</a> <span class=\"muted\">({}{})</span></li>",
            paths::UP,
            paths::context(other),
            escape(other),
            relation.kind.as_str(),
            if mine.is_empty() {
                String::new()
            } else {
                format!("; here: {}", mine.join(", "))
            }
        );
    }
    if items.is_empty() {
        return String::new();
    }
    format!("<ul>{items}</ul>")
}

fn aggregate_section(
    system: &System,
    context: &Context,
    aggregate: &Aggregate,
    endpoints: &[Endpoint],
) -> String {
    let lifecycles: String = aggregate
        .lifecycles
        .iter()
        .map(|lifecycle| {
            let id = format!("lifecycle-{}-{}", aggregate.name, lifecycle.field);
            let title = format!("Lifecycle of {}.{}", aggregate.name, lifecycle.field);
            let graph = diagrams::lifecycle(system, aggregate, lifecycle);
            format!(
                "<h4>Lifecycle of <code>{}</code></h4><div class=\"figure\">{}</div>",
                escape(&lifecycle.field),
                svg::render(&graph, &id, &title)
            )
        })
        .collect();
    format!(
        "<section class=\"aggregate\" id=\"{anchor}\"><h2>Aggregate {name}</h2>\n{doc}<h3>State</h3>{state}{entities}{lifecycles}<h3>Commands</h3>{commands}<h3>Events</h3>{events}</section>\n",
        anchor = paths::anchor("aggregate", &aggregate.name),
        name = escape(&aggregate.name),
        doc = doc(aggregate.doc.as_deref()),
        state = fields_table(&aggregate.fields),
        entities = records(
            "Entities and values",
            aggregate.entities.iter().chain(&aggregate.values)
        ),
        commands = commands(context, aggregate, endpoints),
        events = events(system, context, aggregate),
    )
}

/// Records (values, entities) with their fields.
fn records<'a>(heading: &str, records: impl Iterator<Item = &'a Record>) -> String {
    let body: String = records
        .map(|r| {
            format!(
                "<h4 id=\"type-{0}\"><code>{0}</code></h4>{1}{2}",
                escape(&r.name),
                doc(r.doc.as_deref()),
                fields_table(&r.fields)
            )
        })
        .collect();
    if body.is_empty() {
        return body;
    }
    format!("<h3>{heading}</h3>{body}")
}

fn commands(context: &Context, aggregate: &Aggregate, endpoints: &[Endpoint]) -> String {
    let mut out = String::from(
        "<table class=\"commands\"><thead><tr><th>Command</th><th>Parameters</th><th>Requires</th><th>Emits</th><th>HTTP</th></tr></thead><tbody>",
    );
    for command in &aggregate.commands {
        let scope = format!("{}.{}", context.name, aggregate.name);
        let mut routes = vec![route(endpoints, &format!("{scope}.{}", command.name))];
        if command.creates {
            routes.insert(0, route(endpoints, &format!("{scope}.create")));
        }
        let routes: Vec<String> = routes
            .into_iter()
            .flatten()
            .map(|r| format!("<code>{}</code>", escape(&r)))
            .collect();
        let _ = write!(
            out,
            "<tr id=\"{anchor}\"><td><code>{name}</code>{creates}{doc}</td><td>{params}</td><td>{rules}</td><td>{emits}</td><td>{routes}</td></tr>",
            anchor = paths::anchor("command", &command.name),
            name = escape(&command.name),
            creates = if command.creates {
                " <span class=\"badge\">creates</span>"
            } else {
                ""
            },
            doc = doc(command.doc.as_deref()),
            params = params(command),
            rules = rules(command),
            emits = emits(context, command),
            routes = routes.join("<br>"),
        );
    }
    out.push_str("</tbody></table>");
    out
}

fn params(command: &Command) -> String {
    command
        .params
        .iter()
        .map(|p| {
            let constraints: Vec<String> = p.constraints.iter().map(ToString::to_string).collect();
            format!(
                "<code>{}: {}{}</code>",
                escape(&p.name),
                escape(&p.ty.to_string()),
                escape(&if constraints.is_empty() {
                    String::new()
                } else {
                    format!(" {}", constraints.join(" "))
                })
            )
        })
        .collect::<Vec<_>>()
        .join("<br>")
}

/// Each `requires` rule and what a rejection says.
fn rules(command: &Command) -> String {
    command
        .requires
        .iter()
        .map(|guard| {
            let message = guard
                .message
                .as_deref()
                .map(|m| format!("<br><span class=\"message\">“{}”</span>", escape(m)))
                .unwrap_or_default();
            format!(
                "<div class=\"rule\"><code>{}</code>{message}</div>",
                escape(&guard.rule.to_string())
            )
        })
        .collect()
}

fn emits(context: &Context, command: &Command) -> String {
    command
        .emits
        .iter()
        .map(|event| {
            format!(
                "<a href=\"{}{}\">{}</a>",
                paths::UP,
                paths::event(&context.name, event),
                escape(event)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn events(system: &System, context: &Context, aggregate: &Aggregate) -> String {
    let mut out = String::from(
        "<table class=\"events\"><thead><tr><th>Event</th><th>Version</th><th>Fields</th><th>Subscribers</th></tr></thead><tbody>",
    );
    for event in &aggregate.events {
        let fields: Vec<String> = event
            .fields
            .iter()
            .map(|f| {
                let default = f
                    .default
                    .as_ref()
                    .map(|d| format!(" = {d}"))
                    .unwrap_or_default();
                format!(
                    "<code>{}</code>",
                    escape(&format!("{}: {}{default}", f.name, f.ty))
                )
            })
            .collect();
        let subscribers: Vec<String> = subscribers(system, context, &event.name)
            .iter()
            .map(|s| s.link(paths::UP))
            .collect();
        let _ = write!(
            out,
            "<tr><td><a href=\"{}{}\">{}</a>{}</td><td>v{}</td><td>{}</td><td>{}</td></tr>",
            paths::UP,
            paths::event(&context.name, &event.name),
            escape(&event.name),
            if context.publishes(&event.name) {
                " <span class=\"badge\">published</span>"
            } else {
                ""
            },
            event.version,
            fields.join("<br>"),
            subscribers.join("<br>")
        );
    }
    out.push_str("</tbody></table>");
    out
}

fn views(context: &Context) -> String {
    context.views.iter().map(view).collect()
}

fn view(view: &View) -> String {
    let source = match &view.source {
        ViewSource::From(aggregate) => format!(
            "A row per <code>{}</code>, from its state.",
            escape(aggregate)
        ),
        ViewSource::By(key) => format!(
            "A row per <code>{}: {}</code>, from events.",
            escape(&key.name),
            escape(&key.ty.to_string())
        ),
    };
    let route = view.route();
    let mut fields = String::from(
        "<table class=\"fields\"><thead><tr><th>Field</th><th>Type</th><th>Value</th><th></th></tr></thead><tbody>",
    );
    for field in &view.fields {
        let marks: Vec<&str> = [(field.filter, "filter"), (field.sort, "sort")]
            .into_iter()
            .filter_map(|(on, mark)| on.then_some(mark))
            .collect();
        let _ = write!(
            fields,
            "<tr><td><code>{}</code></td><td><code>{}</code></td><td>{}</td><td>{}</td></tr>",
            escape(&field.name),
            escape(&field.ty.to_string()),
            field
                .value
                .as_ref()
                .map(|v| format!("<code>{}</code>", escape(&v.to_string())))
                .unwrap_or_default(),
            marks
                .iter()
                .map(|m| format!("<span class=\"badge\">{m}</span>"))
                .collect::<String>()
        );
    }
    fields.push_str("</tbody></table>");
    let handlers: String = view
        .handlers
        .iter()
        .map(|h| {
            let sets: Vec<String> = h
                .sets
                .iter()
                .map(|s| format!("{} = {}", s.field, s.value))
                .collect();
            format!(
                "<li><code>{}</code></li>",
                escape(&format!(
                    "on {}.{} sets {}",
                    h.on.scope,
                    h.on.event,
                    sets.join(", ")
                ))
            )
        })
        .collect();
    format!(
        "<div class=\"view\" id=\"{anchor}\"><h3>{name}</h3>{doc}<p>{source}</p><p>Served at <code>GET {route}</code> (filters, sort, pages) and <code>GET {route}/{{key}}</code>.</p>{fields}{handlers}</div>",
        anchor = paths::anchor("view", &view.name),
        name = escape(&view.name),
        doc = doc(view.doc.as_deref()),
        route = escape(&route),
        handlers = if handlers.is_empty() {
            String::new()
        } else {
            format!("<ul>{handlers}</ul>")
        },
    )
}

fn policies(context: &Context) -> String {
    let items: String = context
        .policies
        .iter()
        .map(|policy| {
            let mut text = format!(
                "<li>On <a href=\"{}{}\">{}.{}</a> run <a href=\"#{}\"><code>{}.{}</code></a>",
                paths::UP,
                paths::event(&policy.on.context, &policy.on.event),
                escape(&policy.on.context),
                escape(&policy.on.event),
                paths::anchor("command", &policy.run.command),
                escape(&policy.run.aggregate),
                escape(&policy.run.command),
            );
            if !policy.mappings.is_empty() {
                let with: Vec<String> = policy
                    .mappings
                    .iter()
                    .map(|m| format!("{} = {}", m.field, m.from))
                    .collect();
                let _ = write!(text, " with <code>{}</code>", escape(&with.join(", ")));
            }
            if policy.translation.as_ref().is_some_and(|t| t.needs_code()) {
                text.push_str(" <span class=\"badge warn\">translation in user code</span>");
            }
            let _ = write!(text, "{}</li>", doc(policy.doc.as_deref()));
            text
        })
        .collect();
    if items.is_empty() {
        return String::new();
    }
    format!("<ul>{items}</ul>")
}

/// What other contexts may depend on: the published events and their subjects, and the
/// context's own values and enums.
fn published_language(system: &System, context: &Context) -> String {
    let mut out = String::new();
    if !context.publishes.is_empty() {
        out.push_str("<table><thead><tr><th>Event</th><th>Subject</th></tr></thead><tbody>");
        for event in &context.publishes {
            let _ = write!(
                out,
                "<tr><td><a href=\"{}{}\">{}</a></td><td><code class=\"subject\">{}</code></td></tr>",
                paths::UP,
                paths::event(&context.name, event),
                escape(event),
                escape(&subject(system, context, event))
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str(&records("Values", context.values.iter()));
    for enumeration in &context.enums {
        let variants: Vec<String> = enumeration
            .variants
            .iter()
            .map(|v| escape(&v.name))
            .collect();
        let _ = write!(
            out,
            "<h4 id=\"type-{0}\"><code>{0}</code></h4>{1}<p>One of {2}.</p>",
            escape(&enumeration.name),
            doc(enumeration.doc.as_deref()),
            variants.join(", ")
        );
    }
    out
}
