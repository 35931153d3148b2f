//! Name resolution on the IR: every [`Type::Named`] becomes the value, entity, enum or id it
//! names from where its field stands, and already-qualified references are checked to exist,
//! to be of the kind they claim and to be visible there.

use std::collections::HashMap;

use crate::diagnostic::{Code, Diagnostic, Location};
use crate::ir::{System, Type, TypeKind, TypePath};
use crate::name::Name;
use crate::suggest;
use crate::symbol;
use crate::walk::{Owner, Scope, scope_names};

/// Deeper types than this (possible in JSON) are refused.
const MAX_TYPE_DEPTH: usize = 16;

/// Type names by scope; the first definition of a duplicated name wins (the duplicate itself
/// is reported by validation).
pub(crate) struct Index {
    system: HashMap<String, TypeKind>,
    contexts: Vec<HashMap<String, TypeKind>>,
    aggregates: Vec<Vec<HashMap<String, TypeKind>>>,
    context_names: HashMap<String, usize>,
    aggregate_names: HashMap<String, (usize, usize)>,
}

fn kinds<'a>(
    values: impl IntoIterator<Item = &'a Name>,
    entities: impl IntoIterator<Item = &'a Name>,
    enums: impl IntoIterator<Item = &'a Name>,
) -> HashMap<String, TypeKind> {
    let mut map = HashMap::new();
    let tagged = (values.into_iter().map(|n| (n, TypeKind::Value)))
        .chain(entities.into_iter().map(|n| (n, TypeKind::Entity)))
        .chain(enums.into_iter().map(|n| (n, TypeKind::Enum)));
    for (name, kind) in tagged {
        map.entry(name.to_string()).or_insert(kind);
    }
    map
}

impl Index {
    pub(crate) fn new(system: &System) -> Index {
        let mut index = Index {
            system: kinds(
                system.values.iter().map(|r| &r.name),
                [],
                system.enums.iter().map(|e| &e.name),
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
            index.contexts.push(kinds(
                context.values.iter().map(|r| &r.name),
                [],
                context.enums.iter().map(|e| &e.name),
            ));
            let mut aggregates = Vec::new();
            for (a, aggregate) in context.aggregates.iter().enumerate() {
                index
                    .aggregate_names
                    .entry(aggregate.name.to_string())
                    .or_insert((c, a));
                aggregates.push(kinds(
                    aggregate.values.iter().map(|r| &r.name),
                    aggregate.entities.iter().map(|r| &r.name),
                    aggregate.enums.iter().map(|e| &e.name),
                ));
            }
            index.aggregates.push(aggregates);
        }
        index
    }

    pub(crate) fn context(&self, name: &str) -> Option<usize> {
        self.context_names.get(name).copied()
    }

    pub(crate) fn aggregate(&self, name: &str) -> Option<(usize, usize)> {
        self.aggregate_names.get(name).copied()
    }

    /// What `name` means where `scope` stands.
    fn lookup(&self, system: &System, scope: Scope, name: &Name) -> Option<Type> {
        if let (Some(c), Some(a)) = (scope.context, scope.aggregate)
            && let Some(&kind) = self.aggregates[c][a].get(name.as_str())
        {
            let context = system.contexts[c].name.clone();
            let aggregate = system.contexts[c].aggregates[a].name.clone();
            return Some(typed(
                kind,
                TypePath::aggregate(context, aggregate, name.clone()),
            ));
        }
        if let Some(c) = scope.context
            && let Some(&kind) = self.contexts[c].get(name.as_str())
        {
            let context = system.contexts[c].name.clone();
            return Some(typed(kind, TypePath::context(context, name.clone())));
        }
        if let Some(&kind) = self.system.get(name.as_str()) {
            return Some(typed(kind, TypePath::system(name.clone())));
        }
        let aggregate = name.strip_suffix(symbol::ID_SUFFIX)?;
        let (c, a) = self.aggregate(aggregate)?;
        Some(Type::Id(
            system.contexts[c].aggregates[a].name.at(name.span()),
        ))
    }

    /// The kind of the definition at `path`, if there is one.
    fn kind_at(&self, system: &System, path: &TypePath) -> Option<TypeKind> {
        let name = path.name.as_str();
        match (&path.context, &path.aggregate) {
            (None, _) => self.system.get(name).copied(),
            (Some(context), None) => self.contexts[self.context(context)?].get(name).copied(),
            (Some(context), Some(aggregate)) => {
                let c = self.context(context)?;
                let a = system.contexts[c]
                    .aggregates
                    .iter()
                    .position(|a| a.name == *aggregate)?;
                self.aggregates[c][a].get(name).copied()
            }
        }
    }
}

fn typed(kind: TypeKind, path: TypePath) -> Type {
    match kind {
        TypeKind::Value => Type::Value(path),
        TypeKind::Entity => Type::Entity(path),
        TypeKind::Enum => Type::Enum(path),
    }
}

/// Resolves every field type in place; reports what does not resolve.
pub(crate) fn resolve(system: &mut System, index: &Index, diagnostics: &mut Vec<Diagnostic>) {
    for owner in Owner::all(system) {
        for i in 0..owner.fields(system).len() {
            let field = &mut owner.fields_mut(system)[i];
            let mut ty = std::mem::replace(&mut field.ty, Type::Json);
            let origin = field.ty_origin;
            let at = Resolving {
                system,
                index,
                scope: owner.scope(),
                owner,
                field: i,
            };
            if ty.depth() > MAX_TYPE_DEPTH {
                diagnostics.push(
                    Diagnostic::error(Code::InvalidType, "type nested too deeply")
                        .at(Location::new(origin.span(), at.path()))
                        .with_help(format!("types may nest at most {MAX_TYPE_DEPTH} levels")),
                );
            } else {
                at.resolve(&mut ty, diagnostics);
            }
            owner.fields_mut(system)[i].ty = ty;
        }
    }
}

struct Resolving<'a> {
    system: &'a System,
    index: &'a Index,
    scope: Scope,
    owner: Owner,
    field: usize,
}

impl Resolving<'_> {
    /// Rendered only for a diagnostic.
    fn path(&self) -> String {
        format!("{}.type", self.owner.field_path(self.field))
    }

    fn location(&self, name: &Name) -> Location {
        Location::new(name.span(), self.path())
    }

    fn resolve(&self, ty: &mut Type, diagnostics: &mut Vec<Diagnostic>) {
        match ty {
            Type::Option(inner) | Type::Vec(inner) | Type::Map(inner) => {
                self.resolve(inner, diagnostics)
            }
            Type::Named(name) => match self.index.lookup(self.system, self.scope, name) {
                Some(resolved) => *ty = resolved,
                None => diagnostics.push(self.unknown(name)),
            },
            Type::Id(aggregate) if self.index.aggregate(aggregate).is_none() => {
                let names = self
                    .system
                    .contexts
                    .iter()
                    .flat_map(|c| c.aggregates.iter().map(|a| a.name.as_str()));
                diagnostics.push(
                    Diagnostic::error(
                        Code::UnknownType,
                        format!("unknown aggregate `{aggregate}` in an id type"),
                    )
                    .at(self.location(aggregate))
                    .with_label("no aggregate of this name")
                    .suggest(suggest::closest(aggregate, names)),
                );
            }
            Type::Value(_) | Type::Entity(_) | Type::Enum(_) => {
                if let Some((claimed, path)) = ty.path()
                    && let Some(diagnostic) = self.check_path(path, claimed)
                {
                    diagnostics.push(diagnostic);
                }
            }
            _ => {}
        }
    }

    /// A qualified reference (from JSON/YAML): it must exist, be of its kind, and be visible.
    fn check_path(&self, path: &TypePath, claimed: TypeKind) -> Option<Diagnostic> {
        let location = self.location(&path.name);
        let Some(kind) = self.index.kind_at(self.system, path) else {
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
        };
        if kind != claimed {
            return Some(
                Diagnostic::error(
                    Code::InvalidType,
                    format!(
                        "`{path}` is {}, not {}",
                        article(kind.as_str()),
                        article(claimed.as_str())
                    ),
                )
                .at(location)
                .with_help(format!("write `{{\"{}\": \"{path}\"}}`", kind.as_str())),
            );
        }
        let visible = match (&path.context, &path.aggregate) {
            (None, _) => true,
            (Some(context), aggregate) => {
                let here = self.scope.context.map(|c| &self.system.contexts[c]);
                let same_context = here.is_some_and(|c| c.name == *context);
                let same_aggregate = match (aggregate, self.scope) {
                    (None, _) => true,
                    (
                        Some(aggregate),
                        Scope {
                            context: Some(c),
                            aggregate: Some(a),
                        },
                    ) => self.system.contexts[c].aggregates[a].name == *aggregate,
                    _ => false,
                };
                same_context && same_aggregate
            }
        };
        (!visible).then(|| {
            Diagnostic::error(Code::InvalidType, format!("`{path}` is not visible here"))
                .at(location)
                .with_note("a type is visible in its aggregate, in its context, or everywhere when declared at the system level")
        })
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
        let suggestion = suggest::closest(name, candidates.iter().map(String::as_str));
        let mut diagnostic = Diagnostic::error(Code::UnknownType, format!("unknown type `{name}`"))
            .at(self.location(name))
            .with_label("not a type visible here")
            .suggest(suggestion);
        if self.index.aggregate(name).is_some() {
            diagnostic = diagnostic.with_help(format!(
                "`{name}` is an aggregate; refer to one by its id: `{name}{}`",
                symbol::ID_SUFFIX
            ));
        } else if let Some(elsewhere) = self.defined_elsewhere(name) {
            diagnostic = diagnostic.with_note(format!(
                "`{elsewhere}` exists, but a type is visible only in its aggregate, its context, or everywhere when declared at the system level"
            ));
        }
        diagnostic
    }

    /// The path of a definition with this name anywhere in the system.
    fn defined_elsewhere(&self, name: &str) -> Option<TypePath> {
        let system = self.system;
        for (c, context) in system.contexts.iter().enumerate() {
            if self.index.contexts[c].contains_key(name) {
                return Some(TypePath::context(context.name.clone(), Name::new(name)));
            }
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

fn article(kind: &str) -> String {
    match kind.chars().next() {
        Some('a' | 'e' | 'i' | 'o' | 'u') => format!("an {kind}"),
        _ => format!("a {kind}"),
    }
}
