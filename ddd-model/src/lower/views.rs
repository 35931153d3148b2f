//! Views: their source, fields and handlers as written. What only the syntax tells is checked
//! here (how `@filter` and `@sort` are written, annotations a view has no use for); the rest
//! is validation's, on the IR, so JSON and YAML get it too.

use super::{Lower, name};
use crate::ast::{self, ConstraintArg};
use crate::diagnostic::{Code, Diagnostic};
use crate::ir::{Field, HandlerRef, MarkOrigins, View, ViewField, ViewHandler, ViewSource};
use crate::name::Span;
use crate::suggest;
use crate::symbol;

impl Lower<'_> {
    pub(super) fn view(&mut self, decl: &ast::ViewDecl) -> View {
        let source = match &decl.source {
            ast::ViewSource::From(aggregate) => ViewSource::From(name(aggregate)),
            ast::ViewSource::By(key) => ViewSource::By(Box::new(self.view_key(key))),
        };
        View {
            name: name(&decl.name),
            doc: decl.doc.clone(),
            source,
            fields: decl.fields.iter().map(|f| self.view_field(f)).collect(),
            handlers: decl.handlers.iter().map(|h| self.handler(h)).collect(),
        }
    }

    /// `by customer: Uuid`: a name and a type, nothing else.
    fn view_key(&mut self, decl: &ast::FieldDecl) -> Field {
        for annotation in &decl.constraints {
            self.report(
                Diagnostic::error(
                    Code::InvalidConstraint,
                    format!("a view's key takes no `@{}`", annotation.name.text),
                )
                .at(annotation.span)
                .with_label("on the key")
                .with_help("a row is found by its key (`GET /<views>/{key}`), which comes from the events that feed the view"),
            );
        }
        if let Some(value) = &decl.value {
            self.report(
                Diagnostic::error(Code::Syntax, "a view's key takes no `= ...`")
                    .at(value.span)
                    .with_label("not allowed here")
                    .with_help("the key is the field of that name of each event the view handles"),
            );
        }
        Field {
            name: name(&decl.name),
            doc: decl.doc.clone(),
            ty: self.ty(&decl.ty),
            constraints: Vec::new(),
            key: false,
            default: None,
            ty_origin: decl.ty.span.into(),
        }
    }

    fn view_field(&mut self, decl: &ast::FieldDecl) -> ViewField {
        let marks = self.view_marks(&decl.constraints);
        ViewField {
            name: name(&decl.name),
            doc: decl.doc.clone(),
            ty: self.ty(&decl.ty),
            filter: marks.filter.span().is_some(),
            sort: marks.sort.span().is_some(),
            value: decl.value.as_ref().map(|value| self.expr(value)),
            copy: None,
            ty_origin: decl.ty.span.into(),
            marks,
        }
    }

    /// `@filter` and `@sort`, each at most once. A view's rows come from state and events
    /// that were checked when their commands were built: constraints would check nothing.
    fn view_marks(&mut self, decls: &[ast::ConstraintDecl]) -> MarkOrigins {
        let mut marks = MarkOrigins::default();
        for decl in decls {
            let mark = match decl.name.text.as_str() {
                symbol::FILTER => &mut marks.filter,
                symbol::SORT => &mut marks.sort,
                symbol::KEY => {
                    self.report(misplaced(decl, "`@key` is only for an entity's fields"));
                    continue;
                }
                symbol::LEN | symbol::RANGE | symbol::PATTERN => {
                    self.report(
                        misplaced(decl, &format!("a view's field takes no `@{}`", decl.name.text))
                            .with_note("constraints are checked when a command is built; a view's rows come from state and events that passed them"),
                    );
                    continue;
                }
                unknown => {
                    self.report(unknown_mark(unknown, decl.name.span));
                    continue;
                }
            };
            if !matches!(decl.arg, ConstraintArg::Flag) {
                self.report(
                    Diagnostic::error(
                        Code::InvalidConstraint,
                        format!("`@{}` takes no argument", decl.name.text),
                    )
                    .at(decl.span)
                    .with_help(format!("write `@{}`", decl.name.text)),
                );
            } else if let Some(first) = mark.span() {
                self.report(
                    Diagnostic::error(
                        Code::InvalidConstraint,
                        format!("`@{}` is given twice", decl.name.text),
                    )
                    .at(decl.span)
                    .with_label("again")
                    .with_related(Some(first.into()), "first given here"),
                );
            } else {
                *mark = decl.span.into();
            }
        }
        marks
    }

    fn handler(&self, decl: &ast::ViewHandlerDecl) -> ViewHandler {
        ViewHandler {
            on: HandlerRef {
                scope: name(&decl.scope),
                event: name(&decl.event),
            },
            sets: self.assignments(&decl.sets),
            resolved: None,
            origin: decl.scope.span.to(decl.event.span).into(),
        }
    }
}

fn misplaced(decl: &ast::ConstraintDecl, message: &str) -> Diagnostic {
    Diagnostic::error(Code::InvalidConstraint, message)
        .at(decl.span)
        .with_label("on a view's field")
        .with_help("a view's fields take `@filter` (filter by equality) and `@sort` (sort by it)")
}

fn unknown_mark(unknown: &str, span: Span) -> Diagnostic {
    let suggestion =
        mark_synonym(unknown).or_else(|| suggest::closest(unknown, [symbol::FILTER, symbol::SORT]));
    Diagnostic::error(
        Code::UnknownConstraint,
        format!("unknown annotation `@{unknown}`"),
    )
    .at(span)
    .with_label("not an annotation of a view's field")
    .with_note("a view's fields take `@filter` (filter by equality) and `@sort` (sort by it)")
    .suggest(suggestion.map(|s| format!("@{s}")))
}

/// The annotation a name other tools use for it means (`@index` → `@filter`).
fn mark_synonym(name: &str) -> Option<&'static str> {
    match name {
        "index" | "indexed" | "filterable" | "eq" | "search" | "searchable" => Some(symbol::FILTER),
        "order" | "order_by" | "orderby" | "sortable" | "sorted" => Some(symbol::SORT),
        _ => None,
    }
}
