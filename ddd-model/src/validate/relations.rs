//! Rules on the context map.

use super::at;
use crate::diagnostic::{Code, Diagnostic, Location};
use crate::ir::{Relation, RelationKind, System};
use crate::name::{Name, Origin};
use crate::resolve::Index;
use crate::suggest;

pub(super) fn check(system: &System, index: &Index, out: &mut Vec<Diagnostic>) {
    for (r, relation) in system.relations.iter().enumerate() {
        let path = format!("$.relations[{r}]");
        check_contexts(system, index, relation, &path, out);
        check_direction(relation, &path, out);
        check_roles(relation, &path, out);
        let repeated = system.relations[..r]
            .iter()
            .any(|earlier| same(earlier, relation));
        if repeated {
            out.push(
                Diagnostic::error(Code::DuplicateName, "this relation is declared twice")
                    .at(Location::new(relation.origin.span(), path)),
            );
        }
    }
    policies_follow_the_map(system, out);
}

// Roles say how each side takes part: upstream `open-host` and `published-language`,
// downstream `anticorruption-layer` and `conformist`; equals (`<->`) have none.
fn check_roles(relation: &Relation, path: &str, out: &mut Vec<Diagnostic>) {
    const UPSTREAM: &[RelationKind] = &[RelationKind::OpenHost, RelationKind::PublishedLanguage];
    const DOWNSTREAM: &[RelationKind] =
        &[RelationKind::AnticorruptionLayer, RelationKind::Conformist];
    let sides = [
        (
            &relation.from_roles,
            &relation.role_origins.from,
            &relation.from,
            "from_roles",
            UPSTREAM,
            "upstream",
        ),
        (
            &relation.to_roles,
            &relation.role_origins.to,
            &relation.to,
            "to_roles",
            DOWNSTREAM,
            "downstream",
        ),
    ];
    for (roles, origins, context, key, allowed, side) in sides {
        for (i, role) in roles.iter().enumerate() {
            let span = origins.get(i).and_then(|o| o.span());
            let location = Location::new(
                span.or(relation.origin.span()),
                format!("{path}.{key}[{i}]"),
            );
            if relation.both_ways {
                out.push(
                    Diagnostic::error(
                        Code::InvalidRelation,
                        format!(
                            "`{}` relates equals: `{context}` plays no role",
                            relation.kind.as_str()
                        ),
                    )
                    .at(location)
                    .with_help(
                        "roles belong to relations with an upstream and a downstream (`->`)",
                    ),
                );
            } else if !allowed.contains(role) {
                let names: Vec<String> = allowed
                    .iter()
                    .map(|k| format!("`{}`", k.as_str()))
                    .collect();
                let mut diagnostic = Diagnostic::error(
                    Code::InvalidRelation,
                    format!(
                        "`{}` is not a role of the {side} side (`{context}`)",
                        role.as_str()
                    ),
                )
                .at(location)
                .with_label(format!("not for the {side} side"))
                .with_note(format!("{side} roles are {}", names.join(" and ")));
                if UPSTREAM.contains(role) || DOWNSTREAM.contains(role) {
                    diagnostic = diagnostic.with_help(if allowed == UPSTREAM {
                        format!(
                            "`{}` is a downstream role: write it after the arrow",
                            role.as_str()
                        )
                    } else {
                        format!(
                            "`{}` is an upstream role: write it before the arrow",
                            role.as_str()
                        )
                    });
                }
                out.push(diagnostic);
            }
        }
    }
}

// A policy or a view fed by another context's events makes its context depend on the one
// that publishes them: when the model has a context map, that dependency belongs on it.
fn policies_follow_the_map(system: &System, out: &mut Vec<Diagnostic>) {
    if system.relations.is_empty() {
        return;
    }
    for (c, context) in system.contexts.iter().enumerate() {
        let policies = context.policies.iter().enumerate().map(|(p, policy)| {
            let path = format!("$.contexts[{c}].policies[{p}]");
            (&policy.on.context, policy.origin, path)
        });
        let views = context.views.iter().enumerate().flat_map(|(v, view)| {
            view.handlers.iter().enumerate().map(move |(h, handler)| {
                let path = format!("$.contexts[{c}].views[{v}].handlers[{h}]");
                (&handler.on.scope, handler.origin, path)
            })
        });
        for (upstream, origin, path) in policies.chain(views) {
            // A view's `on` may name an aggregate of its own context: no dependency.
            let other = *upstream != context.name
                && system.context(upstream).is_some()
                && context.aggregate(upstream).is_none();
            if other && !related(system, upstream, &context.name) {
                out.push(unrelated(upstream, &context.name, origin, path));
            }
        }
    }
}

fn related(system: &System, upstream: &str, downstream: &str) -> bool {
    system.relations.iter().any(|r| {
        (r.from == upstream && r.to == downstream) || (r.to == upstream && r.from == downstream)
    })
}

fn unrelated(upstream: &Name, downstream: &Name, origin: Origin, path: String) -> Diagnostic {
    Diagnostic::warning(
        Code::UnrelatedContexts,
        format!("`{downstream}` reacts to `{upstream}`, but the context map does not relate them"),
    )
    .at(Location::new(origin.span(), path))
    .with_label("a dependency the map does not show")
    .with_help(format!(
        "add `{upstream} -> {downstream} : customer-supplier` (or the kind that fits) to the `map`"
    ))
}

fn same(a: &Relation, b: &Relation) -> bool {
    let ends = (a.from == b.from && a.to == b.to)
        || (a.both_ways && b.both_ways && a.from == b.to && a.to == b.from);
    ends && a.kind == b.kind
}

// A relation joins two different contexts of the system.
fn check_contexts(
    system: &System,
    index: &Index,
    relation: &Relation,
    path: &str,
    out: &mut Vec<Diagnostic>,
) {
    let ends: [(&Name, &str); 2] = [(&relation.from, "from"), (&relation.to, "to")];
    for (name, key) in ends {
        if index.context(name).is_none() {
            let names = system.contexts.iter().map(|c| c.name.as_str());
            out.push(
                Diagnostic::error(Code::UnknownContext, format!("unknown context `{name}`"))
                    .at(at(name, format!("{path}.{key}")))
                    .with_label("no context of this name")
                    .suggest(suggest::closest(name, names)),
            );
        }
    }
    if relation.from == relation.to {
        out.push(
            Diagnostic::error(
                Code::InvalidRelation,
                format!("context `{}` is related to itself", relation.from),
            )
            .at(at(&relation.to, format!("{path}.to")))
            .with_help("a relation joins two different contexts"),
        );
    }
}

// `shared-kernel` and `partnership` relate equals and take `<->`; the other kinds have an
// upstream and a downstream and take `->`.
fn check_direction(relation: &Relation, path: &str, out: &mut Vec<Diagnostic>) {
    let kind = relation.kind.as_str();
    let location = Location::new(relation.origin.span(), format!("{path}.both_ways"));
    if relation.kind.is_symmetric() && !relation.both_ways {
        out.push(
            Diagnostic::error(Code::RelationDirection, format!("`{kind}` needs `<->`"))
                .at(location)
                .with_label("one-way arrow")
                .with_help(format!(
                    "a {kind} relates two contexts as equals: write `{} <-> {} : {kind}`",
                    relation.from, relation.to
                )),
        );
    } else if !relation.kind.is_symmetric() && relation.both_ways {
        out.push(
            Diagnostic::error(Code::RelationDirection, format!("`{kind}` needs `->`"))
                .at(location)
                .with_label("two-way arrow")
                .with_help(format!(
                    "`{kind}` has an upstream and a downstream: write `Upstream -> Downstream : {kind}`"
                )),
        );
    }
}
