//! The item a derive is applied to, with each derive's attributes parsed. Every node keeps
//! the syn node it came from (`original`) so later errors can point at the user's tokens.

use proc_macro2::Span;
use syn::ext::IdentExt as _;
use syn::punctuated::Punctuated;
use syn::{Ident, LitStr, Member, Token, Type};

use super::attr::{Namespace, command, event};
use super::case::RenameRule;
use super::ctxt::Ctxt;

/// A struct or enum a derive is applied to.
pub(crate) struct Container<'a, N: Namespace> {
    /// The type's name.
    pub(crate) ident: &'a Ident,
    /// The derive's container attributes.
    pub(crate) attrs: N::Container,
    /// Its variants or fields.
    pub(crate) data: Data<'a, N>,
    /// The item as written.
    pub(crate) original: &'a syn::DeriveInput,
}

/// The body of a container.
pub(crate) enum Data<'a, N: Namespace> {
    Enum(Vec<Variant<'a, N>>),
    Struct(Style, Vec<Field<'a, N>>),
    /// Never derived for; kept so that the error can point at it.
    Union,
}

/// One enum variant.
pub(crate) struct Variant<'a, N: Namespace> {
    pub(crate) attrs: N::Variant,
    pub(crate) fields: Vec<Field<'a, N>>,
    pub(crate) original: &'a syn::Variant,
}

/// One field of a struct or variant.
pub(crate) struct Field<'a, N: Namespace> {
    /// `name` or `0`.
    pub(crate) member: Member,
    /// Its position among its siblings.
    pub(crate) index: usize,
    pub(crate) attrs: N::Field,
    pub(crate) original: &'a syn::Field,
}

/// The shape of a struct or variant.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Style {
    /// Named fields.
    Struct,
    /// Unnamed fields, more than one.
    Tuple,
    /// One unnamed field.
    Newtype,
    /// No fields.
    Unit,
}

impl<'a, N: Namespace> Container<'a, N> {
    /// Parses `item` and its attributes; mistakes go to `cx`.
    pub(crate) fn from_ast(cx: &Ctxt, item: &'a syn::DeriveInput) -> Self {
        let attrs = N::container(cx, item);
        let data = match &item.data {
            syn::Data::Enum(data) => Data::Enum(
                data.variants
                    .iter()
                    .map(|variant| Variant::from_ast(cx, variant))
                    .collect(),
            ),
            syn::Data::Struct(data) => {
                let (style, fields) = struct_from_ast(cx, &data.fields);
                Data::Struct(style, fields)
            }
            syn::Data::Union(_) => Data::Union,
        };
        Container {
            ident: &item.ident,
            attrs,
            data,
            original: item,
        }
    }

    /// Every field, of the struct or of all variants.
    pub(crate) fn all_fields(&self) -> Box<dyn Iterator<Item = &Field<'a, N>> + '_> {
        match &self.data {
            Data::Enum(variants) => Box::new(variants.iter().flat_map(|variant| &variant.fields)),
            Data::Struct(_, fields) => Box::new(fields.iter()),
            Data::Union => Box::new(std::iter::empty()),
        }
    }

    /// Whether the item declares generic parameters.
    pub(crate) fn is_generic(&self) -> bool {
        !self.original.generics.params.is_empty()
    }

    /// The span of `struct`, `enum` or `union`, for errors about the kind of item.
    pub(crate) fn keyword_span(&self) -> Span {
        match &self.original.data {
            syn::Data::Struct(data) => data.struct_token.span,
            syn::Data::Enum(data) => data.enum_token.span,
            syn::Data::Union(data) => data.union_token.span,
        }
    }
}

impl<'a, N: Namespace> Variant<'a, N> {
    fn from_ast(cx: &Ctxt, variant: &'a syn::Variant) -> Self {
        let (_, fields) = struct_from_ast(cx, &variant.fields);
        Variant {
            attrs: N::variant(cx, variant),
            fields,
            original: variant,
        }
    }

    /// The variant's identifier as written.
    pub(crate) fn ident(&self) -> &'a Ident {
        &self.original.ident
    }

    /// The variant's name as serde and users see it: raw identifiers lose their `r#`.
    pub(crate) fn name(&self) -> String {
        self.ident().unraw().to_string()
    }
}

impl<'a, N: Namespace> Field<'a, N> {
    /// The field's type.
    pub(crate) fn ty(&self) -> &'a Type {
        &self.original.ty
    }

    /// The field's name for paths in messages: `owner`, or `0` for a tuple field.
    pub(crate) fn name(&self) -> String {
        match &self.member {
            Member::Named(ident) => ident.unraw().to_string(),
            Member::Unnamed(index) => index.index.to_string(),
        }
    }

    /// A binding for the field in a pattern, `__field3`, that cannot clash with the
    /// parameters of generated methods.
    pub(crate) fn binding(&self) -> Ident {
        quote::format_ident!("__field{}", self.index)
    }
}

fn struct_from_ast<'a, N: Namespace>(
    cx: &Ctxt,
    fields: &'a syn::Fields,
) -> (Style, Vec<Field<'a, N>>) {
    match fields {
        syn::Fields::Named(fields) => (Style::Struct, fields_from_ast(cx, &fields.named)),
        syn::Fields::Unnamed(fields) if fields.unnamed.len() == 1 => {
            (Style::Newtype, fields_from_ast(cx, &fields.unnamed))
        }
        syn::Fields::Unnamed(fields) => (Style::Tuple, fields_from_ast(cx, &fields.unnamed)),
        syn::Fields::Unit => (Style::Unit, Vec::new()),
    }
}

fn fields_from_ast<'a, N: Namespace>(
    cx: &Ctxt,
    fields: &'a Punctuated<syn::Field, Token![,]>,
) -> Vec<Field<'a, N>> {
    fields
        .iter()
        .enumerate()
        .map(|(index, field)| Field {
            member: match &field.ident {
                Some(ident) => Member::Named(ident.clone()),
                None => Member::Unnamed(index.into()),
            },
            index,
            attrs: N::field(cx, field),
            original: field,
        })
        .collect()
}

impl Variant<'_, event::Ns> {
    /// The event's stable type name: `#[event(rename = "..")]` or the variant's name.
    pub(crate) fn event_type(&self) -> String {
        self.attrs
            .rename
            .as_ref()
            .map_or_else(|| self.name(), LitStr::value)
    }

    /// The key serde reads this variant under: its `#[serde(rename)]`, else the container's
    /// `rename_all` applied to its name.
    pub(crate) fn serde_key(&self, rename_all: Option<RenameRule>) -> String {
        match (&self.attrs.serde_rename, rename_all) {
            (Some(rename), _) => rename.clone(),
            (None, Some(rule)) => rule.apply_to_variant(&self.name()),
            (None, None) => self.name(),
        }
    }
}

impl Variant<'_, command::Ns> {
    /// The command's name: `#[command(rename = "..")]` or the variant's name.
    pub(crate) fn command_name(&self) -> String {
        self.attrs
            .rename
            .as_ref()
            .map_or_else(|| self.name(), LitStr::value)
    }
}
