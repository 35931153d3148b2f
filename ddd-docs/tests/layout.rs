//! The pictures stay readable: no box of text overlaps another, at the shop's size and at
//! a hundred contexts, and every edge starts and ends on its nodes.

mod common;

use common as models;

use ddd_docs::diagrams::{self, Links};
use ddd_docs::layout::{Graph, Layout, layout};
use ddd_model::System;

/// The first pair of boxes with text that overlap, if any.
fn overlap(layout: &Layout) -> Option<String> {
    let boxes = layout.text_boxes();
    for (i, a) in boxes.iter().enumerate() {
        for b in &boxes[i + 1..] {
            if a.overlaps(b) {
                return Some(format!("{a:?} overlaps {b:?}"));
            }
        }
    }
    None
}

/// Every edge starts on the side of its source and ends on its target's box.
fn edges_meet_their_nodes(graph: &Graph, layout: &Layout) {
    for (edge, path) in graph.edges.iter().zip(&layout.paths) {
        for (point, node) in [(path[0], edge.from), (path[path.len() - 1], edge.to)] {
            let rect = layout.nodes[node];
            let inside = point.0 >= rect.x - 0.01
                && point.0 <= rect.x + rect.width + 0.01
                && point.1 >= rect.y - 0.01
                && point.1 <= rect.y + rect.height + 0.01;
            assert!(inside, "{point:?} is not on {rect:?}");
        }
    }
}

/// Every picture of the model: the context map, the event flow, the lifecycles.
fn pictures(system: &System) -> Vec<(String, Graph)> {
    let mut all = vec![(
        "context map".to_owned(),
        diagrams::context_map(system, Links::None),
    )];
    if let Some(flow) = diagrams::event_flow(system, Links::None) {
        all.push(("event flow".to_owned(), flow));
    }
    for context in &system.contexts {
        for aggregate in &context.aggregates {
            for lifecycle in &aggregate.lifecycles {
                let name = format!("lifecycle of {}.{}", aggregate.name, lifecycle.field);
                all.push((name, diagrams::lifecycle(system, aggregate, lifecycle)));
            }
        }
    }
    all
}

fn check(system: &System) {
    for (name, graph) in pictures(system) {
        let laid = layout(&graph);
        assert_eq!(laid.nodes.len(), graph.nodes.len());
        let labels = graph.edges.iter().filter(|e| !e.label.is_empty()).count();
        assert_eq!(laid.labels.iter().flatten().count(), labels, "{name}");
        if let Some(problem) = overlap(&laid) {
            panic!("{name}: {problem}");
        }
        edges_meet_their_nodes(&graph, &laid);
        for rect in laid.text_boxes() {
            assert!(rect.x >= 0.0 && rect.y >= 0.0, "{name}: {rect:?}");
            assert!(
                rect.x + rect.width <= laid.width && rect.y + rect.height <= laid.height,
                "{name}: {rect:?} outside"
            );
        }
    }
}

#[test]
fn the_shops_pictures_have_no_overlapping_labels() {
    let shop = models::shop();
    let map = diagrams::context_map(&shop, Links::None);
    // Seven relations and five policies, each labelled.
    assert_eq!(map.edges.len(), 12);
    check(&shop);
}

#[test]
fn a_hundred_contexts_have_no_overlapping_labels() {
    let system = models::load(&models::generated(100));
    let map = diagrams::context_map(&system, Links::None);
    assert_eq!(map.nodes.len(), 100);
    assert!(map.edges.len() > 200, "{}", map.edges.len());
    check(&system);
}

#[test]
fn the_same_model_gives_the_same_picture() {
    let shop = models::shop();
    assert_eq!(
        ddd_docs::context_map_svg(&shop),
        ddd_docs::context_map_svg(&shop)
    );
}
