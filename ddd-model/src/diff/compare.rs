//! The walk over two models: items paired by name, scope by scope, each pair compared by the
//! rules in [`super::fields`] and the module docs of [`super`].

use std::collections::HashMap;
use std::hash::Hash;

use super::fields::{self, Roles};
use super::usage::{self, Use};
use super::{Audiences, Change, ChangeKind, Diff, Item};
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::{
    Aggregate, Command, Context, Enum, Event, Field, Policy, Record, Relation, System, TypePath,
    Variant, View, ViewField, ViewHandler, ViewSource,
};
use crate::name::{Name, Span};

/// An item of one model or both, matched by its key.
enum Pair<'a, T> {
    Both(&'a T, &'a T),
    Removed(&'a T),
    Added(&'a T),
}

/// The items of `old` and `new` paired by `key`: those of `old` in order (with their match),
/// then those only `new` has, in order.
fn pairs<'a, T, K: Eq + Hash>(
    old: &'a [T],
    new: &'a [T],
    key: impl Fn(&'a T) -> K,
) -> Vec<Pair<'a, T>> {
    let by_key: HashMap<K, &T> = new.iter().map(|item| (key(item), item)).collect();
    let mut matched = HashMap::with_capacity(old.len());
    let mut out = Vec::with_capacity(old.len().max(new.len()));
    for item in old {
        let k = key(item);
        match by_key.get(&k) {
            Some(other) => {
                out.push(Pair::Both(item, *other));
                matched.insert(k, ());
            }
            None => out.push(Pair::Removed(item)),
        }
    }
    out.extend(
        new.iter()
            .filter(|item| !matched.contains_key(&key(item)))
            .map(Pair::Added),
    );
    out
}

/// An item with a name and a doc comment: paired, located and documented alike.
trait Named {
    fn name(&self) -> &Name;
    fn doc(&self) -> Option<&str>;
}

macro_rules! named {
    ($($ty:ty),*) => {$(
        impl Named for $ty {
            fn name(&self) -> &Name {
                &self.name
            }

            fn doc(&self) -> Option<&str> {
                self.doc.as_deref()
            }
        }
    )*};
}

named!(
    Context, Aggregate, Command, Event, View, ViewField, Record, Enum, Variant, Field
);

fn by_name<'a, T: Named>(old: &'a [T], new: &'a [T]) -> Vec<Pair<'a, T>> {
    pairs(old, new, |item| item.name().as_str())
}

/// `scope.name`, or the name alone at the top.
fn join(scope: &str, name: &str) -> String {
    if scope.is_empty() {
        name.to_owned()
    } else {
        format!("{scope}.{name}")
    }
}

fn span(name: &Name) -> Option<Span> {
    name.span()
}

fn added<T: Named>(item: Item, scope: &str, new: &T) -> Change {
    Change::added(item, join(scope, new.name()), span(new.name()))
}

fn removed<T: Named>(item: Item, scope: &str, old: &T) -> Change {
    Change::removed(item, join(scope, old.name()), span(old.name()))
}

/// The change of an item both models have, with its doc compared; what else changed is
/// added by the caller, and a change without details is not pushed.
fn changed<T: Named>(item: Item, scope: &str, old: &T, new: &T) -> Change {
    let change = Change::changed(
        item,
        join(scope, new.name()),
        span(old.name()),
        span(new.name()),
    );
    if old.doc() == new.doc() {
        change
    } else {
        change.detail("doc changed")
    }
}

/// Where a value, entity or enum is defined: the system, a context or an aggregate.
struct TypeScope {
    context: Option<Name>,
    aggregate: Option<Name>,
}

impl TypeScope {
    fn path(&self, name: &Name) -> TypePath {
        TypePath {
            context: self.context.clone(),
            aggregate: self.aggregate.clone(),
            name: name.clone(),
        }
    }

    fn prefix(&self) -> String {
        let parts: Vec<&str> = [&self.context, &self.aggregate]
            .into_iter()
            .flatten()
            .map(|name| name.as_str())
            .collect();
        parts.join(".")
    }
}

/// The versions of a model's events, by context and name.
fn versions(system: &System) -> HashMap<(&str, &str), u32> {
    let mut versions = HashMap::new();
    for context in &system.contexts {
        for aggregate in &context.aggregates {
            for event in &aggregate.events {
                versions.insert((context.name.as_str(), event.name.as_str()), event.version);
            }
        }
    }
    versions
}

/// An item's spans in the old and the new model.
type Spans = (Option<Span>, Option<Span>);

pub(super) struct Differ<'a> {
    old: &'a System,
    new: &'a System,
    /// Where the old model's records and enums are used: who relied on them.
    usage: HashMap<TypePath, Use>,
    old_versions: HashMap<(&'a str, &'a str), u32>,
    new_versions: HashMap<(&'a str, &'a str), u32>,
    /// The item being walked, in the old and the new model: where an item added to it or
    /// removed from it is located on the side it is not on.
    within: Spans,
    diff: Diff,
}

impl<'a> Differ<'a> {
    pub(super) fn new(old: &'a System, new: &'a System) -> Differ<'a> {
        Differ {
            old,
            new,
            usage: usage::usage(old),
            old_versions: versions(old),
            new_versions: versions(new),
            within: (span(&old.name), span(&new.name)),
            diff: Diff::default(),
        }
    }

    pub(super) fn run(mut self) -> Diff {
        self.system();
        self.diff
    }

    /// Records a change; one of an item on one side only is also located at the item it was
    /// added to or removed from on the other side.
    fn push(&mut self, mut change: Change) {
        match change.kind {
            ChangeKind::Added => change.old = change.old.or(self.within.0),
            ChangeKind::Removed => change.new = change.new.or(self.within.1),
            ChangeKind::Changed => {}
        }
        self.diff.changes.push(change);
    }

    /// Pushes a change of an item both models have when something about it changed.
    fn push_if_changed(&mut self, change: Change) {
        if !change.details.is_empty() {
            self.push(change);
        }
    }

    /// Walks the members of an item both models have. With `bridged` (a new version of the
    /// events that carry them), what they break for stored events and other contexts is
    /// allowed instead.
    fn members<T: Named>(&mut self, old: &T, new: &T, bridged: bool, walk: impl FnOnce(&mut Self)) {
        let start = self.diff.changes.len();
        let outer = std::mem::replace(&mut self.within, (span(old.name()), span(new.name())));
        walk(self);
        self.within = outer;
        if bridged {
            self.diff.changes[start..]
                .iter_mut()
                .for_each(Change::bridge);
        }
    }

    fn system(&mut self) {
        let (old, new) = (self.old, self.new);
        let mut change = Change::changed(
            Item::System,
            new.name.to_string(),
            span(&old.name),
            span(&new.name),
        );
        if old.name != new.name {
            let published = old.contexts.iter().any(|c| !c.publishes.is_empty());
            change = change
                .detail(format!(
                    "renamed `{}` → `{}`: every subject changes",
                    old.name, new.name
                ))
                .breaking(Audiences::when(published, Audiences::CONTEXTS));
        }
        if old.doc != new.doc {
            change = change.detail("doc changed");
        }
        self.push_if_changed(change);
        let scope = TypeScope {
            context: None,
            aggregate: None,
        };
        self.shared_types((&old.values, &old.enums), (&new.values, &new.enums), &scope);
        for pair in by_name(&old.contexts, &new.contexts) {
            self.context(pair);
        }
        for pair in pairs(&old.relations, &new.relations, |r| {
            (r.from.as_str(), r.to.as_str())
        }) {
            self.relation(pair);
        }
    }

    fn context(&mut self, pair: Pair<'a, Context>) {
        let (old, new) = match pair {
            Pair::Added(context) => return self.push(added(Item::Context, "", context)),
            Pair::Removed(context) => return self.context_removed(context),
            Pair::Both(old, new) => (old, new),
        };
        let mut change = changed(Item::Context, "", old, new);
        if old.kind != new.kind {
            let kind = |k: Option<crate::ir::SubdomainKind>| k.map_or("none", |k| k.as_str());
            change = change.detail(format!(
                "subdomain kind `{}` → `{}`",
                kind(old.kind),
                kind(new.kind)
            ));
        }
        self.push_if_changed(change);
        self.members(old, new, false, |this| this.context_members(old, new));
    }

    fn context_members(&mut self, old: &'a Context, new: &'a Context) {
        let scope = TypeScope {
            context: Some(new.name.clone()),
            aggregate: None,
        };
        self.shared_types((&old.values, &old.enums), (&new.values, &new.enums), &scope);
        for pair in by_name(&old.aggregates, &new.aggregates) {
            self.aggregate(old, new, pair);
        }
        self.published(old, new);
        for pair in by_name(&old.views, &new.views) {
            self.view(&new.name, pair);
        }
        for pair in pairs(&old.policies, &new.policies, |p| (&p.on, &p.run)) {
            self.policy(&new.name, pair);
        }
    }

    /// A context removed is one change: what it held goes with it.
    fn context_removed(&mut self, context: &Context) {
        let events = context.aggregates.iter().any(|a| !a.events.is_empty());
        let endpoints = !context.aggregates.is_empty() || !context.views.is_empty();
        let breaks = Audiences::when(events, Audiences::STORED)
            .union(Audiences::when(
                !context.publishes.is_empty(),
                Audiences::CONTEXTS,
            ))
            .union(Audiences::when(endpoints, Audiences::HTTP));
        let change = removed(Item::Context, "", context)
            .detail(format!(
                "with {} aggregate(s), {} view(s) and {} published event(s)",
                context.aggregates.len(),
                context.views.len(),
                context.publishes.len()
            ))
            .breaking(breaks);
        self.push(change);
    }

    fn aggregate(
        &mut self,
        old_context: &'a Context,
        new_context: &'a Context,
        pair: Pair<'a, Aggregate>,
    ) {
        let scope = new_context.name.as_str();
        let (old, new) = match pair {
            Pair::Added(aggregate) => return self.push(added(Item::Aggregate, scope, aggregate)),
            Pair::Removed(aggregate) => {
                let change = removed(Item::Aggregate, &old_context.name, aggregate)
                    .detail(format!(
                        "its events and its endpoints under `{}` are gone",
                        ddd_names::route(&aggregate.name)
                    ))
                    .breaking(Audiences::STORED.union(Audiences::HTTP));
                return self.push(change);
            }
            Pair::Both(old, new) => (old, new),
        };
        let mut change = changed(Item::Aggregate, scope, old, new);
        if old.lifecycles != new.lifecycles {
            change = change.detail("lifecycle changed");
        }
        let path = change.path.clone();
        self.push_if_changed(change);
        self.members(old, new, false, |this| {
            this.fields(
                &old.fields,
                &new.fields,
                Item::StateField,
                &path,
                Roles::RESPONSE,
            );
            let types = TypeScope {
                context: Some(new_context.name.clone()),
                aggregate: Some(new.name.clone()),
            };
            this.shared_types((&old.values, &old.enums), (&new.values, &new.enums), &types);
            this.types(
                &old.entities,
                &new.entities,
                Item::Entity,
                &types,
                Self::record,
            );
            for pair in by_name(&old.commands, &new.commands) {
                this.command(&path, &new.name, pair);
            }
            for pair in by_name(&old.events, &new.events) {
                this.event(old_context, new_context, &path, pair);
            }
        });
    }

    fn command(&mut self, scope: &str, aggregate: &Name, pair: Pair<'a, Command>) {
        let endpoint = |command: &Command| endpoint(aggregate, command);
        let (old, new) = match pair {
            Pair::Added(command) => return self.push(added(Item::Command, scope, command)),
            Pair::Removed(command) => {
                let change = removed(Item::Command, scope, command)
                    .detail(format!("endpoint `{}` removed", endpoint(command)))
                    .breaking(Audiences::HTTP);
                return self.push(change);
            }
            Pair::Both(old, new) => (old, new),
        };
        let mut change = changed(Item::Command, scope, old, new);
        if old.creates != new.creates {
            change = change
                .detail(format!(
                    "endpoint `{}` → `{}`",
                    endpoint(old),
                    endpoint(new)
                ))
                .breaking(Audiences::HTTP);
        }
        if old.requires != new.requires {
            change = change.detail("rules (`requires`) changed");
        }
        if old.emits != new.emits {
            change = change.detail(format!("emits {} → {}", list(&old.emits), list(&new.emits)));
        }
        let path = change.path.clone();
        self.push_if_changed(change);
        self.members(old, new, false, |this| {
            this.fields(
                &old.params,
                &new.params,
                Item::Parameter,
                &path,
                Roles::REQUEST,
            );
        });
    }

    fn event(
        &mut self,
        old_context: &Context,
        new_context: &Context,
        scope: &str,
        pair: Pair<'a, Event>,
    ) {
        let (old, new) = match pair {
            Pair::Added(event) => return self.push(added(Item::Event, scope, event)),
            Pair::Removed(event) => {
                let change = removed(Item::Event, scope, event)
                    .detail("stored events of this type can no longer be read")
                    .breaking(Audiences::STORED);
                return self.push(change);
            }
            Pair::Both(old, new) => (old, new),
        };
        let mut change = changed(Item::Event, scope, old, new);
        if old.version < new.version {
            change = change.detail(format!("version v{} → v{}", old.version, new.version));
        } else if old.version > new.version {
            self.version_lowered(old, new);
        }
        if old.sets != new.sets {
            change = change.detail("`sets` changed");
        }
        let path = change.path.clone();
        self.push_if_changed(change);
        let roles = Roles {
            published: old_context.publishes(&old.name) && new_context.publishes(&new.name),
            ..Roles::STORED
        };
        self.members(old, new, old.version < new.version, |this| {
            this.fields(&old.fields, &new.fields, Item::EventField, &path, roles);
        });
    }

    fn version_lowered(&mut self, old: &Event, new: &Event) {
        let at = new.version_origin.span().or_else(|| new.name.span());
        let mut error = Diagnostic::error(
            Code::Evolution,
            format!(
                "event `{}` goes from version v{} down to v{}",
                new.name, old.version, new.version
            ),
        )
        .with_label("lower than in the old model")
        .with_help(format!(
            "an event's version only goes up: stored v{} payloads exist; write `v{}` or higher",
            old.version, old.version
        ));
        if let Some(at) = at {
            error = error.at(at);
        }
        self.diff.errors.push(error);
    }

    /// The fields of two versions of one item, each removed, added or changed field a change.
    fn fields(&mut self, old: &[Field], new: &[Field], item: Item, scope: &str, roles: Roles) {
        for pair in by_name(old, new) {
            let change = match pair {
                Pair::Added(field) => added(item, scope, field)
                    .detail(format!("type `{}`", field.ty))
                    .breaking(fields::added(field, roles)),
                Pair::Removed(field) => removed(item, scope, field).breaking(roles.all()),
                Pair::Both(old, new) => {
                    let Some((details, breaks)) = fields::changed(old, new, roles) else {
                        continue;
                    };
                    let mut change = Change::changed(
                        item,
                        join(scope, &new.name),
                        span(&old.name),
                        span(&new.name),
                    );
                    change.details = details;
                    change.breaking(breaks)
                }
            };
            self.push(change);
        }
    }

    /// The values and enums a scope defines (an aggregate's entities are walked apart).
    fn shared_types(
        &mut self,
        (old_values, old_enums): (&'a [Record], &'a [Enum]),
        (new_values, new_enums): (&'a [Record], &'a [Enum]),
        scope: &TypeScope,
    ) {
        self.types(old_values, new_values, Item::Value, scope, Self::record);
        self.types(old_enums, new_enums, Item::Enum, scope, Self::enumeration);
    }

    /// The values, entities or enums of one scope; `compare` walks a pair of one name.
    fn types<T: Named>(
        &mut self,
        old: &'a [T],
        new: &'a [T],
        item: Item,
        scope: &TypeScope,
        compare: fn(&mut Self, &'a T, &'a T, &TypePath),
    ) {
        let prefix = scope.prefix();
        for pair in by_name(old, new) {
            match pair {
                Pair::Added(def) => self.push(added(item, &prefix, def)),
                // Whatever carried it now carries another type: that change is where it stands.
                Pair::Removed(def) => self.push(removed(item, &prefix, def)),
                Pair::Both(old, new) => {
                    self.push_if_changed(changed(item, &prefix, old, new));
                    compare(self, old, new, &scope.path(new.name()));
                }
            }
        }
    }

    /// Who relies on a type of the old model.
    fn roles(&self, path: &TypePath) -> Roles {
        self.usage
            .get(path)
            .map(|used| used.roles)
            .unwrap_or_default()
    }

    fn record(&mut self, old: &'a Record, new: &'a Record, path: &TypePath) {
        let roles = self.roles(path);
        let bridged = self.bridged(path);
        let scope = path.to_string();
        self.members(old, new, bridged, |this| {
            this.fields(&old.fields, &new.fields, Item::RecordField, &scope, roles);
        });
    }

    /// Whether every event that carries the type goes up a version: then each of them tells
    /// old payloads apart.
    fn bridged(&self, path: &TypePath) -> bool {
        let Some(used) = self.usage.get(path) else {
            return false;
        };
        !used.events.is_empty()
            && used.events.iter().all(|(context, event)| {
                let key = (context.as_str(), event.as_str());
                let old = self.old_versions.get(&key);
                let new = self.new_versions.get(&key);
                matches!((old, new), (Some(old), Some(new)) if old < new)
            })
    }

    /// A variant removed is a value old payloads and clients may hold; one added, a value
    /// that a consumer generated from the old model cannot read. HTTP clients are expected
    /// to tolerate new values in responses.
    fn enumeration(&mut self, old: &'a Enum, new: &'a Enum, path: &TypePath) {
        let roles = self.roles(path);
        let bridged = self.bridged(path);
        let scope = path.to_string();
        let gone = Audiences::when(roles.stored, Audiences::STORED)
            .union(Audiences::when(roles.published, Audiences::CONTEXTS))
            .union(Audiences::when(roles.request, Audiences::HTTP));
        let new_value = Audiences::when(roles.published, Audiences::CONTEXTS);
        self.members(old, new, bridged, |this| {
            for pair in by_name(&old.variants, &new.variants) {
                match pair {
                    Pair::Added(variant) => {
                        this.push(added(Item::Variant, &scope, variant).breaking(new_value));
                    }
                    Pair::Removed(variant) => {
                        this.push(removed(Item::Variant, &scope, variant).breaking(gone));
                    }
                    Pair::Both(old, new) => {
                        this.push_if_changed(changed(Item::Variant, &scope, old, new));
                    }
                }
            }
        });
    }

    /// Which events a context publishes, and on which subjects.
    fn published(&mut self, old: &Context, new: &Context) {
        let subject = |system: &System, context: &Context, event: &Name| {
            ddd_names::subject(&ddd_names::namespace(&system.name), &context.name, event)
        };
        for pair in pairs(&old.publishes, &new.publishes, |e| e.as_str()) {
            let change = match pair {
                Pair::Added(event) => {
                    Change::added(Item::Published, join(&new.name, event), span(event))
                        .detail(format!("on `{}`", subject(self.new, new, event)))
                }
                Pair::Removed(event) => {
                    Change::removed(Item::Published, join(&old.name, event), span(event))
                        .detail(format!(
                            "no longer published on `{}`",
                            subject(self.old, old, event)
                        ))
                        .breaking(Audiences::CONTEXTS)
                }
                Pair::Both(..) => continue,
            };
            self.push(change);
        }
    }

    fn view(&mut self, context: &Name, pair: Pair<'a, View>) {
        let (old, new) = match pair {
            Pair::Added(view) => {
                let change = added(Item::View, context, view)
                    .detail(format!("served at `GET {}`", view.route()));
                return self.push(change);
            }
            Pair::Removed(view) => {
                let change = removed(Item::View, context, view)
                    .detail(format!("`GET {}` removed", view.route()))
                    .breaking(Audiences::HTTP);
                return self.push(change);
            }
            Pair::Both(old, new) => (old, new),
        };
        let mut change = changed(Item::View, context, old, new);
        if let Some(detail) = source_change(&old.source, &new.source) {
            change = change.detail(detail).breaking(Audiences::HTTP);
        }
        let path = change.path.clone();
        self.push_if_changed(change);
        self.members(old, new, false, |this| {
            for pair in by_name(&old.fields, &new.fields) {
                this.view_field(&path, pair);
            }
            for pair in pairs(&old.handlers, &new.handlers, |h| &h.on) {
                this.view_handler(&path, pair);
            }
        });
    }

    fn view_field(&mut self, scope: &str, pair: Pair<'a, ViewField>) {
        let (old, new) = match pair {
            Pair::Added(field) => {
                let change =
                    added(Item::ViewField, scope, field).detail(format!("type `{}`", field.ty));
                return self.push(change);
            }
            Pair::Removed(field) => {
                return self.push(removed(Item::ViewField, scope, field).breaking(Audiences::HTTP));
            }
            Pair::Both(old, new) => (old, new),
        };
        let mut change = Change::changed(
            Item::ViewField,
            join(scope, &new.name),
            span(&old.name),
            span(&new.name),
        );
        if let Some((details, breaks)) =
            fields::changed(&old.as_field(), &new.as_field(), Roles::RESPONSE)
        {
            change.details = details;
            change = change.breaking(breaks);
        }
        for (mark, had, has) in [
            ("@filter", old.filter, new.filter),
            ("@sort", old.sort, new.sort),
        ] {
            if had != has {
                let what = if has {
                    "added"
                } else {
                    "removed: the query no longer takes it"
                };
                change = change
                    .detail(format!("`{mark}` {what}"))
                    .breaking(Audiences::when(had, Audiences::HTTP));
            }
        }
        if old.value != new.value {
            change = change.detail("value (`= ...`) changed");
        }
        self.push_if_changed(change);
    }

    fn view_handler(&mut self, scope: &str, pair: Pair<'a, ViewHandler>) {
        let at =
            |handler: &ViewHandler| format!("{scope} on {}.{}", handler.on.scope, handler.on.event);
        let change = match pair {
            Pair::Added(handler) => {
                Change::added(Item::ViewHandler, at(handler), handler.origin.span())
            }
            Pair::Removed(handler) => {
                Change::removed(Item::ViewHandler, at(handler), handler.origin.span())
            }
            Pair::Both(old, new) if old.sets != new.sets => Change::changed(
                Item::ViewHandler,
                at(new),
                old.origin.span(),
                new.origin.span(),
            )
            .detail("`sets` changed"),
            Pair::Both(..) => return,
        };
        self.push(change);
    }

    fn policy(&mut self, context: &Name, pair: Pair<'a, Policy>) {
        let at = |policy: &Policy| {
            format!(
                "{context}: on {}.{} run {}.{}",
                policy.on.context, policy.on.event, policy.run.aggregate, policy.run.command
            )
        };
        let change = match pair {
            Pair::Added(policy) => Change::added(Item::Policy, at(policy), policy.origin.span()),
            Pair::Removed(policy) => {
                Change::removed(Item::Policy, at(policy), policy.origin.span())
            }
            Pair::Both(old, new) => {
                let mut change =
                    Change::changed(Item::Policy, at(new), old.origin.span(), new.origin.span());
                if old.mappings != new.mappings {
                    change = change.detail("`with` mappings changed");
                }
                if old.doc != new.doc {
                    change = change.detail("doc changed");
                }
                return self.push_if_changed(change);
            }
        };
        self.push(change);
    }

    fn relation(&mut self, pair: Pair<'a, Relation>) {
        let at = |relation: &Relation| {
            let arrow = if relation.both_ways { "<->" } else { "->" };
            format!("map: {} {arrow} {}", relation.from, relation.to)
        };
        let change = match pair {
            Pair::Added(relation) => {
                Change::added(Item::Relation, at(relation), relation.origin.span())
            }
            Pair::Removed(relation) => {
                Change::removed(Item::Relation, at(relation), relation.origin.span())
            }
            Pair::Both(old, new) => {
                let mut change = Change::changed(
                    Item::Relation,
                    at(new),
                    old.origin.span(),
                    new.origin.span(),
                );
                if old != new {
                    change = change.detail(format!(
                        "kind `{}` → `{}`",
                        old.kind.as_str(),
                        new.kind.as_str()
                    ));
                }
                return self.push_if_changed(change);
            }
        };
        self.push(change);
    }
}

/// `POST /orders` for a `creates` command, `POST /orders/{id}/cancel` for the others.
fn endpoint(aggregate: &Name, command: &Command) -> String {
    let route = ddd_names::route(aggregate);
    if command.creates {
        format!("POST {route}")
    } else {
        format!(
            "POST {route}/{{id}}/{}",
            ddd_names::command_path(&command.name)
        )
    }
}

fn list(names: &[Name]) -> String {
    let shown: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    if shown.is_empty() {
        "nothing".to_owned()
    } else {
        shown.join(", ")
    }
}

/// How a view's rows are made, when that changes its shape: the key, or its aggregate.
fn source_change(old: &ViewSource, new: &ViewSource) -> Option<String> {
    let show = |source: &ViewSource| match source {
        ViewSource::From(aggregate) => format!("from `{aggregate}`"),
        ViewSource::By(key) => format!("by `{}: {}`", key.name, key.ty),
    };
    let same = match (old, new) {
        (ViewSource::From(old), ViewSource::From(new)) => old == new,
        (ViewSource::By(old), ViewSource::By(new)) => old.name == new.name && old.ty == new.ty,
        _ => false,
    };
    (!same).then(|| format!("rows {} → {}", show(old), show(new)))
}
