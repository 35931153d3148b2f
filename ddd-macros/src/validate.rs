//! The `Validate` impl that `Command`, `ValueObject` and `Entity` share: each field's
//! constraints, then the field's own `Validate` impl if it has one.

use proc_macro2::{Literal, Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned as _;

use crate::internals::ast::{Container, Data, Field};
use crate::internals::attr::{ConstrainedField, Namespace};
use crate::internals::constraints::{self, Bound, Kind, Len, Pattern, Range};

/// `impl Validate for T`.
pub(crate) fn impl_validate<N: Namespace<Field = ConstrainedField>>(cont: &Container<'_, N>) -> TokenStream {
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
                let ident = variant.ident;
                let checked: Vec<_> = variant.fields.iter().filter(|field| field.attrs.skip.is_none()).collect();
                let members = checked.iter().map(|field| &field.member);
                let bindings: Vec<_> = checked.iter().map(|field| field.binding()).collect();
                let checks = checked.iter().zip(&bindings).map(|(field, binding)| field_checks(field, &binding.to_token_stream()));
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
            quote!(use ::ddd_core::__private::{SkipNested as _, ValidateNested as _};),
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
fn field_checks<N: Namespace<Field = ConstrainedField>>(field: &Field<'_, N>, value: &TokenStream) -> TokenStream {
    if field.attrs.skip.is_some() {
        return TokenStream::new();
    }
    let name = field.name();
    let constraints = &field.attrs.constraints;
    let len = constraints.len.as_ref().map(|len| check_len(len, value));
    let range = constraints.range.as_ref().map(|range| check_range(range, value, field.ty));
    let pattern = constraints.pattern.as_ref().map(|pattern| check_pattern(pattern, value));
    quote! {
        {
            let field_path = &::ddd_core::FieldPath::Field(path, #name);
            #len
            #range
            #pattern
            (&::ddd_core::__private::NestedField(#value)).ddd_validate_nested(field_path, errors);
        }
    }
}

/// The span of a constraint's key, so that trait-bound errors point at `len`.
fn key_span(tokens: &TokenStream) -> Span {
    tokens.clone().into_iter().next().map_or_else(Span::call_site, |token| token.span())
}

fn option<T: ToTokens>(value: Option<T>) -> TokenStream {
    match value {
        Some(value) => quote!(::core::option::Option::Some(#value)),
        None => quote!(::core::option::Option::None),
    }
}

fn check_len(len: &Len, value: &TokenStream) -> TokenStream {
    let min = option(len.min.map(Literal::usize_unsuffixed));
    let max = option(len.max.map(Literal::usize_unsuffixed));
    quote_spanned! {key_span(&len.tokens)=>
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
            lit.set_span(bound.lit.span());
            let minus = &bound.minus;
            quote!(#minus #lit)
        } else {
            bound.to_token_stream()
        }
    };
    let min = option(range.min.as_ref().map(bound));
    let max = option(range.max.as_ref().map(bound));
    quote_spanned! {key_span(&range.tokens)=>
        ::ddd_core::__private::check_range(#value, #min, #max, field_path, errors);
    }
}

fn check_pattern(pattern: &Pattern, value: &TokenStream) -> TokenStream {
    let regex = &pattern.regex;
    let check = quote_spanned! {key_span(&pattern.tokens)=>
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
