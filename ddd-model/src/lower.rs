//! Syntax tree → IR. Checks what only the syntax can tell (where `system` stands, how a type
//! or constraint is written, the spelling of a relation kind); names are resolved on the IR by
//! [`crate::resolve`], so JSON and YAML get the very same resolution.

mod views;

use crate::ast::{self, ConstraintArg, Num, NumLit};
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::{
    Aggregate, Alias, Assignment, Command, CommandRef, Constraint, Context, Enum, Event, EventRef,
    Expr, Field, Guard, Lifecycle, Mapping, Number, Policy, Record, Relation, RelationKind,
    RoleOrigins, SubdomainKind, System, Transition, Type, Variant,
};
use crate::name::{Name, Origin, Span};
use crate::suggest;
use crate::symbol;

/// Lowers a parsed file. Always returns a system, so that validation can report its own
/// errors next to the syntax errors. `text` gives the source of a span: the model keeps the
/// text of expressions.
pub fn lower(file: &ast::File, text: &dyn Fn(Span) -> String) -> (System, Vec<Diagnostic>) {
    let mut lower = Lower {
        diagnostics: Vec::new(),
        text,
    };
    let system = lower.system(file);
    (system, lower.diagnostics)
}

struct Lower<'a> {
    diagnostics: Vec<Diagnostic>,
    text: &'a dyn Fn(Span) -> String,
}

fn name(ident: &ast::Ident) -> Name {
    Name::spanned(ident.text.as_str(), ident.span)
}

fn names(idents: &[ast::Ident]) -> Vec<Name> {
    idents.iter().map(name).collect()
}

impl Lower<'_> {
    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn system(&mut self, file: &ast::File) -> System {
        let mut system = System {
            name: self.system_name(file),
            doc: None,
            values: Vec::new(),
            enums: Vec::new(),
            aliases: Vec::new(),
            contexts: Vec::new(),
            relations: Vec::new(),
        };
        for item in &file.items {
            match item {
                ast::Item::System(decl) => {
                    if system.doc.is_none() {
                        system.doc.clone_from(&decl.doc);
                    }
                }
                ast::Item::Value(decl) => system.values.push(self.record(decl)),
                ast::Item::Enum(decl) => system.enums.push(enumeration(decl)),
                ast::Item::Type(decl) => system.aliases.push(self.alias(decl)),
                // Read by `crate::sources`, which lowers the imported files with this one.
                ast::Item::Import(_) => {}
                ast::Item::Context(decl) => system.contexts.push(self.context(decl)),
                ast::Item::Map(decl) => {
                    let relations = decl.relations.iter().filter_map(|r| self.relation(r));
                    system.relations.extend(relations.collect::<Vec<_>>());
                }
            }
        }
        system
    }

    /// The name of the one `system` item, which must come first. Without one, an empty name
    /// with a span: validation skips names that are empty *and* located, since only a syntax
    /// error already reported here can produce them.
    fn system_name(&mut self, file: &ast::File) -> Name {
        let decls: Vec<&ast::SystemDecl> = file
            .items
            .iter()
            .filter_map(|item| match item {
                ast::Item::System(decl) => Some(decl),
                _ => None,
            })
            .collect();
        let Some(first) = decls.first() else {
            let at = file.items.first().map_or(Span::default(), item_span);
            self.report(
                Diagnostic::error(Code::MissingSystem, "the model has no `system`")
                    .at(at)
                    .with_label("a model starts with its `system`")
                    .with_help(
                        "add `system <Name>` as the first item: it names the generated workspace",
                    ),
            );
            return Name::spanned("", at);
        };
        if !matches!(file.items.first(), Some(ast::Item::System(_))) {
            self.report(
                Diagnostic::error(Code::SystemPlacement, "`system` must be the first item")
                    .at(first.keyword)
                    .with_label("not the first item")
                    .with_help("move this line to the top of the file"),
            );
        }
        for again in &decls[1..] {
            self.report(
                Diagnostic::error(Code::SystemPlacement, "`system` is declared more than once")
                    .at(again.keyword)
                    .with_label("second `system`")
                    .with_related(Some(first.keyword.into()), "first declared here"),
            );
        }
        match &first.name {
            Some(ident) => name(ident),
            None => Name::spanned("", first.keyword),
        }
    }

    fn context(&mut self, decl: &ast::ContextDecl) -> Context {
        let mut context = Context {
            name: name(&decl.name),
            doc: decl.doc.clone(),
            kind: decl
                .kind
                .as_ref()
                .and_then(|kind| self.subdomain_kind(kind)),
            values: Vec::new(),
            enums: Vec::new(),
            aliases: Vec::new(),
            aggregates: Vec::new(),
            publishes: Vec::new(),
            policies: Vec::new(),
            views: Vec::new(),
        };
        for member in &decl.members {
            match member {
                ast::ContextMember::Value(decl) => context.values.push(self.record(decl)),
                ast::ContextMember::Enum(decl) => context.enums.push(enumeration(decl)),
                ast::ContextMember::Aggregate(decl) => {
                    context.aggregates.push(self.aggregate(decl))
                }
                ast::ContextMember::Publishes(events) => context.publishes.extend(names(events)),
                ast::ContextMember::Policy(decl) => context.policies.push(self.policy(decl)),
                ast::ContextMember::Type(decl) => context.aliases.push(self.alias(decl)),
                ast::ContextMember::View(decl) => context.views.push(self.view(decl)),
            }
        }
        context
    }

    fn subdomain_kind(&mut self, kind: &ast::Ident) -> Option<SubdomainKind> {
        let parsed = SubdomainKind::parse(&kind.text);
        if parsed.is_none() {
            let kinds = SubdomainKind::ALL.iter().map(|kind| kind.as_str());
            self.report(
                Diagnostic::error(
                    Code::UnknownSubdomainKind,
                    format!("unknown subdomain kind `{}`", kind.text),
                )
                .at(kind.span)
                .with_label("not a subdomain kind")
                .with_note("the kinds are `core`, `supporting` and `generic`")
                .suggest(suggest::closest(&kind.text, kinds)),
            );
        }
        parsed
    }

    fn alias(&mut self, decl: &ast::TypeAliasDecl) -> Alias {
        Alias {
            name: name(&decl.name),
            doc: decl.doc.clone(),
            ty: self.ty(&decl.ty),
            constraints: self.constraints(&decl.constraints, Marks::NONE).0,
            ty_origin: decl.ty.span.into(),
        }
    }

    /// `field = EXPR, ...` after `sets`.
    fn assignments(&self, decls: &[ast::AssignDecl]) -> Vec<Assignment> {
        decls
            .iter()
            .map(|set| Assignment {
                field: name(&set.field),
                value: self.expr(&set.value),
            })
            .collect()
    }

    fn expr(&self, expr: &ast::Expr) -> Expr {
        Expr {
            source: (self.text)(expr.span),
            origin: expr.span.into(),
            typed: None,
        }
    }

    fn aggregate(&mut self, decl: &ast::AggregateDecl) -> Aggregate {
        let mut aggregate = Aggregate {
            name: name(&decl.name),
            doc: decl.doc.clone(),
            fields: Vec::new(),
            entities: Vec::new(),
            values: Vec::new(),
            enums: Vec::new(),
            aliases: Vec::new(),
            lifecycles: Vec::new(),
            commands: Vec::new(),
            events: Vec::new(),
        };
        for member in &decl.members {
            match member {
                ast::AggregateMember::Field(decl) => aggregate.fields.push(self.field(decl)),
                ast::AggregateMember::Entity(decl) => {
                    aggregate.entities.push(self.record_with(decl, Marks::KEY));
                }
                ast::AggregateMember::Type(decl) => aggregate.aliases.push(self.alias(decl)),
                ast::AggregateMember::Lifecycle(decl) => aggregate.lifecycles.push(Lifecycle {
                    field: name(&decl.field),
                    transitions: decl
                        .transitions
                        .iter()
                        .map(|t| Transition {
                            from: names(&t.from),
                            to: name(&t.to),
                            by: names(&t.by),
                        })
                        .collect(),
                }),
                ast::AggregateMember::Value(decl) => aggregate.values.push(self.record(decl)),
                ast::AggregateMember::Enum(decl) => aggregate.enums.push(enumeration(decl)),
                ast::AggregateMember::Command(decl) => aggregate.commands.push(self.command(decl)),
                ast::AggregateMember::Event(decl) => aggregate.events.push(Event {
                    name: name(&decl.name),
                    doc: decl.doc.clone(),
                    version: decl.version.map_or(1, |(version, _)| version),
                    version_origin: decl.version.map(|(_, span)| span).into(),
                    fields: self.fields_with(&decl.fields, Marks::DEFAULT),
                    sets: self.assignments(&decl.sets),
                    apply: Default::default(),
                }),
            }
        }
        aggregate
    }

    fn command(&mut self, decl: &ast::CommandDecl) -> Command {
        Command {
            name: name(&decl.name),
            doc: decl.doc.clone(),
            params: self.fields(&decl.params),
            creates: decl.creates.is_some(),
            requires: decl
                .requires
                .iter()
                .map(|require| Guard {
                    rule: self.expr(&require.rule),
                    message: require.message.clone(),
                })
                .collect(),
            emits: names(&decl.emits),
            emit_plans: Vec::new(),
        }
    }

    fn record(&mut self, decl: &ast::RecordDecl) -> Record {
        self.record_with(decl, Marks::NONE)
    }

    fn record_with(&mut self, decl: &ast::RecordDecl, marks: Marks) -> Record {
        Record {
            name: name(&decl.name),
            doc: decl.doc.clone(),
            fields: self.fields_with(&decl.fields, marks),
        }
    }

    fn fields(&mut self, decls: &[ast::FieldDecl]) -> Vec<Field> {
        self.fields_with(decls, Marks::NONE)
    }

    fn fields_with(&mut self, decls: &[ast::FieldDecl], marks: Marks) -> Vec<Field> {
        decls
            .iter()
            .map(|decl| self.field_with(decl, marks))
            .collect()
    }

    fn field(&mut self, decl: &ast::FieldDecl) -> Field {
        self.field_with(decl, Marks::NONE)
    }

    fn field_with(&mut self, decl: &ast::FieldDecl, marks: Marks) -> Field {
        let ty = self.ty(&decl.ty);
        let (constraints, key) = self.constraints(&decl.constraints, marks);
        let default = decl.value.as_ref().and_then(|value| {
            if marks.default {
                return Some(self.expr(value));
            }
            self.report(
                Diagnostic::error(Code::Syntax, "only an event's fields take a default")
                    .at(value.span)
                    .with_label("`= ...` not allowed here")
                    .with_help("a default fills the field when an older event without it is read"),
            );
            None
        });
        Field {
            name: name(&decl.name),
            doc: decl.doc.clone(),
            ty,
            constraints,
            key,
            default,
            ty_origin: decl.ty.span.into(),
        }
    }

    /// The checked constraints, and whether `@key` was among them.
    fn constraints(
        &mut self,
        decls: &[ast::ConstraintDecl],
        marks: Marks,
    ) -> (Vec<Constraint>, bool) {
        let mut constraints = Vec::new();
        let mut key = false;
        for decl in decls {
            if decl.name.text == symbol::KEY {
                key |= self.key(decl, marks);
            } else {
                constraints.extend(self.constraint(decl));
            }
        }
        (constraints, key)
    }

    fn key(&mut self, decl: &ast::ConstraintDecl, marks: Marks) -> bool {
        if !matches!(decl.arg, ConstraintArg::Flag) {
            self.report(
                Diagnostic::error(Code::InvalidConstraint, "`@key` takes no argument")
                    .at(decl.span)
                    .with_help("write `@key`"),
            );
            return false;
        }
        if !marks.key {
            self.report(
                Diagnostic::error(
                    Code::InvalidConstraint,
                    "`@key` is only for an entity's fields",
                )
                .at(decl.span)
                .with_label("not in an entity")
                .with_help(
                    "the key gives an entity identity: `upsert` and `remove` find elements by it",
                ),
            );
            return false;
        }
        true
    }

    /// A malformed type becomes `Json` after its error, so it does not cause more errors.
    fn ty(&mut self, expr: &ast::TypeExpr) -> Type {
        let text = expr.name.text.as_str();
        let expected_args = match text {
            symbol::OPTION | symbol::VEC => 1,
            symbol::MAP_TYPE => 2,
            _ => 0,
        };
        if expr.args.len() != expected_args {
            self.report(arity_error(expr, expected_args));
            return Type::Json;
        }
        match text {
            symbol::OPTION => Type::Option(Box::new(self.ty(&expr.args[0]))),
            symbol::VEC => Type::Vec(Box::new(self.ty(&expr.args[0]))),
            symbol::MAP_TYPE => {
                let key = &expr.args[0];
                if key.name.text != "String" || !key.args.is_empty() {
                    self.report(
                        Diagnostic::error(Code::InvalidType, "map keys must be `String`")
                            .at(key.span)
                            .with_label("not `String`")
                            .with_help("write `Map<String, T>`; keys are JSON object keys"),
                    );
                }
                Type::Map(Box::new(self.ty(&expr.args[1])))
            }
            _ => match &expr.qualifier {
                Some(qualifier) => Type::Named(Name::spanned(
                    format!("{}.{}", qualifier.text, expr.name.text),
                    expr.span,
                )),
                None => Type::scalar(text).unwrap_or_else(|| Type::Named(name(&expr.name))),
            },
        }
    }

    fn constraint(&mut self, decl: &ast::ConstraintDecl) -> Option<Constraint> {
        let origin = Origin::from(decl.span);
        if matches!(decl.arg, ConstraintArg::Flag)
            && symbol::CONSTRAINTS.contains(&decl.name.text.as_str())
        {
            self.report(
                Diagnostic::error(
                    Code::InvalidConstraint,
                    format!("`@{}` needs an argument in parentheses", decl.name.text),
                )
                .at(decl.span)
                .with_help(match decl.name.text.as_str() {
                    symbol::LEN => "e.g. `@len(3)` or `@len(1..=120)`",
                    symbol::RANGE => "e.g. `@range(1..=99)`",
                    _ => "e.g. `@pattern(\"^[0-9]{5}$\")`",
                }),
            );
            return None;
        }
        if matches!(decl.name.text.as_str(), symbol::FILTER | symbol::SORT) {
            self.report(
                Diagnostic::error(
                    Code::InvalidConstraint,
                    format!("`@{}` is only for a view's fields", decl.name.text),
                )
                .at(decl.span)
                .with_label("not in a view"),
            );
            return None;
        }
        match decl.name.text.as_str() {
            symbol::LEN => self.len(decl, origin),
            symbol::RANGE => self.range(decl, origin),
            symbol::PATTERN => match &decl.arg {
                ConstraintArg::Str { value, .. } => Some(Constraint::Pattern {
                    regex: value.clone(),
                    origin,
                }),
                _ => self.bad_argument(decl, "a regex in quotes, e.g. `@pattern(\"^[0-9]{5}$\")`"),
            },
            unknown => {
                let suggestion = symbol::constraint_synonym(unknown)
                    .or_else(|| suggest::closest(unknown, symbol::CONSTRAINTS.iter().copied()));
                self.report(
                    Diagnostic::error(
                        Code::UnknownConstraint,
                        format!("unknown constraint `@{unknown}`"),
                    )
                    .at(decl.name.span)
                    .with_label("not a constraint")
                    .with_note("constraints are `@len`, `@range` and `@pattern`; entities' fields may be `@key`")
                    .suggest(suggestion.map(|s| format!("@{s}"))),
                );
                None
            }
        }
    }

    /// `@len(N)` or `@len(a..=b)` with non-negative integers.
    fn len(&mut self, decl: &ast::ConstraintDecl, origin: Origin) -> Option<Constraint> {
        let expected = "a length or a range of lengths, e.g. `@len(3)` or `@len(1..=120)`";
        let (min, max) = match &decl.arg {
            ConstraintArg::Number(n) => (Some(*n), Some(*n)),
            ConstraintArg::Range { min, max, .. } => (*min, *max),
            _ => return self.bad_argument(decl, expected),
        };
        self.inclusive(decl)?;
        let mut length = |bound: Option<NumLit>| -> Result<Option<u64>, ()> {
            let Some(bound) = bound else { return Ok(None) };
            match bound.value {
                Num::Int(value) => u64::try_from(value).map(Some).map_err(|_| {
                    self.report(
                        Diagnostic::error(Code::InvalidConstraint, "a length cannot be negative")
                            .at(bound.span),
                    );
                }),
                Num::Float(_) => {
                    self.report(
                        Diagnostic::error(Code::InvalidConstraint, "a length is a whole number")
                            .at(bound.span),
                    );
                    Err(())
                }
            }
        };
        let (min, max) = (length(min).ok()?, length(max).ok()?);
        Some(Constraint::Len { min, max, origin })
    }

    /// `@range(a..=b)`, `@range(a..)`, `@range(..=b)`.
    fn range(&mut self, decl: &ast::ConstraintDecl, origin: Origin) -> Option<Constraint> {
        let ConstraintArg::Range { min, max, .. } = &decl.arg else {
            return self.bad_argument(
                decl,
                "a range, e.g. `@range(1..=99)`, `@range(0..)` or `@range(..=10)`",
            );
        };
        self.inclusive(decl)?;
        let number = |bound: &Option<NumLit>| {
            bound.map(|n| match n.value {
                Num::Int(value) => Number::Int(value),
                Num::Float(value) => Number::Float(value),
            })
        };
        Some(Constraint::Range {
            min: number(min),
            max: number(max),
            origin,
        })
    }

    /// Ranges are inclusive (`..=`) and have at least one bound.
    fn inclusive(&mut self, decl: &ast::ConstraintDecl) -> Option<()> {
        let ConstraintArg::Range {
            min,
            max,
            inclusive,
            span,
        } = &decl.arg
        else {
            return Some(());
        };
        if min.is_none() && max.is_none() {
            self.report(
                Diagnostic::error(Code::InvalidConstraint, "a range needs at least one bound")
                    .at(*span)
                    .with_help("write `a..=b`, `a..` or `..=b`"),
            );
            return None;
        }
        if max.is_some() && !inclusive {
            self.report(
                Diagnostic::error(Code::InvalidConstraint, "ranges are inclusive: write `..=`")
                    .at(*span)
                    .with_label("`..` with an upper bound")
                    .with_help("`a..=b` includes `b`; `a..` alone means no upper bound"),
            );
            return None;
        }
        Some(())
    }

    fn bad_argument(&mut self, decl: &ast::ConstraintDecl, expected: &str) -> Option<Constraint> {
        let span = match &decl.arg {
            ConstraintArg::Str { span, .. }
            | ConstraintArg::Range { span, .. }
            | ConstraintArg::Empty { span } => *span,
            ConstraintArg::Number(n) => n.span,
            ConstraintArg::Flag => decl.span,
        };
        self.report(
            Diagnostic::error(
                Code::InvalidConstraint,
                format!("`@{}` expects {expected}", decl.name.text),
            )
            .at(span)
            .with_label("wrong argument"),
        );
        None
    }

    fn relation(&mut self, decl: &ast::RelationDecl) -> Option<Relation> {
        let Some(kind) = RelationKind::parse(&decl.kind.text) else {
            let kinds = RelationKind::ALL.iter().map(|kind| kind.as_str());
            let suggestion = suggest::closest(&decl.kind.text, kinds);
            let all: Vec<String> = RelationKind::ALL
                .iter()
                .map(|k| format!("`{}`", k.as_str()))
                .collect();
            self.report(
                Diagnostic::error(
                    Code::UnknownRelationKind,
                    format!("unknown relation kind `{}`", decl.kind.text),
                )
                .at(decl.kind.span)
                .with_label("not a relation kind")
                .with_note(format!("the kinds are {}", all.join(", ")))
                .suggest(suggestion),
            );
            return None;
        };
        let from_roles = self.roles(&decl.from_roles);
        let to_roles = self.roles(&decl.to_roles);
        Some(Relation {
            doc: decl.doc.clone(),
            from: name(&decl.from),
            to: name(&decl.to),
            both_ways: decl.both_ways,
            kind,
            from_roles: from_roles.iter().map(|(kind, _)| *kind).collect(),
            to_roles: to_roles.iter().map(|(kind, _)| *kind).collect(),
            origin: decl.arrow.into(),
            role_origins: RoleOrigins {
                from: from_roles.iter().map(|(_, origin)| *origin).collect(),
                to: to_roles.iter().map(|(_, origin)| *origin).collect(),
            },
        })
    }

    /// Roles are relation kinds that describe one side: which ones fit which side is
    /// validation's business.
    fn roles(&mut self, roles: &[ast::Ident]) -> Vec<(RelationKind, Origin)> {
        roles
            .iter()
            .filter_map(|role| {
                let kind = RelationKind::parse(&role.text);
                if kind.is_none() {
                    let kinds = RelationKind::ALL.iter().map(|kind| kind.as_str());
                    self.report(
                        Diagnostic::error(
                            Code::UnknownRelationKind,
                            format!("unknown role `{}`", role.text),
                        )
                        .at(role.span)
                        .with_label("not a role")
                        .with_note("roles are `open-host` and `published-language` upstream, `anticorruption-layer` and `conformist` downstream")
                        .suggest(suggest::closest(&role.text, kinds)),
                    );
                }
                Some((kind?, role.span.into()))
            })
            .collect()
    }

    fn policy(&self, decl: &ast::PolicyDecl) -> Policy {
        Policy {
            doc: decl.doc.clone(),
            on: EventRef {
                context: name(&decl.context),
                event: name(&decl.event),
            },
            run: CommandRef {
                aggregate: name(&decl.aggregate),
                command: name(&decl.command),
            },
            mappings: decl
                .mappings
                .iter()
                .map(|mapping| Mapping {
                    field: name(&mapping.field),
                    from: self.expr(&mapping.from),
                })
                .collect(),
            translation: None,
            origin: decl.span.into(),
        }
    }
}

/// What the fields of a list may carry besides constraints.
#[derive(Debug, Clone, Copy)]
struct Marks {
    /// `@key`, in entities.
    key: bool,
    /// `= EXPR`, in events.
    default: bool,
}

impl Marks {
    const NONE: Marks = Marks {
        key: false,
        default: false,
    };
    const KEY: Marks = Marks {
        key: true,
        default: false,
    };
    const DEFAULT: Marks = Marks {
        key: false,
        default: true,
    };
}

fn enumeration(decl: &ast::EnumDecl) -> Enum {
    Enum {
        name: name(&decl.name),
        doc: decl.doc.clone(),
        variants: decl
            .variants
            .iter()
            .map(|variant| Variant {
                name: name(&variant.name),
                doc: variant.doc.clone(),
            })
            .collect(),
    }
}

fn arity_error(expr: &ast::TypeExpr, expected: usize) -> Diagnostic {
    let text = &expr.name.text;
    let (message, help) = match expected {
        0 => (
            format!("`{text}` takes no type arguments"),
            format!("write `{text}`"),
        ),
        1 => (
            format!("`{text}` takes one type argument"),
            format!("write `{text}<T>`"),
        ),
        _ => (
            format!("`{text}` takes two type arguments"),
            "write `Map<String, T>`".to_owned(),
        ),
    };
    Diagnostic::error(Code::InvalidType, message)
        .at(expr.span)
        .with_label(format!("{} given", expr.args.len()))
        .with_help(help)
}

fn item_span(item: &ast::Item) -> Span {
    match item {
        ast::Item::System(decl) => decl.keyword,
        ast::Item::Value(decl) => decl.name.span,
        ast::Item::Enum(decl) => decl.name.span,
        ast::Item::Context(decl) => decl.name.span,
        ast::Item::Map(decl) => decl
            .relations
            .first()
            .map_or(Span::default(), |r| r.from.span),
        ast::Item::Type(decl) => decl.name.span,
        ast::Item::Import(decl) => decl.span,
    }
}
