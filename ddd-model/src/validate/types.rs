//! Rules on field types and their constraints.

use regex::RegexBuilder;

use crate::diagnostic::{Code, Diagnostic, Location};
use crate::ir::{Constraint, Field, Number, System, Type};
use crate::walk::Owner;

/// Regexes bigger than this once compiled are refused: a pattern is checked on every command.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

pub(super) fn check(system: &System, out: &mut Vec<Diagnostic>) {
    for owner in Owner::all(system) {
        let fields = owner.fields(system);
        for (i, field) in fields.iter().enumerate() {
            let path = || owner.field_path(i);
            check_nested_option(field, path, out);
            if !field.constraints.is_empty() {
                check_constraints(field, &path(), out);
            }
            if field.key {
                check_key(owner, &fields[..i], field, &path(), out);
            }
        }
    }
}

// `@key` gives an entity identity: `upsert` and `remove` find an element by it. It marks one
// field of an entity, of a type whose values compare exactly: not a float (`NaN` is not equal
// to itself), `Json`, an `Option` (`none` is no identity), a list, a map or a record.
fn check_key(owner: Owner, before: &[Field], field: &Field, path: &str, out: &mut Vec<Diagnostic>) {
    let location = |span| Location::new(span, format!("{path}.key"));
    if !matches!(owner, Owner::Entity(..)) {
        out.push(
            Diagnostic::error(
                Code::InvalidConstraint,
                "`@key` is only for an entity's fields",
            )
            .at(location(field.name.span()))
            .with_label("not in an entity")
            .with_help(
                "the key gives an entity identity: `upsert` and `remove` find elements by it",
            ),
        );
        return;
    }
    if let Some(first) = before.iter().find(|f| f.key) {
        out.push(
            Diagnostic::error(
                Code::InvalidConstraint,
                format!("`{}` is a second `@key`: an entity has one", field.name),
            )
            .at(location(field.name.span()))
            .with_label("second key")
            .with_related(first.name.span().map(Location::span), "the key")
            .with_help("keep `@key` on the one field that identifies an element"),
        );
    }
    let exact = field.ty.integer_bounds().is_some()
        || matches!(
            field.ty,
            Type::Bool
                | Type::String
                | Type::Uuid
                | Type::DateTime
                | Type::Date
                | Type::Decimal
                | Type::Id(_)
                | Type::Enum(_)
        );
    if !exact {
        let ty = &field.ty;
        out.push(
            Diagnostic::error(Code::ConstraintMismatch, format!("`@key` does not fit `{ty}`"))
                .at(location(field.ty_origin.span().or(field.name.span())))
                .with_label(format!("`{ty}` cannot identify an element"))
                .with_note("a key is compared exactly: integers, `String`, `Uuid`, dates, instants, `Decimal`, `bool`, enums and ids can be keys; floats, `Json`, `Option`, `Vec`, `Map`, values and entities cannot"),
        );
    }
}

// `Option<Option<T>>` cannot be told apart from `Option<T>` in JSON (`null` is both "none"
// and "some none"), so it is a warning.
pub(super) fn check_nested_option(
    field: &Field,
    path: impl Fn() -> String,
    out: &mut Vec<Diagnostic>,
) {
    fn nested(ty: &Type) -> bool {
        match ty {
            Type::Option(inner) => matches!(**inner, Type::Option(_)) || nested(inner),
            Type::Vec(inner) | Type::Map(inner) => nested(inner),
            _ => false,
        }
    }
    if nested(&field.ty) {
        out.push(
            Diagnostic::warning(
                Code::NestedOption,
                format!("field `{}` has an `Option` inside an `Option`", field.name),
            )
            .at(Location::new(
                field.ty_origin.span(),
                format!("{}.type", path()),
            ))
            .with_help("JSON cannot tell the two `None`s apart; use one `Option`"),
        );
    }
}

// A constraint must fit its field's type (seen through `Option`): `@len` a `String`, `Vec`
// or `Map`; `@range` a number; `@pattern` a `String`. Its argument must make sense in
// itself: bounds in order and within the type, a regex that compiles. Each kind at most once.
fn check_constraints(field: &Field, path: &str, out: &mut Vec<Diagnostic>) {
    let base = field.ty.without_option();
    for (k, constraint) in field.constraints.iter().enumerate() {
        let location = Location::new(
            constraint.origin().span(),
            format!("{path}.constraints[{k}]"),
        );
        let given_before = field.constraints[..k]
            .iter()
            .any(|c| c.keyword() == constraint.keyword());
        if given_before {
            out.push(
                Diagnostic::error(
                    Code::InvalidConstraint,
                    format!("`@{}` is given twice", constraint.keyword()),
                )
                .at(location)
                .with_help("merge the two into one"),
            );
            continue;
        }
        let diagnostic = match constraint {
            Constraint::Len { min, max, .. } => check_len(base, *min, *max, &field.ty),
            Constraint::Range { min, max, .. } => check_range(base, *min, *max, &field.ty),
            Constraint::Pattern { regex, .. } => check_pattern(base, regex, &field.ty),
        };
        if let Some(diagnostic) = diagnostic {
            out.push(diagnostic.at(location));
        }
    }
}

fn mismatch(constraint: &str, ty: &Type, fits: &str) -> Diagnostic {
    Diagnostic::error(
        Code::ConstraintMismatch,
        format!("`@{constraint}` does not fit `{ty}`"),
    )
    .with_label(format!("not for `{ty}`"))
    .with_note(format!("`@{constraint}` applies to {fits}"))
}

fn check_len(base: &Type, min: Option<u64>, max: Option<u64>, ty: &Type) -> Option<Diagnostic> {
    if !matches!(base, Type::String | Type::Vec(_) | Type::Map(_)) {
        let diagnostic = mismatch(
            "len",
            ty,
            "`String` (characters), `Vec` and `Map` (elements)",
        );
        return Some(if base.is_numeric() {
            diagnostic.with_help("for a number, bound its value with `@range(a..=b)`")
        } else {
            diagnostic
        });
    }
    match (min, max) {
        (Some(min), Some(max)) if min > max => Some(
            Diagnostic::error(
                Code::InvalidConstraint,
                format!("empty length range: {min} is more than {max}"),
            )
            .with_label("no length fits"),
        ),
        (None, None) => Some(Diagnostic::error(
            Code::InvalidConstraint,
            "`@len` needs a bound",
        )),
        _ => None,
    }
}

fn check_range(
    base: &Type,
    min: Option<Number>,
    max: Option<Number>,
    ty: &Type,
) -> Option<Diagnostic> {
    if !base.is_numeric() {
        let diagnostic = mismatch("range", ty, "numbers (integers, `f32`, `f64`, `Decimal`)");
        return Some(
            if matches!(base, Type::String | Type::Vec(_) | Type::Map(_)) {
                diagnostic.with_help("for a length, use `@len(a..=b)`")
            } else {
                diagnostic
            },
        );
    }
    if min.is_none() && max.is_none() {
        return Some(Diagnostic::error(
            Code::InvalidConstraint,
            "`@range` needs a bound",
        ));
    }
    if let Some((low, high)) = base.integer_bounds() {
        for bound in [min, max].into_iter().flatten() {
            match bound {
                Number::Float(value) => {
                    return Some(Diagnostic::error(
                        Code::InvalidConstraint,
                        format!(
                            "`{value:?}` is not a whole number, but `{base}` is an integer type"
                        ),
                    ));
                }
                Number::Int(value) if value < low || value > high => {
                    return Some(
                        Diagnostic::error(
                            Code::InvalidConstraint,
                            format!("`{value}` does not fit in `{base}`"),
                        )
                        .with_note(format!("`{base}` holds {low}..={high}")),
                    );
                }
                Number::Int(_) => {}
            }
        }
    }
    match (min, max) {
        (Some(min), Some(max)) if min.as_f64() > max.as_f64() => Some(
            Diagnostic::error(
                Code::InvalidConstraint,
                format!("empty range: {min} is more than {max}"),
            )
            .with_label("no value fits"),
        ),
        _ => None,
    }
}

fn check_pattern(base: &Type, regex: &str, ty: &Type) -> Option<Diagnostic> {
    if *base != Type::String {
        return Some(mismatch("pattern", ty, "`String`"));
    }
    let compiled = RegexBuilder::new(regex)
        .size_limit(REGEX_SIZE_LIMIT)
        .build();
    compiled.err().map(|error| {
        let reason = error.to_string();
        let last_line = reason
            .lines()
            .last()
            .unwrap_or("invalid regex")
            .trim()
            .to_owned();
        Diagnostic::error(
            Code::InvalidConstraint,
            format!("invalid regex in `@pattern`: {last_line}"),
        )
        .with_label("does not compile")
    })
}
