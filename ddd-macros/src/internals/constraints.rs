//! `len`, `range` and `pattern`: the field constraints that `Command`, `ValueObject` and
//! `Entity` share. Parsed here, checked here against the field's type, generated in
//! `validate.rs`.
//!
//! Like the rest of `internals`, nothing here stops at the first mistake: a constraint that
//! makes no sense is reported to the [`Ctxt`] and dropped, and parsing carries on.

use proc_macro2::{Group, Span, TokenStream};
use quote::{ToTokens, quote};
use syn::meta::ParseNestedMeta;
use syn::{
    Expr, ExprLit, ExprRange, ExprUnary, Lit, LitStr, RangeLimits, Token, Type, UnOp, token,
};

use super::ctxt::Ctxt;
use super::symbol::{LEN, RANGE, Symbol};

/// The constraints on one field.
#[derive(Default)]
pub(crate) struct Constraints {
    pub(crate) len: Option<Len>,
    pub(crate) range: Option<Range>,
    pub(crate) pattern: Option<Pattern>,
}

/// `len(..)`: inclusive bounds on a length.
pub(crate) struct Len {
    /// `len(...)` as written, for errors.
    pub(crate) tokens: TokenStream,
    pub(crate) min: Option<usize>,
    pub(crate) max: Option<usize>,
}

/// `range(..)`: inclusive bounds on a number.
pub(crate) struct Range {
    /// `range(...)` as written, for errors.
    pub(crate) tokens: TokenStream,
    pub(crate) min: Option<Bound>,
    pub(crate) max: Option<Bound>,
}

/// One bound of a `range`: a number literal, maybe negated.
pub(crate) struct Bound {
    pub(crate) minus: Option<Token![-]>,
    /// The literal as written.
    pub(crate) lit: TokenStream,
    pub(crate) lit_span: Span,
    pub(crate) float: bool,
    pub(crate) suffixed: bool,
    /// The value, for comparing the bounds at compile time.
    pub(crate) value: f64,
}

/// `pattern("regex")` or `pattern = "regex"`: a regex the text must match.
pub(crate) struct Pattern {
    /// `pattern...` as written, for errors.
    pub(crate) tokens: TokenStream,
    pub(crate) regex: LitStr,
}

impl Constraints {
    /// The tokens of every constraint, for errors about the field as a whole.
    pub(crate) fn tokens(&self) -> impl Iterator<Item = &TokenStream> {
        let len = self.len.as_ref().map(|len| &len.tokens);
        let range = self.range.as_ref().map(|range| &range.tokens);
        let pattern = self.pattern.as_ref().map(|pattern| &pattern.tokens);
        len.into_iter().chain(range).chain(pattern)
    }
}

impl Bound {
    /// Whether this bound is written as an integer without a type suffix, so it may be
    /// written as a float for a float field.
    pub(crate) fn is_unsuffixed_int(&self) -> bool {
        !self.float && !self.suffixed
    }

    /// The bound as written, for messages.
    pub(crate) fn written(&self) -> String {
        let minus = if self.minus.is_some() { "-" } else { "" };
        format!("{minus}{}", self.lit)
    }

    /// Whether this bound is a float literal.
    pub(crate) fn is_float(&self) -> bool {
        self.float
    }
}

/// The tokens of a parenthesized constraint (`len(1..=3)`) and the expression inside.
fn parenthesized(
    meta: &ParseNestedMeta<'_>,
    key: Symbol,
    example: &str,
) -> syn::Result<(TokenStream, Expr)> {
    if !meta.input.peek(token::Paren) {
        return Err(meta.error(format!("expected `{key}(...)`, e.g. `{key}({example})`")));
    }
    let group: Group = meta.input.parse()?;
    let expr: Expr = syn::parse2(group.stream())?;
    let path = &meta.path;
    Ok((quote!(#path #group), expr))
}

/// Strips the invisible groups a `macro_rules!` expansion may wrap a literal in.
fn ungroup(mut expr: &Expr) -> &Expr {
    while let Expr::Group(group) = expr {
        expr = &group.expr;
    }
    expr
}

/// Splits a range expression into its bounds, rejecting `a..b` (constraints are inclusive
/// on both ends, like the messages they produce) and `..`.
fn split_range<'e>(
    cx: &Ctxt,
    key: Symbol,
    range: &'e ExprRange,
) -> Option<(Option<&'e Expr>, Option<&'e Expr>)> {
    if let (RangeLimits::HalfOpen(_), Some(end)) = (&range.limits, &range.end) {
        cx.error_spanned_by(
            range,
            format_args!(
                "`{key}` bounds are inclusive and `..` excludes `{}`: use `..=`",
                end.to_token_stream().to_string().replace(" ", "")
            ),
        );
        return None;
    }
    if range.start.is_none() && range.end.is_none() {
        cx.error_spanned_by(
            range,
            format_args!(
                "`{key}(..)` has no bound: write `{key}(1..)`, `{key}(..=10)` or `{key}(1..=10)`"
            ),
        );
        return None;
    }
    Some((range.start.as_deref(), range.end.as_deref()))
}

// #[command(len(3))]
// #[command(len(1..=100))]
// #[command(len(1..))]
// #[command(len(..=100))]
pub(crate) fn parse_len(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<Len>> {
    let (tokens, expr) = parenthesized(meta, LEN, "1..=100")?;
    let (min, max) = match ungroup(&expr) {
        Expr::Range(range) => {
            let Some((start, end)) = split_range(cx, LEN, range) else {
                return Ok(None);
            };
            let min = start.map(|start| len_bound(cx, start));
            let max = end.map(|end| len_bound(cx, end));
            if min.iter().chain(&max).any(Option::is_none) {
                return Ok(None);
            }
            (min.flatten(), max.flatten())
        }
        exact => match len_bound(cx, exact) {
            Some(exact) => (Some(exact), Some(exact)),
            None => return Ok(None),
        },
    };
    if let (Some(min), Some(max)) = (min, max)
        && min > max
    {
        cx.error_spanned_by(
            &expr,
            format_args!("`len({min}..={max})` is empty: {min} is greater than {max}"),
        );
        return Ok(None);
    }
    Ok(Some(Len { tokens, min, max }))
}

/// A `len` bound: a non-negative integer literal.
fn len_bound(cx: &Ctxt, expr: &Expr) -> Option<usize> {
    match ungroup(expr) {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => match int.base10_parse() {
            Ok(value) => Some(value),
            Err(err) => {
                cx.syn_error(err);
                None
            }
        },
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(_), ..
        }) => {
            cx.error_spanned_by(expr, "a length cannot be negative");
            None
        }
        _ => {
            cx.error_spanned_by(
                expr,
                "`len` bounds are integer literals, e.g. `len(1..=100)`",
            );
            None
        }
    }
}

// #[command(range(1..=100))]
// #[command(range(-10..))]
// #[command(range(..=0.5))]
pub(crate) fn parse_range(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<Range>> {
    let (tokens, expr) = parenthesized(meta, RANGE, "1..=100")?;
    let Expr::Range(range) = ungroup(&expr) else {
        cx.error_spanned_by(
            &expr,
            "`range` takes a range: `range(1..=10)`, `range(1..)` or `range(..=10)`",
        );
        return Ok(None);
    };
    let Some((start, end)) = split_range(cx, RANGE, range) else {
        return Ok(None);
    };
    let min = start.map(|start| range_bound(cx, start));
    let max = end.map(|end| range_bound(cx, end));
    if min.iter().chain(&max).any(Option::is_none) {
        return Ok(None);
    }
    let (min, max) = (min.flatten(), max.flatten());
    if let (Some(min), Some(max)) = (&min, &max)
        && min.value > max.value
    {
        cx.error_spanned_by(
            range,
            format_args!(
                "`range` is empty: {} is greater than {}",
                min.written(),
                max.written()
            ),
        );
        return Ok(None);
    }
    Ok(Some(Range { tokens, min, max }))
}

/// A `range` bound: an integer or float literal, maybe negated.
fn range_bound(cx: &Ctxt, expr: &Expr) -> Option<Bound> {
    let (minus, inner) = match ungroup(expr) {
        Expr::Unary(ExprUnary {
            op: UnOp::Neg(minus),
            expr,
            ..
        }) => (Some(Token![-](minus.span)), ungroup(expr)),
        other => (None, other),
    };
    let parsed = match inner {
        Expr::Lit(ExprLit {
            lit: Lit::Int(int), ..
        }) => int.base10_parse::<f64>().map(|value| {
            (
                int.to_token_stream(),
                int.span(),
                false,
                !int.suffix().is_empty(),
                value,
            )
        }),
        Expr::Lit(ExprLit {
            lit: Lit::Float(float),
            ..
        }) => float.base10_parse::<f64>().map(|value| {
            (
                float.to_token_stream(),
                float.span(),
                true,
                !float.suffix().is_empty(),
                value,
            )
        }),
        _ => {
            cx.error_spanned_by(
                expr,
                "`range` bounds are number literals, e.g. `range(1..=100)` or `range(-0.5..=0.5)`",
            );
            return None;
        }
    };
    match parsed {
        Ok((lit, lit_span, float, suffixed, value)) => Some(Bound {
            value: if minus.is_some() { -value } else { value },
            minus,
            lit,
            lit_span,
            float,
            suffixed,
        }),
        Err(err) => {
            cx.syn_error(err);
            None
        }
    }
}

// #[command(pattern("^[A-Z]{3}$"))]
// #[command(pattern = "^[A-Z]{3}$")]
pub(crate) fn parse_pattern(cx: &Ctxt, meta: &ParseNestedMeta<'_>) -> syn::Result<Option<Pattern>> {
    let path = &meta.path;
    let (tokens, regex) = if meta.input.peek(Token![=]) {
        let regex: LitStr = meta.value()?.parse()?;
        (quote!(#path = #regex), regex)
    } else if meta.input.peek(token::Paren) {
        let group: Group = meta.input.parse()?;
        let regex: LitStr = syn::parse2(group.stream())?;
        (quote!(#path #group), regex)
    } else {
        return Err(meta.error("expected `pattern(\"regex\")` or `pattern = \"regex\"`"));
    };
    if let Err(err) = regex::Regex::new(&regex.value()) {
        cx.error_spanned_by(&regex, format_args!("invalid `pattern`: {err}"));
        return Ok(None);
    }
    Ok(Some(Pattern { tokens, regex }))
}

/// What a field's type is, as far as the constraints care. Only the obvious cases are
/// known; anything else is left to the trait bounds of the generated checks.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    Int,
    Float,
    Bool,
    Char,
    Text,
    Collection,
    Other,
}

/// The kind of `ty`, looking through references, `Option` and `Box` (which the checks
/// look through too), and the name to show for it.
pub(crate) fn kind(ty: &Type) -> (Kind, String) {
    match ty {
        Type::Reference(reference) => kind(&reference.elem),
        Type::Paren(paren) => kind(&paren.elem),
        Type::Group(group) => kind(&group.elem),
        Type::Slice(_) | Type::Array(_) => (Kind::Collection, "slice".to_owned()),
        Type::Path(path) if path.qself.is_none() => {
            let Some(last) = path.path.segments.last() else {
                return (Kind::Other, String::new());
            };
            let name = last.ident.to_string();
            if matches!(name.as_str(), "Option" | "Box")
                && let syn::PathArguments::AngleBracketed(args) = &last.arguments
                && let Some(syn::GenericArgument::Type(inner)) = args.args.first()
            {
                return kind(inner);
            }
            let kind = match name.as_str() {
                "i8" | "i16" | "i32" | "i64" | "i128" | "isize" | "u8" | "u16" | "u32" | "u64"
                | "u128" | "usize" => Kind::Int,
                "f32" | "f64" => Kind::Float,
                "bool" => Kind::Bool,
                "char" => Kind::Char,
                "String" | "str" => Kind::Text,
                "Vec" | "VecDeque" | "HashMap" | "BTreeMap" | "HashSet" | "BTreeSet" => {
                    Kind::Collection
                }
                _ => Kind::Other,
            };
            (kind, name)
        }
        _ => (Kind::Other, String::new()),
    }
}

/// Reports constraints that cannot apply to a field of type `ty`: `len` on a number, `range`
/// on text, `pattern` on anything but text.
pub(crate) fn check_applicable(cx: &Ctxt, constraints: &Constraints, ty: &Type) {
    let (kind, name) = kind(ty);
    if let Some(len) = &constraints.len {
        match kind {
            Kind::Int | Kind::Float => cx.error_spanned_by(
                &len.tokens,
                format_args!("`len` constrains the length of text and collections, and `{name}` is a number: use `range`"),
            ),
            Kind::Bool | Kind::Char => cx.error_spanned_by(
                &len.tokens,
                format_args!("`len` constrains the length of text and collections, and `{name}` has none"),
            ),
            _ => {}
        }
    }
    if let Some(range) = &constraints.range {
        match kind {
            Kind::Text | Kind::Collection => cx.error_spanned_by(
                &range.tokens,
                format_args!(
                    "`range` constrains numbers, and `{name}` is not one: use `len` for its length"
                ),
            ),
            Kind::Bool | Kind::Char => cx.error_spanned_by(
                &range.tokens,
                format_args!("`range` constrains numbers, and `{name}` is not one"),
            ),
            _ => {}
        }
    }
    if let Some(pattern) = &constraints.pattern
        && !matches!(kind, Kind::Text | Kind::Other)
    {
        cx.error_spanned_by(
            &pattern.tokens,
            format_args!("`pattern` matches text, and `{name}` is not a string"),
        );
    }
}

impl ToTokens for Bound {
    fn to_tokens(&self, tokens: &mut TokenStream) {
        self.minus.to_tokens(tokens);
        self.lit.to_tokens(tokens);
    }
}
