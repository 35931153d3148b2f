//! Rules on names: their case, the names the language or Rust reserves, and duplicates within
//! a scope.

use std::collections::HashMap;

use heck::{ToSnakeCase, ToUpperCamelCase};

use super::{aggregate_path, at, context_path, view_path};
use crate::diagnostic::{Code, Diagnostic, Location};
use crate::ir::{Context, Enum, Record, System, View};
use crate::name::Name;
use crate::resolve::Index;
use crate::symbol;
use crate::walk::Owner;

pub(super) fn check(system: &System, index: &Index, out: &mut Vec<Diagnostic>) {
    let mut names = Names { out };
    names.check_system(system);
    names.check_contexts(system);
    names.check_type_definitions(system, index);
    names.check_aggregates(system);
    names.check_fields(system);
    names.check_views(system, index);
}

struct Names<'a> {
    out: &'a mut Vec<Diagnostic>,
}

/// Where a definition's list sits in the IR.
#[derive(Debug, Clone, Copy)]
enum Level {
    System,
    Context(usize),
    Aggregate(usize, usize),
}

impl Level {
    fn prefix(self) -> String {
        match self {
            Level::System => "$".to_owned(),
            Level::Context(c) => context_path(c),
            Level::Aggregate(c, a) => aggregate_path(c, a),
        }
    }
}

/// The IR path of a name, rendered only when a diagnostic needs it: validation of a large
/// model must not spend its time formatting paths nobody reads.
#[derive(Debug, Clone, Copy)]
enum NamePath {
    System,
    Context(usize),
    /// `{level}.{list}[i].name` for values, entities and enums.
    Definition(Level, &'static str, usize),
    Variant(Level, usize, usize),
    Aggregate(usize, usize),
    /// `{aggregate}.{list}[i].name` for commands and events.
    Member(usize, usize, &'static str, usize),
    Field(Owner, usize),
    View(usize, usize),
    ViewKey(usize, usize),
    ViewField(usize, usize, usize),
}

impl NamePath {
    fn render(self) -> String {
        match self {
            NamePath::System => "$.name".to_owned(),
            NamePath::Context(c) => format!("{}.name", context_path(c)),
            NamePath::Definition(level, list, i) => format!("{}.{list}[{i}].name", level.prefix()),
            NamePath::Variant(level, e, v) => {
                format!("{}.enums[{e}].variants[{v}].name", level.prefix())
            }
            NamePath::Aggregate(c, a) => format!("{}.name", aggregate_path(c, a)),
            NamePath::Member(c, a, list, i) => format!("{}.{list}[{i}].name", aggregate_path(c, a)),
            NamePath::Field(owner, i) => format!("{}.name", owner.field_path(i)),
            NamePath::View(c, v) => format!("{}.name", view_path(c, v)),
            NamePath::ViewKey(c, v) => format!("{}.source.by.name", view_path(c, v)),
            NamePath::ViewField(c, v, i) => format!("{}.fields[{i}].name", view_path(c, v)),
        }
    }
}

/// A name and where it stands, for the duplicate checks.
#[derive(Clone, Copy)]
struct Declared<'a> {
    name: &'a Name,
    path: NamePath,
}

impl Declared<'_> {
    fn location(&self) -> Location {
        at(self.name, self.path.render())
    }
}

impl Names<'_> {
    // `system Shop`: PascalCase, like every type-level name.
    fn check_system(&mut self, system: &System) {
        self.pascal(&system.name, "system", NamePath::System);
    }

    // Context names are PascalCase and unique in the system.
    fn check_contexts(&mut self, system: &System) {
        let mut declared = Vec::new();
        for (c, context) in system.contexts.iter().enumerate() {
            let path = NamePath::Context(c);
            self.pascal(&context.name, "context", path);
            declared.push(Declared {
                name: &context.name,
                path,
            });
        }
        self.unique(&declared, "context", || "the system".to_owned());
    }

    // Values, entities and enums are PascalCase; they may not take a built-in type's name,
    // Rust's `Self`, or the `<Aggregate>Id` of an aggregate. One scope holds one definition
    // per name: the system level; a context with its aggregates; an aggregate. An inner
    // definition hiding an outer one of the same name is allowed, with a warning.
    fn check_type_definitions(&mut self, system: &System, index: &Index) {
        let system_level = self.definitions(
            &system.values,
            &[],
            &system.enums,
            &system.aliases,
            Level::System,
            index,
        );
        for (c, context) in system.contexts.iter().enumerate() {
            let context_level = self.definitions(
                &context.values,
                &[],
                &context.enums,
                &context.aliases,
                Level::Context(c),
                index,
            );
            self.shadows(&context_level, &system_level, || {
                "the system level".to_owned()
            });
            let mut namespace = context_level.clone();
            for (a, aggregate) in context.aggregates.iter().enumerate() {
                let aggregate_level = self.definitions(
                    &aggregate.values,
                    &aggregate.entities,
                    &aggregate.enums,
                    &aggregate.aliases,
                    Level::Aggregate(c, a),
                    index,
                );
                self.shadows(&aggregate_level, &context_level, || {
                    format!("context `{}`", context.name)
                });
                self.shadows(&aggregate_level, &system_level, || {
                    "the system level".to_owned()
                });
                self.unique(&aggregate_level, "type", || {
                    format!("aggregate `{}`", aggregate.name)
                });
                namespace.push(Declared {
                    name: &aggregate.name,
                    path: NamePath::Aggregate(c, a),
                });
            }
            self.unique(&namespace, "type or aggregate", || {
                format!("context `{}`", context.name)
            });
        }
        self.unique(&system_level, "type", || "the system level".to_owned());
    }

    fn definitions<'s>(
        &mut self,
        values: &'s [Record],
        entities: &'s [Record],
        enums: &'s [Enum],
        aliases: &'s [crate::ir::Alias],
        level: Level,
        index: &Index,
    ) -> Vec<Declared<'s>> {
        let lists: [(&str, &'static str, Vec<&'s Name>); 4] = [
            ("value", "values", values.iter().map(|r| &r.name).collect()),
            (
                "entity",
                "entities",
                entities.iter().map(|r| &r.name).collect(),
            ),
            ("enum", "enums", enums.iter().map(|e| &e.name).collect()),
            ("type", "aliases", aliases.iter().map(|t| &t.name).collect()),
        ];
        let mut declared = Vec::new();
        for (what, list, names) in lists {
            for (i, name) in names.into_iter().enumerate() {
                let path = NamePath::Definition(level, list, i);
                self.pascal(name, what, path);
                self.type_name_free(name, path, index);
                declared.push(Declared { name, path });
            }
        }
        for (e, enumeration) in enums.iter().enumerate() {
            self.check_variants(enumeration, level, e);
        }
        declared
    }

    fn type_name_free(&mut self, name: &Name, path: NamePath, index: &Index) {
        if symbol::is_builtin_type(name) {
            self.out.push(
                Diagnostic::error(Code::ReservedName, format!("`{name}` is a built-in type"))
                    .at(at(name, path.render()))
                    .with_label("reserved")
                    .with_help("choose another name"),
            );
        } else if let Some(aggregate) = name.strip_suffix(symbol::ID_SUFFIX)
            && !index.aggregates_named(aggregate).is_empty()
        {
            self.out.push(
                Diagnostic::error(
                    Code::ReservedName,
                    format!("`{name}` is the id type of aggregate `{aggregate}`"),
                )
                .at(at(name, path.render()))
                .with_label("reserved")
                .with_help("every aggregate has an id type `<Aggregate>Id`; choose another name"),
            );
        }
    }

    // Enum variants are PascalCase and unique in their enum; an enum has at least one.
    fn check_variants(&mut self, enumeration: &Enum, level: Level, e: usize) {
        let mut declared = Vec::new();
        for (v, variant) in enumeration.variants.iter().enumerate() {
            let path = NamePath::Variant(level, e, v);
            self.pascal(&variant.name, "variant", path);
            declared.push(Declared {
                name: &variant.name,
                path,
            });
        }
        self.unique(&declared, "variant", || {
            format!("enum `{}`", enumeration.name)
        });
        if enumeration.variants.is_empty() {
            let path = NamePath::Definition(level, "enums", e).render();
            self.out.push(
                Diagnostic::error(
                    Code::EmptyEnum,
                    format!("enum `{}` has no variants", enumeration.name),
                )
                .at(at(&enumeration.name, path))
                .with_help("an enum without variants can never hold a value"),
            );
        }
    }

    // Aggregates, commands and events are PascalCase. Aggregate names are unique in their
    // context (with its types, checked with them; two contexts may each have a `Product`);
    // commands are unique in their aggregate; events in their context (`on Context.Event`
    // names them).
    fn check_aggregates(&mut self, system: &System) {
        for (c, context) in system.contexts.iter().enumerate() {
            let mut events = Vec::new();
            for (a, aggregate) in context.aggregates.iter().enumerate() {
                let path = NamePath::Aggregate(c, a);
                self.pascal(&aggregate.name, "aggregate", path);
                let mut commands = Vec::new();
                for (i, command) in aggregate.commands.iter().enumerate() {
                    let path = NamePath::Member(c, a, "commands", i);
                    self.pascal(&command.name, "command", path);
                    commands.push(Declared {
                        name: &command.name,
                        path,
                    });
                }
                self.unique(&commands, "command", || {
                    format!("aggregate `{}`", aggregate.name)
                });
                for (i, event) in aggregate.events.iter().enumerate() {
                    let path = NamePath::Member(c, a, "events", i);
                    self.pascal(&event.name, "event", path);
                    events.push(Declared {
                        name: &event.name,
                        path,
                    });
                }
            }
            let before = self.out.len();
            self.unique(&events, "event", || format!("context `{}`", context.name));
            self.versions_are_not_declarations(context, before);
        }
    }

    // `event Opened v1(...)` beside `event Opened v2(...)`: two declarations of one event are
    // never two versions of it, which cannot both be what the event is now. Only the current
    // version is declared; what older payloads held is the generated workspace's to know
    // (`.ddd/events.json`). The duplicate-name error since `before` says so where versions
    // were written.
    fn versions_are_not_declarations(&mut self, context: &Context, before: usize) {
        let versioned: Vec<&crate::ir::Event> = context
            .aggregates
            .iter()
            .flat_map(|a| &a.events)
            .filter(|e| e.version_origin.span().is_some())
            .collect();
        for diagnostic in &mut self.out[before..] {
            let Some(event) = versioned.iter().find(|e| {
                diagnostic.code == Code::DuplicateName
                    && diagnostic
                        .message
                        .starts_with(&format!("duplicate event `{}` ", e.name))
            }) else {
                continue;
            };
            diagnostic.help = Some(format!(
                "an event is declared once, at its current version: keep the newest `{}` and delete the others (payloads of older versions are read through its defaults, or an upcaster `ddd generate` stubs)",
                event.name
            ));
        }
    }

    // Fields are snake_case, unique in their list, and neither a Rust keyword nor `id` or
    // `version`, which every aggregate and event already has.
    fn check_fields(&mut self, system: &System) {
        let mut declared = Vec::new();
        for owner in Owner::all(system) {
            declared.clear();
            for (i, field) in owner.fields(system).iter().enumerate() {
                let path = NamePath::Field(owner, i);
                self.snake(&field.name, path);
                self.field_name_free(&field.name, path);
                declared.push(Declared {
                    name: &field.name,
                    path,
                });
            }
            self.unique(&declared, "field", || owner.describe(system));
        }
    }

    fn field_name_free(&mut self, name: &Name, path: NamePath) {
        self.name_free(
            name,
            path,
            symbol::IMPLICIT_FIELDS,
            "every aggregate has an implicit `id` and `version`, and so does every event envelope; choose another name",
        );
    }

    /// Neither one of the `implicit` names of its place (`why` says what has them) nor a
    /// Rust keyword.
    fn name_free(&mut self, name: &Name, path: NamePath, implicit: &[&str], why: &str) {
        let (message, help) = if implicit.contains(&name.as_str()) {
            (format!("`{name}` cannot be a field name"), why)
        } else if symbol::is_rust_keyword(name) {
            (
                format!("`{name}` is a Rust keyword"),
                "choose another name; generated code must not need raw identifiers",
            )
        } else {
            return;
        };
        self.out.push(
            Diagnostic::error(Code::ReservedName, message)
                .at(at(name, path.render()))
                .with_label("reserved")
                .with_help(help),
        );
    }

    // Views are PascalCase, unique among the views of their context, and named like no
    // aggregate, value, entity, enum or named type of their context (the generated row type
    // stands beside theirs), nor like a built-in type or an `<Aggregate>Id`.
    fn check_views(&mut self, system: &System, index: &Index) {
        for (c, context) in system.contexts.iter().enumerate() {
            let taken = context_namespace(context, c);
            let mut views = Vec::new();
            for (v, view) in context.views.iter().enumerate() {
                let path = NamePath::View(c, v);
                self.pascal(&view.name, "view", path);
                self.type_name_free(&view.name, path, index);
                let declared = Declared {
                    name: &view.name,
                    path,
                };
                if let Some((what, other)) = taken.iter().find(|(_, d)| *d.name == view.name) {
                    self.out.push(
                        Diagnostic::error(
                            Code::DuplicateName,
                            format!(
                                "view `{}` has the name of {what} `{}` in context `{}`",
                                view.name, other.name, context.name
                            ),
                        )
                        .at(declared.location())
                        .with_label("declared again here")
                        .with_related(Some(other.location()), "first declared here")
                        .with_help("the view's row is a type of the context too: rename the view"),
                    );
                }
                views.push(declared);
                self.check_view_fields(view, c, v);
            }
            self.unique(&views, "view", || format!("context `{}`", context.name));
        }
    }

    // A view's fields (its key included) are snake_case, unique, no Rust keyword, and not the
    // row's implicit fields: a `from` view's `id`, `version`, `created_at` and `updated_at`,
    // a `by` view's `version` and `updated_at`.
    fn check_view_fields(&mut self, view: &View, c: usize, v: usize) {
        let why = match view.key() {
            None => {
                "a `from` view's row has its aggregate's `id`, `version`, `created_at` and `updated_at` (`= EXPR` reads them); choose another name"
            }
            Some(_) => {
                "a `by` view's row has a `version` and an `updated_at` besides its key; choose another name"
            }
        };
        let key = view.key().map(|key| (&key.name, NamePath::ViewKey(c, v)));
        let fields = (view.fields.iter().enumerate())
            .map(|(i, field)| (&field.name, NamePath::ViewField(c, v, i)));
        let mut declared = Vec::new();
        for (name, path) in key.into_iter().chain(fields) {
            self.snake(name, path);
            self.name_free(name, path, view.implicit_fields(), why);
            declared.push(Declared { name, path });
        }
        self.unique(&declared, "field", || format!("view `{}`", view.name));
    }

    fn pascal(&mut self, name: &Name, what: &str, path: NamePath) {
        if skip(name) {
            return;
        }
        if name.as_str() == "Self" {
            self.out.push(
                Diagnostic::error(Code::ReservedName, "`Self` is a Rust keyword")
                    .at(at(name, path.render()))
                    .with_label("reserved")
                    .with_help("choose another name"),
            );
        } else if !is_pascal(name) {
            let fixed = name.to_upper_camel_case();
            self.out.push(
                Diagnostic::error(
                    Code::BadCase,
                    format!("{what} name `{name}` is not PascalCase"),
                )
                .at(at(name, path.render()))
                .with_label("expected PascalCase")
                .suggest(is_pascal(&fixed).then_some(fixed)),
            );
        }
    }

    fn snake(&mut self, name: &Name, path: NamePath) {
        if skip(name) || is_snake(name) {
            return;
        }
        let fixed = name.to_snake_case();
        self.out.push(
            Diagnostic::error(
                Code::BadCase,
                format!("field name `{name}` is not snake_case"),
            )
            .at(at(name, path.render()))
            .with_label("expected snake_case")
            .suggest(is_snake(&fixed).then_some(fixed)),
        );
    }

    /// Reports every name declared again after its first declaration.
    fn unique(&mut self, declared: &[Declared<'_>], what: &str, scope: impl Fn() -> String) {
        // Most lists are a handful of names: a scan beats building a map.
        let mut seen: HashMap<&str, &Declared<'_>> = HashMap::new();
        for (i, item) in declared.iter().enumerate() {
            if skip(item.name) {
                continue;
            }
            let original = if declared.len() <= 16 {
                declared[..i]
                    .iter()
                    .find(|earlier| earlier.name == item.name)
            } else {
                let earlier = seen.get(item.name.as_str()).copied();
                seen.entry(item.name.as_str()).or_insert(item);
                earlier
            };
            if let Some(original) = original {
                self.out.push(
                    Diagnostic::error(
                        Code::DuplicateName,
                        format!("duplicate {what} `{}` in {}", item.name, scope()),
                    )
                    .at(item.location())
                    .with_label("declared again here")
                    .with_related(Some(original.location()), "first declared here"),
                );
            }
        }
    }

    fn shadows(
        &mut self,
        inner: &[Declared<'_>],
        outer: &[Declared<'_>],
        outer_scope: impl Fn() -> String,
    ) {
        for item in inner {
            if let Some(hidden) = outer.iter().find(|o| o.name == item.name) {
                self.out.push(
                    Diagnostic::warning(
                        Code::ShadowedType,
                        format!("`{}` hides the type of the same name at {}", item.name, outer_scope()),
                    )
                    .at(item.location())
                    .with_related(Some(hidden.location()), "hidden definition")
                    .with_help("fields here will mean the inner definition; rename one of them if that is not what you want"),
                );
            }
        }
    }
}

/// Every aggregate and type of a context, with what it is: names a view may not take.
fn context_namespace(context: &Context, c: usize) -> Vec<(&'static str, Declared<'_>)> {
    let mut taken = Vec::new();
    let level = Level::Context(c);
    add(&mut taken, ("value", "values"), level, &context.values);
    add(&mut taken, ("enum", "enums"), level, &context.enums);
    add(
        &mut taken,
        ("named type", "aliases"),
        level,
        &context.aliases,
    );
    for (a, aggregate) in context.aggregates.iter().enumerate() {
        let level = Level::Aggregate(c, a);
        add(&mut taken, ("value", "values"), level, &aggregate.values);
        add(
            &mut taken,
            ("entity", "entities"),
            level,
            &aggregate.entities,
        );
        add(&mut taken, ("enum", "enums"), level, &aggregate.enums);
        add(
            &mut taken,
            ("named type", "aliases"),
            level,
            &aggregate.aliases,
        );
        let path = NamePath::Aggregate(c, a);
        taken.push((
            "aggregate",
            Declared {
                name: &aggregate.name,
                path,
            },
        ));
    }
    taken
}

/// Adds the definitions of one list, `(what they are, the list's name in the IR)`.
fn add<'a, T: Named>(
    taken: &mut Vec<(&'static str, Declared<'a>)>,
    (what, list): (&'static str, &'static str),
    level: Level,
    definitions: &'a [T],
) {
    for (i, definition) in definitions.iter().enumerate() {
        let path = NamePath::Definition(level, list, i);
        let name = definition.name();
        taken.push((what, Declared { name, path }));
    }
}

/// A definition with a name.
trait Named {
    fn name(&self) -> &Name;
}

impl Named for Record {
    fn name(&self) -> &Name {
        &self.name
    }
}

impl Named for Enum {
    fn name(&self) -> &Name {
        &self.name
    }
}

impl Named for crate::ir::Alias {
    fn name(&self) -> &Name {
        &self.name
    }
}

/// An empty name with a location comes from a syntax error already reported (see
/// `lower::system_name`); do not report it again.
fn skip(name: &Name) -> bool {
    name.is_empty() && name.span().is_some()
}

pub(crate) fn is_pascal(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase()) && chars.all(|c| c.is_ascii_alphanumeric())
}

pub(crate) fn is_snake(name: &str) -> bool {
    name.chars().next().is_some_and(|c| c.is_ascii_lowercase())
        && name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
        && !name.contains("__")
        && !name.ends_with('_')
}

#[cfg(test)]
mod tests {
    use super::{is_pascal, is_snake};

    #[test]
    fn cases() {
        assert!(is_pascal("OrderLine") && is_pascal("HTTPRequest") && is_pascal("V2"));
        assert!(
            !is_pascal("orderLine")
                && !is_pascal("Order_Line")
                && !is_pascal("")
                && !is_pascal("Ünïcode")
        );
        assert!(is_snake("unit_price") && is_snake("a1") && is_snake("event"));
        assert!(
            !is_snake("unitPrice")
                && !is_snake("_x")
                && !is_snake("a__b")
                && !is_snake("a_")
                && !is_snake("1a")
        );
    }
}
