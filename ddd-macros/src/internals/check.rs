//! Rules that span more than one attribute, or an attribute and the item's shape. Each
//! derive's entry point below is a list of named checks; every check reports to the
//! [`Ctxt`] and returns nothing, so all broken rules are reported together.

use std::collections::HashMap;

use quote::ToTokens;
use syn::{LitStr, Path};

use super::ast::{Container, Data, Field, Style};
use super::attr::{
    ConstrainedField, Namespace, aggregate, bounded_context, command, entity, event, value,
};
use super::constraints;
use super::ctxt::Ctxt;

/// `#[derive(Aggregate)]`
pub(crate) fn aggregate(cx: &Ctxt, cont: &Container<'_, aggregate::Ns>) {
    check_named_struct(cx, cont, "Aggregate", true);
    check_not_generic(cx, cont, "Aggregate");
    check_aggregate_types(cx, cont);
    check_aggregate_id(cx, cont);
    check_single_marked_field(cx, cont, "version", |field| field.attrs.version.as_ref());
    check_id_is_not_version(cx, cont);
    if let Some(name) = &cont.attrs.name {
        check_stable_name(cx, name, &['/']);
    }
    if let Some(version) = &cont.attrs.snapshot_version {
        check_version(cx, version, "snapshot_version");
    }
}

/// `#[derive(DomainEvent)]`
pub(crate) fn domain_event(cx: &Ctxt, cont: &Container<'_, event::Ns>) {
    check_struct_or_enum(cx, cont, "DomainEvent");
    check_event_container_keys(cx, cont);
    check_serde_representation(cx, cont);
    check_event_names(cx, cont);
    check_event_versions(cx, cont);
}

/// `#[derive(Command)]`
pub(crate) fn command(cx: &Ctxt, cont: &Container<'_, command::Ns>) {
    check_struct_or_enum(cx, cont, "Command");
    check_command_container_keys(cx, cont);
    check_command_names(cx, cont);
    check_constrained_fields(cx, cont);
}

/// `#[derive(ValueObject)]`
pub(crate) fn value_object(cx: &Ctxt, cont: &Container<'_, value::Ns>) {
    check_struct_or_enum(cx, cont, "ValueObject");
    check_constrained_fields(cx, cont);
}

/// `#[derive(Entity)]`
pub(crate) fn entity(cx: &Ctxt, cont: &Container<'_, entity::Ns>) {
    check_named_struct(cx, cont, "Entity", false);
    check_entity_id(cx, cont);
    check_constrained_fields(cx, cont);
}

/// `#[derive(BoundedContext)]`
pub(crate) fn bounded_context(cx: &Ctxt, cont: &Container<'_, bounded_context::Ns>) {
    if !matches!(cont.data, Data::Struct(..)) {
        cx.error_at(
            cont.keyword_span(),
            "`BoundedContext` can only be derived for a struct, usually a unit struct",
        );
    }
    check_not_generic(cx, cont, "BoundedContext");
    if let Some(name) = &cont.attrs.name {
        check_stable_name(cx, name, &[]);
    }
    check_published_variants(cx, cont);
    check_context_lists(cx, cont);
}

// Aggregates and entities are records: a struct with named fields (or, for aggregates, no
// fields at all). An enum aggregate would need every command handler to match on its
// state, and a tuple struct gives `#[aggregate(id)]` nothing to name.
//
//     #[derive(Aggregate)]
//     enum Account { Open { .. }, Closed }   // error
fn check_named_struct<N: Namespace>(
    cx: &Ctxt,
    cont: &Container<'_, N>,
    derive: &str,
    unit_ok: bool,
) {
    let fits = match &cont.data {
        Data::Struct(Style::Struct, _) => true,
        Data::Struct(Style::Unit, _) => unit_ok,
        _ => false,
    };
    if !fits {
        let or_unit = if unit_ok { " or a unit struct" } else { "" };
        cx.error_at(
            cont.keyword_span(),
            format_args!("`{derive}` can only be derived for a struct with named fields{or_unit}"),
        );
    }
}

// Events, commands and values are structs (one of them) or enums (one per variant); a union
// has no safe way to know which field is set, and an enum without variants has no values.
//
//     #[derive(DomainEvent)]
//     enum AccountEvent {}   // error
fn check_struct_or_enum<N: Namespace>(cx: &Ctxt, cont: &Container<'_, N>, derive: &str) {
    match &cont.data {
        Data::Union => cx.error_at(
            cont.keyword_span(),
            format_args!("`{derive}` cannot be derived for a union"),
        ),
        Data::Enum(variants) if variants.is_empty() => cx.error_spanned_by(
            cont.ident,
            format_args!(
                "`{derive}` needs at least one variant: an enum without variants has no values"
            ),
        ),
        _ => {}
    }
}

// The runtime names aggregates and contexts by one Rust type each; a generic one would be
// a family of aggregates sharing one stable name.
//
//     #[derive(Aggregate)]
//     struct Account<T> { .. }   // error
fn check_not_generic<N: Namespace>(cx: &Ctxt, cont: &Container<'_, N>, derive: &str) {
    if cont.is_generic() {
        cx.error_spanned_by(
            &cont.original.generics,
            format_args!("`{derive}` cannot be derived for a generic type: its stable name must name one type"),
        );
    }
}

// An aggregate names the commands it decides and the events it records; there is no
// sensible default for either.
//
//     #[derive(Aggregate)]
//     #[aggregate(id = AccountId, event = AccountEvent)]   // error: no `command = ..`
fn check_aggregate_types(cx: &Ctxt, cont: &Container<'_, aggregate::Ns>) {
    let attrs = &cont.attrs;
    if attrs.command.is_none() {
        cx.error_spanned_by(
            cont.ident,
            "missing `command = ...`: name the command type with `#[aggregate(command = AccountCommand)]`",
        );
    }
    if attrs.event.is_none() {
        cx.error_spanned_by(
            cont.ident,
            "missing `event = ...`: name the event type with `#[aggregate(event = AccountEvent)]`",
        );
    }
}

// The aggregate's id type comes from `id = Type` or from the one field marked `id`. When
// both are given their types must agree, which the expansion asserts.
//
//     #[derive(Aggregate)]
//     #[aggregate(command = C, event = E)]
//     struct Account { balance: i64 }   // error: no id
fn check_aggregate_id(cx: &Ctxt, cont: &Container<'_, aggregate::Ns>) {
    let marked = check_single_marked_field(cx, cont, "id", |field| field.attrs.id.as_ref());
    if cont.attrs.id.is_none() && marked == 0 {
        cx.error_spanned_by(
            cont.ident,
            "an aggregate needs an id: add `#[aggregate(id = AccountId)]` or mark a field `#[aggregate(id)]`",
        );
    }
}

// `set_id` and `set_version` assign one field each; a second marked field would be left
// behind silently. Reports every extra field and returns how many are marked.
//
//     #[aggregate(id)] id: AccountId,
//     #[aggregate(id)] other: AccountId,   // error
fn check_single_marked_field<'f, N: Namespace>(
    cx: &Ctxt,
    cont: &'f Container<'_, N>,
    key: &str,
    marked: impl Fn(&'f Field<'_, N>) -> Option<&'f proc_macro2::TokenStream>,
) -> usize {
    let mut count = 0;
    for tokens in cont.all_fields().filter_map(marked) {
        count += 1;
        if count > 1 {
            cx.error_spanned_by(tokens, format_args!("only one field can be marked `{key}`"));
        }
    }
    count
}

// The id and the version are different things; one field cannot hold both.
//
//     #[aggregate(id, version)] key: u64,   // error
fn check_id_is_not_version(cx: &Ctxt, cont: &Container<'_, aggregate::Ns>) {
    for field in cont.all_fields() {
        if let (Some(_), Some(version)) = (&field.attrs.id, &field.attrs.version) {
            cx.error_spanned_by(
                version,
                "a field cannot be both the aggregate's `id` and its `version`",
            );
        }
    }
}

// Stable names end up in stored events and in message subjects such as
// `bank.banking.MoneyDeposited`, where whitespace, `.`, `*` and `>` have meanings of their
// own; aggregate names also appear in stream ids, which use `/`.
//
//     #[event(rename = "money deposited")]   // error
fn check_stable_name(cx: &Ctxt, name: &LitStr, also_forbidden: &[char]) {
    let value = name.value();
    if value.is_empty() {
        cx.error_spanned_by(name, "a stable name cannot be empty");
        return;
    }
    let forbidden = |ch: char| {
        ch.is_whitespace() || matches!(ch, '.' | '*' | '>') || also_forbidden.contains(&ch)
    };
    if let Some(ch) = value.chars().find(|&ch| forbidden(ch)) {
        let what = if ch.is_whitespace() {
            "whitespace".to_owned()
        } else {
            format!("`{ch}`")
        };
        cx.error_spanned_by(
            name,
            format_args!("`{value}` cannot be a stable name: it contains {what}, which message subjects and stream ids reserve"),
        );
    }
}

// Versions count from 1; 0 would read as "no version".
//
//     #[event(version = 0)]   // error
fn check_version(cx: &Ctxt, version: &super::attr::Spanned<u32>, key: &str) {
    if version.value == 0 {
        cx.error_spanned_by(&version.tokens, format_args!("`{key}` starts at 1"));
    }
}

// An event enum names its variants with `rename`, and a struct event names itself with
// `name`; upcasters belong to the variant whose schema changed. Dispatch to `apply_<variant>`
// methods needs variants.
//
//     #[derive(DomainEvent)]
//     #[event(name = "Events")]
//     enum AccountEvent { .. }   // error: use `rename` on variants
fn check_event_container_keys(cx: &Ctxt, cont: &Container<'_, event::Ns>) {
    let attrs = &cont.attrs;
    match &cont.data {
        Data::Enum(_) => {
            if let Some(name) = &attrs.name {
                cx.error_spanned_by(name, "`name` names a struct event; name enum variants with `#[event(rename = \"...\")]`");
            }
            if let Some(upcast) = &attrs.upcast {
                cx.error_spanned_by(upcast, "put `upcast` on the variant whose schema changed");
            }
        }
        Data::Struct(..) => {
            if let Some(aggregate) = &attrs.aggregate {
                cx.error_spanned_by(
                    aggregate,
                    "`aggregate` dispatches each variant to an `apply_<variant>` method and needs an enum; \
                     for a struct event use `#[aggregate(apply = ...)]`",
                );
            }
        }
        Data::Union => {}
    }
}

// The codec stores a variant's fields without serde's tag and puts the tag back on decode,
// which only works with serde's default, externally tagged representation.
//
//     #[derive(Serialize, Deserialize, DomainEvent)]
//     #[serde(tag = "type")]   // error
//     enum AccountEvent { .. }
fn check_serde_representation(cx: &Ctxt, cont: &Container<'_, event::Ns>) {
    let Data::Enum(variants) = &cont.data else {
        return;
    };
    for tokens in &cont.attrs.serde_representation {
        cx.error_spanned_by(
            tokens,
            "`DomainEvent` needs serde's default, externally tagged enum representation: remove this",
        );
    }
    for tokens in variants
        .iter()
        .filter_map(|variant| variant.attrs.serde_untagged.as_ref())
    {
        cx.error_spanned_by(
            tokens,
            "`DomainEvent` cannot decode an untagged variant: remove this",
        );
    }
}

// Each variant is its own event type with a stable name, which must be valid and unique
// within the enum: the name is all a stored event has to say which variant it is.
//
//     Opened { .. },
//     #[event(rename = "Opened")] Reopened { .. },   // error
fn check_event_names(cx: &Ctxt, cont: &Container<'_, event::Ns>) {
    match &cont.data {
        Data::Enum(variants) => {
            let mut seen = HashMap::new();
            for variant in variants {
                if let Some(rename) = &variant.attrs.rename {
                    check_stable_name(cx, rename, &[]);
                }
                let name = variant.event_type();
                if let Some(first) = seen.insert(name.clone(), variant.ident()) {
                    let at = variant.attrs.rename.as_ref().map_or_else(
                        || variant.ident().to_token_stream(),
                        ToTokens::to_token_stream,
                    );
                    cx.error_spanned_by(
                        at,
                        format_args!("the event name `{name}` is taken: variant `{first}` has it"),
                    );
                }
            }
        }
        Data::Struct(..) => {
            if let Some(name) = &cont.attrs.name {
                check_stable_name(cx, name, &[]);
            }
        }
        Data::Union => {}
    }
}

// Schema versions start at 1, and an upcaster turns an older payload into the current one,
// so it needs a current version above 1 to have anything to upcast from.
//
//     #[event(upcast = upcast_opened)]   // error: the current version is 1
//     Opened { .. },
fn check_event_versions(cx: &Ctxt, cont: &Container<'_, event::Ns>) {
    let default = cont.attrs.version.as_ref();
    if let Some(version) = default {
        check_version(cx, version, "version");
    }
    let check_upcast = |upcast: Option<&Path>, version: u32| {
        if let Some(upcast) = upcast
            && version <= 1
        {
            cx.error_spanned_by(
                upcast,
                "an upcaster needs a schema `version` above 1: at version 1 there is no older payload to upcast",
            );
        }
    };
    let default_version = default.map_or(1, |version| version.value);
    match &cont.data {
        Data::Enum(variants) => {
            for variant in variants {
                if let Some(version) = &variant.attrs.version {
                    check_version(cx, version, "version");
                }
                let version = variant
                    .attrs
                    .version
                    .as_ref()
                    .map_or(default_version, |version| version.value);
                check_upcast(variant.attrs.upcast.as_ref(), version);
            }
        }
        Data::Struct(..) => check_upcast(cont.attrs.upcast.as_ref(), default_version),
        Data::Union => {}
    }
}

// A command enum names its variants with `rename`; a struct command with `name`. Dispatch
// to `handle_<variant>` needs variants, and `services`/`async` only shape that dispatch.
//
//     #[derive(Command)]
//     #[command(aggregate = Account)]
//     struct Deposit { .. }   // error
fn check_command_container_keys(cx: &Ctxt, cont: &Container<'_, command::Ns>) {
    let attrs = &cont.attrs;
    match &cont.data {
        Data::Enum(_) => {
            if let Some(name) = &attrs.name {
                cx.error_spanned_by(name, "`name` names a struct command; name enum variants with `#[command(rename = \"...\")]`");
            }
        }
        Data::Struct(..) => {
            if let Some(aggregate) = &attrs.aggregate {
                cx.error_spanned_by(
                    aggregate,
                    "`aggregate` dispatches each variant to a `handle_<variant>` method and needs an enum; \
                     for a struct command use `#[aggregate(handle = ...)]`",
                );
            }
        }
        Data::Union => {}
    }
    if attrs.aggregate.is_none() {
        for (flag, key) in [(&attrs.services, "services"), (&attrs.asyncness, "async")] {
            if let Some(flag) = flag {
                cx.error_spanned_by(
                    flag,
                    format_args!(
                        "`{key}` shapes the dispatch of `aggregate = ...`, which is missing"
                    ),
                );
            }
        }
    }
}

// Command names show up in logs and metrics; two variants with one name would be
// indistinguishable there.
//
//     Open { .. },
//     #[command(rename = "Open")] Reopen { .. },   // error
fn check_command_names(cx: &Ctxt, cont: &Container<'_, command::Ns>) {
    if let Some(name) = &cont.attrs.name
        && name.value().is_empty()
    {
        cx.error_spanned_by(name, "a command name cannot be empty");
    }
    let Data::Enum(variants) = &cont.data else {
        return;
    };
    let mut seen = HashMap::new();
    for variant in variants {
        let name = variant.command_name();
        let at = variant.attrs.rename.as_ref().map_or_else(
            || variant.ident().to_token_stream(),
            ToTokens::to_token_stream,
        );
        if name.is_empty() {
            cx.error_spanned_by(&at, "a command name cannot be empty");
        } else if let Some(first) = seen.insert(name.clone(), variant.ident()) {
            cx.error_spanned_by(
                at,
                format_args!("the command name `{name}` is taken: variant `{first}` has it"),
            );
        }
    }
}

// Constraints must fit the field's type (`len` on text and collections, `range` on numbers,
// `pattern` on text), and a skipped field is not checked, so constraints on it would be
// silently ignored.
//
//     #[command(range(1..))] owner: String,              // error: use `len`
//     #[command(skip, len(1..))] note: String,           // error
fn check_constrained_fields<N: Namespace<Field = ConstrainedField>>(
    cx: &Ctxt,
    cont: &Container<'_, N>,
) {
    for field in cont.all_fields() {
        constraints::check_applicable(cx, &field.attrs.constraints, field.ty());
        if field.attrs.skip.is_some() {
            for tokens in field.attrs.constraints.tokens() {
                cx.error_spanned_by(
                    tokens,
                    "this field is `skip`ped, so this constraint would never be checked",
                );
            }
        }
    }
}

// An entity is its identity: exactly one field is marked `id`.
//
//     #[derive(Entity)]
//     struct Line { product: ProductId, quantity: u32 }   // error: which field is the id?
fn check_entity_id(cx: &Ctxt, cont: &Container<'_, entity::Ns>) {
    let marked = check_single_marked_field(cx, cont, "id", |field| field.attrs.id.as_ref());
    if marked == 0 && matches!(cont.data, Data::Struct(Style::Struct, _)) {
        cx.error_spanned_by(
            cont.ident,
            "an entity needs an identity: mark its id field `#[entity(id)]`",
        );
    }
}

// `publishes` names single event variants as `EventType::Variant`; a bare type means every
// variant, which is what `publishes_all` says.
//
//     #[bounded_context(publishes(AccountEvent))]   // error: use `publishes_all`
fn check_published_variants(cx: &Ctxt, cont: &Container<'_, bounded_context::Ns>) {
    for path in &cont.attrs.publishes {
        if path.segments.len() < 2 {
            cx.error_spanned_by(
                path,
                format_args!(
                    "name one event variant, as in `{0}::Variant`; to publish all of `{0}`, use `publishes_all({0})`",
                    path.to_token_stream()
                ),
            );
        }
    }
}

// Each list names each thing once, and a variant of an event type that is published in
// full is already published.
//
//     #[bounded_context(aggregates(Account, Account))]   // error
fn check_context_lists(cx: &Ctxt, cont: &Container<'_, bounded_context::Ns>) {
    let attrs = &cont.attrs;
    let lists = [
        ("aggregates", &attrs.aggregates),
        ("publishes", &attrs.publishes),
        ("publishes_all", &attrs.publishes_all),
        ("policies", &attrs.policies),
    ];
    for (list, paths) in lists {
        let mut seen = Vec::new();
        for path in paths {
            let name = path_key(path.segments.iter());
            if seen.contains(&name) {
                cx.error_spanned_by(path, format_args!("`{name}` is listed twice in `{list}`"));
            } else {
                seen.push(name);
            }
        }
    }
    let all: Vec<String> = attrs
        .publishes_all
        .iter()
        .map(|path| path_key(path.segments.iter()))
        .collect();
    for path in &attrs.publishes {
        let event = path_key(
            path.segments
                .iter()
                .take(path.segments.len().saturating_sub(1)),
        );
        if path.segments.len() >= 2 && all.contains(&event) {
            cx.error_spanned_by(
                path,
                format_args!(
                    "every variant of `{event}` is published already by `publishes_all({event})`"
                ),
            );
        }
    }
}

/// A path as written, without the spaces `to_string` puts between tokens.
fn path_key<'p>(segments: impl Iterator<Item = &'p syn::PathSegment>) -> String {
    segments
        .map(|segment| segment.to_token_stream().to_string().replace(' ', ""))
        .collect::<Vec<_>>()
        .join("::")
}

#[cfg(test)]
mod tests {
    use syn::parse_quote;

    use super::*;

    /// Parses and checks `input` as `N`, returning how many errors were reported.
    fn errors<N: Namespace>(
        input: &syn::DeriveInput,
        check: fn(&Ctxt, &Container<'_, N>),
    ) -> usize {
        let cx = Ctxt::new();
        let cont = Container::<N>::from_ast(&cx, input);
        check(&cx, &cont);
        cx.check().err().map_or(0, |err| err.into_iter().count())
    }

    #[test]
    fn every_mistake_of_an_aggregate_is_reported() {
        let input = parse_quote! {
            #[aggregate(comand = C, name = "a.b", snapshot_version = 0)]
            #[aggregate(name = "c")]
            struct Account {
                #[aggregate(id)] a: String,
                #[aggregate(id)] b: String,
                #[aggregate(version, verison)] c: u64,
            }
        };
        // comand, duplicate name, missing command, missing event, second id, verison,
        // the name's dot, snapshot_version 0
        assert_eq!(errors::<aggregate::Ns>(&input, aggregate), 8);
    }

    #[test]
    fn a_correct_aggregate_has_no_errors() {
        let input = parse_quote! {
            #[aggregate(command = C, event = E, id = AccountId, name = "Account")]
            struct Account { #[aggregate(version)] version: u64 }
        };
        assert_eq!(errors::<aggregate::Ns>(&input, aggregate), 0);
    }

    #[test]
    fn every_constraint_mistake_of_a_command_is_reported() {
        let input = parse_quote! {
            #[command(aggregate = Account)]
            struct Deposit {
                #[command(len(1..5), range(1..), pattern("("))] a: String,
                #[command(len(2..=1), lenght(1))] b: Vec<u8>,
                #[command(skip, range(..=3))] c: u32,
            }
        };
        // a..b, range on String, bad regex, empty len, lenght, skip with range, aggregate
        // on a struct
        assert_eq!(errors::<command::Ns>(&input, command), 7);
    }

    #[test]
    fn event_names_are_unique_and_valid() {
        let input = parse_quote! {
            #[serde(tag = "t")]
            enum E {
                A,
                #[event(rename = "A")] B,
                #[event(rename = "C D", version = 0)] C,
            }
        };
        // the tag, the duplicate, the space, version 0
        assert_eq!(errors::<event::Ns>(&input, domain_event), 4);
    }
}
