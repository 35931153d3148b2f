//! `#[derive(Command)]`

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::DeriveInput;
use syn::ext::IdentExt as _;

use crate::dummy;
use crate::internals::ast::{Container, Data, Variant};
use crate::internals::attr::command::Ns;
use crate::internals::check;
use crate::validate;

pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    dummy::derive::<Ns>(input, check::command, expand, dummy::command)
}

fn expand(cont: &Container<'_, Ns>) -> TokenStream {
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.original.generics.split_for_impl();
    let command_name = match &cont.data {
        Data::Enum(variants) => {
            let idents = variants.iter().map(|variant| variant.ident());
            let names = variants.iter().map(Variant::command_name);
            quote!(match self { #(Self::#idents { .. } => #names,)* })
        }
        _ => {
            let name = cont
                .attrs
                .name
                .as_ref()
                .map_or_else(|| ident.unraw().to_string(), syn::LitStr::value);
            quote!(#name)
        }
    };
    let validate = validate::impl_validate(cont);
    let dispatch = match (&cont.data, &cont.attrs.aggregate) {
        (Data::Enum(variants), Some(aggregate)) => Some(dispatch(cont, variants, aggregate)),
        _ => None,
    };
    quote! {
        #[automatically_derived]
        impl #impl_generics ::ddd_core::Command for #ident #ty_generics #where_clause {
            fn command_name(&self) -> &'static ::core::primitive::str {
                #command_name
            }

            fn validate(&self) -> ::core::result::Result<(), ::ddd_core::ValidationErrors> {
                ::ddd_core::Validate::validate(self)
            }
        }

        #validate
        #dispatch
    }
}

/// `impl DispatchCommand<Aggregate>`: each variant calls `Aggregate::handle_<variant>` with
/// its fields by value (and the services, with `services`), awaiting it with `async`.
fn dispatch(
    cont: &Container<'_, Ns>,
    variants: &[Variant<'_, Ns>],
    aggregate: &syn::Type,
) -> TokenStream {
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.original.generics.split_for_impl();
    let attrs = &cont.attrs;
    let services = attrs.services.as_ref().map(|_| quote!(services));
    let asyncness = attrs.asyncness.is_some();
    let arms = variants.iter().map(|variant| {
        let variant_ident = variant.ident();
        let method = syn::Ident::new(&ddd_names::handler(&variant.name()), variant.ident().span());
        let members = variant.fields.iter().map(|field| &field.member);
        let bindings: Vec<_> = variant.fields.iter().map(|field| field.binding()).collect();
        let services = services.iter();
        let wait = asyncness.then(|| quote!(.await));
        let call = quote_spanned! {variant.ident().span()=>
            match <#aggregate>::#method(aggregate, #(#bindings,)* #(#services)*) #wait {
                ::core::result::Result::Ok(events) => {
                    ::core::result::Result::Ok(
                        <_ as ::ddd_core::IntoEvents<<#aggregate as ::ddd_core::Aggregate>::Event>>::into_events(events),
                    )
                }
                ::core::result::Result::Err(error) => {
                    ::core::result::Result::Err(
                        <_ as ::core::convert::Into<<#aggregate as ::ddd_core::Aggregate>::Error>>::into(error),
                    )
                }
            }
        };
        quote! {
            Self::#variant_ident { #(#members: #bindings),* } => #call,
        }
    });
    let decide = quote! {
        let decided: ::core::result::Result<
            ::std::vec::Vec<<#aggregate as ::ddd_core::Aggregate>::Event>,
            <#aggregate as ::ddd_core::Aggregate>::Error,
        > = match self {
            #(#arms)*
        };
    };
    let body = if asyncness {
        quote!(async move { #decide decided })
    } else {
        quote!(#decide ::core::future::ready(decided))
    };
    let services_param = if services.is_some() {
        quote!(services)
    } else {
        quote!(_services)
    };
    quote! {
        #[automatically_derived]
        impl #impl_generics ::ddd_core::DispatchCommand<#aggregate> for #ident #ty_generics #where_clause {
            fn dispatch(
                self,
                aggregate: &#aggregate,
                #services_param: &<#aggregate as ::ddd_core::Aggregate>::Services,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<
                    ::std::vec::Vec<<#aggregate as ::ddd_core::Aggregate>::Event>,
                    <#aggregate as ::ddd_core::Aggregate>::Error,
                >,
            > + ::core::marker::Send {
                #body
            }
        }
    }
}
