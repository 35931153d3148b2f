//! The model's pictures as graphs to lay out: the context map, the event flow across contexts
//! and the lifecycles. What they show, and how it is labelled, comes from
//! `ddd_model::graph`, which the Mermaid and DOT notations read too.

use ddd_model::System;
use ddd_model::graph::{self, FlowNode, FlowStyle, KindStyle};
use ddd_model::ir::{Aggregate, Context, Lifecycle};

use crate::layout::{Arrow, Edge, EdgeStyle, Graph, Line, Node, NodeStyle};
use crate::site::paths;

const RELATION: &str = "#555555";
const REACTION: &str = "#7d4e9e";

/// Where the pictures' nodes link to: pages of the site seen from a page `root` away from
/// its top (`""` or `"../"`), or nowhere.
#[derive(Debug, Clone, Copy)]
pub enum Links<'a> {
    None,
    Site { root: &'a str },
}

impl Links<'_> {
    fn context(self, context: &str) -> Option<String> {
        match self {
            Links::None => None,
            Links::Site { root } => Some(format!("{root}{}", paths::context(context))),
        }
    }

    fn event(self, context: &str, event: &str) -> Option<String> {
        match self {
            Links::None => None,
            Links::Site { root } => Some(format!("{root}{}", paths::event(context, event))),
        }
    }
}

/// The context map: a box per context (its subdomain kind's colours, what it publishes), a
/// solid edge per relation from upstream to downstream labelled with its kind and the roles
/// of each end, a dashed one per reaction (policy, or view fed over the bus).
pub fn context_map(system: &System, links: Links<'_>) -> Graph {
    let index = |name: &str| system.contexts.iter().position(|c| c.name == name);
    let nodes = system
        .contexts
        .iter()
        .map(|context| context_node(context, links))
        .collect();
    let mut edges = Vec::new();
    for relation in &system.relations {
        let (Some(from), Some(to)) = (index(&relation.from), index(&relation.to)) else {
            continue;
        };
        let mut label = vec![Line::normal(relation.kind.as_str())];
        if let Some([upstream, downstream]) = graph::relation_end_texts(relation) {
            label.push(Line::normal(format!("{upstream} → {downstream}")));
        }
        let arrow = if relation.both_ways {
            Arrow::Both
        } else {
            Arrow::Head
        };
        edges.push(Edge {
            from,
            to,
            label,
            style: EdgeStyle {
                dashed: false,
                arrow,
                color: RELATION,
            },
        });
    }
    for (upstream, downstream, label) in graph::reactions(system) {
        let (Some(from), Some(to)) = (index(upstream), index(downstream)) else {
            continue;
        };
        edges.push(Edge {
            from,
            to,
            label: vec![Line::italic(label)],
            style: EdgeStyle {
                dashed: true,
                arrow: Arrow::Head,
                color: REACTION,
            },
        });
    }
    Graph { nodes, edges }
}

fn context_node(context: &Context, links: Links<'_>) -> Node {
    let mut lines = vec![Line::bold(context.name.as_str())];
    if let Some(kind) = context.kind {
        lines.push(Line::normal(format!("{} subdomain", kind.as_str())));
    }
    if !context.publishes.is_empty() {
        lines.push(Line::italic("publishes"));
        lines.extend(context.publishes.iter().map(|e| Line::normal(e.as_str())));
    }
    let style = match context.kind {
        Some(kind) => {
            let style = KindStyle::of(kind);
            NodeStyle {
                fill: style.fill,
                stroke: style.stroke,
                stroke_width: style.width,
                radius: 8.0,
            }
        }
        None => NodeStyle {
            fill: "#ffffff",
            stroke: "#808080",
            stroke_width: 1,
            radius: 8.0,
        },
    };
    Node {
        lines,
        style,
        link: links.context(&context.name),
    }
}

/// The event flow across contexts, as event storming draws it; `None` without policies.
pub fn event_flow(system: &System, links: Links<'_>) -> Option<Graph> {
    let flow = graph::event_flow(system)?;
    let nodes = flow
        .nodes
        .iter()
        .map(|entry| {
            let colors = FlowStyle::of(entry.node.class());
            let context = Line::italic(entry.context.as_str());
            let (lines, radius, link) = match &entry.node {
                FlowNode::Command { aggregate, command } => (
                    vec![context, Line::normal(aggregate), Line::bold(command)],
                    2.0,
                    links.context(&entry.context),
                ),
                FlowNode::Event { event } => (
                    vec![context, Line::bold(event)],
                    14.0,
                    links.event(&entry.context, event),
                ),
                FlowNode::Policy { label, needs_code } => {
                    let mut lines = vec![context, Line::normal("policy"), Line::normal(label)];
                    if *needs_code {
                        lines.push(Line::italic("user code"));
                    }
                    (lines, 8.0, links.context(&entry.context))
                }
            };
            Node {
                lines,
                style: NodeStyle {
                    fill: colors.fill,
                    stroke: colors.stroke,
                    stroke_width: 1,
                    radius,
                },
                link,
            }
        })
        .collect();
    let edges = flow
        .edges
        .iter()
        .map(|edge| Edge {
            from: edge.from,
            to: edge.to,
            label: Vec::new(),
            style: EdgeStyle {
                dashed: edge.heard,
                arrow: Arrow::Head,
                color: if edge.heard { REACTION } else { RELATION },
            },
        })
        .collect();
    Some(Graph { nodes, edges })
}

/// A lifecycle as a state diagram: a start dot, a box per state, an edge per source state
/// of each transition labelled with its commands, and an end dot after the final states.
pub fn lifecycle(system: &System, aggregate: &Aggregate, lifecycle: &Lifecycle) -> Graph {
    let states = graph::lifecycle_states(system, aggregate, lifecycle);
    let dot = |fill| Node {
        lines: Vec::new(),
        style: NodeStyle {
            fill,
            stroke: "#333333",
            stroke_width: 2,
            radius: 10.0,
        },
        link: None,
    };
    let mut nodes = vec![dot("#333333")];
    nodes.extend(states.states.iter().map(|state| Node {
        lines: vec![Line::bold(*state)],
        style: NodeStyle {
            fill: "#eef4fb",
            stroke: "#3b6fb6",
            stroke_width: 1,
            radius: 12.0,
        },
        link: None,
    }));
    let end = nodes.len();
    nodes.push(dot("#ffffff"));
    let index = |state: &str| {
        states
            .states
            .iter()
            .position(|s| *s == state)
            .map(|i| i + 1)
    };
    let plain = |from, to, label| Edge {
        from,
        to,
        label,
        style: EdgeStyle {
            dashed: false,
            arrow: Arrow::Head,
            color: RELATION,
        },
    };
    let mut edges = Vec::new();
    if let Some(start) = states.start.and_then(index) {
        edges.push(plain(0, start, Vec::new()));
    }
    for transition in &lifecycle.transitions {
        let by: Vec<&str> = transition.by.iter().map(|n| n.as_str()).collect();
        for from in &transition.from {
            if let (Some(from), Some(to)) = (index(from), index(&transition.to)) {
                edges.push(plain(from, to, vec![Line::normal(by.join(", "))]));
            }
        }
    }
    for state in &states.states {
        if let Some(at) = index(state).filter(|_| graph::is_final(lifecycle, state)) {
            edges.push(plain(at, end, Vec::new()));
        }
    }
    Graph { nodes, edges }
}
