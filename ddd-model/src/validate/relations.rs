//! Rules on the context map.

use super::at;
use crate::diagnostic::{Code, Diagnostic, Location};
use crate::ir::{Relation, System};
use crate::name::Name;
use crate::resolve::Index;
use crate::suggest;

pub(super) fn check(system: &System, index: &Index, out: &mut Vec<Diagnostic>) {
    for (r, relation) in system.relations.iter().enumerate() {
        let path = format!("$.relations[{r}]");
        check_contexts(system, index, relation, &path, out);
        check_direction(relation, &path, out);
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
