//! Name resolution on the IR: every [`Type::Named`] becomes the value, entity, enum, id or
//! named type it means where its field stands, and already-qualified references are checked
//! to exist and to be of the kind they claim.
//!
//! A bare name is looked up in the aggregate, then its context (types, named types and the
//! ids of its aggregates), then the system level, then the other contexts; found in more
//! than one other context, it is ambiguous. `Context.Name` looks in that context only.

use std::collections::HashMap;

use crate::diagnostic::{Code, Diagnostic, Location};
use crate::ir::{Alias, Constraint, System, Type, TypeKind, TypePath, View, ViewSource};
use crate::name::{Name, Origin};
use crate::suggest;
use crate::symbol;
use crate::walk::{Owner, Scope, scope_names};

/// Deeper types than this (possible in JSON) are refused.
const MAX_TYPE_DEPTH: usize = 16;

/// What a type name is defined as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Def {
    Type(TypeKind),
    /// A named type: the index into its level's `aliases`.
    Alias(usize),
}

/// Type names by scope; the first definition of a duplicated name wins (the duplicate itself
/// is reported by validation).
pub(crate) struct Index {
    system: HashMap<String, Def>,
    contexts: Vec<HashMap<String, Def>>,
    aggregates: Vec<Vec<HashMap<String, Def>>>,
    context_names: HashMap<String, usize>,
    /// Aggregates by name: one per context at most (validation reports duplicates).
    aggregate_names: HashMap<String, Vec<(usize, usize)>>,
}

fn definitions<'a>(
    values: impl IntoIterator<Item = &'a Name>,
    entities: impl IntoIterator<Item = &'a Name>,
    enums: impl IntoIterator<Item = &'a Name>,
    aliases: &[Alias],
) -> HashMap<String, Def> {
    let mut map = HashMap::new();
    let tagged = (values.into_iter().map(|n| (n, Def::Type(TypeKind::Value))))
        .chain(
            entities
                .into_iter()
                .map(|n| (n, Def::Type(TypeKind::Entity))),
        )
        .chain(enums.into_iter().map(|n| (n, Def::Type(TypeKind::Enum))))
        .chain(
            aliases
                .iter()
                .enumerate()
                .map(|(i, a)| (&a.name, Def::Alias(i))),
        );
    for (name, def) in tagged {
        map.entry(name.to_string()).or_insert(def);
    }
    map
}

/// Where a name was found, for the ambiguity message.
#[derive(Debug, Clone)]
pub(crate) struct Place {
    pub(crate) path: String,
    pub(crate) origin: Origin,
}

/// A name that did not resolve.
#[derive(Debug, Clone)]
pub(crate) enum Miss {
    NotFound,
    UnknownContext(String),
    /// Found in several other contexts.
    Ambiguous(Vec<Place>),
}

/// What a name means: the type, and the constraints a named type brings along.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub(crate) ty: Type,
    pub(crate) constraints: Vec<Constraint>,
}

impl Index {
    pub(crate) fn new(system: &System) -> Index {
        let mut index = Index {
            system: definitions(
                system.values.iter().map(|r| &r.name),
                [],
                system.enums.iter().map(|e| &e.name),
                &system.aliases,
            ),
            contexts: Vec::new(),
            aggregates: Vec::new(),
            context_names: HashMap::new(),
            aggregate_names: HashMap::new(),
        };
        for (c, context) in system.contexts.iter().enumerate() {
            index
                .context_names
                .entry(context.name.to_string())
                .or_insert(c);
            index.contexts.push(definitions(
                context.values.iter().map(|r| &r.name),
                [],
                context.enums.iter().map(|e| &e.name),
                &context.aliases,
            ));
            let mut aggregates = Vec::new();
            for (a, aggregate) in context.aggregates.iter().enumerate() {
                let same = index
                    .aggregate_names
                    .entry(aggregate.name.to_string())
                    .or_default();
                if !same.iter().any(|&(other, _)| other == c) {
                    same.push((c, a));
                }
                aggregates.push(definitions(
                    aggregate.values.iter().map(|r| &r.name),
                    aggregate.entities.iter().map(|r| &r.name),
                    aggregate.enums.iter().map(|e| &e.name),
                    &aggregate.aliases,
                ));
            }
            index.aggregates.push(aggregates);
        }
        index
    }

    pub(crate) fn context(&self, name: &str) -> Option<usize> {
        self.context_names.get(name).copied()
    }

    /// Every aggregate of that name, one per context.
    pub(crate) fn aggregates_named(&self, name: &str) -> &[(usize, usize)] {
        self.aggregate_names.get(name).map_or(&[], Vec::as_slice)
    }

    /// The aggregate of that name in context `c`.
    pub(crate) fn aggregate_in(&self, c: usize, name: &str) -> Option<usize> {
        self.aggregates_named(name)
            .iter()
            .find(|&&(context, _)| context == c)
            .map(|&(_, a)| a)
    }

    /// Where the names of a view of context `c` are looked up from: a `from` view of an
    /// aggregate of its context sees that aggregate's types (its state's `Vec<OrderLine>`),
    /// any other view its context's.
    pub(crate) fn view_scope(&self, c: usize, view: &View) -> Scope {
        Scope {
            context: Some(c),
            aggregate: view.aggregate().and_then(|a| self.aggregate_in(c, a)),
        }
    }

    /// What `name` (bare or `Context.Name`) means where `scope` stands. A named type is
    /// returned as written in its definition; [`resolve`] resolves those first.
    pub(crate) fn lookup(&self, system: &System, scope: Scope, name: &str) -> Result<Found, Miss> {
        if let Some((context, rest)) = name.split_once('.') {
            let c = self
                .context(context)
                .ok_or_else(|| Miss::UnknownContext(context.to_owned()))?;
            return self.in_context(system, c, rest).ok_or(Miss::NotFound);
        }
        if let (Some(c), Some(a)) = (scope.context, scope.aggregate)
            && let Some(&def) = self.aggregates[c][a].get(name)
        {
            let context = system.contexts[c].name.clone();
            let aggregate = &system.contexts[c].aggregates[a];
            let path = TypePath::aggregate(context, aggregate.name.clone(), Name::new(name));
            return Ok(found(def, path, &aggregate.aliases));
        }
        if let Some(c) = scope.context
            && let Some(found) = self.in_context(system, c, name)
        {
            return Ok(found);
        }
        if let Some(&def) = self.system.get(name) {
            return Ok(found(
                def,
                TypePath::system(Name::new(name)),
                &system.aliases,
            ));
        }
        let others: Vec<(usize, Found)> = (0..system.contexts.len())
            .filter(|&c| Some(c) != scope.context)
            .filter_map(|c| Some((c, self.in_context(system, c, name)?)))
            .collect();
        match others.as_slice() {
            [] => Err(Miss::NotFound),
            [(_, only)] => Ok(only.clone()),
            several => Err(Miss::Ambiguous(
                several
                    .iter()
                    .map(|(c, found)| self.place(system, *c, name, found))
                    .collect(),
            )),
        }
    }

    /// A name defined at the level of context `c`, or the id of one of its aggregates.
    fn in_context(&self, system: &System, c: usize, name: &str) -> Option<Found> {
        let context = &system.contexts[c];
        if let Some(&def) = self.contexts[c].get(name) {
            let path = TypePath::context(context.name.clone(), Name::new(name));
            return Some(found(def, path, &context.aliases));
        }
        let aggregate = name.strip_suffix(symbol::ID_SUFFIX)?;
        let a = self.aggregate_in(c, aggregate)?;
        Some(Found {
            ty: Type::Id(TypePath::context(
                context.name.clone(),
                context.aggregates[a].name.clone(),
            )),
            constraints: Vec::new(),
        })
    }

    fn place(&self, system: &System, c: usize, name: &str, found: &Found) -> Place {
        let context = &system.contexts[c];
        let origin = match &found.ty {
            Type::Id(path) => self
                .aggregate_in(c, &path.name)
                .and_then(|a| context.aggregates[a].name.span())
                .into(),
            _ => context
                .values
                .iter()
                .map(|r| &r.name)
                .chain(context.enums.iter().map(|e| &e.name))
                .chain(context.aliases.iter().map(|t| &t.name))
                .find(|n| *n == name)
                .and_then(|n| n.span())
                .into(),
        };
        Place {
            path: format!("{}.{name}", context.name),
            origin,
        }
    }

    /// The kind of the definition at `path`, if there is one.
    fn kind_at(&self, path: &TypePath) -> Option<Def> {
        let name = path.name.as_str();
        match (&path.context, &path.aggregate) {
            (None, _) => self.system.get(name).copied(),
            (Some(context), None) => self.contexts[self.context(context)?].get(name).copied(),
            (Some(context), Some(aggregate)) => {
                let c = self.context(context)?;
                let a = self.aggregate_in(c, aggregate)?;
                self.aggregates[c][a].get(name).copied()
            }
        }
    }
}

fn found(def: Def, path: TypePath, aliases: &[Alias]) -> Found {
    match def {
        Def::Type(kind) => Found {
            ty: typed(kind, path),
            constraints: Vec::new(),
        },
        Def::Alias(i) => Found {
            ty: aliases[i].ty.clone(),
            constraints: aliases[i].constraints.clone(),
        },
    }
}

fn typed(kind: TypeKind, path: TypePath) -> Type {
    match kind {
        TypeKind::Value => Type::Value(path),
        TypeKind::Entity => Type::Entity(path),
        TypeKind::Enum => Type::Enum(path),
    }
}

/// Where a named type is defined: `None` for the system level, the context, the aggregate.
type AliasAt = (Option<usize>, Option<usize>, usize);

fn aliases_mut(system: &mut System, at: AliasAt) -> &mut Alias {
    match at {
        (Some(c), Some(a), i) => &mut system.contexts[c].aggregates[a].aliases[i],
        (Some(c), None, i) => &mut system.contexts[c].aliases[i],
        (None, _, i) => &mut system.aliases[i],
    }
}

fn all_aliases(system: &System) -> Vec<AliasAt> {
    let mut all: Vec<AliasAt> = (0..system.aliases.len()).map(|i| (None, None, i)).collect();
    for (c, context) in system.contexts.iter().enumerate() {
        all.extend((0..context.aliases.len()).map(|i| (Some(c), None, i)));
        for (a, aggregate) in context.aggregates.iter().enumerate() {
            all.extend((0..aggregate.aliases.len()).map(|i| (Some(c), Some(a), i)));
        }
    }
    all
}

/// Resolves named types (in dependency order: a named type may name another), then every
/// field type in place; reports what does not resolve.
pub(crate) fn resolve(system: &mut System, index: &Index, diagnostics: &mut Vec<Diagnostic>) {
    resolve_aliases(system, index, diagnostics);
    for owner in Owner::all(system) {
        for i in 0..owner.fields(system).len() {
            let field = &mut owner.fields_mut(system)[i];
            let mut ty = std::mem::replace(&mut field.ty, Type::Json);
            let origin = field.ty_origin;
            let at = Resolving {
                system,
                index,
                scope: owner.scope(),
                path: format!("{}.type", owner.field_path(i)),
            };
            let written = ty.to_string();
            let mut constraints = Vec::new();
            if ty.depth() > MAX_TYPE_DEPTH {
                diagnostics.push(too_deep(origin, at.path.clone()));
            } else {
                constraints = at.resolve(&mut ty, true, diagnostics);
            }
            let field = &mut owner.fields_mut(system)[i];
            field.ty = ty;
            if !constraints.is_empty() {
                let own = std::mem::take(&mut field.constraints);
                let path = owner.field_path(i);
                field.constraints = inherit(constraints, own, &written, &path, diagnostics);
            }
        }
    }
    resolve_views(system, index, diagnostics);
}

/// Resolves the types of views' keys and fields from where each view stands (see
/// [`Index::view_scope`]). A named type's constraints stay behind: nothing builds a view from
/// input, so nothing would check them.
fn resolve_views(system: &mut System, index: &Index, diagnostics: &mut Vec<Diagnostic>) {
    for c in 0..system.contexts.len() {
        for v in 0..system.contexts[c].views.len() {
            let view = &system.contexts[c].views[v];
            let scope = index.view_scope(c, view);
            let path = format!("$.contexts[{c}].views[{v}]");
            let key = view.key().map(|key| {
                (
                    key.ty.clone(),
                    key.ty_origin,
                    format!("{path}.source.by.type"),
                )
            });
            let fields = view.fields.iter().enumerate().map(|(i, field)| {
                let at = format!("{path}.fields[{i}].type");
                (field.ty.clone(), field.ty_origin, at)
            });
            let mut types: Vec<(Type, Origin, String)> = key.into_iter().chain(fields).collect();
            for (ty, origin, path) in &mut types {
                let at = Resolving {
                    system,
                    index,
                    scope,
                    path: std::mem::take(path),
                };
                if ty.depth() > MAX_TYPE_DEPTH {
                    diagnostics.push(too_deep(*origin, at.path));
                    *ty = Type::Json;
                } else {
                    at.resolve(ty, true, diagnostics);
                }
            }
            let view = &mut system.contexts[c].views[v];
            let mut types = types.into_iter().map(|(ty, ..)| ty);
            if let ViewSource::By(key) = &mut view.source
                && let Some(ty) = types.next()
            {
                key.ty = ty;
            }
            for (field, ty) in view.fields.iter_mut().zip(types) {
                field.ty = ty;
            }
        }
    }
}

/// The constraints of a field or named type written with the named type `written`: the
/// named type's first, then its own. Every kind is checked once (and the generator reads one
/// of each), so one of its own of a kind the named type already has is an error, dropped.
fn inherit(
    mut inherited: Vec<Constraint>,
    own: Vec<Constraint>,
    written: &str,
    path: &str,
    diagnostics: &mut Vec<Diagnostic>,
) -> Vec<Constraint> {
    let count = inherited.len();
    for (k, constraint) in own.into_iter().enumerate() {
        let Some(given) = inherited[..count]
            .iter()
            .find(|c| c.keyword() == constraint.keyword())
        else {
            inherited.push(constraint);
            continue;
        };
        diagnostics.push(
            Diagnostic::error(
                Code::InvalidConstraint,
                format!(
                    "`@{}` is given twice: `{written}` already has `{given}`",
                    constraint.keyword()
                ),
            )
            .at(Location::new(
                constraint.origin().span(),
                format!("{path}.constraints[{k}]"),
            ))
            .with_label("a second one")
            .with_related(given.origin().span().map(Location::span), "from the named type")
            .with_help("a named type's constraints hold wherever it is used: declare another named type with the bounds needed here"),
        );
    }
    inherited
}

fn too_deep(origin: Origin, path: String) -> Diagnostic {
    Diagnostic::error(Code::InvalidType, "type nested too deeply")
        .at(Location::new(origin.span(), path))
        .with_help(format!("types may nest at most {MAX_TYPE_DEPTH} levels"))
}

/// A named type may be written in terms of another; each is resolved once its own names
/// are, and a cycle (`type A = B`, `type B = A`) is an error at each of its members.
fn resolve_aliases(system: &mut System, index: &Index, diagnostics: &mut Vec<Diagnostic>) {
    let mut pending = all_aliases(system);
    loop {
        let before = pending.len();
        let mut still = Vec::new();
        for at in pending {
            let alias = aliases_mut(system, at).clone();
            let scope = Scope {
                context: at.0,
                aggregate: at.1,
            };
            if names_pending_alias(system, index, scope, &alias.ty) {
                still.push(at);
                continue;
            }
            let mut ty = alias.ty.clone();
            let written = ty.to_string();
            let resolving = Resolving {
                system,
                index,
                scope,
                path: alias_path(at),
            };
            let constraints = if ty.depth() > MAX_TYPE_DEPTH {
                diagnostics.push(too_deep(alias.ty_origin, resolving.path.clone()));
                ty = Type::Json;
                Vec::new()
            } else {
                resolving.resolve(&mut ty, true, diagnostics)
            };
            let alias = aliases_mut(system, at);
            alias.ty = ty;
            let own = std::mem::take(&mut alias.constraints);
            alias.constraints = inherit(constraints, own, &written, &alias_path(at), diagnostics);
        }
        if still.is_empty() {
            return;
        }
        if still.len() == before {
            for at in &still {
                let alias = aliases_mut(system, *at);
                diagnostics.push(
                    Diagnostic::error(
                        Code::ValueCycle,
                        format!("named type `{}` is defined in terms of itself", alias.name),
                    )
                    .at(Location::new(alias.name.span(), alias_path(*at)))
                    .with_label("part of a cycle of named types"),
                );
                alias.ty = Type::Json;
            }
            return;
        }
        pending = still;
    }
}

fn alias_path(at: AliasAt) -> String {
    match at {
        (Some(c), Some(a), i) => format!("$.contexts[{c}].aggregates[{a}].aliases[{i}]"),
        (Some(c), None, i) => format!("$.contexts[{c}].aliases[{i}]"),
        (None, _, i) => format!("$.aliases[{i}]"),
    }
}

/// Whether `ty` names a named type that is not resolved yet.
fn names_pending_alias(system: &System, index: &Index, scope: Scope, ty: &Type) -> bool {
    match ty {
        Type::Option(inner) | Type::Vec(inner) | Type::Map(inner) => {
            names_pending_alias(system, index, scope, inner)
        }
        Type::Named(name) => index
            .lookup(system, scope, name)
            .is_ok_and(|found| has_named(&found.ty)),
        _ => false,
    }
}

fn has_named(ty: &Type) -> bool {
    match ty {
        Type::Named(_) => true,
        Type::Option(inner) | Type::Vec(inner) | Type::Map(inner) => has_named(inner),
        _ => false,
    }
}

struct Resolving<'a> {
    system: &'a System,
    index: &'a Index,
    scope: Scope,
    /// Rendered only for a diagnostic.
    path: String,
}

impl Resolving<'_> {
    fn location(&self, name: &Name) -> Location {
        Location::new(name.span(), self.path.clone())
    }

    /// Resolves `ty` in place; returns the constraints a named type brings to the field
    /// (`outer`: the type is the field's own, or inside its `Option`).
    fn resolve(
        &self,
        ty: &mut Type,
        outer: bool,
        diagnostics: &mut Vec<Diagnostic>,
    ) -> Vec<Constraint> {
        match ty {
            Type::Option(inner) => self.resolve(inner, outer, diagnostics),
            Type::Vec(inner) | Type::Map(inner) => {
                let dropped = self.resolve(inner, false, diagnostics);
                debug_assert!(dropped.is_empty(), "reported inside");
                Vec::new()
            }
            Type::Named(name) => match self.index.lookup(self.system, self.scope, name) {
                Ok(found) => {
                    let name = name.clone();
                    *ty = found.ty;
                    if !outer && !found.constraints.is_empty() {
                        diagnostics.push(
                            Diagnostic::warning(
                                Code::ConstraintMismatch,
                                format!("the constraints of `{name}` are not checked inside a `Vec` or `Map`"),
                            )
                            .at(self.location(&name))
                            .with_help("constraints apply to a field's value (through `Option`); give the element a value type with a constrained field instead"),
                        );
                        return Vec::new();
                    }
                    found.constraints
                }
                Err(miss) => {
                    diagnostics.push(self.miss(name, &miss));
                    Vec::new()
                }
            },
            Type::Id(path) => {
                match self.resolve_id(path) {
                    Ok(resolved) => *path = resolved,
                    Err(diagnostic) => diagnostics.push(*diagnostic),
                }
                Vec::new()
            }
            Type::Value(_) | Type::Entity(_) | Type::Enum(_) => {
                if let Some((claimed, path)) = ty.path()
                    && let Some(diagnostic) = self.check_path(path, claimed)
                {
                    diagnostics.push(diagnostic);
                }
                Vec::new()
            }
            _ => Vec::new(),
        }
    }

    /// `{"id": "Order"}` (found by scope) or `{"id": "Ordering.Order"}`.
    fn resolve_id(&self, path: &TypePath) -> Result<TypePath, Box<Diagnostic>> {
        let id_name = format!("{}{}", path.name, symbol::ID_SUFFIX);
        let written = match &path.context {
            Some(context) => format!("{context}.{id_name}"),
            None => id_name,
        };
        match self.index.lookup(self.system, self.scope, &written) {
            Ok(Found {
                ty: Type::Id(resolved),
                ..
            }) => Ok(resolved),
            Ok(_) | Err(Miss::NotFound) => {
                let names = self
                    .system
                    .contexts
                    .iter()
                    .flat_map(|c| c.aggregates.iter().map(|a| a.name.as_str()));
                Err(Box::new(
                    Diagnostic::error(
                        Code::UnknownType,
                        format!("unknown aggregate `{}` in an id type", path.name),
                    )
                    .at(self.location(&path.name))
                    .with_label("no aggregate of this name")
                    .suggest(suggest::closest(&path.name, names)),
                ))
            }
            Err(miss) => Err(Box::new(self.miss(&path.name, &miss))),
        }
    }

    /// A qualified reference (from JSON/YAML): it must exist and be of its kind.
    fn check_path(&self, path: &TypePath, claimed: TypeKind) -> Option<Diagnostic> {
        let location = self.location(&path.name);
        let kind = match self.index.kind_at(path) {
            Some(Def::Type(kind)) => kind,
            Some(Def::Alias(_)) | None => {
                let names = scope_names(self.system, self.scope);
                return Some(
                    Diagnostic::error(Code::UnknownType, format!("unknown type `{path}`"))
                        .at(location)
                        .with_label("no definition at this path")
                        .suggest(suggest::closest(
                            &path.name,
                            names.iter().map(|n| n.as_str()),
                        )),
                );
            }
        };
        if kind != claimed {
            return Some(
                Diagnostic::error(
                    Code::InvalidType,
                    format!(
                        "`{path}` is {}, not {}",
                        ddd_names::with_article(kind.as_str()),
                        ddd_names::with_article(claimed.as_str())
                    ),
                )
                .at(location)
                .with_help(format!("write `{{\"{}\": \"{path}\"}}`", kind.as_str())),
            );
        }
        // A type inside an aggregate belongs to it; the levels above are seen everywhere.
        let here = match (self.scope.context, self.scope.aggregate) {
            (Some(c), Some(a)) => Some((
                &self.system.contexts[c].name,
                &self.system.contexts[c].aggregates[a].name,
            )),
            _ => None,
        };
        let visible = match (&path.context, &path.aggregate) {
            (Some(context), Some(aggregate)) => here == Some((context, aggregate)),
            _ => true,
        };
        (!visible).then(|| {
            Diagnostic::error(Code::InvalidType, format!("`{path}` is not visible here"))
                .at(location)
                .with_note("a type declared inside an aggregate is visible only in that aggregate")
        })
    }

    fn miss(&self, name: &Name, miss: &Miss) -> Diagnostic {
        match miss {
            Miss::NotFound => self.unknown(name),
            Miss::UnknownContext(context) => {
                let contexts = self.system.contexts.iter().map(|c| c.name.as_str());
                Diagnostic::error(
                    Code::UnknownContext,
                    format!("unknown context `{context}` in `{name}`"),
                )
                .at(self.location(name))
                .with_label("no context of this name")
                .suggest(suggest::closest(context, contexts))
            }
            Miss::Ambiguous(places) => ambiguous(name, places, self.location(name)),
        }
    }

    fn unknown(&self, name: &Name) -> Diagnostic {
        let mut candidates: Vec<String> = scope_names(self.system, self.scope)
            .iter()
            .map(|n| n.to_string())
            .collect();
        candidates.extend(
            symbol::SCALARS
                .iter()
                .chain(symbol::GENERICS)
                .map(|s| (*s).to_owned()),
        );
        candidates.extend(
            self.index
                .aggregate_names
                .keys()
                .map(|a| format!("{a}{}", symbol::ID_SUFFIX)),
        );
        let bare = name.rsplit('.').next().unwrap_or(name);
        let suggestion = suggest::closest(bare, candidates.iter().map(String::as_str));
        let mut diagnostic = Diagnostic::error(Code::UnknownType, format!("unknown type `{name}`"))
            .at(self.location(name))
            .with_label("not a type visible here")
            .suggest(suggestion);
        if !self.index.aggregates_named(bare).is_empty() {
            diagnostic = diagnostic.with_help(format!(
                "`{bare}` is an aggregate; refer to one by its id: `{bare}{}`",
                symbol::ID_SUFFIX
            ));
        } else if let Some(elsewhere) = self.defined_elsewhere(bare) {
            diagnostic = diagnostic.with_note(format!(
                "`{elsewhere}` exists, but a type inside an aggregate is visible only in that aggregate"
            ));
        }
        diagnostic
    }

    /// The path of an aggregate-level definition with this name anywhere in the system.
    fn defined_elsewhere(&self, name: &str) -> Option<TypePath> {
        let system = self.system;
        for (c, context) in system.contexts.iter().enumerate() {
            for (a, aggregate) in context.aggregates.iter().enumerate() {
                if self.index.aggregates[c][a].contains_key(name) {
                    return Some(TypePath::aggregate(
                        context.name.clone(),
                        aggregate.name.clone(),
                        Name::new(name),
                    ));
                }
            }
        }
        None
    }
}

/// "`ProductId` could mean `Catalog.ProductId` or `Inventory.ProductId`".
pub(crate) fn ambiguous(name: &str, places: &[Place], location: Location) -> Diagnostic {
    let listed: Vec<String> = places.iter().map(|p| format!("`{}`", p.path)).collect();
    let mut diagnostic = Diagnostic::error(
        Code::AmbiguousName,
        format!("`{name}` could mean {}", listed.join(" or ")),
    )
    .at(location)
    .with_label("ambiguous")
    .with_help(format!(
        "name the context: `{}`",
        places.first().map_or(name, |p| p.path.as_str())
    ));
    for place in places {
        diagnostic = diagnostic.with_related(
            place.origin.span().map(Location::span),
            format!("`{}` is defined here", place.path),
        );
        if place.origin.span().is_none() {
            diagnostic = diagnostic.with_note(format!("`{}` exists", place.path));
        }
    }
    diagnostic
}
