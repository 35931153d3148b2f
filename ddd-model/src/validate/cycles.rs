//! Values and entities that contain each other by value (directly or through `Option`) would
//! be infinitely large; through `Vec` or `Map` they are fine.

use std::collections::{HashMap, VecDeque};

use crate::diagnostic::{Code, Diagnostic, Location};
use crate::ir::{System, Type, TypePath};
use crate::walk::Owner;

/// A record and its by-value references: `(field index, target node)`.
struct Node {
    owner: Owner,
    path: TypePath,
    edges: Vec<(usize, usize)>,
}

pub(super) fn check(system: &System, out: &mut Vec<Diagnostic>) {
    let nodes = graph(system);
    for component in strongly_connected(&nodes) {
        let cyclic = component.len() > 1
            || nodes[component[0]]
                .edges
                .iter()
                .any(|&(_, to)| to == component[0]);
        if cyclic {
            out.push(report(system, &nodes, &component));
        }
    }
}

fn graph(system: &System) -> Vec<Node> {
    let mut nodes: Vec<Node> = Owner::all(system)
        .into_iter()
        .filter_map(|owner| {
            owner.record_path(system).map(|path| Node {
                owner,
                path,
                edges: Vec::new(),
            })
        })
        .collect();
    let ids: HashMap<TypePath, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.path.clone(), i))
        .collect();
    for node in &mut nodes {
        for (f, field) in node.owner.fields(system).iter().enumerate() {
            if let Some(path) = by_value(&field.ty)
                && let Some(&target) = ids.get(path)
            {
                node.edges.push((f, target));
            }
        }
    }
    nodes
}

/// The record a type holds by value: itself, or inside `Option`.
fn by_value(ty: &Type) -> Option<&TypePath> {
    match ty {
        Type::Value(path) | Type::Entity(path) => Some(path),
        Type::Option(inner) => by_value(inner),
        _ => None,
    }
}

/// Tarjan's algorithm, iterative so a long chain of records cannot overflow the stack.
/// Components come out in no particular order; each is sorted.
fn strongly_connected(nodes: &[Node]) -> Vec<Vec<usize>> {
    let mut index = vec![usize::MAX; nodes.len()];
    let mut low = vec![0; nodes.len()];
    let mut on_stack = vec![false; nodes.len()];
    let mut stack = Vec::new();
    let mut components = Vec::new();
    let mut counter = 0;
    for root in 0..nodes.len() {
        if index[root] != usize::MAX {
            continue;
        }
        // (node, next edge to follow)
        let mut calls = vec![(root, 0)];
        index[root] = counter;
        low[root] = counter;
        counter += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some(&mut (v, ref mut next)) = calls.last_mut() {
            if let Some(&(_, w)) = nodes[v].edges.get(*next) {
                *next += 1;
                if index[w] == usize::MAX {
                    index[w] = counter;
                    low[w] = counter;
                    counter += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    calls.push((w, 0));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
                continue;
            }
            calls.pop();
            if let Some(&(parent, _)) = calls.last() {
                low[parent] = low[parent].min(low[v]);
            }
            if low[v] == index[v] {
                let mut component = Vec::new();
                while let Some(w) = stack.pop() {
                    on_stack[w] = false;
                    component.push(w);
                    if w == v {
                        break;
                    }
                }
                component.sort_unstable();
                components.push(component);
            }
        }
    }
    components.sort();
    components
}

/// Reports the shortest cycle through the component's first record, at the field that
/// starts it.
fn report(system: &System, nodes: &[Node], component: &[usize]) -> Diagnostic {
    let start = component[0];
    let cycle = shortest_cycle(nodes, component, start);
    let steps: Vec<String> = cycle
        .iter()
        .map(|&(node, field)| {
            let name = &nodes[node].owner.fields(system)[field].name;
            format!("`{}.{name}`", nodes[node].path.name)
        })
        .collect();
    let (first_node, first_field) = cycle[0];
    let field = &nodes[first_node].owner.fields(system)[first_field];
    let names: Vec<String> = component
        .iter()
        .map(|&n| format!("`{}`", nodes[n].path.name))
        .collect();
    let message = if component.len() == 1 {
        format!("{} contains itself by value", names[0])
    } else {
        format!("{} contain each other by value", names.join(", "))
    };
    Diagnostic::error(Code::ValueCycle, message)
        .at(Location::new(field.ty_origin.span(), format!("{}.type", nodes[first_node].owner.field_path(first_field))))
        .with_label("starts the cycle")
        .with_note(format!("{} → `{}`", steps.join(" → "), nodes[start].path.name))
        .with_help("such a type would be infinitely large: put one of these fields in a `Vec`, or refer to an aggregate by its id")
}

/// `(node, field)` steps of a shortest cycle from `start` back to it, inside `component`.
fn shortest_cycle(nodes: &[Node], component: &[usize], start: usize) -> Vec<(usize, usize)> {
    let mut parent: HashMap<usize, (usize, usize)> = HashMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(v) = queue.pop_front() {
        for &(field, w) in &nodes[v].edges {
            if component.binary_search(&w).is_err() {
                continue;
            }
            if w == start {
                let mut steps = vec![(v, field)];
                let mut at = v;
                while at != start {
                    let (previous, field) = parent[&at];
                    steps.push((previous, field));
                    at = previous;
                }
                steps.reverse();
                return steps;
            }
            if let std::collections::hash_map::Entry::Vacant(entry) = parent.entry(w) {
                entry.insert((v, field));
                queue.push_back(w);
            }
        }
    }
    // A strongly connected component with a cycle always leads back to its start.
    vec![(start, nodes[start].edges.first().map_or(0, |&(f, _)| f))]
}
