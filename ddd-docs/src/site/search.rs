//! The search index: every named thing with its doc comment and page, as a script that sets
//! a global (a page opened from `file://` may not fetch JSON beside it).

use ddd_model::System;
use serde_json::{Value, json};

use super::paths;
use crate::html::script_json;

/// `search-index.js`.
pub(super) fn index(system: &System, header: &str) -> String {
    let mut entries = Entries(Vec::new());
    entries.add(
        "system",
        &system.name,
        "",
        system.doc.as_deref(),
        paths::INDEX.to_owned(),
    );
    for context in &system.contexts {
        let page = paths::context(&context.name);
        let at = |kind: &str, name: &str| format!("{page}#{}", paths::anchor(kind, name));
        let c = context.name.as_str();
        entries.add("context", c, "", context.doc.as_deref(), page.clone());
        for aggregate in &context.aggregates {
            let (name, doc) = (&aggregate.name, aggregate.doc.as_deref());
            entries.add("aggregate", name, c, doc, at("aggregate", name));
            for command in &aggregate.commands {
                let (name, doc) = (&command.name, command.doc.as_deref());
                entries.add("command", name, c, doc, at("command", name));
            }
            for event in &aggregate.events {
                let url = paths::event(c, &event.name);
                entries.add("event", &event.name, c, event.doc.as_deref(), url);
            }
        }
        for view in &context.views {
            entries.add(
                "view",
                &view.name,
                c,
                view.doc.as_deref(),
                at("view", &view.name),
            );
        }
        for policy in &context.policies {
            let name = ddd_model::graph::policy_label(policy);
            let url = format!("{page}#policies");
            entries.add("policy", &name, c, policy.doc.as_deref(), url);
        }
    }
    format!(
        "// {header}\n// The search index of the site: a script, as a page opened from disk may not fetch JSON.\nwindow.DDD_SEARCH_INDEX = {};\n",
        script_json(&Value::Array(entries.0))
    )
}

struct Entries(Vec<Value>);

impl Entries {
    fn add(&mut self, kind: &str, name: &str, context: &str, doc: Option<&str>, url: String) {
        self.0.push(json!({
            "kind": kind,
            "name": name,
            "context": context,
            "doc": doc.unwrap_or(""),
            "url": url,
        }));
    }
}
