//! `#[derive(Entity)]`

use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::DeriveInput;
use syn::spanned::Spanned as _;

use crate::dummy;
use crate::internals::ast::Container;
use crate::internals::attr::entity::Ns;
use crate::internals::check;
use crate::validate;

pub(crate) fn derive(input: &DeriveInput) -> TokenStream {
    dummy::derive::<Ns>(input, check::entity, expand, dummy::entity)
}

fn expand(cont: &Container<'_, Ns>) -> TokenStream {
    let ident = cont.ident;
    let (impl_generics, ty_generics, where_clause) = cont.original.generics.split_for_impl();
    let Some(id) = cont.all_fields().find(|field| field.attrs.id.is_some()) else {
        unreachable!("checked: an entity has one id field");
    };
    let (member, id_ty) = (&id.member, id.ty());
    let eq =
        quote_spanned!(id_ty.span()=> ::core::cmp::PartialEq::eq(&self.#member, &other.#member));
    let hash = quote_spanned!(id_ty.span()=> ::core::hash::Hash::hash(&self.#member, state));
    let validate = validate::impl_validate(cont);
    quote! {
        #[automatically_derived]
        impl #impl_generics ::core::cmp::PartialEq for #ident #ty_generics #where_clause {
            fn eq(&self, other: &Self) -> ::core::primitive::bool {
                #eq
            }
        }

        #[automatically_derived]
        impl #impl_generics ::core::cmp::Eq for #ident #ty_generics #where_clause {}

        #[automatically_derived]
        impl #impl_generics ::core::hash::Hash for #ident #ty_generics #where_clause {
            fn hash<__H: ::core::hash::Hasher>(&self, state: &mut __H) {
                #hash
            }
        }

        #validate

        #[automatically_derived]
        impl #impl_generics ::ddd_core::Entity for #ident #ty_generics #where_clause {
            type Id = #id_ty;

            fn entity_id(&self) -> &Self::Id {
                &self.#member
            }
        }
    }
}
