//! Derive macros of ddd: [`Aggregate`], [`DomainEvent`], [`Command`], [`ValueObject`],
//! [`Entity`] and [`BoundedContext`].
//!
//! Use them through `ddd-core`, which re-exports them next to the traits they implement
//! (`use ddd_core::{Aggregate, DomainEvent};` imports both). The generated code names the
//! runtime as `::ddd_core`, so depend on it under that name.
//!
//! Each derive reads one attribute namespace, named after it: `#[aggregate(..)]`,
//! `#[event(..)]`, `#[command(..)]`, `#[value(..)]`, `#[entity(..)]` and
//! `#[bounded_context(..)]`. Every mistake in an item's attributes is reported in the same
//! compile, at the tokens that are wrong, and the derive still emits a stand-in impl so that
//! the mistake does not reappear as "trait not implemented" wherever the type is used.
//!
//! # Field constraints
//!
//! [`Command`], [`ValueObject`] and [`Entity`] check their fields with the same three
//! constraints, written in their own namespace (`#[command(len(1..=100))]`,
//! `#[value(range(0..))]`, `#[entity(pattern("^[a-z]+$"))]`):
//!
//! | constraint | applies to | forms |
//! |---|---|---|
//! | `len` | `String`, `str`, `Vec`, slices, maps (characters or elements) | `len(3)`, `len(1..=100)`, `len(1..)`, `len(..=100)` |
//! | `range` | integers and floats | `range(1..=100)`, `range(-5..)`, `range(..=0.5)` |
//! | `pattern` | `String`, `str` | `pattern("^[A-Z]{3}$")`, `pattern = "^[A-Z]{3}$"` |
//!
//! Bounds are inclusive and literal; `a..b` is rejected in favour of `..=`, and the regex is
//! compiled at build time, so an invalid one is a compile error. `Option<T>` and `Box<T>`
//! fields are checked when present. Every field, constrained or not, is also validated
//! with its own `ddd_core::Validate` impl when it has one, so nested values and `Vec`s of
//! them report paths such as `lines[1].quantity`. `skip` leaves a field out entirely.
//! Validation reports every violated constraint, never just the first.
#![doc(html_root_url = "https://docs.rs/ddd-macros/0.1.0")]

mod aggregate;
mod bounded_context;
mod command;
mod domain_event;
mod dummy;
mod entity;
mod internals;
mod validate;
mod value_object;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Implements `ddd_core::Aggregate` for a struct with named fields (or a unit struct).
///
/// The user derives what the trait's supertraits need: `Default`, `Serialize` and
/// `Deserialize`.
///
/// # Container attributes: `#[aggregate(...)]`
///
/// | key | meaning | default |
/// |---|---|---|
/// | `command = Type` | the commands it decides | required |
/// | `event = Type` | the events it records | required |
/// | `id = Type` | its id type | the type of the `#[aggregate(id)]` field |
/// | `error = Type` | why commands are rejected | `ddd_core::Rejection` |
/// | `services = Type` | what decisions may call out to | `()` |
/// | `name = "Str"` | stable `TYPE`, stored with every event | the struct's name |
/// | `snapshot_version = N` | bump when the state's shape changes | `1` |
/// | `handle = path` | `fn(&Self, Command, &Services) -> Result<R, E>` deciding every command | the command's per-variant dispatch |
/// | `apply = path` | `fn(&mut Self, &Event)` applying every event | the event's per-variant dispatch |
///
/// Without `handle`, the command type dispatches: `#[command(aggregate = ..)]` on it calls a
/// `handle_<variant>` method per variant (see [`Command`]). Without `apply`, the event type
/// does: `#[event(aggregate = ..)]` calls an `apply_<variant>` method per variant (see
/// [`DomainEvent`]). A `handle` function may return one event, a `Vec`, an `Option`, an
/// array or `()` (`ddd_core::IntoEvents`), and any error that converts into `error`.
///
/// Names must not be empty nor contain whitespace, `.`, `*`, `>` or `/`.
///
/// # Field attributes
///
/// - `#[aggregate(id)]` on at most one field: `ddd_core::Aggregate::set_id` stores a clone
///   of the id there. The field may be an `Option` of the id type (ids rarely have a
///   `Default`). Without `id = Type`, the field's type is the id type; with it, both must
///   agree.
/// - `#[aggregate(version)]` on at most one `u64` field: `set_version` keeps the version of
///   the last applied event there.
///
/// # Example
///
/// ```
/// use ddd_core::{Aggregate, Command, DomainEvent, Rejection};
/// use ddd_core::testing::AggregateTest;
/// use serde::{Deserialize, Serialize};
///
/// ddd_core::aggregate_id!(pub CartId);
///
/// #[derive(Clone, Debug, PartialEq, Command)]
/// #[command(aggregate = Cart)]
/// pub enum CartCommand {
///     AddItem { #[command(len(1..=20))] sku: String },
///     CheckOut,
/// }
///
/// #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
/// #[event(aggregate = Cart)]
/// pub enum CartEvent {
///     ItemAdded { sku: String },
///     CheckedOut,
/// }
///
/// #[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
/// #[aggregate(command = CartCommand, event = CartEvent, name = "Cart", snapshot_version = 2)]
/// pub struct Cart {
///     #[aggregate(id)]
///     id: Option<CartId>,
///     #[aggregate(version)]
///     version: u64,
///     items: Vec<String>,
///     checked_out: bool,
/// }
///
/// impl Cart {
///     fn handle_add_item(&self, sku: String) -> Result<CartEvent, Rejection> {
///         if self.checked_out {
///             return Err(Rejection::new("checked out"));
///         }
///         Ok(CartEvent::ItemAdded { sku })
///     }
///
///     fn handle_check_out(&self) -> Result<Option<CartEvent>, Rejection> {
///         Ok((!self.items.is_empty()).then_some(CartEvent::CheckedOut))
///     }
///
///     fn apply_item_added(&mut self, sku: &str) {
///         self.items.push(sku.to_owned());
///     }
///
///     fn apply_checked_out(&mut self) {
///         self.checked_out = true;
///     }
/// }
///
/// assert_eq!((Cart::TYPE, Cart::SNAPSHOT_VERSION), ("Cart", 2));
/// AggregateTest::<Cart>::new()
///     .given([CartEvent::ItemAdded { sku: "A-1".into() }])
///     .when(CartCommand::CheckOut)
///     .then([CartEvent::CheckedOut]);
/// ```
#[proc_macro_derive(Aggregate, attributes(aggregate))]
pub fn derive_aggregate(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    aggregate::derive(&input).into()
}

/// Implements `ddd_core::DomainEvent`: an enum is one event type per variant, a struct one
/// event type.
///
/// The user derives `Serialize` and `Deserialize` in serde's default, externally tagged form
/// (`#[serde(tag)]`, `content` and `untagged` are rejected); the payload is the variant's
/// fields without serde's tag. serde's `rename` on variants and `rename_all` on the enum are
/// honoured when decoding. Enums also get `ddd_core::__private::EventVariants`, which maps a
/// Rust variant name to its stable name for [`BoundedContext`].
///
/// # Attributes: `#[event(...)]`
///
/// | key | on | meaning | default |
/// |---|---|---|---|
/// | `version = N` | enum, struct | current schema version of its events | `1` |
/// | `version = N` | variant | this variant's schema version | the enum's |
/// | `rename = "Name"` | variant | stable type name | the variant's name |
/// | `name = "Name"` | struct | stable type name | the struct's name |
/// | `upcast = path` | variant, struct | `fn(u32, Payload) -> Result<Payload, String>` | none |
/// | `aggregate = Type` | enum | implement `DispatchEvent<Type>` | none |
///
/// Decoding a payload stored at an older schema version runs the upcaster with that version
/// (an `Err` becomes `CodecError::Upcast`); without one the payload is decoded as it is. A
/// payload from a newer version is `CodecError::FutureVersion`, and an unknown type name is
/// `Ok(None)`. Names are unique within an enum and must not be empty nor contain whitespace,
/// `.`, `*` or `>`.
///
/// With `aggregate = Type`, applying a variant calls `Type::apply_<variant>(aggregate, ..)`
/// with the variant's fields by reference, in declaration order: `Opened { owner }` calls
/// `apply_opened(&mut self, owner: &String)` (or `&str`), `Closed` calls
/// `apply_closed(&mut self)`. The method names are the variants' names in snake case
/// (`ddd_names::applier`), never escaped: `Return` calls `apply_return`.
///
/// # Example
///
/// ```
/// use ddd_core::{CodecError, DomainEvent, Payload};
/// use serde::{Deserialize, Serialize};
/// use serde_json::json;
///
/// #[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
/// pub enum AccountEvent {
///     Opened { owner: String },
///     #[event(rename = "MoneyDeposited", version = 2, upcast = add_currency)]
///     Deposited { cents: i64, currency: String },
/// }
///
/// /// Version 1 had no currency.
/// fn add_currency(_from: u32, mut payload: Payload) -> Result<Payload, String> {
///     payload["currency"] = json!("EUR");
///     Ok(payload)
/// }
///
/// let event = AccountEvent::Deposited { cents: 5, currency: "USD".into() };
/// assert_eq!((event.event_type(), event.schema_version()), ("MoneyDeposited", 2));
/// assert_eq!(event.encode()?, json!({"cents": 5, "currency": "USD"}));
///
/// let old = AccountEvent::decode("MoneyDeposited", 1, json!({"cents": 5}))?;
/// assert_eq!(old, Some(AccountEvent::Deposited { cents: 5, currency: "EUR".into() }));
/// let future = AccountEvent::decode("MoneyDeposited", 3, json!({}));
/// assert!(matches!(future, Err(CodecError::FutureVersion { found: 3, known: 2, .. })));
/// assert_eq!(AccountEvent::decode("Unknown", 1, json!(null))?, None);
/// # Ok::<_, CodecError>(())
/// ```
#[proc_macro_derive(DomainEvent, attributes(event))]
pub fn derive_domain_event(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    domain_event::derive(&input).into()
}

/// Implements `ddd_core::Command` and `ddd_core::Validate`: a struct is one command, an
/// enum one command per variant.
///
/// # Attributes: `#[command(...)]`
///
/// | key | on | meaning |
/// |---|---|---|
/// | `name = "Name"` | struct | the command's name (default: the struct's name) |
/// | `rename = "Name"` | variant | the variant's command name (default: its name) |
/// | `aggregate = Type` | enum | implement `DispatchCommand<Type>` |
/// | `services` | enum, with `aggregate` | pass the aggregate's services to the handlers |
/// | `async` | enum, with `aggregate` | the handlers are `async fn`s |
/// | `len(..)`, `range(..)`, `pattern(..)` | field | constraints, see the [crate docs](crate#field-constraints) |
/// | `skip` | field | neither checked nor validated |
///
/// With `aggregate = Type`, deciding a variant calls
/// `Type::handle_<variant>(&aggregate, ..)` (`ddd_names::handler`: `Return` calls
/// `handle_return`) with the variant's fields by value in declaration order, then the
/// services with `services`. The method returns `Result<R, E>` where `R` is one event, a
/// `Vec`, an `Option`, an array or `()` (`ddd_core::IntoEvents`) and `E` converts into the
/// aggregate's error.
///
/// # Example
///
/// ```
/// use ddd_core::{Command, Rejection};
///
/// #[derive(Clone, Debug, Command)]
/// pub enum AccountCommand {
///     Open {
///         #[command(len(1..=100))]
///         owner: String,
///         #[command(pattern("^[A-Z]{3}$"))]
///         currency: String,
///     },
///     #[command(rename = "Pay")]
///     Deposit { #[command(range(1..))] cents: i64 },
/// }
///
/// let open = AccountCommand::Open { owner: String::new(), currency: "eur".into() };
/// assert_eq!(open.command_name(), "Open");
/// let errors = Command::validate(&open).unwrap_err();
/// assert_eq!(errors.fields().collect::<Vec<_>>(), ["owner", "currency"]);
/// assert_eq!(
///     errors.to_string(),
///     "invalid input: owner: length must be between 1 and 100 (is 0); currency: must match `^[A-Z]{3}$`",
/// );
/// assert_eq!(AccountCommand::Deposit { cents: 5 }.command_name(), "Pay");
/// ```
#[proc_macro_derive(Command, attributes(command))]
pub fn derive_command(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    command::derive(&input).into()
}

/// Implements `ddd_core::ValueObject`, field-wise `PartialEq` and `ddd_core::Validate`
/// for a struct (named, tuple, newtype or unit) or an enum.
///
/// Do not also derive `PartialEq`: this derive writes it. Derive `Clone` and `Debug`, which
/// `ValueObject` requires.
///
/// # Attributes: `#[value(...)]`
///
/// | key | on | meaning |
/// |---|---|---|
/// | `eq` | struct, enum | also implement `Eq` and field-wise `Hash` (instead of deriving them) |
/// | `len(..)`, `range(..)`, `pattern(..)` | field | constraints, see the [crate docs](crate#field-constraints) |
/// | `skip` | field | neither checked nor validated (still compared) |
///
/// A newtype also gets `AsRef<Inner>` and, unless it is generic, `TryFrom<Inner>` that
/// validates (`Error = ddd_core::ValidationErrors`).
///
/// # Example
///
/// ```
/// use ddd_core::{Validate, ValueObject};
///
/// #[derive(Clone, Debug, ValueObject)]
/// #[value(eq)]
/// pub struct Currency(#[value(pattern("^[A-Z]{3}$"))] String);
///
/// #[derive(Clone, Debug, ValueObject)]
/// pub struct Money {
///     #[value(range(0..))]
///     cents: i64,
///     currency: Currency,
/// }
///
/// let eur = Currency::try_from("EUR".to_owned())?;
/// assert_eq!(eur.as_ref(), "EUR");
/// assert!(Currency::try_from("euro".to_owned()).is_err());
/// assert_eq!(Money { cents: 5, currency: eur.clone() }, Money { cents: 5, currency: eur });
///
/// let broken = Money { cents: -1, currency: Currency("eur".into()) };
/// let errors = broken.validate().unwrap_err();
/// assert_eq!(errors.fields().collect::<Vec<_>>(), ["cents", "currency.0"]);
/// # Ok::<_, ddd_core::ValidationErrors>(())
/// ```
#[proc_macro_derive(ValueObject, attributes(value))]
pub fn derive_value_object(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    value_object::derive(&input).into()
}

/// Implements `ddd_core::Entity`, `PartialEq`, `Eq` and `Hash` by identity, and
/// `ddd_core::Validate`, for a struct with named fields.
///
/// # Attributes: `#[entity(...)]`
///
/// | key | on | meaning |
/// |---|---|---|
/// | `id` | exactly one field | the entity's identity: `Entity::Id` is its type |
/// | `len(..)`, `range(..)`, `pattern(..)` | field | constraints, see the [crate docs](crate#field-constraints) |
/// | `skip` | field | neither checked nor validated |
///
/// Do not also derive `PartialEq`, `Eq` or `Hash`: two entities with the same id are the same
/// entity, whatever their other fields say.
///
/// # Example
///
/// ```
/// use ddd_core::{Entity, Validate};
///
/// #[derive(Clone, Debug, Entity)]
/// pub struct OrderLine {
///     #[entity(id)]
///     line_no: u32,
///     #[entity(range(1..=99))]
///     quantity: u32,
/// }
///
/// let line = OrderLine { line_no: 1, quantity: 2 };
/// assert_eq!(line, OrderLine { line_no: 1, quantity: 50 });
/// assert_eq!(*line.entity_id(), 1);
/// assert!(OrderLine { line_no: 2, quantity: 0 }.validate().is_err());
/// ```
#[proc_macro_derive(Entity, attributes(entity))]
pub fn derive_entity(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    entity::derive(&input).into()
}

/// Implements `ddd_core::BoundedContext` for a struct, usually a unit struct.
///
/// # Attributes: `#[bounded_context(...)]`
///
/// | key | meaning |
/// |---|---|
/// | `name = "Name"` | `NAME`, part of every subject it publishes on (default: the struct's name) |
/// | `aggregates(A, B)` | its aggregates |
/// | `publishes(Event::Variant, ..)` | single event variants other contexts may subscribe to |
/// | `publishes_all(Event, ..)` | event types all of whose variants are published |
/// | `policies(P, ..)` | its policies |
///
/// Every name is checked at compile time: a type that is not an `Aggregate` or a `Policy`, or
/// a variant that does not exist, is an error at the name. A name listed twice is an error.
///
/// # Example
///
/// ```
/// use ddd_core::{BoundedContext, DomainEvent};
/// use serde::{Deserialize, Serialize};
///
/// #[derive(Clone, Debug, Serialize, Deserialize, DomainEvent)]
/// pub enum AccountEvent {
///     Opened { owner: String },
///     #[event(rename = "MoneyDeposited")]
///     Deposited { cents: i64 },
///     Audited,
/// }
///
/// #[derive(Debug, BoundedContext)]
/// #[bounded_context(name = "Banking", publishes(AccountEvent::Opened, AccountEvent::Deposited))]
/// pub struct Banking;
///
/// assert_eq!(Banking::NAME, "Banking");
/// assert_eq!(Banking::published_events(), ["Opened", "MoneyDeposited"]);
/// assert!(!Banking::publishes("Audited"));
/// ```
#[proc_macro_derive(BoundedContext, attributes(bounded_context))]
pub fn derive_bounded_context(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    bounded_context::derive(&input).into()
}
