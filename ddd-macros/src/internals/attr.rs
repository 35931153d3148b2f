//! Parses the derives' attributes: `#[aggregate(..)]`, `#[event(..)]` (and the `#[serde(..)]`
//! keys that decide how an event enum is represented), `#[command(..)]`, `#[value(..)]`,
//! `#[entity(..)]` and `#[bounded_context(..)]`.
//!
//! None of the parsers return a `Result`. Every mistake is recorded in the [`Ctxt`] and
//! parsing carries on with the next key, so the user sees errors for all bad attributes of an
//! item simultaneously instead of fixing them one compile at a time.

use proc_macro2::{Group, TokenStream};
use quote::ToTokens;
use syn::meta::ParseNestedMeta;
use syn::parse::ParseStream;
use syn::punctuated::Punctuated;
use syn::{Attribute, DeriveInput, Expr, Lit, LitInt, LitStr, Meta, Path, Token, Type, token};

use super::case::RenameRule;
use super::constraints::{self, Constraints};
use super::ctxt::Ctxt;
use super::symbol::*;

/// The attributes of one derive at each position of an item. The AST is generic over it.
pub(crate) trait Namespace {
    /// Attributes on the struct or enum.
    type Container;
    /// Attributes on an enum variant.
    type Variant;
    /// Attributes on a field.
    type Field;

    fn container(cx: &Ctxt, item: &DeriveInput) -> Self::Container;
    fn variant(cx: &Ctxt, variant: &syn::Variant) -> Self::Variant;
    fn field(cx: &Ctxt, field: &syn::Field) -> Self::Field;
}

/// A value that came from an attribute, with the tokens it was written as.
pub(crate) struct Spanned<T> {
    pub(crate) tokens: TokenStream,
    pub(crate) value: T,
}

/// One key of one attribute namespace while it is parsed; setting it twice is an error.
struct Attr<'c, T> {
    cx: &'c Ctxt,
    ns: Symbol,
    name: Symbol,
    tokens: TokenStream,
    value: Option<T>,
}

impl<'c, T> Attr<'c, T> {
    fn none(cx: &'c Ctxt, ns: Symbol, name: Symbol) -> Self {
        Attr {
            cx,
            ns,
            name,
            tokens: TokenStream::new(),
            value: None,
        }
    }

    fn set<A: ToTokens>(&mut self, obj: A, value: T) {
        let tokens = obj.into_token_stream();
        if self.value.is_some() {
            let message = if matches!(self.name, LEN | RANGE | PATTERN) {
                format!("duplicate `{}` constraint on this field", self.name)
            } else {
                format!("duplicate `{}` attribute `{}`", self.ns, self.name)
            };
            self.cx.error_spanned_by(tokens, message);
        } else {
            self.tokens = tokens;
            self.value = Some(value);
        }
    }

    fn get(self) -> Option<T> {
        self.value
    }

    fn get_spanned(self) -> Option<Spanned<T>> {
        let tokens = self.tokens;
        self.value.map(|value| Spanned { tokens, value })
    }
}

/// A key without a value, such as `#[aggregate(id)]`.
struct Flag<'c>(Attr<'c, ()>);

impl<'c> Flag<'c> {
    fn none(cx: &'c Ctxt, ns: Symbol, name: Symbol) -> Self {
        Flag(Attr::none(cx, ns, name))
    }

    fn set_true<A: ToTokens>(&mut self, obj: A) {
        self.0.set(obj, ());
    }

    /// The tokens of the key when it was given.
    fn get(self) -> Option<TokenStream> {
        self.0.get_spanned().map(|spanned| spanned.tokens)
    }
}

/// Calls `f` for each key of every `#[ns(...)]` in `attrs`. A syntax error ends the
/// attribute it is in and is recorded; the other attributes are still parsed.
fn parse_keys(
    cx: &Ctxt,
    ns: Symbol,
    attrs: &[Attribute],
    mut f: impl FnMut(&ParseNestedMeta<'_>) -> syn::Result<()>,
) {
    for attr in attrs.iter().filter(|attr| attr.path() == ns) {
        if let Err(err) = attr.parse_nested_meta(|meta| f(&meta)) {
            cx.syn_error(err);
        }
    }
}

/// Reports every `#[ns(...)]` in `attrs`: the derive has no options at this position.
fn reject(cx: &Ctxt, ns: Symbol, attrs: &[Attribute], position: &str) {
    for attr in attrs.iter().filter(|attr| attr.path() == ns) {
        cx.error_spanned_by(
            attr,
            format_args!("`#[{ns}(...)]` has no options for {position}"),
        );
    }
}

/// The input after `key =`; `form` shows what was expected when there is no `=`.
fn value<'a>(meta: &ParseNestedMeta<'a>, form: &str) -> syn::Result<ParseStream<'a>> {
    if meta.input.peek(Token![=]) {
        meta.value()
    } else {
        Err(meta.error(format_args!("expected `{form}`")))
    }
}

/// Checks that a flag key such as `id` has no value; reports and skips one if it has.
///
/// The flag counts as given either way, so that the mistake is reported once.
fn flag(cx: &Ctxt, ns: Symbol, meta: &ParseNestedMeta<'_>) -> syn::Result<bool> {
    if !meta.input.is_empty() && !meta.input.peek(Token![,]) {
        let key = meta.path.to_token_stream();
        cx.error_spanned_by(
            &meta.path,
            format_args!("`{key}` takes no value here: write `#[{ns}({key})]`"),
        );
        skip_value(meta)?;
    }
    Ok(true)
}

/// Consumes the value of a key that is reported as wrong, so parsing can go on after it.
fn skip_value(meta: &ParseNestedMeta<'_>) -> syn::Result<()> {
    if meta.input.peek(Token![=]) {
        let input = meta.value()?;
        let fork = input.fork();
        if fork.parse::<Expr>().is_ok() && (fork.is_empty() || fork.peek(Token![,])) {
            input.parse::<Expr>()?;
        } else {
            input.parse::<Type>()?;
        }
    } else if meta.input.peek(token::Paren) {
        meta.input.parse::<Group>()?;
    }
    Ok(())
}

/// Reports an unknown key, suggesting the closest known one, and skips its value.
fn unknown(cx: &Ctxt, ns: Symbol, meta: &ParseNestedMeta<'_>, keys: &[Symbol]) -> syn::Result<()> {
    let key = meta.path.to_token_stream().to_string().replace(' ', "");
    let message = match did_you_mean(&key, keys) {
        Some(known) => format!("unknown `{ns}` attribute `{key}`; did you mean `{known}`?"),
        None => {
            let expected: Vec<String> = keys.iter().map(|key| format!("`{key}`")).collect();
            format!(
                "unknown `{ns}` attribute `{key}`; expected one of {}",
                expected.join(", ")
            )
        }
    };
    cx.error_spanned_by(&meta.path, message);
    skip_value(meta)
}

/// The known key closest to a misspelt one, if any is close: a small edit distance, or one
/// that the typo starts with (`lenght` → `len`).
fn did_you_mean(typo: &str, keys: &[Symbol]) -> Option<Symbol> {
    keys.iter()
        .map(|key| (edit_distance(typo, key.0), *key))
        .filter(|(distance, key)| {
            *distance <= 1 + typo.len().min(key.0.len()) / 3
                || (key.0.len() >= 3 && typo.starts_with(key.0))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, key)| key)
}

/// Levenshtein distance, by bytes (keys are ASCII).
fn edit_distance(a: &str, b: &str) -> usize {
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.bytes().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.bytes().enumerate() {
            let substitute = previous[j] + usize::from(ca != cb);
            current.push(substitute.min(previous[j + 1] + 1).min(current[j] + 1));
        }
        previous = current;
    }
    previous[b.len()]
}

/// A `u32` literal such as a schema version, for `key`.
fn parse_u32(input: ParseStream<'_>, key: Symbol) -> syn::Result<Spanned<u32>> {
    let expected = || format!("`{key}` is a whole number from 1 up, such as `{key} = 2`");
    if !input.peek(LitInt) {
        return Err(input.error(expected()));
    }
    let lit: LitInt = input.parse()?;
    match lit.base10_parse() {
        Ok(value) => Ok(Spanned {
            value,
            tokens: lit.into_token_stream(),
        }),
        Err(_) => Err(syn::Error::new(lit.span(), expected())),
    }
}

/// A type; one written as a string (`"Clock"`, as some derives want it) gets a hint.
fn parse_type(input: ParseStream<'_>, key: Symbol) -> syn::Result<Type> {
    if input.peek(LitStr) {
        let lit: LitStr = input.parse()?;
        return Err(syn::Error::new(
            lit.span(),
            format_args!(
                "`{key}` takes a type, not a string: write `{key} = {}`",
                lit.value()
            ),
        ));
    }
    input.parse()
}

/// `(A, B::C, D)`: a parenthesized list of paths.
fn parse_paths(meta: &ParseNestedMeta<'_>, form: &str) -> syn::Result<Vec<Path>> {
    if !meta.input.peek(token::Paren) {
        return Err(meta.error(format_args!("expected `{form}`")));
    }
    let content;
    syn::parenthesized!(content in meta.input);
    let paths = Punctuated::<Path, Token![,]>::parse_terminated(&content)?;
    Ok(paths.into_iter().collect())
}

/// The field attributes that `Command`, `ValueObject` and `Entity` share.
pub(crate) struct ConstrainedField {
    /// `#[entity(id)]`, only parsed for entities.
    pub(crate) id: Option<TokenStream>,
    /// `skip`: no constraints and no nested validation.
    pub(crate) skip: Option<TokenStream>,
    pub(crate) constraints: Constraints,
}

/// Parses the field attributes of `ns`; `keys` decides whether `id` is one of them.
fn constrained_field(
    cx: &Ctxt,
    ns: Symbol,
    field: &syn::Field,
    keys: &[Symbol],
) -> ConstrainedField {
    let mut id = Flag::none(cx, ns, ID);
    let mut skip = Flag::none(cx, ns, SKIP);
    let mut len = Attr::none(cx, ns, LEN);
    let mut range = Attr::none(cx, ns, RANGE);
    let mut pattern = Attr::none(cx, ns, PATTERN);

    parse_keys(cx, ns, &field.attrs, |meta| {
        if meta.path == ID && keys.contains(&ID) {
            // #[entity(id)]
            if flag(cx, ns, meta)? {
                id.set_true(&meta.path);
            }
        } else if meta.path == SKIP {
            // #[command(skip)]
            if flag(cx, ns, meta)? {
                skip.set_true(&meta.path);
            }
        } else if meta.path == LEN {
            // #[command(len(1..=100))]
            if let Some(value) = constraints::parse_len(cx, meta)? {
                len.set(&meta.path, value);
            }
        } else if meta.path == RANGE {
            // #[command(range(1..))]
            if let Some(value) = constraints::parse_range(cx, meta)? {
                range.set(&meta.path, value);
            }
        } else if meta.path == PATTERN {
            // #[command(pattern("^[A-Z]{3}$"))] or #[command(pattern = "^[A-Z]{3}$")]
            if let Some(value) = constraints::parse_pattern(cx, meta)? {
                pattern.set(&meta.path, value);
            }
        } else {
            return unknown(cx, ns, meta, keys);
        }
        Ok(())
    });

    ConstrainedField {
        id: id.get(),
        skip: skip.get(),
        constraints: Constraints {
            len: len.get(),
            range: range.get(),
            pattern: pattern.get(),
        },
    }
}

/// `#[aggregate(...)]`
pub(crate) mod aggregate {
    use super::*;

    /// The `aggregate` namespace.
    pub(crate) enum Ns {}

    const CONTAINER_KEYS: &[Symbol] = &[
        COMMAND,
        EVENT,
        ID,
        ERROR,
        SERVICES,
        NAME,
        SNAPSHOT_VERSION,
        HANDLE,
        APPLY,
    ];
    const FIELD_KEYS: &[Symbol] = &[ID, VERSION];

    pub(crate) struct Container {
        pub(crate) command: Option<Type>,
        pub(crate) event: Option<Type>,
        pub(crate) id: Option<Type>,
        pub(crate) error: Option<Type>,
        pub(crate) services: Option<Type>,
        pub(crate) name: Option<LitStr>,
        pub(crate) snapshot_version: Option<Spanned<u32>>,
        pub(crate) handle: Option<Path>,
        pub(crate) apply: Option<Path>,
    }

    pub(crate) struct Field {
        pub(crate) id: Option<TokenStream>,
        pub(crate) version: Option<TokenStream>,
    }

    impl Namespace for Ns {
        type Container = Container;
        type Variant = ();
        type Field = Field;

        fn container(cx: &Ctxt, item: &DeriveInput) -> Container {
            let mut command = Attr::none(cx, AGGREGATE, COMMAND);
            let mut event = Attr::none(cx, AGGREGATE, EVENT);
            let mut id = Attr::none(cx, AGGREGATE, ID);
            let mut error = Attr::none(cx, AGGREGATE, ERROR);
            let mut services = Attr::none(cx, AGGREGATE, SERVICES);
            let mut name = Attr::none(cx, AGGREGATE, NAME);
            let mut snapshot_version = Attr::none(cx, AGGREGATE, SNAPSHOT_VERSION);
            let mut handle = Attr::none(cx, AGGREGATE, HANDLE);
            let mut apply = Attr::none(cx, AGGREGATE, APPLY);

            parse_keys(cx, AGGREGATE, &item.attrs, |meta| {
                if meta.path == COMMAND {
                    // #[aggregate(command = AccountCommand)]
                    command.set(
                        &meta.path,
                        parse_type(value(meta, "command = CommandType")?, COMMAND)?,
                    );
                } else if meta.path == EVENT {
                    // #[aggregate(event = AccountEvent)]
                    event.set(
                        &meta.path,
                        parse_type(value(meta, "event = EventType")?, EVENT)?,
                    );
                } else if meta.path == ID {
                    // #[aggregate(id = AccountId)]
                    id.set(&meta.path, parse_type(value(meta, "id = IdType")?, ID)?);
                } else if meta.path == ERROR {
                    // #[aggregate(error = AccountError)]
                    error.set(
                        &meta.path,
                        parse_type(value(meta, "error = ErrorType")?, ERROR)?,
                    );
                } else if meta.path == SERVICES {
                    // #[aggregate(services = Clock)]
                    services.set(
                        &meta.path,
                        parse_type(value(meta, "services = ServicesType")?, SERVICES)?,
                    );
                } else if meta.path == NAME {
                    // #[aggregate(name = "Account")]
                    name.set(&meta.path, value(meta, "name = \"Name\"")?.parse()?);
                } else if meta.path == SNAPSHOT_VERSION {
                    // #[aggregate(snapshot_version = 2)]
                    snapshot_version.set(
                        &meta.path,
                        parse_u32(value(meta, "snapshot_version = 2")?, SNAPSHOT_VERSION)?,
                    );
                } else if meta.path == HANDLE {
                    // #[aggregate(handle = Self::decide)]
                    handle.set(
                        &meta.path,
                        value(meta, "handle = path::to::decide")?.parse()?,
                    );
                } else if meta.path == APPLY {
                    // #[aggregate(apply = Self::evolve)]
                    apply.set(
                        &meta.path,
                        value(meta, "apply = path::to::evolve")?.parse()?,
                    );
                } else {
                    return unknown(cx, AGGREGATE, meta, CONTAINER_KEYS);
                }
                Ok(())
            });

            Container {
                command: command.get(),
                event: event.get(),
                id: id.get(),
                error: error.get(),
                services: services.get(),
                name: name.get(),
                snapshot_version: snapshot_version.get(),
                handle: handle.get(),
                apply: apply.get(),
            }
        }

        fn variant(cx: &Ctxt, variant: &syn::Variant) {
            reject(cx, AGGREGATE, &variant.attrs, "variants");
        }

        fn field(cx: &Ctxt, field: &syn::Field) -> Field {
            let mut id = Flag::none(cx, AGGREGATE, ID);
            let mut version = Flag::none(cx, AGGREGATE, VERSION);

            parse_keys(cx, AGGREGATE, &field.attrs, |meta| {
                if meta.path == ID {
                    // #[aggregate(id)]
                    if flag(cx, AGGREGATE, meta)? {
                        id.set_true(&meta.path);
                    }
                } else if meta.path == VERSION {
                    // #[aggregate(version)]
                    if flag(cx, AGGREGATE, meta)? {
                        version.set_true(&meta.path);
                    }
                } else {
                    return unknown(cx, AGGREGATE, meta, FIELD_KEYS);
                }
                Ok(())
            });

            Field {
                id: id.get(),
                version: version.get(),
            }
        }
    }
}

/// `#[event(...)]`, and the `#[serde(...)]` keys that decide an event's representation.
pub(crate) mod event {
    use super::*;

    /// The `event` namespace.
    pub(crate) enum Ns {}

    const CONTAINER_KEYS: &[Symbol] = &[VERSION, NAME, UPCAST, AGGREGATE];
    const VARIANT_KEYS: &[Symbol] = &[VERSION, RENAME, UPCAST];

    pub(crate) struct Container {
        pub(crate) version: Option<Spanned<u32>>,
        pub(crate) name: Option<LitStr>,
        pub(crate) upcast: Option<Path>,
        pub(crate) aggregate: Option<Type>,
        /// serde's `tag`, `content` and `untagged`, which the codec cannot work with.
        pub(crate) serde_representation: Vec<TokenStream>,
        /// serde's `rename_all` (for deserializing), which changes the variants' keys.
        pub(crate) serde_rename_all: Option<RenameRule>,
    }

    pub(crate) struct Variant {
        pub(crate) version: Option<Spanned<u32>>,
        pub(crate) rename: Option<LitStr>,
        pub(crate) upcast: Option<Path>,
        /// serde's `rename` (for deserializing): the variant's key.
        pub(crate) serde_rename: Option<String>,
        /// serde's `untagged` on the variant.
        pub(crate) serde_untagged: Option<TokenStream>,
    }

    impl Namespace for Ns {
        type Container = Container;
        type Variant = Variant;
        type Field = ();

        fn container(cx: &Ctxt, item: &DeriveInput) -> Container {
            let mut version = Attr::none(cx, EVENT, VERSION);
            let mut name = Attr::none(cx, EVENT, NAME);
            let mut upcast = Attr::none(cx, EVENT, UPCAST);
            let mut aggregate = Attr::none(cx, EVENT, AGGREGATE);

            parse_keys(cx, EVENT, &item.attrs, |meta| {
                if meta.path == VERSION {
                    // #[event(version = 2)]
                    version.set(&meta.path, parse_u32(value(meta, "version = 2")?, VERSION)?);
                } else if meta.path == NAME {
                    // #[event(name = "MoneyDeposited")]
                    name.set(&meta.path, value(meta, "name = \"Name\"")?.parse()?);
                } else if meta.path == UPCAST {
                    // #[event(upcast = path::to::upcast)]
                    upcast.set(
                        &meta.path,
                        value(meta, "upcast = path::to::upcast")?.parse()?,
                    );
                } else if meta.path == AGGREGATE {
                    // #[event(aggregate = Account)]
                    aggregate.set(
                        &meta.path,
                        parse_type(value(meta, "aggregate = AggregateType")?, AGGREGATE)?,
                    );
                } else {
                    return unknown(cx, EVENT, meta, CONTAINER_KEYS);
                }
                Ok(())
            });

            let mut serde_representation = Vec::new();
            let mut serde_rename_all = None;
            for meta in serde_metas(&item.attrs) {
                match &meta {
                    // #[serde(tag = "type")], #[serde(content = "data")]
                    Meta::NameValue(pair) if pair.path == TAG || pair.path == CONTENT => {
                        serde_representation.push(meta.to_token_stream());
                    }
                    // #[serde(untagged)]
                    Meta::Path(path) if path == UNTAGGED => {
                        serde_representation.push(meta.to_token_stream())
                    }
                    // #[serde(rename_all = "snake_case")]
                    // #[serde(rename_all(serialize = "..", deserialize = "snake_case"))]
                    _ if meta.path() == RENAME_ALL => {
                        if let Some(rule) = serde_deserialize_name(&meta) {
                            serde_rename_all = RenameRule::from_serde(&rule);
                        }
                    }
                    _ => {}
                }
            }

            Container {
                version: version.get(),
                name: name.get(),
                upcast: upcast.get(),
                aggregate: aggregate.get(),
                serde_representation,
                serde_rename_all,
            }
        }

        fn variant(cx: &Ctxt, variant: &syn::Variant) -> Variant {
            let mut version = Attr::none(cx, EVENT, VERSION);
            let mut rename = Attr::none(cx, EVENT, RENAME);
            let mut upcast = Attr::none(cx, EVENT, UPCAST);

            parse_keys(cx, EVENT, &variant.attrs, |meta| {
                if meta.path == VERSION {
                    // #[event(version = 2)]
                    version.set(&meta.path, parse_u32(value(meta, "version = 2")?, VERSION)?);
                } else if meta.path == RENAME {
                    // #[event(rename = "MoneyDeposited")]
                    rename.set(&meta.path, value(meta, "rename = \"Name\"")?.parse()?);
                } else if meta.path == UPCAST {
                    // #[event(upcast = path::to::upcast)]
                    upcast.set(
                        &meta.path,
                        value(meta, "upcast = path::to::upcast")?.parse()?,
                    );
                } else {
                    return unknown(cx, EVENT, meta, VARIANT_KEYS);
                }
                Ok(())
            });

            let mut serde_rename = None;
            let mut serde_untagged = None;
            for meta in serde_metas(&variant.attrs) {
                if meta.path() == RENAME {
                    // #[serde(rename = "opened")]
                    // #[serde(rename(serialize = "..", deserialize = "opened"))]
                    if let Some(key) = serde_deserialize_name(&meta) {
                        serde_rename = Some(key);
                    }
                } else if meta.path() == UNTAGGED {
                    // #[serde(untagged)]
                    serde_untagged = Some(meta.to_token_stream());
                }
            }

            Variant {
                version: version.get(),
                rename: rename.get(),
                upcast: upcast.get(),
                serde_rename,
                serde_untagged,
            }
        }

        fn field(cx: &Ctxt, field: &syn::Field) {
            reject(cx, EVENT, &field.attrs, "fields");
        }
    }

    /// The keys of every `#[serde(...)]`. Attributes that do not parse are serde's to report.
    fn serde_metas(attrs: &[Attribute]) -> Vec<Meta> {
        attrs
            .iter()
            .filter(|attr| attr.path() == SERDE)
            .filter_map(|attr| {
                attr.parse_args_with(Punctuated::<Meta, Token![,]>::parse_terminated)
                    .ok()
            })
            .flatten()
            .collect()
    }

    /// The deserializing half of `key = "x"` or `key(serialize = "..", deserialize = "x")`.
    fn serde_deserialize_name(meta: &Meta) -> Option<String> {
        let string = |expr: &Expr| match expr {
            Expr::Lit(syn::ExprLit {
                lit: Lit::Str(lit), ..
            }) => Some(lit.value()),
            _ => None,
        };
        match meta {
            Meta::NameValue(pair) => string(&pair.value),
            Meta::List(list) => list
                .parse_args_with(Punctuated::<syn::MetaNameValue, Token![,]>::parse_terminated)
                .ok()?
                .iter()
                .find(|pair| pair.path == DESERIALIZE)
                .and_then(|pair| string(&pair.value)),
            Meta::Path(_) => None,
        }
    }
}

/// `#[command(...)]`
pub(crate) mod command {
    use super::*;

    /// The `command` namespace.
    pub(crate) enum Ns {}

    const CONTAINER_KEYS: &[Symbol] = &[NAME, AGGREGATE, SERVICES, ASYNC];
    const VARIANT_KEYS: &[Symbol] = &[RENAME];
    const FIELD_KEYS: &[Symbol] = &[LEN, RANGE, PATTERN, SKIP];

    pub(crate) struct Container {
        pub(crate) name: Option<LitStr>,
        pub(crate) aggregate: Option<Type>,
        pub(crate) services: Option<TokenStream>,
        pub(crate) asyncness: Option<TokenStream>,
    }

    pub(crate) struct Variant {
        pub(crate) rename: Option<LitStr>,
    }

    impl Namespace for Ns {
        type Container = Container;
        type Variant = Variant;
        type Field = ConstrainedField;

        fn container(cx: &Ctxt, item: &DeriveInput) -> Container {
            let mut name = Attr::none(cx, COMMAND, NAME);
            let mut aggregate = Attr::none(cx, COMMAND, AGGREGATE);
            let mut services = Flag::none(cx, COMMAND, SERVICES);
            let mut asyncness = Flag::none(cx, COMMAND, ASYNC);

            parse_keys(cx, COMMAND, &item.attrs, |meta| {
                if meta.path == NAME {
                    // #[command(name = "OpenAccount")]
                    name.set(&meta.path, value(meta, "name = \"Name\"")?.parse()?);
                } else if meta.path == AGGREGATE {
                    // #[command(aggregate = Account)]
                    aggregate.set(
                        &meta.path,
                        parse_type(value(meta, "aggregate = AggregateType")?, AGGREGATE)?,
                    );
                } else if meta.path == SERVICES {
                    // #[command(aggregate = Account, services)]
                    if flag(cx, COMMAND, meta)? {
                        services.set_true(&meta.path);
                    }
                } else if meta.path == ASYNC {
                    // #[command(aggregate = Account, async)]
                    if flag(cx, COMMAND, meta)? {
                        asyncness.set_true(&meta.path);
                    }
                } else {
                    return unknown(cx, COMMAND, meta, CONTAINER_KEYS);
                }
                Ok(())
            });

            Container {
                name: name.get(),
                aggregate: aggregate.get(),
                services: services.get(),
                asyncness: asyncness.get(),
            }
        }

        fn variant(cx: &Ctxt, variant: &syn::Variant) -> Variant {
            let mut rename = Attr::none(cx, COMMAND, RENAME);

            parse_keys(cx, COMMAND, &variant.attrs, |meta| {
                if meta.path == RENAME {
                    // #[command(rename = "OpenAccount")]
                    rename.set(&meta.path, value(meta, "rename = \"Name\"")?.parse()?);
                } else {
                    return unknown(cx, COMMAND, meta, VARIANT_KEYS);
                }
                Ok(())
            });

            Variant {
                rename: rename.get(),
            }
        }

        fn field(cx: &Ctxt, field: &syn::Field) -> ConstrainedField {
            constrained_field(cx, COMMAND, field, FIELD_KEYS)
        }
    }
}

/// `#[value(...)]`
pub(crate) mod value {
    use super::*;

    /// The `value` namespace.
    pub(crate) enum Ns {}

    const CONTAINER_KEYS: &[Symbol] = &[EQ];
    const FIELD_KEYS: &[Symbol] = &[LEN, RANGE, PATTERN, SKIP];

    pub(crate) struct Container {
        pub(crate) eq: Option<TokenStream>,
    }

    impl Namespace for Ns {
        type Container = Container;
        type Variant = ();
        type Field = ConstrainedField;

        fn container(cx: &Ctxt, item: &DeriveInput) -> Container {
            let mut eq = Flag::none(cx, VALUE, EQ);

            parse_keys(cx, VALUE, &item.attrs, |meta| {
                if meta.path == EQ {
                    // #[value(eq)]
                    if flag(cx, VALUE, meta)? {
                        eq.set_true(&meta.path);
                    }
                } else {
                    return unknown(cx, VALUE, meta, CONTAINER_KEYS);
                }
                Ok(())
            });

            Container { eq: eq.get() }
        }

        fn variant(cx: &Ctxt, variant: &syn::Variant) {
            reject(cx, VALUE, &variant.attrs, "variants");
        }

        fn field(cx: &Ctxt, field: &syn::Field) -> ConstrainedField {
            constrained_field(cx, VALUE, field, FIELD_KEYS)
        }
    }
}

/// `#[entity(...)]`
pub(crate) mod entity {
    use super::*;

    /// The `entity` namespace.
    pub(crate) enum Ns {}

    const FIELD_KEYS: &[Symbol] = &[ID, LEN, RANGE, PATTERN, SKIP];

    impl Namespace for Ns {
        type Container = ();
        type Variant = ();
        type Field = ConstrainedField;

        fn container(cx: &Ctxt, item: &DeriveInput) {
            reject(
                cx,
                ENTITY,
                &item.attrs,
                "the struct: mark the id field with `#[entity(id)]`",
            );
        }

        fn variant(cx: &Ctxt, variant: &syn::Variant) {
            reject(cx, ENTITY, &variant.attrs, "variants");
        }

        fn field(cx: &Ctxt, field: &syn::Field) -> ConstrainedField {
            constrained_field(cx, ENTITY, field, FIELD_KEYS)
        }
    }
}

/// `#[bounded_context(...)]`
pub(crate) mod bounded_context {
    use super::*;

    /// The `bounded_context` namespace.
    pub(crate) enum Ns {}

    const CONTAINER_KEYS: &[Symbol] = &[NAME, AGGREGATES, PUBLISHES, PUBLISHES_ALL, POLICIES];

    pub(crate) struct Container {
        pub(crate) name: Option<LitStr>,
        pub(crate) aggregates: Vec<Path>,
        pub(crate) publishes: Vec<Path>,
        pub(crate) publishes_all: Vec<Path>,
        pub(crate) policies: Vec<Path>,
    }

    impl Namespace for Ns {
        type Container = Container;
        type Variant = ();
        type Field = ();

        fn container(cx: &Ctxt, item: &DeriveInput) -> Container {
            let mut name = Attr::none(cx, BOUNDED_CONTEXT, NAME);
            let mut aggregates = Attr::none(cx, BOUNDED_CONTEXT, AGGREGATES);
            let mut publishes = Attr::none(cx, BOUNDED_CONTEXT, PUBLISHES);
            let mut publishes_all = Attr::none(cx, BOUNDED_CONTEXT, PUBLISHES_ALL);
            let mut policies = Attr::none(cx, BOUNDED_CONTEXT, POLICIES);

            parse_keys(cx, BOUNDED_CONTEXT, &item.attrs, |meta| {
                if meta.path == NAME {
                    // #[bounded_context(name = "Banking")]
                    name.set(&meta.path, value(meta, "name = \"Name\"")?.parse()?);
                } else if meta.path == AGGREGATES {
                    // #[bounded_context(aggregates(Account, Customer))]
                    aggregates.set(
                        &meta.path,
                        parse_paths(meta, "aggregates(Account, Customer)")?,
                    );
                } else if meta.path == PUBLISHES {
                    // #[bounded_context(publishes(AccountEvent::Opened, AccountEvent::Closed))]
                    publishes.set(
                        &meta.path,
                        parse_paths(meta, "publishes(AccountEvent::Opened)")?,
                    );
                } else if meta.path == PUBLISHES_ALL {
                    // #[bounded_context(publishes_all(CustomerEvent))]
                    publishes_all.set(
                        &meta.path,
                        parse_paths(meta, "publishes_all(CustomerEvent)")?,
                    );
                } else if meta.path == POLICIES {
                    // #[bounded_context(policies(WelcomePolicy))]
                    policies.set(&meta.path, parse_paths(meta, "policies(WelcomePolicy)")?);
                } else {
                    return unknown(cx, BOUNDED_CONTEXT, meta, CONTAINER_KEYS);
                }
                Ok(())
            });

            Container {
                name: name.get(),
                aggregates: aggregates.get().unwrap_or_default(),
                publishes: publishes.get().unwrap_or_default(),
                publishes_all: publishes_all.get().unwrap_or_default(),
                policies: policies.get().unwrap_or_default(),
            }
        }

        fn variant(cx: &Ctxt, variant: &syn::Variant) {
            reject(cx, BOUNDED_CONTEXT, &variant.attrs, "variants");
        }

        fn field(cx: &Ctxt, field: &syn::Field) {
            reject(cx, BOUNDED_CONTEXT, &field.attrs, "fields");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_keys_only() {
        let keys = &[LEN, RANGE, PATTERN, SKIP];
        assert_eq!(did_you_mean("lenght", keys), Some(LEN));
        assert_eq!(did_you_mean("rnage", keys), Some(RANGE));
        assert_eq!(did_you_mean("patern", keys), Some(PATTERN));
        assert_eq!(did_you_mean("maximum", keys), None);
        assert_eq!(did_you_mean("id", keys), None);
    }
}
