//! An event's page: its schema, version, producer, consumers and subject on the bus.

use ddd_model::System;
use ddd_model::ir::{Aggregate, Context, Event};

use super::{Shell, doc, fields_table, paths, section, subject};
use crate::html::escape;

pub(super) fn page(
    system: &System,
    context: &Context,
    aggregate: &Aggregate,
    event: &Event,
    shell: &Shell,
) -> String {
    let root = paths::UP;
    let published = context.publishes(&event.name);
    let bus = if published {
        format!(
            "<p>Published on the subject <code class=\"subject\">{}</code> (see the <a href=\"{root}{}\">AsyncAPI document</a>).</p>",
            escape(&subject(system, context, &event.name)),
            paths::ASYNCAPI
        )
    } else {
        "<p class=\"muted\">Not published: it stays in its context's event store.</p>".to_owned()
    };
    let body = format!(
        "<p class=\"crumbs\"><a href=\"{root}{index}\">{system}</a> › <a href=\"{root}{ctx_page}\">{context}</a> › {aggregate}</p>\n<h1>{name} <span class=\"badge version\">v{version}</span></h1>\n{doc}\n{bus}{schema}{producer}{consumers}",
        index = paths::INDEX,
        system = escape(&system.name),
        ctx_page = paths::context(&context.name),
        context = escape(&context.name),
        aggregate = escape(&aggregate.name),
        name = escape(&event.name),
        version = event.version,
        doc = doc(event.doc.as_deref()),
        schema = section("schema", "Schema", &fields_table(&event.fields)),
        producer = section("producer", "Producer", &producer(context, aggregate, event)),
        consumers = section("consumers", "Consumers", &consumers(system, context, event)),
    );
    shell.page(&format!("{} event", event.name), root, &body)
}

/// The aggregate that records the event and the commands that emit it.
fn producer(context: &Context, aggregate: &Aggregate, event: &Event) -> String {
    let commands: Vec<String> = aggregate
        .commands
        .iter()
        .filter(|c| c.emits.contains(&event.name))
        .map(|c| format!("<code>{}</code>", escape(&c.name)))
        .collect();
    format!(
        "<p>Recorded by the aggregate <a href=\"{}{}#{}\">{}.{}</a> when it handles {}.</p>",
        paths::UP,
        paths::context(&context.name),
        paths::anchor("aggregate", &aggregate.name),
        escape(&context.name),
        escape(&aggregate.name),
        if commands.is_empty() {
            "no command".to_owned()
        } else {
            commands.join(", ")
        }
    )
}

/// Who reads an event: a policy or a view, in some context.
pub(super) struct Subscriber<'a> {
    pub(super) context: &'a str,
    /// `policy → Order.PlaceOrder` or `view CustomerTotals`.
    pub(super) what: String,
    /// The anchor on the context's page.
    pub(super) anchor: String,
}

impl Subscriber<'_> {
    /// A link to it from a page `root` away from the top.
    pub(super) fn link(&self, root: &str) -> String {
        format!(
            "<a href=\"{root}{}#{}\">{}</a>: {}",
            paths::context(self.context),
            escape(&self.anchor),
            escape(self.context),
            escape(&self.what)
        )
    }
}

/// The policies and views of every context that read `event` of `context`.
pub(super) fn subscribers<'a>(
    system: &'a System,
    context: &Context,
    event: &str,
) -> Vec<Subscriber<'a>> {
    let mut found = Vec::new();
    for other in &system.contexts {
        for policy in &other.policies {
            if policy.on.context == context.name && policy.on.event == event {
                found.push(Subscriber {
                    context: &other.name,
                    what: format!("policy → {}.{}", policy.run.aggregate, policy.run.command),
                    anchor: "policies".to_owned(),
                });
            }
        }
        for view in &other.views {
            let mut handled = view.handlers.iter().filter_map(|h| h.resolved.as_ref());
            if handled.any(|h| h.context == context.name && h.event == event) {
                found.push(Subscriber {
                    context: &other.name,
                    what: format!("view {}", view.name),
                    anchor: paths::anchor("view", &view.name),
                });
            }
        }
    }
    found
}

fn consumers(system: &System, context: &Context, event: &Event) -> String {
    let items: String = subscribers(system, context, &event.name)
        .iter()
        .map(|s| format!("<li>{}</li>", s.link(paths::UP)))
        .collect();
    if items.is_empty() {
        return "<p class=\"muted\">No policy or view reads it.</p>".to_owned();
    }
    format!("<ul>{items}</ul>")
}
