//! What every derive emits around its impls: the `const _` wrapper, and on errors the
//! stand-in impls that keep one mistake from turning into a cascade of "trait not
//! implemented" errors wherever the type is used.

use proc_macro2::TokenStream;
use quote::quote;
use syn::DeriveInput;

use crate::internals::ast::{Container, Data, Style};
use crate::internals::attr::{
    ConstrainedField, Namespace, aggregate, bounded_context, command, entity, event, value,
};
use crate::internals::ctxt::Ctxt;

/// Parses and checks `input`, then expands it, or, when anything was wrong, reports every
/// error together with the fallback impls.
pub(crate) fn derive<N: Namespace>(
    input: &DeriveInput,
    check: fn(&Ctxt, &Container<'_, N>),
    expand: fn(&Container<'_, N>) -> TokenStream,
    fallback: fn(&Container<'_, N>) -> TokenStream,
) -> TokenStream {
    let cx = Ctxt::new();
    let cont = Container::<N>::from_ast(&cx, input);
    check(&cx, &cont);
    match cx.check() {
        Ok(()) => wrap_in_const(expand(&cont)),
        Err(err) => {
            let mut tokens = err.into_compile_error();
            tokens.extend(wrap_in_const(fallback(&cont)));
            tokens
        }
    }
}

/// Puts generated items in an anonymous constant: their helper items and imports stay out
/// of the user's namespace.
pub(crate) fn wrap_in_const(code: TokenStream) -> TokenStream {
    if code.is_empty() {
        return code;
    }
    quote! {
        #[doc(hidden)]
        #[allow(unused_qualifications, clippy::absolute_paths)]
        const _: () = {
            #code
        };
    }
}

/// `impl Aggregate` with the types the attributes did name, stand-ins for the rest, and
/// methods that are never run.
pub(crate) fn aggregate(cont: &Container<'_, aggregate::Ns>) -> TokenStream {
    if cont.is_generic() {
        return TokenStream::new();
    }
    let ident = cont.ident;
    let name = ident.to_string();
    let attrs = &cont.attrs;
    let unnamed = quote!(::ddd_core::__private::Unnamed);
    let marked_id = cont
        .all_fields()
        .find(|field| field.attrs.id.is_some())
        .map(|field| crate::aggregate::id_type(field).0);
    let id = attrs
        .id
        .as_ref()
        .or(marked_id)
        .map_or_else(|| quote!(::std::string::String), |ty| quote!(#ty));
    let command = attrs
        .command
        .as_ref()
        .map_or_else(|| unnamed.clone(), |ty| quote!(#ty));
    let event = attrs
        .event
        .as_ref()
        .map_or_else(|| unnamed.clone(), |ty| quote!(#ty));
    let error = attrs
        .error
        .as_ref()
        .map_or_else(|| quote!(::ddd_core::Rejection), |ty| quote!(#ty));
    let services = attrs
        .services
        .as_ref()
        .map_or_else(|| quote!(()), |ty| quote!(#ty));
    quote! {
        #[automatically_derived]
        impl ::ddd_core::Aggregate for #ident {
            const TYPE: &'static ::core::primitive::str = #name;
            type Id = #id;
            type Command = #command;
            type Event = #event;
            type Error = #error;
            type Services = #services;

            fn handle(
                &self,
                _: Self::Command,
                _: &Self::Services,
            ) -> impl ::core::future::Future<
                Output = ::core::result::Result<::std::vec::Vec<Self::Event>, Self::Error>,
            > + ::core::marker::Send {
                ::core::future::pending()
            }

            fn apply(&mut self, _: &Self::Event) {}
        }
    }
}

/// `impl DomainEvent` (and the variant names and dispatch it would have had) that decodes
/// nothing.
pub(crate) fn domain_event(cont: &Container<'_, event::Ns>) -> TokenStream {
    if matches!(cont.data, Data::Union) {
        return TokenStream::new();
    }
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.original.generics.split_for_impl();
    let variants = matches!(cont.data, Data::Enum(_)).then(|| {
        quote! {
            #[automatically_derived]
            impl #impl_generics ::ddd_core::__private::EventVariants for #ident #ty_generics #where_clause {
                fn event_type_of_variant(_: &::core::primitive::str) -> ::core::option::Option<&'static ::core::primitive::str> {
                    ::core::option::Option::None
                }
            }
        }
    });
    let aggregate = cont
        .attrs
        .aggregate
        .as_ref()
        .filter(|_| matches!(cont.data, Data::Enum(_)));
    let dispatch = aggregate.map(|aggregate| {
        quote! {
            #[automatically_derived]
            impl #impl_generics ::ddd_core::DispatchEvent<#aggregate> for #ident #ty_generics #where_clause {
                fn dispatch(&self, _: &mut #aggregate) {}
            }
        }
    });
    quote! {
        #[automatically_derived]
        impl #impl_generics ::ddd_core::DomainEvent for #ident #ty_generics #where_clause {
            fn event_type(&self) -> &'static ::core::primitive::str {
                ""
            }
            fn schema_version(&self) -> ::core::primitive::u32 {
                1
            }
            fn event_types() -> &'static [&'static ::core::primitive::str] {
                &[]
            }
            fn encode(&self) -> ::core::result::Result<::ddd_core::Payload, ::ddd_core::CodecError> {
                ::core::result::Result::Ok(::ddd_core::Payload::Null)
            }
            fn decode(
                _: &::core::primitive::str,
                _: ::core::primitive::u32,
                _: ::ddd_core::Payload,
            ) -> ::core::result::Result<::core::option::Option<Self>, ::ddd_core::CodecError> {
                ::core::result::Result::Ok(::core::option::Option::None)
            }
        }
        #variants
        #dispatch
    }
}

/// `impl Command`, `impl Validate` and the dispatch, none of which does anything.
pub(crate) fn command(cont: &Container<'_, command::Ns>) -> TokenStream {
    if matches!(cont.data, Data::Union) {
        return TokenStream::new();
    }
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.original.generics.split_for_impl();
    let aggregate = cont
        .attrs
        .aggregate
        .as_ref()
        .filter(|_| matches!(cont.data, Data::Enum(_)));
    let dispatch = aggregate.map(|aggregate| {
        quote! {
            #[automatically_derived]
            impl #impl_generics ::ddd_core::DispatchCommand<#aggregate> for #ident #ty_generics #where_clause {
                fn dispatch(
                    self,
                    _: &#aggregate,
                    _: &<#aggregate as ::ddd_core::Aggregate>::Services,
                ) -> impl ::core::future::Future<
                    Output = ::core::result::Result<
                        ::std::vec::Vec<<#aggregate as ::ddd_core::Aggregate>::Event>,
                        <#aggregate as ::ddd_core::Aggregate>::Error,
                    >,
                > + ::core::marker::Send {
                    ::core::future::pending()
                }
            }
        }
    });
    let validate = validate(cont);
    quote! {
        #[automatically_derived]
        impl #impl_generics ::ddd_core::Command for #ident #ty_generics #where_clause {
            fn command_name(&self) -> &'static ::core::primitive::str {
                ""
            }
        }
        #validate
        #dispatch
    }
}

/// `impl Validate` that finds nothing wrong.
fn validate<N: Namespace<Field = ConstrainedField>>(cont: &Container<'_, N>) -> TokenStream {
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.original.generics.split_for_impl();
    quote! {
        #[automatically_derived]
        impl #impl_generics ::ddd_core::Validate for #ident #ty_generics #where_clause {
            fn validate_at(&self, _: &::ddd_core::FieldPath<'_>, _: &mut ::ddd_core::ValidationErrors) {}
        }
    }
}

/// Equality, `Validate` and `ValueObject`, plus the newtype conversions, as stand-ins.
pub(crate) fn value_object(cont: &Container<'_, value::Ns>) -> TokenStream {
    if matches!(cont.data, Data::Union) {
        return TokenStream::new();
    }
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.original.generics.split_for_impl();
    let eq = cont.attrs.eq.as_ref().map(|_| {
        quote! {
            #[automatically_derived]
            impl #impl_generics ::core::cmp::Eq for #ident #ty_generics #where_clause {}
            #[automatically_derived]
            impl #impl_generics ::core::hash::Hash for #ident #ty_generics #where_clause {
                fn hash<__H: ::core::hash::Hasher>(&self, _: &mut __H) {}
            }
        }
    });
    let newtype = match &cont.data {
        Data::Struct(Style::Newtype, fields) if !cont.is_generic() => {
            let inner = fields[0].ty();
            Some(quote! {
                #[automatically_derived]
                impl ::core::convert::TryFrom<#inner> for #ident {
                    type Error = ::ddd_core::ValidationErrors;
                    fn try_from(value: #inner) -> ::core::result::Result<Self, Self::Error> {
                        ::core::result::Result::Ok(Self(value))
                    }
                }
                #[automatically_derived]
                impl ::core::convert::AsRef<#inner> for #ident {
                    fn as_ref(&self) -> &#inner {
                        &self.0
                    }
                }
            })
        }
        _ => None,
    };
    let validate = validate(cont);
    quote! {
        #[automatically_derived]
        impl #impl_generics ::core::cmp::PartialEq for #ident #ty_generics #where_clause {
            fn eq(&self, _: &Self) -> ::core::primitive::bool {
                true
            }
        }
        #eq
        #validate
        #[automatically_derived]
        impl #impl_generics ::ddd_core::ValueObject for #ident #ty_generics #where_clause {}
        #newtype
    }
}

/// Identity, `Validate` and `Entity` as stand-ins; the id is the first field marked `id`,
/// else `()`.
pub(crate) fn entity(cont: &Container<'_, entity::Ns>) -> TokenStream {
    if matches!(cont.data, Data::Union) {
        return TokenStream::new();
    }
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.original.generics.split_for_impl();
    let marked = match &cont.data {
        Data::Struct(Style::Struct, fields) => fields.iter().find(|field| field.attrs.id.is_some()),
        _ => None,
    };
    let (id_ty, id) = match marked {
        Some(field) => {
            let (ty, member) = (field.ty(), &field.member);
            (quote!(#ty), quote!(&self.#member))
        }
        None => (quote!(()), quote!(&())),
    };
    let validate = validate(cont);
    quote! {
        #[automatically_derived]
        impl #impl_generics ::core::cmp::PartialEq for #ident #ty_generics #where_clause {
            fn eq(&self, _: &Self) -> ::core::primitive::bool {
                true
            }
        }
        #[automatically_derived]
        impl #impl_generics ::core::cmp::Eq for #ident #ty_generics #where_clause {}
        #[automatically_derived]
        impl #impl_generics ::core::hash::Hash for #ident #ty_generics #where_clause {
            fn hash<__H: ::core::hash::Hasher>(&self, _: &mut __H) {}
        }
        #validate
        #[automatically_derived]
        impl #impl_generics ::ddd_core::Entity for #ident #ty_generics #where_clause {
            type Id = #id_ty;
            fn entity_id(&self) -> &Self::Id {
                #id
            }
        }
    }
}

/// `impl BoundedContext` with empty lists.
pub(crate) fn bounded_context(cont: &Container<'_, bounded_context::Ns>) -> TokenStream {
    if cont.is_generic() || matches!(cont.data, Data::Union) {
        return TokenStream::new();
    }
    let ident = cont.ident;
    let name = ident.to_string();
    quote! {
        #[automatically_derived]
        impl ::ddd_core::BoundedContext for #ident {
            const NAME: &'static ::core::primitive::str = #name;
            fn aggregates() -> ::std::vec::Vec<::ddd_core::AggregateInfo> {
                ::std::vec::Vec::new()
            }
            fn published_events() -> ::std::vec::Vec<&'static ::core::primitive::str> {
                ::std::vec::Vec::new()
            }
            fn policies() -> ::std::vec::Vec<::ddd_core::PolicyInfo> {
                ::std::vec::Vec::new()
            }
        }
    }
}

/// `tokens` with every token at `span`, so that an error about the expression (a missing
/// trait impl, say) points at the user's field rather than at the derive.
pub(crate) fn respan(tokens: TokenStream, span: proc_macro2::Span) -> TokenStream {
    tokens
        .into_iter()
        .map(|mut token| {
            if let proc_macro2::TokenTree::Group(group) = &token {
                let mut respanned =
                    proc_macro2::Group::new(group.delimiter(), respan(group.stream(), span));
                respanned.set_span(span);
                token = respanned.into();
            } else {
                token.set_span(span);
            }
            token
        })
        .collect()
}
