//! `#[derive(ValueObject)]`

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::DeriveInput;
use syn::spanned::Spanned as _;

use crate::dummy;
use crate::internals::ast::{Container, Data, Field, Style};
use crate::internals::attr::value::Ns;
use crate::internals::check;
use crate::validate;

pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    dummy::derive::<Ns>(input, check::value_object, expand, dummy::value_object)
}

fn expand(cont: &Container<'_, Ns>) -> TokenStream {
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.original.generics.split_for_impl();
    let partial_eq = partial_eq(cont);
    let eq_hash = cont.attrs.eq.as_ref().map(|_| eq_hash(cont));
    let validate = validate::impl_validate(cont);
    let newtype = newtype(cont);
    quote! {
        #partial_eq
        #eq_hash
        #validate

        #[automatically_derived]
        impl #impl_generics ::ddd_core::ValueObject for #ident #ty_generics #where_clause {}

        #newtype
    }
}

/// Bindings for the fields of one side of a comparison: `__self0`, `__other0`, ...
fn bindings(fields: &[Field<'_, Ns>], side: &str) -> Vec<syn::Ident> {
    fields
        .iter()
        .map(|field| format_ident!("__{}{}", side, field.index))
        .collect()
}

/// `a == b && ...` over the fields, each comparison spanned at its field's type so that a
/// type without `PartialEq` is reported there.
fn all_equal(fields: &[Field<'_, Ns>], left: &[TokenStream], right: &[TokenStream]) -> TokenStream {
    if fields.is_empty() {
        return quote!(true);
    }
    let comparisons = fields
        .iter()
        .zip(left.iter().zip(right))
        .map(|(field, (left, right))| {
            let span = field.ty().span();
            let (left, right) = (
                dummy::respan(left.clone(), span),
                dummy::respan(right.clone(), span),
            );
            quote_spanned!(span=> ::core::cmp::PartialEq::eq(#left, #right))
        });
    quote!(#(#comparisons)&&*)
}

fn partial_eq(cont: &Container<'_, Ns>) -> TokenStream {
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.original.generics.split_for_impl();
    let (other, body) = match &cont.data {
        Data::Struct(_, fields) => {
            let left: Vec<_> = fields
                .iter()
                .map(|field| {
                    let member = &field.member;
                    quote!(&self.#member)
                })
                .collect();
            let right: Vec<_> = fields
                .iter()
                .map(|field| {
                    let member = &field.member;
                    quote!(&other.#member)
                })
                .collect();
            let other = if fields.is_empty() {
                quote!(_other)
            } else {
                quote!(other)
            };
            (other, all_equal(fields, &left, &right))
        }
        Data::Enum(variants) => {
            let arms = variants.iter().map(|variant| {
                let variant_ident = variant.ident();
                let members: Vec<_> = variant.fields.iter().map(|field| &field.member).collect();
                let left = bindings(&variant.fields, "self");
                let right = bindings(&variant.fields, "other");
                let compared = all_equal(
                    &variant.fields,
                    &left.iter().map(|ident| quote!(#ident)).collect::<Vec<_>>(),
                    &right.iter().map(|ident| quote!(#ident)).collect::<Vec<_>>(),
                );
                quote! {
                    (Self::#variant_ident { #(#members: #left),* }, Self::#variant_ident { #(#members: #right),* }) => #compared,
                }
            });
            let rest = (variants.len() > 1).then(|| quote!(_ => false,));
            (
                quote!(other),
                quote!(match (self, other) { #(#arms)* #rest }),
            )
        }
        Data::Union => unreachable!("checked: values are structs or enums"),
    };
    quote! {
        #[automatically_derived]
        impl #impl_generics ::core::cmp::PartialEq for #ident #ty_generics #where_clause {
            fn eq(&self, #other: &Self) -> ::core::primitive::bool {
                #body
            }
        }
    }
}

/// `Eq`, and `Hash` over the same fields as `PartialEq`.
fn eq_hash(cont: &Container<'_, Ns>) -> TokenStream {
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.original.generics.split_for_impl();
    let hash = |field: &Field<'_, Ns>, value: TokenStream| {
        let span = field.ty().span();
        let value = dummy::respan(value, span);
        quote_spanned!(span=> ::core::hash::Hash::hash(#value, state);)
    };
    let (state, body) = match &cont.data {
        Data::Struct(_, fields) => {
            let hashes: Vec<_> = fields
                .iter()
                .map(|field| {
                    let member = &field.member;
                    hash(field, quote!(&self.#member))
                })
                .collect();
            let state = if fields.is_empty() {
                quote!(_state)
            } else {
                quote!(state)
            };
            (state, quote!(#(#hashes)*))
        }
        Data::Enum(variants) => {
            let arms = variants.iter().map(|variant| {
                let variant_ident = variant.ident();
                let members = variant.fields.iter().map(|field| &field.member);
                let values = bindings(&variant.fields, "self");
                let hashes = variant
                    .fields
                    .iter()
                    .zip(&values)
                    .map(|(field, value)| hash(field, quote!(#value)));
                quote! {
                    Self::#variant_ident { #(#members: #values),* } => { #(#hashes)* }
                }
            });
            let body = quote! {
                ::core::hash::Hash::hash(&::core::mem::discriminant(self), state);
                match self { #(#arms)* }
            };
            (quote!(state), body)
        }
        Data::Union => unreachable!("checked: values are structs or enums"),
    };
    quote! {
        #[automatically_derived]
        impl #impl_generics ::core::cmp::Eq for #ident #ty_generics #where_clause {}

        #[automatically_derived]
        impl #impl_generics ::core::hash::Hash for #ident #ty_generics #where_clause {
            fn hash<__H: ::core::hash::Hasher>(&self, #state: &mut __H) {
                #body
            }
        }
    }
}

/// For a newtype, `TryFrom<Inner>` that validates and `AsRef<Inner>`. A generic newtype
/// gets only `AsRef`: `TryFrom<T> for Wrapper<T>` would overlap the standard blanket impl.
fn newtype(cont: &Container<'_, Ns>) -> Option<TokenStream> {
    let Data::Struct(Style::Newtype, fields) = &cont.data else {
        return None;
    };
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.original.generics.split_for_impl();
    let inner = fields[0].ty();
    let try_from = (!cont.is_generic()).then(|| {
        quote! {
            #[automatically_derived]
            impl ::core::convert::TryFrom<#inner> for #ident {
                type Error = ::ddd_core::ValidationErrors;

                fn try_from(value: #inner) -> ::core::result::Result<Self, Self::Error> {
                    let value = Self(value);
                    match ::ddd_core::Validate::validate(&value) {
                        ::core::result::Result::Ok(()) => ::core::result::Result::Ok(value),
                        ::core::result::Result::Err(errors) => ::core::result::Result::Err(errors),
                    }
                }
            }
        }
    });
    Some(quote! {
        #try_from

        #[automatically_derived]
        impl #impl_generics ::core::convert::AsRef<#inner> for #ident #ty_generics #where_clause {
            fn as_ref(&self) -> &#inner {
                &self.0
            }
        }
    })
}
