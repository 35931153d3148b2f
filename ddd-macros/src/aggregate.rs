//! `#[derive(Aggregate)]`

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::DeriveInput;
use syn::ext::IdentExt as _;
use syn::spanned::Spanned as _;

use crate::dummy;
use crate::internals::ast::{Container, Field};
use crate::internals::attr::aggregate::Ns;
use crate::internals::check;

pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    dummy::derive::<Ns>(input, check::aggregate, expand, dummy::aggregate)
}

fn expand(cont: &Container<'_, Ns>) -> TokenStream {
    let ident = cont.ident;
    let attrs = &cont.attrs;
    let name = attrs.name.as_ref().map_or_else(|| ident.unraw().to_string(), syn::LitStr::value);
    let id_field = cont.all_fields().find(|field| field.attrs.id.is_some());
    let version_field = cont.all_fields().find(|field| field.attrs.version.is_some());
    let (Some(command), Some(event), Some(id)) = (&attrs.command, &attrs.event, attrs.id.as_ref().or(id_field.map(|field| field.ty)))
    else {
        unreachable!("checked: an aggregate names its command, event and id types");
    };
    let error = attrs.error.as_ref().map_or_else(|| quote!(::ddd_core::Rejection), |ty| quote!(#ty));
    let services = attrs.services.as_ref().map_or_else(|| quote!(()), |ty| quote!(#ty));
    let snapshot_version = attrs.snapshot_version.as_ref().map(|version| {
        let version = version.value;
        quote!(const SNAPSHOT_VERSION: ::core::primitive::u32 = #version;)
    });
    let handle = handle(cont, command);
    let apply = apply(cont, event);
    let set_id = id_field.map(set_id);
    let set_version = version_field.map(set_version);
    let same_id = match (&attrs.id, id_field) {
        (Some(id), Some(field)) => {
            let field_ty = field.ty;
            Some(quote_spanned! {field_ty.span()=>
                const _: () = ::ddd_core::__private::assert_id_field::<#field_ty, #id>();
            })
        }
        _ => None,
    };
    quote! {
        #same_id

        #[automatically_derived]
        impl ::ddd_core::Aggregate for #ident {
            const TYPE: &'static ::core::primitive::str = #name;
            #snapshot_version
            type Id = #id;
            type Command = #command;
            type Event = #event;
            type Error = #error;
            type Services = #services;

            fn handle(
                &self,
                command: Self::Command,
                services: &Self::Services,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<::std::vec::Vec<Self::Event>, Self::Error>,
            > + ::core::marker::Send {
                #handle
            }

            fn apply(&mut self, event: &Self::Event) {
                #apply
            }

            #set_id
            #set_version
        }
    }
}

/// The body of `handle`: the `handle = path` function, whose result is ready at once, or the
/// command type's per-variant dispatch.
fn handle(cont: &Container<'_, Ns>, command: &syn::Type) -> TokenStream {
    match &cont.attrs.handle {
        Some(path) => quote_spanned! {path.span()=>
            let decided: ::core::result::Result<::std::vec::Vec<Self::Event>, Self::Error> =
                match #path(self, command, services) {
                    ::core::result::Result::Ok(events) => {
                        ::core::result::Result::Ok(::ddd_core::IntoEvents::into_events(events))
                    }
                    ::core::result::Result::Err(error) => {
                        ::core::result::Result::Err(::core::convert::Into::into(error))
                    }
                };
            ::core::future::ready(decided)
        },
        None => quote_spanned! {command.span()=>
            <#command as ::ddd_core::DispatchCommand<Self>>::dispatch(command, self, services)
        },
    }
}

/// The body of `apply`: the `apply = path` function or the event type's per-variant
/// dispatch.
fn apply(cont: &Container<'_, Ns>, event: &syn::Type) -> TokenStream {
    match &cont.attrs.apply {
        Some(path) => quote_spanned! {path.span()=>
            #path(self, event);
        },
        None => quote_spanned! {event.span()=>
            <#event as ::ddd_core::DispatchEvent<Self>>::dispatch(event, self);
        },
    }
}

fn set_id(field: &Field<'_, Ns>) -> TokenStream {
    let member = &field.member;
    let assign = quote_spanned! {field.ty.span()=>
        self.#member = ::core::clone::Clone::clone(id);
    };
    quote! {
        fn set_id(&mut self, id: &Self::Id) {
            #assign
        }
    }
}

fn set_version(field: &Field<'_, Ns>) -> TokenStream {
    let member = &field.member;
    let assign = quote_spanned! {field.ty.span()=>
        self.#member = version;
    };
    quote! {
        fn set_version(&mut self, version: ::ddd_core::Version) {
            #assign
        }
    }
}
