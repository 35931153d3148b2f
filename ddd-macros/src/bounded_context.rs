//! `#[derive(BoundedContext)]`

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::ext::IdentExt as _;
use syn::spanned::Spanned as _;
use syn::{DeriveInput, Path};

use crate::dummy;
use crate::internals::ast::Container;
use crate::internals::attr::bounded_context::Ns;
use crate::internals::check;

pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    dummy::derive::<Ns>(
        input,
        check::bounded_context,
        expand,
        dummy::bounded_context,
    )
}

fn expand(cont: &Container<'_, Ns>) -> TokenStream {
    let ident = cont.ident;
    let attrs = &cont.attrs;
    let name = attrs
        .name
        .as_ref()
        .map_or_else(|| ident.unraw().to_string(), syn::LitStr::value);
    let aggregates = attrs
        .aggregates
        .iter()
        .map(|path| quote_spanned!(path.span()=> ::ddd_core::AggregateInfo::of::<#path>()));
    let policies = attrs
        .policies
        .iter()
        .map(|path| quote_spanned!(path.span()=> ::ddd_core::PolicyInfo::of::<#path>()));
    let variants_exist = attrs.publishes.iter().map(variant_exists);
    let published = attrs.publishes.iter().map(published_variant);
    let published_all = attrs.publishes_all.iter().map(|path| {
        quote_spanned! {path.span()=>
            events.extend_from_slice(<#path as ::ddd_core::DomainEvent>::event_types());
        }
    });
    quote! {
        #(#variants_exist)*

        #[automatically_derived]
        impl ::ddd_core::BoundedContext for #ident {
            const NAME: &'static ::core::primitive::str = #name;

            fn aggregates() -> ::std::vec::Vec<::ddd_core::AggregateInfo> {
                ::std::vec![#(#aggregates),*]
            }

            fn published_events() -> ::std::vec::Vec<&'static ::core::primitive::str> {
                let mut events = ::std::vec::Vec::new();
                #(#published)*
                #(#published_all)*
                events
            }

            fn policies() -> ::std::vec::Vec<::ddd_core::PolicyInfo> {
                ::std::vec![#(#policies),*]
            }
        }
    }
}

/// `AccountEvent::Opened` split into the event type and the variant's name.
fn split(path: &Path) -> (TokenStream, &syn::Ident) {
    let leading = &path.leading_colon;
    let segments = path.segments.iter().take(path.segments.len() - 1);
    let variant = &path.segments[path.segments.len() - 1].ident;
    (quote!(#leading #(#segments)::*), variant)
}

/// A function that is never called and only compiles if the variant exists, so a typo in
/// `publishes(...)` is an error at the typo.
fn variant_exists(path: &Path) -> TokenStream {
    let (event, _) = split(path);
    quote! {
        const _: fn(&#event) -> ::core::primitive::bool = |event| ::core::matches!(event, #path { .. });
    }
}

/// The published variant's stable name.
fn published_variant(path: &Path) -> TokenStream {
    let (event, variant) = split(path);
    let variant = variant.unraw().to_string();
    quote_spanned! {path.span()=>
        events.extend(<#event as ::ddd_core::__private::EventVariants>::event_type_of_variant(#variant));
    }
}
