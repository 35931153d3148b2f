//! `#[derive(DomainEvent)]`

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::DeriveInput;
use syn::ext::IdentExt as _;
use syn::spanned::Spanned as _;

use crate::dummy;
use crate::internals::ast::{Container, Data, Variant};
use crate::internals::attr::event::Ns;
use crate::internals::check;

pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    dummy::derive::<Ns>(input, check::domain_event, expand, dummy::domain_event)
}

fn expand(cont: &Container<'_, Ns>) -> TokenStream {
    match &cont.data {
        Data::Enum(variants) => expand_enum(cont, variants),
        Data::Struct(..) => expand_struct(cont),
        Data::Union => unreachable!("checked: events are structs or enums"),
    }
}

/// The default schema version of the container's events.
fn default_version(cont: &Container<'_, Ns>) -> u32 {
    cont.attrs
        .version
        .as_ref()
        .map_or(1, |version| version.value)
}

fn expand_enum(cont: &Container<'_, Ns>, variants: &[Variant<'_, Ns>]) -> TokenStream {
    let ident = cont.ident;
    let (impl_generics, ty_generics, _) = cont.original.generics.split_for_impl();
    let where_clause = serde_where_clause(cont);
    let default_version = default_version(cont);
    let idents: Vec<_> = variants.iter().map(|variant| variant.ident()).collect();
    let rust_names = variants.iter().map(Variant::name);
    let names: Vec<String> = variants.iter().map(Variant::event_type).collect();
    let versions = variants.iter().map(|variant| {
        variant
            .attrs
            .version
            .as_ref()
            .map_or(default_version, |version| version.value)
    });
    let decode_arms = variants.iter().map(|variant| {
        let name = variant.event_type();
        let version = variant
            .attrs
            .version
            .as_ref()
            .map_or(default_version, |version| version.value);
        let serde_key = variant.serde_key(cont.attrs.serde_rename_all);
        let decode = quote_spanned! {ident.span()=>
            ::core::result::Result::map(
                ::ddd_core::__private::decode_variant::<Self>(#name, #serde_key, payload),
                ::core::option::Option::Some,
            )
        };
        let body = versioned_decode(&name, version, variant.attrs.upcast.as_ref(), &decode);
        quote!(#name => { #body })
    });
    let encode = quote_spanned! {ident.span()=>
        ::ddd_core::__private::encode_variant(::ddd_core::DomainEvent::event_type(self), self)
    };
    let dispatch = cont
        .attrs
        .aggregate
        .as_ref()
        .map(|aggregate| dispatch(cont, variants, aggregate));
    quote! {
        #[automatically_derived]
        impl #impl_generics ::ddd_core::DomainEvent for #ident #ty_generics #where_clause {
            fn event_type(&self) -> &'static ::core::primitive::str {
                match self {
                    #(Self::#idents { .. } => #names,)*
                }
            }

            fn schema_version(&self) -> ::core::primitive::u32 {
                match self {
                    #(Self::#idents { .. } => #versions,)*
                }
            }

            fn event_types() -> &'static [&'static ::core::primitive::str] {
                &[#(#names),*]
            }

            fn encode(&self) -> ::core::result::Result<::ddd_core::Payload, ::ddd_core::CodecError> {
                #encode
            }

            fn decode(
                event_type: &::core::primitive::str,
                schema_version: ::core::primitive::u32,
                payload: ::ddd_core::Payload,
            ) -> ::core::result::Result<::core::option::Option<Self>, ::ddd_core::CodecError> {
                match event_type {
                    #(#decode_arms)*
                    _ => ::core::result::Result::Ok(::core::option::Option::None),
                }
            }
        }

        #[automatically_derived]
        impl #impl_generics ::ddd_core::__private::EventVariants for #ident #ty_generics #where_clause {
            fn event_type_of_variant(
                variant: &::core::primitive::str,
            ) -> ::core::option::Option<&'static ::core::primitive::str> {
                match variant {
                    #(#rust_names => ::core::option::Option::Some(#names),)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        #dispatch
    }
}

fn expand_struct(cont: &Container<'_, Ns>) -> TokenStream {
    let ident = cont.ident;
    let (impl_generics, ty_generics, _) = cont.original.generics.split_for_impl();
    let where_clause = serde_where_clause(cont);
    let name = cont
        .attrs
        .name
        .as_ref()
        .map_or_else(|| ident.unraw().to_string(), syn::LitStr::value);
    let version = default_version(cont);
    let decode = quote_spanned! {ident.span()=>
        ::core::result::Result::map(
            ::ddd_core::__private::decode_struct::<Self>(#name, payload),
            ::core::option::Option::Some,
        )
    };
    let body = versioned_decode(&name, version, cont.attrs.upcast.as_ref(), &decode);
    let encode = quote_spanned! {ident.span()=>
        ::ddd_core::__private::encode_struct(#name, self)
    };
    quote! {
        #[automatically_derived]
        impl #impl_generics ::ddd_core::DomainEvent for #ident #ty_generics #where_clause {
            fn event_type(&self) -> &'static ::core::primitive::str {
                #name
            }

            fn schema_version(&self) -> ::core::primitive::u32 {
                #version
            }

            fn event_types() -> &'static [&'static ::core::primitive::str] {
                &[#name]
            }

            fn encode(&self) -> ::core::result::Result<::ddd_core::Payload, ::ddd_core::CodecError> {
                #encode
            }

            fn decode(
                event_type: &::core::primitive::str,
                schema_version: ::core::primitive::u32,
                payload: ::ddd_core::Payload,
            ) -> ::core::result::Result<::core::option::Option<Self>, ::ddd_core::CodecError> {
                if event_type != #name {
                    return ::core::result::Result::Ok(::core::option::Option::None);
                }
                #body
            }
        }
    }
}

/// The item's where clause; a generic event also needs serde for the type as a whole (its
/// parameters' bounds alone do not say so), which a non-generic one is left to report at
/// the type.
fn serde_where_clause(cont: &Container<'_, Ns>) -> TokenStream {
    let generics = &cont.original.generics;
    let predicates = generics
        .where_clause
        .iter()
        .flat_map(|clause| &clause.predicates);
    if generics.type_params().next().is_none() {
        return generics
            .where_clause
            .as_ref()
            .map(ToTokens::to_token_stream)
            .unwrap_or_default();
    }
    quote! {
        where
            #(#predicates,)*
            Self: ::ddd_core::__private::Serialize + for<'de> ::ddd_core::__private::Deserialize<'de>,
    }
}

/// Decoding one event type at schema version `version`: refuse payloads from the future,
/// upcast older ones when there is an upcaster, then `decode`.
fn versioned_decode(
    name: &str,
    version: u32,
    upcast: Option<&syn::Path>,
    decode: &TokenStream,
) -> TokenStream {
    let upcast = upcast.map(|path| {
        let upcaster = quote_spanned! {path.span()=>
            let upcast: fn(
                ::core::primitive::u32,
                ::ddd_core::Payload,
            ) -> ::core::result::Result<::ddd_core::Payload, ::std::string::String> = #path;
        };
        quote! {
            let payload = if schema_version < #version {
                #upcaster
                match upcast(schema_version, payload) {
                    ::core::result::Result::Ok(payload) => payload,
                    ::core::result::Result::Err(message) => {
                        return ::core::result::Result::Err(::ddd_core::CodecError::Upcast {
                            event_type: ::std::string::String::from(#name),
                            from: schema_version,
                            message,
                        });
                    }
                }
            } else {
                payload
            };
        }
    });
    quote! {
        if schema_version > #version {
            return ::core::result::Result::Err(::ddd_core::CodecError::FutureVersion {
                event_type: ::std::string::String::from(#name),
                found: schema_version,
                known: #version,
            });
        }
        #upcast
        #decode
    }
}

/// `impl DispatchEvent<Aggregate>`: each variant calls `Aggregate::apply_<variant>` with its
/// fields by reference.
fn dispatch(
    cont: &Container<'_, Ns>,
    variants: &[Variant<'_, Ns>],
    aggregate: &syn::Type,
) -> TokenStream {
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.original.generics.split_for_impl();
    let arms = variants.iter().map(|variant| {
        let variant_ident = variant.ident();
        let method = syn::Ident::new(&ddd_names::applier(&variant.name()), variant.ident().span());
        let members = variant.fields.iter().map(|field| &field.member);
        let bindings: Vec<_> = variant.fields.iter().map(|field| field.binding()).collect();
        let call = quote_spanned! {variant.ident().span()=>
            <#aggregate>::#method(aggregate, #(#bindings),*)
        };
        quote! {
            Self::#variant_ident { #(#members: #bindings),* } => #call,
        }
    });
    quote! {
        #[automatically_derived]
        impl #impl_generics ::ddd_core::DispatchEvent<#aggregate> for #ident #ty_generics #where_clause {
            fn dispatch(&self, aggregate: &mut #aggregate) {
                match self {
                    #(#arms)*
                }
            }
        }
    }
}
