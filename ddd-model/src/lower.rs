//! Syntax tree → IR. Checks what only the syntax can tell (where `system` stands, how a type
//! or constraint is written, the spelling of a relation kind); names are resolved on the IR by
//! [`crate::resolve`], so JSON and YAML get the very same resolution.

use crate::ast::{self, ConstraintArg, Num, NumLit};
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::{
    Aggregate, Command, CommandRef, Constraint, Context, Enum, Event, EventRef, Field, Mapping,
    Number, Policy, Record, Relation, RelationKind, System, Type, Variant,
};
use crate::name::{Name, Origin, Span};
use crate::suggest;
use crate::symbol;

/// Lowers a parsed file. Always returns a system, so that validation can report its own
/// errors next to the syntax errors.
pub fn lower(file: &ast::File) -> (System, Vec<Diagnostic>) {
    let mut lower = Lower {
        diagnostics: Vec::new(),
    };
    let system = lower.system(file);
    (system, lower.diagnostics)
}

struct Lower {
    diagnostics: Vec<Diagnostic>,
}

fn name(ident: &ast::Ident) -> Name {
    Name::spanned(ident.text.as_str(), ident.span)
}

fn names(idents: &[ast::Ident]) -> Vec<Name> {
    idents.iter().map(name).collect()
}

impl Lower {
    fn report(&mut self, diagnostic: Diagnostic) {
        self.diagnostics.push(diagnostic);
    }

    fn system(&mut self, file: &ast::File) -> System {
        let mut system = System {
            name: self.system_name(file),
            doc: None,
            values: Vec::new(),
            enums: Vec::new(),
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
            values: Vec::new(),
            enums: Vec::new(),
            aggregates: Vec::new(),
            publishes: Vec::new(),
            policies: Vec::new(),
        };
        for member in &decl.members {
            match member {
                ast::ContextMember::Value(decl) => context.values.push(self.record(decl)),
                ast::ContextMember::Enum(decl) => context.enums.push(enumeration(decl)),
                ast::ContextMember::Aggregate(decl) => {
                    context.aggregates.push(self.aggregate(decl))
                }
                ast::ContextMember::Publishes(events) => context.publishes.extend(names(events)),
                ast::ContextMember::Policy(decl) => context.policies.push(policy(decl)),
            }
        }
        context
    }

    fn aggregate(&mut self, decl: &ast::AggregateDecl) -> Aggregate {
        let mut aggregate = Aggregate {
            name: name(&decl.name),
            doc: decl.doc.clone(),
            fields: Vec::new(),
            entities: Vec::new(),
            values: Vec::new(),
            enums: Vec::new(),
            commands: Vec::new(),
            events: Vec::new(),
        };
        for member in &decl.members {
            match member {
                ast::AggregateMember::Field(decl) => aggregate.fields.push(self.field(decl)),
                ast::AggregateMember::Entity(decl) => aggregate.entities.push(self.record(decl)),
                ast::AggregateMember::Value(decl) => aggregate.values.push(self.record(decl)),
                ast::AggregateMember::Enum(decl) => aggregate.enums.push(enumeration(decl)),
                ast::AggregateMember::Command(decl) => aggregate.commands.push(self.command(decl)),
                ast::AggregateMember::Event(decl) => aggregate.events.push(Event {
                    name: name(&decl.name),
                    doc: decl.doc.clone(),
                    fields: self.fields(&decl.fields),
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
            emits: names(&decl.emits),
            emit_plans: Vec::new(),
        }
    }

    fn record(&mut self, decl: &ast::RecordDecl) -> Record {
        Record {
            name: name(&decl.name),
            doc: decl.doc.clone(),
            fields: self.fields(&decl.fields),
        }
    }

    fn fields(&mut self, decls: &[ast::FieldDecl]) -> Vec<Field> {
        decls.iter().map(|decl| self.field(decl)).collect()
    }

    fn field(&mut self, decl: &ast::FieldDecl) -> Field {
        let ty = self.ty(&decl.ty);
        let mut constraints = Vec::new();
        for constraint in &decl.constraints {
            constraints.extend(self.constraint(constraint));
        }
        Field {
            name: name(&decl.name),
            doc: decl.doc.clone(),
            ty,
            constraints,
            ty_origin: decl.ty.span.into(),
        }
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
            _ => Type::scalar(text).unwrap_or_else(|| Type::Named(name(&expr.name))),
        }
    }

    fn constraint(&mut self, decl: &ast::ConstraintDecl) -> Option<Constraint> {
        let origin = Origin::from(decl.span);
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
                    .with_note("constraints are `@len`, `@range` and `@pattern`")
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
        Some(Relation {
            doc: decl.doc.clone(),
            from: name(&decl.from),
            to: name(&decl.to),
            both_ways: decl.both_ways,
            kind,
            origin: decl.arrow.into(),
        })
    }
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

fn policy(decl: &ast::PolicyDecl) -> Policy {
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
                from: name(&mapping.from),
            })
            .collect(),
        translation: None,
        origin: decl.span.into(),
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
    }
}
