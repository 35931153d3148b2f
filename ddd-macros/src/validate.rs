//! The `Validate` impl that `Command`, `ValueObject` and `Entity` share: each field's
//! constraints, then the field's own `Validate` impl if it has one.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};

use crate::dummy::respan;
use crate::internals::ast::{Container, Data, Field};
use crate::internals::attr::{ConstrainedField, Namespace};
use crate::internals::constraints::{self, Bound, Kind, Len, Pattern, Range};

/// `impl Validate for T`.
pub(crate) fn impl_validate<N: Namespace<Field = ConstrainedField>>(
    cont: &Container<'_, N>,
) -> TokenStream {
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.original.generics.split_for_impl();
    let checked = cont.all_fields().any(|field| field.attrs.skip.is_none());
    let body = match &cont.data {
        Data::Struct(_, fields) => fields
            .iter()
            .map(|field| {
                let member = &field.member;
                field_checks(field, &quote!(&self.#member))
            })
            .collect(),
        Data::Enum(variants) if checked => {
            let arms = variants.iter().map(|variant| {
                let ident = variant.ident();
                let checked: Vec<_> = variant
                    .fields
                    .iter()
                    .filter(|field| field.attrs.skip.is_none())
                    .collect();
                let members = checked.iter().map(|field| &field.member);
                let bindings: Vec<_> = checked.iter().map(|field| field.binding()).collect();
                let checks = checked
                    .iter()
                    .zip(&bindings)
                    .map(|(field, binding)| field_checks(field, &binding.to_token_stream()));
                quote! {
                    Self::#ident { #(#members: #bindings,)* .. } => { #(#checks)* }
                }
            });
            quote!(match self { #(#arms)* })
        }
        Data::Enum(_) | Data::Union => TokenStream::new(),
    };
    let (path, errors, imports) = if checked {
        (
            quote!(path),
            quote!(errors),
            quote!(
                use ::ddd_core::__private::{SkipNested as _, ValidateNested as _};
            ),
        )
    } else {
        (quote!(_path), quote!(_errors), TokenStream::new())
    };
    quote! {
        #[automatically_derived]
        impl #impl_generics ::ddd_core::Validate for #ident #ty_generics #where_clause {
            fn validate_at(&self, #path: &::ddd_core::FieldPath<'_>, #errors: &mut ::ddd_core::ValidationErrors) {
                #imports
                #body
            }
        }
    }
}

/// The checks of one field; `value` is an expression of type `&FieldType`.
fn field_checks<N: Namespace<Field = ConstrainedField>>(
    field: &Field<'_, N>,
    value: &TokenStream,
) -> TokenStream {
    if field.attrs.skip.is_some() {
        return TokenStream::new();
    }
    let name = field.name();
    let constraints = &field.attrs.constraints;
    let len = constraints.len.as_ref().map(|len| check_len(len, value));
    let range = constraints
        .range
        .as_ref()
        .map(|range| check_range(range, value, field.ty()));
    let pattern = constraints
        .pattern
        .as_ref()
        .map(|pattern| check_pattern(pattern, value));
    quote! {
        {
            let field_path = &::ddd_core::FieldPath::Field(path, #name);
            #len
            #range
            #pattern
            (&&::ddd_core::__private::NestedField(#value)).ddd_validate_nested(field_path, errors);
        }
    }
}

/// The span of a constraint's key, so that trait-bound errors point at `len`.
fn key_span(tokens: &TokenStream) -> Span {
    tokens
        .clone()
        .into_iter()
        .next()
        .map_or_else(Span::call_site, |token| token.span())
}

/// `Some(value)` or `None`, at the constraint's span (the literal keeps its own).
fn option<T: ToTokens>(value: Option<T>, span: Span) -> TokenStream {
    match value {
        Some(value) => quote_spanned!(span=> ::core::option::Option::Some(#value)),
        None => quote_spanned!(span=> ::core::option::Option::None),
    }
}

fn check_len(len: &Len, value: &TokenStream) -> TokenStream {
    let span = key_span(&len.tokens);
    let min = option(len.min.map(Literal::usize_unsuffixed), span);
    let max = option(len.max.map(Literal::usize_unsuffixed), span);
    let value = respan(value.clone(), span);
    quote_spanned! {span=>
        ::ddd_core::__private::check_len(#value, #min, #max, field_path, errors);
    }
}

fn check_range(range: &Range, value: &TokenStream, ty: &syn::Type) -> TokenStream {
    // `range(0..=100)` on an `f64` field: `0` is not an `f64` literal, so write it as `0.0`.
    let float = constraints::kind(ty).0 == Kind::Float
        || range.min.iter().chain(&range.max).any(Bound::is_float);
    let bound = |bound: &Bound| {
        if float && bound.is_unsuffixed_int() {
            let mut lit = Literal::f64_unsuffixed(bound.value.abs());
            lit.set_span(bound.lit_span);
            let minus = &bound.minus;
            quote!(#minus #lit)
        } else {
            bound.to_token_stream()
        }
    };
    let span = key_span(&range.tokens);
    let min = option(range.min.as_ref().map(bound), span);
    let max = option(range.max.as_ref().map(bound), span);
    let value = respan(value.clone(), span);
    quote_spanned! {span=>
        ::ddd_core::__private::check_range(#value, #min, #max, field_path, errors);
    }
}

fn check_pattern(pattern: &Pattern, value: &TokenStream) -> TokenStream {
    let regex = &pattern.regex;
    let span = key_span(&pattern.tokens);
    let value = respan(value.clone(), span);
    let check = quote_spanned! {span=>
        ::ddd_core::__private::check_pattern(#value, &PATTERN, field_path, errors);
    };
    quote! {
        {
            static PATTERN: ::ddd_core::__private::LazyLock<::ddd_core::__private::Regex> =
                ::ddd_core::__private::LazyLock::new(|| ::ddd_core::__private::compile_pattern(#regex));
            #check
        }
    }
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;
    use crate::internals::attr::command;
    use crate::internals::ctxt::Ctxt;

    fn expand(input: &syn::DeriveInput) -> String {
        let cx = Ctxt::new();
        let cont = Container::<command::Ns>::from_ast(&cx, input);
        cx.check().unwrap();
        impl_validate(&cont).to_string()
    }

    #[test]
    fn checks_each_constraint_then_the_nested_value() {
        let input = parse_quote! {
            struct Deposit {
                #[command(len(1..=3))] memo: String,
                #[command(range(0..))] ratio: f64,
                #[command(skip)] raw: Vec<u8>,
            }
        };
        let expected = quote! {
            #[automatically_derived]
            impl ::ddd_core::Validate for Deposit {
                fn validate_at(&self, path: &::ddd_core::FieldPath<'_>, errors: &mut ::ddd_core::ValidationErrors) {
                    use ::ddd_core::__private::{SkipNested as _, ValidateNested as _};
                    {
                        let field_path = &::ddd_core::FieldPath::Field(path, "memo");
                        ::ddd_core::__private::check_len(&self.memo, ::core::option::Option::Some(1), ::core::option::Option::Some(3), field_path, errors);
                        (&&::ddd_core::__private::NestedField(&self.memo)).ddd_validate_nested(field_path, errors);
                    }
                    {
                        let field_path = &::ddd_core::FieldPath::Field(path, "ratio");
                        ::ddd_core::__private::check_range(&self.ratio, ::core::option::Option::Some(0.0), ::core::option::Option::None, field_path, errors);
                        (&&::ddd_core::__private::NestedField(&self.ratio)).ddd_validate_nested(field_path, errors);
                    }
                }
            }
        };
        assert_eq!(expand(&input), expected.to_string());
    }

    #[test]
    fn a_type_without_checked_fields_ignores_its_parameters() {
        let input = parse_quote! {
            enum Signal { Start, Stop(#[command(skip)] u8) }
        };
        let expanded = expand(&input);
        assert!(expanded.contains("_path"), "{expanded}");
        assert!(!expanded.contains("match"), "{expanded}");
    }
}
