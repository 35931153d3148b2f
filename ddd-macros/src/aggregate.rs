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
    let name = attrs
        .name
        .as_ref()
        .map_or_else(|| ident.unraw().to_string(), syn::LitStr::value);
    let id_field = cont.all_fields().find(|field| field.attrs.id.is_some());
    let version_field = cont
        .all_fields()
        .find(|field| field.attrs.version.is_some());
    let field_id = id_field.map(|field| id_type(field).0);
    let (Some(command), Some(event), Some(id)) =
        (&attrs.command, &attrs.event, attrs.id.as_ref().or(field_id))
    else {
        unreachable!("checked: an aggregate names its command, event and id types");
    };
    let error = attrs
        .error
        .as_ref()
        .map_or_else(|| quote!(::ddd_core::Rejection), |ty| quote!(#ty));
    let services = attrs
        .services
        .as_ref()
        .map_or_else(|| quote!(()), |ty| quote!(#ty));
    let snapshot_version = attrs.snapshot_version.as_ref().map(|version| {
        let version = version.value;
        quote!(const SNAPSHOT_VERSION: ::core::primitive::u32 = #version;)
    });
    let handle = handle(cont, command);
    let apply = apply(cont, event);
    let set_id = id_field.map(|field| set_id(field, attrs.id.is_some()));
    let set_version = version_field.map(set_version);
    quote! {
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
                        ::core::result::Result::Ok(
                            <_ as ::ddd_core::IntoEvents<Self::Event>>::into_events(events),
                        )
                    }
                    ::core::result::Result::Err(error) => {
                        ::core::result::Result::Err(<_ as ::core::convert::Into<Self::Error>>::into(error))
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

/// The id type an `#[aggregate(id)]` field holds, and whether the field is an `Option` of
/// it (ids rarely have a `Default`, which the aggregate's state needs).
pub(crate) fn id_type<'a>(field: &Field<'a, Ns>) -> (&'a syn::Type, bool) {
    match option_inner(field.ty()) {
        Some(inner) => (inner, true),
        None => (field.ty(), false),
    }
}

/// `T` when `ty` is written `Option<T>`.
fn option_inner(ty: &syn::Type) -> Option<&syn::Type> {
    let syn::Type::Path(path) = ty else {
        return None;
    };
    let last = path.path.segments.last()?;
    let syn::PathArguments::AngleBracketed(args) = &last.arguments else {
        return None;
    };
    match args.args.first() {
        Some(syn::GenericArgument::Type(inner))
            if last.ident == "Option" && args.args.len() == 1 =>
        {
            Some(inner)
        }
        _ => None,
    }
}

/// `set_id`, storing a clone of the id in the field. When the attribute names the id type
/// too, the clone goes through `SameIdType`, which asserts that the two types agree and
/// says so at the field when they do not.
fn set_id(field: &Field<'_, Ns>, named: bool) -> TokenStream {
    let member = &field.member;
    let (field_ty, optional) = id_type(field);
    let clone = if named {
        quote_spanned!(field_ty.span()=> <#field_ty as ::ddd_core::__private::SameIdType<Self::Id>>::clone_id(id))
    } else {
        quote_spanned!(field_ty.span()=> ::core::clone::Clone::clone(id))
    };
    let value = if optional {
        quote!(::core::option::Option::Some(#clone))
    } else {
        clone
    };
    quote! {
        fn set_id(&mut self, id: &Self::Id) {
            self.#member = #value;
        }
    }
}

fn set_version(field: &Field<'_, Ns>) -> TokenStream {
    let member = &field.member;
    let assign = quote_spanned! {field.ty().span()=>
        self.#member = version;
    };
    quote! {
        fn set_version(&mut self, version: ::ddd_core::Version) {
            #assign
        }
    }
}
