//! The system's page: its contexts, the context map and the event flow.

use std::fmt::Write as _;

use ddd_model::System;

use super::{Shell, doc, paths, section};
use crate::diagrams::{self, Links};
use crate::html::escape;
use crate::svg;

pub(super) fn page(system: &System, shell: &Shell) -> String {
    let links = Links::Site { root: "" };
    let map = svg::render(
        &diagrams::context_map(system, links),
        "context-map",
        &format!("Context map of {}", system.name),
    );
    let flow = diagrams::event_flow(system, links)
        .map(|graph| {
            svg::render(
                &graph,
                "event-flow",
                &format!("Event flow of {}", system.name),
            )
        })
        .map(|svg| format!("{}<div class=\"figure\">{svg}</div>", FLOW_LEGEND))
        .unwrap_or_default();
    let body = format!(
        "<h1>{name}</h1>\n{doc}\n{contexts}{map}{flow}{apis}",
        name = escape(&system.name),
        doc = doc(system.doc.as_deref()),
        contexts = section("contexts", "Bounded contexts", &contexts(system)),
        map = section(
            "context-map",
            "Context map",
            &format!("{MAP_LEGEND}<div class=\"figure\">{map}</div>")
        ),
        flow = section("event-flow", "Event flow across contexts", &flow),
        apis = section(
            "apis",
            "API documents",
            &format!(
                "<p><a href=\"{}\">AsyncAPI: the published events</a></p>",
                paths::ASYNCAPI
            )
        ),
    );
    shell.page("Overview", "", &body)
}

const MAP_LEGEND: &str = "<p class=\"legend\">Solid arrows: relations of the context map, from upstream to downstream, with the roles of each end (<b>U</b> upstream, <b>D</b> downstream; OHS open host, PL published language, ACL anticorruption layer, CF conformist). Dashed: a context reacting to another's published events. Colours: <span class=\"kind core\">core</span> <span class=\"kind supporting\">supporting</span> <span class=\"kind generic\">generic</span> subdomains.</p>";

const FLOW_LEGEND: &str = "<p class=\"legend\">As event storming draws it: <span class=\"sticky command\">command</span> → <span class=\"sticky event\">event</span> ⇢ <span class=\"sticky policy\">policy</span> → command, each note naming its context.</p>";

fn contexts(system: &System) -> String {
    let mut out = String::from(
        "<table><thead><tr><th>Context</th><th>Subdomain</th><th>Aggregates</th><th>Publishes</th><th>About</th></tr></thead><tbody>",
    );
    for context in &system.contexts {
        let summary = context
            .doc
            .as_deref()
            .and_then(|d| d.lines().next())
            .unwrap_or("");
        let aggregates: Vec<&str> = context.aggregates.iter().map(|a| a.name.as_str()).collect();
        let _ = write!(
            out,
            "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
            paths::context(&context.name),
            escape(&context.name),
            context.kind.map_or("", |k| k.as_str()),
            escape(&aggregates.join(", ")),
            context.publishes.len(),
            escape(summary)
        );
    }
    out.push_str("</tbody></table>");
    out
}
