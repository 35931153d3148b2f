//! Types expressions: every name resolved in its scope, every operator and built-in checked,
//! conversions made explicit. One implementation for `requires`, `sets`, `with` and defaults.
//!
//! Integers widen where no value is lost (`i64 * u32` is `i64`); a literal takes the type
//! its place expects. A type error, an unknown name or function, or a name that could mean
//! two things is a located error.

use crate::ast::{self, BinaryOp, ExprKind, UnaryOp};
use crate::convert::Converter;
use crate::diagnostic::{Code, Diagnostic, Location};
use crate::ir::{
    Expr, Field, Function, NameScope, System, Type, TypeDef, TypeKind, Typed, TypedKind,
};
use crate::name::{Name, Span};
use crate::parser;
use crate::resolve::{Found, Index, Miss, ambiguous};
use crate::suggest;
use crate::walk::Scope;

/// What an expression can see: the names of its place, the scope its types resolve in.
pub(crate) struct Env<'a> {
    pub(crate) system: &'a System,
    pub(crate) index: &'a Index,
    pub(crate) scope: Scope,
    /// Lists of fields by what they are; a name in two lists is ambiguous.
    pub(crate) names: Vec<Visible<'a>>,
    /// Fields that exist but cannot be read here, and why: said when one is named.
    pub(crate) unreadable: Option<(&'a [Field], &'static str)>,
    /// The IR path of the expression, for diagnostics of models without spans.
    pub(crate) path: String,
}

/// A list of fields an expression can read: the scope its names are typed with, and what a
/// message calls one of them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Visible<'a> {
    pub(crate) scope: NameScope,
    pub(crate) fields: &'a [Field],
    pub(crate) what: &'static str,
}

impl<'a> Visible<'a> {
    pub(crate) fn new(scope: NameScope, fields: &'a [Field]) -> Visible<'a> {
        Visible {
            scope,
            fields,
            what: describe(scope),
        }
    }

    /// The same fields, called otherwise in messages ("view's field").
    pub(crate) fn called(self, what: &'static str) -> Visible<'a> {
        Visible { what, ..self }
    }
}

/// Types `expr` where a value of type `expected` goes (`None`: any type). Reports every
/// problem; `None` when the expression does not type.
pub(crate) fn check(
    env: &Env<'_>,
    expr: &Expr,
    expected: Option<&Type>,
    out: &mut Vec<Diagnostic>,
) -> Option<Typed> {
    let base = expr.origin.span().map_or(0, |span| span.start);
    let (parsed, syntax) = parser::parse_expression(&expr.source, base);
    let mut typer = Typer {
        env,
        located: expr.origin.span().is_some(),
        source: &expr.source,
        elements: Vec::new(),
        out: Vec::new(),
    };
    for diagnostic in syntax {
        typer.push(diagnostic);
    }
    let typed = parsed.and_then(|parsed| {
        let typed = typer.infer(&parsed, expected)?;
        match expected {
            Some(expected) => typer.coerce(typed, expected, parsed.span),
            None => Some(typed),
        }
    });
    let failed = !typer.out.is_empty();
    out.append(&mut typer.out);
    if failed { None } else { typed }
}

struct Typer<'a, 'e> {
    env: &'a Env<'e>,
    /// Whether spans point into a `.ddd` source (else the expression came from JSON/YAML).
    located: bool,
    source: &'a str,
    /// The element fields of the `sum`s being typed, innermost last.
    elements: Vec<&'e [Field]>,
    out: Vec<Diagnostic>,
}

impl<'e> Typer<'_, 'e> {
    fn push(&mut self, mut diagnostic: Diagnostic) {
        if !self.located {
            // Spans of an expression read from JSON/YAML point into its own text: show the
            // IR path, and the expression in a note.
            diagnostic.location = Some(Location::new(None, self.env.path.clone()));
            diagnostic.related.clear();
            diagnostic = diagnostic.with_note(format!("in the expression `{}`", self.source));
        }
        self.out.push(diagnostic);
    }

    fn error(&mut self, code: Code, span: Span, message: String) -> &mut Diagnostic {
        self.push(
            Diagnostic::error(code, message).at(Location::new(Some(span), self.env.path.clone())),
        );
        self.out.last_mut().expect("just pushed")
    }

    fn mismatch(&mut self, span: Span, expected: &str, found: &Type) {
        self.error(
            Code::TypeMismatch,
            span,
            format!("expected {expected}, found `{found}`"),
        )
        .label = Some(format!("`{found}` here"));
    }

    fn infer(&mut self, expr: &ast::Expr, expected: Option<&Type>) -> Option<Typed> {
        let span = expr.span;
        match &expr.kind {
            ExprKind::Bool(value) => Some(leaf(TypedKind::Bool(*value), Type::Bool)),
            ExprKind::Int(value) => self.int(*value, expected, span),
            ExprKind::Float(value) => {
                let ty = match expected.map(Type::without_option) {
                    Some(ty) if ty.is_float() => ty.clone(),
                    _ => Type::F64,
                };
                Some(leaf(TypedKind::Float(*value), ty))
            }
            ExprKind::Str(value) => Some(leaf(TypedKind::Str(value.clone()), Type::String)),
            ExprKind::None => match expected {
                Some(ty @ Type::Option(_)) => Some(leaf(TypedKind::None, ty.clone())),
                Some(ty) => {
                    self.error(
                        Code::TypeMismatch,
                        span,
                        format!("expected `{ty}`, found `none`"),
                    )
                    .help = Some(format!(
                        "a `{ty}` always has a value: only an `Option` can be `none`"
                    ));
                    None
                }
                None => {
                    self.error(
                        Code::TypeMismatch,
                        span,
                        "`none` needs an optional value to stand for".to_owned(),
                    )
                    .help = Some("compare an `Option` field with it: `dispatched == none`".into());
                    None
                }
            },
            ExprKind::Path(path) => self.path(path, expected),
            ExprKind::Unary(op, operand) => self.unary(*op, operand, expected, span),
            ExprKind::Binary(op, lhs, rhs) => self.binary(*op, lhs, rhs, expected, span),
            ExprKind::In(value, set) => self.membership(value, set),
            ExprKind::Call(function, args) => self.call(function, args, expected, span),
            ExprKind::Record {
                qualifier,
                name,
                fields,
            } => self.record(qualifier.as_ref(), name, fields, span),
        }
    }

    fn int(&mut self, value: i128, expected: Option<&Type>, span: Span) -> Option<Typed> {
        let ty = match expected.map(Type::without_option) {
            Some(ty) if ty.integer_bounds().is_some() => ty.clone(),
            Some(ty) if ty.is_float() => {
                #[expect(
                    clippy::cast_precision_loss,
                    reason = "a literal written as an integer"
                )]
                return Some(leaf(TypedKind::Float(value as f64), ty.clone()));
            }
            _ => Type::I64,
        };
        let (min, max) = ty.integer_bounds().unwrap_or((i128::MIN, i128::MAX));
        if value < min || value > max {
            self.error(
                Code::TypeMismatch,
                span,
                format!("`{value}` does not fit in `{ty}` ({min}..={max})"),
            );
            return None;
        }
        Some(leaf(TypedKind::Int(value), ty))
    }

    /// `name`, `name.field.field`, or an enum variant where an enum is expected.
    fn path(&mut self, path: &[ast::Ident], expected: Option<&Type>) -> Option<Typed> {
        let first = path.first()?;
        let Some((scope, field)) = self.name(first, expected)? else {
            return self.variant(first, expected);
        };
        let mut typed = leaf(
            TypedKind::Name {
                scope,
                name: field.name.at(Some(first.span)),
            },
            field.ty.clone(),
        );
        for segment in &path[1..] {
            typed = self.field_of(typed, segment)?;
        }
        Some(typed)
    }

    /// The field a name means, `Ok(None)` when it is no field (maybe a variant), `None` after
    /// an error (ambiguous).
    fn name(
        &mut self,
        ident: &ast::Ident,
        expected: Option<&Type>,
    ) -> Option<Option<(NameScope, &'e Field)>> {
        for (depth, fields) in self.elements.iter().enumerate().rev() {
            if let Some(field) = fields.iter().find(|f| f.name == ident.text.as_str()) {
                #[expect(clippy::cast_possible_truncation, reason = "sums nest a few levels")]
                return Some(Some((NameScope::Element(depth as u32), field)));
            }
        }
        let found: Vec<(&Visible<'e>, &'e Field)> = self
            .env
            .names
            .iter()
            .filter_map(|visible| {
                let field = visible
                    .fields
                    .iter()
                    .find(|f| f.name == ident.text.as_str())?;
                Some((visible, field))
            })
            .collect();
        match found.as_slice() {
            [] => Some(None),
            [only] => {
                if self.is_variant(&ident.text, expected) {
                    self.error(
                        Code::AmbiguousName,
                        ident.span,
                        format!(
                            "`{}` could mean the field `{}` or the enum variant `{}`",
                            ident.text, ident.text, ident.text
                        ),
                    )
                    .help = Some("rename the field or the variant".into());
                    return None;
                }
                Some(Some((only.0.scope, only.1)))
            }
            several => {
                let places: Vec<String> = several
                    .iter()
                    .map(|(visible, _)| format!("the {} `{}`", visible.what, ident.text))
                    .collect();
                let related: Vec<Span> =
                    several.iter().filter_map(|(_, f)| f.name.span()).collect();
                let diagnostic = self.error(
                    Code::AmbiguousName,
                    ident.span,
                    format!("`{}` could mean {}", ident.text, places.join(" or ")),
                );
                diagnostic.label = Some("ambiguous".into());
                diagnostic.help = Some("rename one of them".into());
                for span in related {
                    diagnostic
                        .related
                        .push((Location::span(span), "defined here".into()));
                }
                None
            }
        }
    }

    fn is_variant(&self, name: &str, expected: Option<&Type>) -> bool {
        self.enum_of(expected)
            .is_some_and(|e| e.variants.iter().any(|v| v.name == name))
    }

    fn enum_of(&self, expected: Option<&Type>) -> Option<&'e crate::ir::Enum> {
        let Type::Enum(path) = expected?.without_option() else {
            return None;
        };
        match self.env.system.type_def(path)? {
            TypeDef::Enum(e) => Some(e),
            _ => None,
        }
    }

    fn variant(&mut self, ident: &ast::Ident, expected: Option<&Type>) -> Option<Typed> {
        if let Some(enumeration) = self.enum_of(expected) {
            if enumeration
                .variants
                .iter()
                .any(|v| v.name == ident.text.as_str())
            {
                let ty = expected?.without_option().clone();
                return Some(leaf(
                    TypedKind::Variant(Name::spanned(ident.text.as_str(), ident.span)),
                    ty,
                ));
            }
            let variants: Vec<&str> = enumeration
                .variants
                .iter()
                .map(|v| v.name.as_str())
                .collect();
            let suggestion = suggest::closest(&ident.text, variants.iter().copied());
            let diagnostic = self.error(
                Code::UnknownField,
                ident.span,
                format!(
                    "`{}` is neither a field here nor a variant of `{}`",
                    ident.text, enumeration.name
                ),
            );
            diagnostic.label = Some("unknown".into());
            diagnostic.help = suggestion.map(|s| format!("did you mean `{s}`?"));
            return None;
        }
        let names = self.visible_names();
        let suggestion = suggest::closest(&ident.text, names.iter().map(String::as_str));
        let unreadable = self
            .env
            .unreadable
            .filter(|(fields, _)| fields.iter().any(|f| f.name == ident.text.as_str()))
            .map(|(_, why)| why);
        let diagnostic = self.error(
            Code::UnknownField,
            ident.span,
            format!("unknown name `{}`", ident.text),
        );
        diagnostic.label = Some("not a field here".into());
        diagnostic.help = suggestion.map(|s| format!("did you mean `{s}`?"));
        diagnostic
            .notes
            .push(format!("visible here: {}", list(&names)));
        if let Some(why) = unreadable {
            diagnostic
                .notes
                .push(format!("`{}` cannot be read here: {why}", ident.text));
        }
        None
    }

    /// Each name once (a name in two lists is ambiguous, not two names), innermost first.
    fn visible_names(&self) -> Vec<String> {
        let mut names: Vec<String> = Vec::new();
        let fields = (self.elements.iter().flat_map(|fields| fields.iter())).chain(
            self.env
                .names
                .iter()
                .flat_map(|visible| visible.fields.iter()),
        );
        for field in fields {
            if !names.iter().any(|name| field.name == name.as_str()) {
                names.push(field.name.to_string());
            }
        }
        names
    }

    fn field_of(&mut self, base: Typed, segment: &ast::Ident) -> Option<Typed> {
        let record = match &base.ty {
            Type::Value(path) | Type::Entity(path) => self.env.system.record(path),
            Type::Option(inner) if inner.path().is_some() => {
                self.error(
                    Code::TypeMismatch,
                    segment.span,
                    format!("`{}` may be `none`: its fields cannot be read", base.ty),
                )
                .help = Some("compare it with `none` first, in a rule of its own".into());
                return None;
            }
            _ => None,
        };
        let Some(record) = record else {
            self.error(
                Code::TypeMismatch,
                segment.span,
                format!("`{}` has no fields", base.ty),
            )
            .label = Some("no fields to read".into());
            return None;
        };
        let Some(field) = record
            .fields
            .iter()
            .find(|f| f.name == segment.text.as_str())
        else {
            let suggestion =
                suggest::closest(&segment.text, record.fields.iter().map(|f| f.name.as_str()));
            let diagnostic = self.error(
                Code::UnknownField,
                segment.span,
                format!("`{}` has no field `{}`", record.name, segment.text),
            );
            diagnostic.label = Some("no such field".into());
            diagnostic.help = suggestion.map(|s| format!("did you mean `{s}`?"));
            return None;
        };
        Some(Typed {
            ty: field.ty.clone(),
            kind: TypedKind::Field {
                base: Box::new(base),
                field: field.name.clone(),
            },
        })
    }

    fn unary(
        &mut self,
        op: UnaryOp,
        operand: &ast::Expr,
        expected: Option<&Type>,
        span: Span,
    ) -> Option<Typed> {
        match op {
            UnaryOp::Not => {
                let operand = self.infer(operand, Some(&Type::Bool))?;
                let operand = self.coerce(operand, &Type::Bool, span)?;
                Some(Typed {
                    ty: Type::Bool,
                    kind: TypedKind::Unary {
                        op,
                        operand: Box::new(operand),
                    },
                })
            }
            UnaryOp::Neg => {
                let operand = self.infer(operand, expected)?;
                let signed = operand.ty.integer_bounds().is_some_and(|(min, _)| min < 0)
                    || operand.ty.is_float();
                if !signed {
                    self.mismatch(span, "a signed number to negate", &operand.ty);
                    return None;
                }
                Some(Typed {
                    ty: operand.ty.clone(),
                    kind: TypedKind::Unary {
                        op,
                        operand: Box::new(operand),
                    },
                })
            }
        }
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        lhs: &ast::Expr,
        rhs: &ast::Expr,
        expected: Option<&Type>,
        span: Span,
    ) -> Option<Typed> {
        match op {
            BinaryOp::And | BinaryOp::Or => {
                // Both sides are checked, whatever the other did: every error is reported.
                let typed_lhs = self.infer(lhs, Some(&Type::Bool));
                let typed_lhs = typed_lhs.and_then(|t| self.coerce(t, &Type::Bool, lhs.span));
                let typed_rhs = self.infer(rhs, Some(&Type::Bool));
                let typed_rhs = typed_rhs.and_then(|t| self.coerce(t, &Type::Bool, rhs.span));
                Some(node(op, typed_lhs?, typed_rhs?, Type::Bool))
            }
            BinaryOp::Eq
            | BinaryOp::Ne
            | BinaryOp::Lt
            | BinaryOp::Le
            | BinaryOp::Gt
            | BinaryOp::Ge => {
                let (lhs, rhs) = self.operands(op, lhs, rhs, None)?;
                let ordered = matches!(
                    op,
                    BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge
                );
                if ordered && !is_ordered(&lhs.ty) {
                    self.error(
                        Code::TypeMismatch,
                        span,
                        format!("`{}` values cannot be ordered with `{}`", lhs.ty, op.as_str()),
                    )
                    .help = Some("numbers, dates, instants and strings can be ordered; compare others with `==` or `in`".into());
                    return None;
                }
                Some(node(op, lhs, rhs, Type::Bool))
            }
            BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul => {
                let (lhs, rhs) = self.operands(op, lhs, rhs, expected)?;
                if !lhs.ty.is_numeric() {
                    self.error(
                        Code::TypeMismatch,
                        span,
                        format!("`{}` works on numbers, not on `{}`", op.as_str(), lhs.ty),
                    );
                    return None;
                }
                let ty = lhs.ty.clone();
                Some(node(op, lhs, rhs, ty))
            }
        }
    }

    /// Both operands, of one type: a literal or variant takes the other side's type, and the
    /// narrower of two integer types widens.
    fn operands(
        &mut self,
        op: BinaryOp,
        lhs_expr: &ast::Expr,
        rhs_expr: &ast::Expr,
        expected: Option<&Type>,
    ) -> Option<(Typed, Typed)> {
        let (lhs, rhs) = if needs_context(lhs_expr) && !needs_context(rhs_expr) {
            let rhs = self.infer(rhs_expr, expected)?;
            let lhs = self.infer(lhs_expr, Some(&rhs.ty))?;
            (lhs, rhs)
        } else {
            let lhs = self.infer(lhs_expr, expected);
            // After an error on the left, the right is still checked for errors of its own,
            // unless it is a literal or variant, which only the left could give a type.
            let rhs = match &lhs {
                Some(lhs) => self.infer(rhs_expr, Some(&lhs.ty)),
                None if !needs_context(rhs_expr) => self.infer(rhs_expr, expected),
                None => None,
            };
            (lhs?, rhs?)
        };
        if lhs.ty == rhs.ty {
            return Some((lhs, rhs));
        }
        match common_integer(&lhs.ty, &rhs.ty) {
            Some(common) => {
                let lhs = self.coerce(lhs, &common, lhs_expr.span)?;
                let rhs = self.coerce(rhs, &common, rhs_expr.span)?;
                Some((lhs, rhs))
            }
            None if matches!(lhs.ty, Type::Option(_)) => {
                let target = lhs.ty.clone();
                let rhs = self.coerce(rhs, &target, rhs_expr.span)?;
                Some((lhs, rhs))
            }
            None if matches!(rhs.ty, Type::Option(_)) => {
                let target = rhs.ty.clone();
                let lhs = self.coerce(lhs, &target, lhs_expr.span)?;
                Some((lhs, rhs))
            }
            None => {
                self.incompatible(op, (&lhs.ty, lhs_expr.span), (&rhs.ty, rhs_expr.span));
                None
            }
        }
    }

    /// Two operands of types that do not go together: arithmetic on something else than a
    /// number points at that operand, anything else at the whole operation.
    fn incompatible(&mut self, op: BinaryOp, lhs: (&Type, Span), rhs: (&Type, Span)) {
        let arithmetic = matches!(op, BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul);
        if arithmetic
            && let Some((ty, span)) = [lhs, rhs].into_iter().find(|(ty, _)| !ty.is_numeric())
        {
            self.error(
                Code::TypeMismatch,
                span,
                format!("`{}` works on numbers, not on `{ty}`", op.as_str()),
            )
            .label = Some(format!("`{ty}` here"));
            return;
        }
        let both_integers = lhs.0.integer_bounds().is_some() && rhs.0.integer_bounds().is_some();
        let message = if both_integers {
            format!(
                "`{}` and `{}` have no common type that holds every value of both",
                lhs.0, rhs.0
            )
        } else {
            if arithmetic {
                format!(
                    "`{}` and `{}` cannot be combined with `{}`",
                    lhs.0,
                    rhs.0,
                    op.as_str()
                )
            } else {
                format!("`{}` and `{}` cannot be compared", lhs.0, rhs.0)
            }
        };
        let diagnostic = self.error(Code::TypeMismatch, lhs.1.to(rhs.1), message);
        diagnostic.label = Some(format!("`{}` {} `{}`", lhs.0, op.as_str(), rhs.0));
        if both_integers {
            diagnostic.notes.push(format!(
                "integers widen only where no value is lost, and no integer type holds every `{}` and every `{}`",
                lhs.0, rhs.0
            ));
        }
    }

    fn membership(&mut self, value: &ast::Expr, set: &[ast::Expr]) -> Option<Typed> {
        let value = self.infer(value, None)?;
        let mut elements = Vec::new();
        for element in set {
            let typed = self.infer(element, Some(&value.ty));
            if let Some(typed) = typed.and_then(|t| self.coerce(t, &value.ty, element.span)) {
                elements.push(typed);
            }
        }
        (elements.len() == set.len()).then(|| Typed {
            ty: Type::Bool,
            kind: TypedKind::In {
                value: Box::new(value),
                set: elements,
            },
        })
    }

    fn call(
        &mut self,
        name: &ast::Ident,
        args: &[ast::Expr],
        expected: Option<&Type>,
        span: Span,
    ) -> Option<Typed> {
        let Some(function) = Function::parse(&name.text) else {
            let names = Function::ALL.iter().map(|f| f.as_str());
            let suggestion = function_synonym(&name.text)
                .map(Function::as_str)
                .or_else(|| suggest::closest(&name.text, names));
            let signatures: Vec<&str> = Function::ALL.iter().map(|f| f.signature()).collect();
            let diagnostic = self.error(
                Code::UnknownFunction,
                name.span,
                format!("unknown function `{}`", name.text),
            );
            diagnostic.label = Some("not a built-in".into());
            diagnostic.help = suggestion.map(|s| format!("did you mean `{s}`?"));
            if ["now", "today", "random", "uuid"].contains(&name.text.as_str()) {
                diagnostic.help = Some("nothing in an expression reads the clock or randomness, so applying events stays deterministic: take the value as a command parameter".into());
            }
            diagnostic
                .notes
                .push(format!("the built-ins are {}", signatures.join(", ")));
            return None;
        };
        let arity = match function {
            Function::Count | Function::Len | Function::Some => 1..=1,
            Function::Sum => 1..=2,
            Function::Append | Function::Upsert | Function::Remove | Function::Delete => 2..=2,
            Function::Insert => 3..=3,
        };
        if !arity.contains(&args.len()) {
            self.error(
                Code::TypeMismatch,
                span,
                format!(
                    "`{}` takes {} argument(s), {} given",
                    name.text,
                    arity.end(),
                    args.len()
                ),
            )
            .help = Some(format!("write `{}`", function.signature()));
            return None;
        }
        let (args, ty) = match function {
            Function::Count => {
                let list = self.infer(&args[0], None)?;
                if !matches!(list.ty, Type::Vec(_) | Type::Map(_)) {
                    self.mismatch(args[0].span, "a `Vec` or a `Map`", &list.ty);
                    return None;
                }
                (vec![list], Type::U32)
            }
            Function::Len => {
                let text = self.infer(&args[0], Some(&Type::String))?;
                let text = self.coerce(text, &Type::String, args[0].span)?;
                (vec![text], Type::U32)
            }
            Function::Some => {
                let inner = match expected {
                    Some(Type::Option(inner)) => Some(inner.as_ref()),
                    _ => None,
                };
                let value = self.infer(&args[0], inner)?;
                let value = match inner {
                    Some(inner) => self.coerce(value, inner, args[0].span)?,
                    None => value,
                };
                let ty = Type::Option(Box::new(value.ty.clone()));
                (vec![value], ty)
            }
            Function::Sum => return self.sum(args, expected, span),
            Function::Append | Function::Upsert => {
                let (list, element) = self.list(&args[0], expected)?;
                if function == Function::Upsert {
                    self.key_of(&element, args[0].span, function)?;
                }
                let value = self.infer(&args[1], Some(&element))?;
                let value = self.coerce(value, &element, args[1].span)?;
                let ty = list.ty.clone();
                (vec![list, value], ty)
            }
            Function::Remove => {
                let (list, element) = self.list(&args[0], expected)?;
                let key_ty = if element
                    .path()
                    .is_some_and(|(kind, _)| kind != TypeKind::Enum)
                {
                    self.key_of(&element, args[0].span, function)?.ty.clone()
                } else {
                    element
                };
                let key = self.infer(&args[1], Some(&key_ty))?;
                let key = self.coerce(key, &key_ty, args[1].span)?;
                let ty = list.ty.clone();
                (vec![list, key], ty)
            }
            Function::Insert | Function::Delete => {
                let map = self.infer(&args[0], expected)?;
                let Type::Map(value_ty) = map.ty.clone() else {
                    self.mismatch(args[0].span, "a `Map`", &map.ty);
                    return None;
                };
                let key = self.infer(&args[1], Some(&Type::String))?;
                let key = self.coerce(key, &Type::String, args[1].span)?;
                let mut typed = vec![map, key];
                if function == Function::Insert {
                    let value = self.infer(&args[2], Some(&value_ty))?;
                    typed.push(self.coerce(value, &value_ty, args[2].span)?);
                }
                let ty = Type::Map(value_ty);
                (typed, ty)
            }
        };
        Some(Typed {
            ty,
            kind: TypedKind::Call { function, args },
        })
    }

    /// A `Vec` argument and its element type.
    fn list(&mut self, arg: &ast::Expr, expected: Option<&Type>) -> Option<(Typed, Type)> {
        let list = self.infer(arg, expected)?;
        let Type::Vec(element) = &list.ty else {
            self.mismatch(arg.span, "a `Vec`", &list.ty);
            return None;
        };
        let element = (**element).clone();
        Some((list, element))
    }

    /// The `@key` field of the entity a list holds.
    fn key_of(&mut self, element: &Type, span: Span, function: Function) -> Option<&'e Field> {
        let record = match element {
            Type::Value(path) | Type::Entity(path) => self.env.system.record(path),
            _ => None,
        };
        let key = record.and_then(|r| r.fields.iter().find(|f| f.key));
        if key.is_none() {
            self.error(
                Code::TypeMismatch,
                span,
                format!(
                    "`{}` finds elements by their `@key`, and `{element}` has none",
                    function.as_str()
                ),
            )
            .help = Some(format!(
                "mark the field that identifies a `{element}` with `@key`"
            ));
        }
        key
    }

    /// `sum(list, EXPR)`: EXPR per element, with the element's fields in scope.
    fn sum(&mut self, args: &[ast::Expr], expected: Option<&Type>, span: Span) -> Option<Typed> {
        let (list, element) = self.list(&args[0], None)?;
        let Some(term) = args.get(1) else {
            if !element.is_numeric() {
                self.mismatch(
                    args[0].span,
                    "a list of numbers (or `sum(list, EXPR)`)",
                    &list.ty,
                );
                return None;
            }
            return Some(Typed {
                ty: element,
                kind: TypedKind::Call {
                    function: Function::Sum,
                    args: vec![list],
                },
            });
        };
        let fields: &'e [Field] = match &element {
            Type::Value(path) | Type::Entity(path) => match self.env.system.record(path) {
                Some(record) => &record.fields,
                None => &[],
            },
            _ => {
                self.mismatch(args[0].span, "a list of values or entities", &list.ty);
                return None;
            }
        };
        self.elements.push(fields);
        let term = self.infer(term, expected.map(Type::without_option));
        self.elements.pop();
        let term = term?;
        if !term.ty.is_numeric() {
            self.mismatch(span, "a number to add up", &term.ty);
            return None;
        }
        Some(Typed {
            ty: term.ty.clone(),
            kind: TypedKind::Call {
                function: Function::Sum,
                args: vec![list, term],
            },
        })
    }

    fn record(
        &mut self,
        qualifier: Option<&ast::Ident>,
        name: &ast::Ident,
        fields: &[(ast::Ident, ast::Expr)],
        span: Span,
    ) -> Option<Typed> {
        let written = match qualifier {
            Some(q) => format!("{}.{}", q.text, name.text),
            None => name.text.clone(),
        };
        let ty = match self
            .env
            .index
            .lookup(self.env.system, self.env.scope, &written)
        {
            Ok(Found { ty, .. }) => ty,
            Err(Miss::Ambiguous(places)) => {
                let location = Location::new(Some(name.span), self.env.path.clone());
                self.push(ambiguous(&written, &places, location));
                return None;
            }
            Err(_) => {
                self.error(
                    Code::UnknownType,
                    name.span,
                    format!("unknown type `{written}`"),
                )
                .label = Some("no value or entity of this name here".into());
                return None;
            }
        };
        let (Type::Value(path) | Type::Entity(path)) = &ty else {
            self.mismatch(name.span, "a value or an entity to build", &ty);
            return None;
        };
        let record = self.env.system.record(path)?;
        let mut typed = Vec::new();
        let mut ok = true;
        for (field_name, value) in fields {
            let Some(field) = record
                .fields
                .iter()
                .find(|f| f.name == field_name.text.as_str())
            else {
                let suggestion = suggest::closest(
                    &field_name.text,
                    record.fields.iter().map(|f| f.name.as_str()),
                );
                let diagnostic = self.error(
                    Code::UnknownField,
                    field_name.span,
                    format!("`{}` has no field `{}`", record.name, field_name.text),
                );
                diagnostic.help = suggestion.map(|s| format!("did you mean `{s}`?"));
                ok = false;
                continue;
            };
            if typed.iter().any(|(n, _): &(Name, Typed)| *n == field.name) {
                self.error(
                    Code::DuplicateName,
                    field_name.span,
                    format!("`{}` is given twice", field_name.text),
                );
                ok = false;
                continue;
            }
            let value = self
                .infer(value, Some(&field.ty))
                .and_then(|v| self.coerce(v, &field.ty, value.span));
            match value {
                Some(value) => typed.push((field.name.clone(), value)),
                None => ok = false,
            }
        }
        let missing: Vec<&str> = record
            .fields
            .iter()
            .filter(|f| !typed.iter().any(|(n, _)| *n == f.name))
            .map(|f| f.name.as_str())
            .collect();
        if ok && !missing.is_empty() {
            let missing_list: Vec<String> = missing.iter().map(|m| format!("`{m}`")).collect();
            self.error(
                Code::UnknownField,
                span,
                format!("`{}` needs {}", record.name, missing_list.join(", ")),
            )
            .label = Some("fields missing".into());
            return None;
        }
        if !ok {
            return None;
        }
        // In the record's order, whatever order they were written in.
        typed.sort_by_key(|(n, _)| record.fields.iter().position(|f| f.name == *n));
        Some(Typed {
            ty: ty.clone(),
            kind: TypedKind::Record {
                path: path.clone(),
                fields: typed,
            },
        })
    }

    /// `typed` where a `to` goes: as it is, widened, wrapped in `Some`, or converted record
    /// by record; anything else is a located error.
    fn coerce(&mut self, typed: Typed, to: &Type, span: Span) -> Option<Typed> {
        if typed.ty == *to {
            return Some(typed);
        }
        if let (TypedKind::Int(value), Some((min, max))) = (&typed.kind, to.integer_bounds())
            && (min..=max).contains(value)
        {
            return Some(leaf(TypedKind::Int(*value), to.clone()));
        }
        let mut converter = Converter::new(self.env.system);
        match converter.convert(&typed.ty, to) {
            Some(conversion) => Some(Typed {
                ty: to.clone(),
                kind: TypedKind::Convert {
                    value: Box::new(typed),
                    conversion,
                    records: converter.into_conversions(),
                },
            }),
            None => {
                let span = rhs_span(&typed).unwrap_or(span);
                self.mismatch(span, &format!("`{to}`"), &typed.ty);
                None
            }
        }
    }
}

fn leaf(kind: TypedKind, ty: Type) -> Typed {
    Typed { kind, ty }
}

fn node(op: BinaryOp, lhs: Typed, rhs: Typed, ty: Type) -> Typed {
    Typed {
        ty,
        kind: TypedKind::Binary {
            op,
            lhs: Box::new(lhs),
            rhs: Box::new(rhs),
        },
    }
}

/// A literal or a bare name that may be an enum variant: typed from the other side.
fn needs_context(expr: &ast::Expr) -> bool {
    matches!(expr.kind, ExprKind::Int(_) | ExprKind::None)
        || matches!(&expr.kind, ExprKind::Path(path) if path.len() == 1 && path[0].text.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// The span of a typed node's name, where one is known.
fn rhs_span(typed: &Typed) -> Option<Span> {
    match &typed.kind {
        TypedKind::Name { name, .. } | TypedKind::Variant(name) => name.span(),
        TypedKind::Field { base, .. } => rhs_span(base),
        _ => None,
    }
}

fn is_ordered(ty: &Type) -> bool {
    ty.is_numeric() || matches!(ty, Type::DateTime | Type::Date | Type::String)
}

/// The model's integer type that holds every value of both.
fn common_integer(a: &Type, b: &Type) -> Option<Type> {
    let (a_bounds, b_bounds) = (a.integer_bounds()?, b.integer_bounds()?);
    let holds = |outer: (i128, i128), inner: (i128, i128)| outer.0 <= inner.0 && inner.1 <= outer.1;
    if holds(a_bounds, b_bounds) {
        return Some(a.clone());
    }
    if holds(b_bounds, a_bounds) {
        return Some(b.clone());
    }
    [Type::I16, Type::I32, Type::I64].into_iter().find(|wide| {
        let bounds = wide.integer_bounds().unwrap_or_default();
        holds(bounds, a_bounds) && holds(bounds, b_bounds)
    })
}

/// The built-in a name from another language usually means.
fn function_synonym(name: &str) -> Option<Function> {
    Some(match name {
        "cnt" | "size" | "length_of" => Function::Count,
        "length" | "strlen" | "chars" => Function::Len,
        "total" | "add_up" => Function::Sum,
        "push" | "add" | "concat" => Function::Append,
        "replace" | "save" => Function::Upsert,
        "without" | "filter" => Function::Remove,
        "put" => Function::Insert,
        "del" | "unset" => Function::Delete,
        _ => return None,
    })
}

fn describe(scope: NameScope) -> &'static str {
    match scope {
        NameScope::Param => "command's parameter",
        NameScope::State => "state field",
        NameScope::Event => "event's field",
        NameScope::Element(_) => "element's field",
    }
}

fn list(names: &[String]) -> String {
    let quoted: Vec<String> = names.iter().map(|n| format!("`{n}`")).collect();
    if quoted.is_empty() {
        "nothing".to_owned()
    } else {
        quoted.join(", ")
    }
}
