//! The naming conventions of ddd, owned here and nowhere else.
//!
//! What the generator writes and what the derives expect must never disagree: a command
//! `Return` is dispatched by the `Command` derive to `handle_return`, and the generator
//! writes exactly the name [`handler`] gives. So every rule that turns a model name into a
//! Rust identifier, an HTTP route, a bus subject or a crate name lives in this crate, which
//! has no dependencies so that the proc-macro crate can use it as cheaply as the runtime.

#![forbid(unsafe_code)]

mod case;
pub mod http;
mod rust;

pub use case::{kebab, pascal, screaming_snake, snake};
pub use rust::{PRELUDE, RESERVED_CRATES, is_keyword, is_prelude_name, module, prelude_path};

/// `noun` after its indefinite article, for prose the generator writes about model names:
/// `an Order`, `a Cart`. By the first letter, as most names read; a name that is read
/// otherwise (`User`, `Hour`) gets the letter's article.
pub fn with_article(noun: &str) -> String {
    let vowel = noun
        .chars()
        .next()
        .is_some_and(|first| matches!(first.to_ascii_lowercase(), 'a' | 'e' | 'i' | 'o' | 'u'));
    format!("{} {noun}", if vowel { "an" } else { "a" })
}

/// The method the `Command` derive dispatches a command variant to: `handle_<snake>`.
/// A prefixed name is never a keyword, so it is never escaped (`Return` → `handle_return`).
pub fn handler(variant: &str) -> String {
    format!("handle_{}", snake(variant))
}

/// The generated method that checks a command's rules before it is decided: `may_<snake>`.
pub fn guard(command: &str) -> String {
    format!("may_{}", snake(command))
}

/// The method the `DomainEvent` derive dispatches an event variant to: `apply_<snake>`.
pub fn applier(variant: &str) -> String {
    format!("apply_{}", snake(variant))
}

/// A function, field or module name for a model name: snake case, escaped when a keyword
/// (`Return` → `return_`, `Type` → `type_`).
pub fn ident(name: &str) -> String {
    rust::escape(snake(name))
}

/// A model field used as a variable in generated code: the name, unless generated code
/// already names something so there (`state`, the aggregate every behaviour function takes),
/// then with a `_` after it, which no model name has (`state_`).
pub fn var(field: &str) -> String {
    if is_generated_local(field) {
        format!("{field}_")
    } else {
        rust::escape(field.to_owned())
    }
}

/// Variables generated code declares where model fields are in scope too: the aggregate's
/// `state`, and in a `sum` the running `sum` and the elements `e0`, `e1`, ...
fn is_generated_local(name: &str) -> bool {
    let element = name
        .strip_prefix('e')
        .is_some_and(|depth| !depth.is_empty() && depth.bytes().all(|b| b.is_ascii_digit()));
    matches!(name, "state" | "sum") || element
}

/// The plural of a kebab-case noun, for HTTP paths: `order` → `orders`, `address` →
/// `addresses`, `category` → `categories`.
pub fn plural(kebab: &str) -> String {
    if let Some(stem) = kebab.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
        && !stem.is_empty()
    {
        return format!("{stem}ies");
    }
    if kebab.ends_with(['s', 'x', 'z']) || kebab.ends_with("ch") || kebab.ends_with("sh") {
        return format!("{kebab}es");
    }
    format!("{kebab}s")
}

/// The HTTP collection of an aggregate: `ShoppingCart` → `/shopping-carts`.
pub fn route(aggregate: &str) -> String {
    format!("/{}", plural(&kebab(aggregate)))
}

/// The durable consumer that copies `source_context`'s published events into `context`'s
/// store for its views: `ordering-views-copy-payments`.
pub fn view_copy_consumer(context: &str, source_context: &str) -> String {
    format!("{}-views-copy-{}", kebab(context), kebab(source_context))
}

/// The HTTP collection of a view: its name in the plural unless it is one already
/// (`OrderSummary` → `/order-summaries`, `CustomerTotals` → `/customer-totals`); a final
/// `ss`, `us` or `is` is a singular (`OrderStatus` → `/order-statuses`).
pub fn view_route(view: &str) -> String {
    let kebab = kebab(view);
    let plural_already = kebab.ends_with('s')
        && !kebab.ends_with("ss")
        && !kebab.ends_with("us")
        && !kebab.ends_with("is");
    if plural_already {
        format!("/{kebab}")
    } else {
        format!("/{}", plural(&kebab))
    }
}

/// The path segment of a command on an existing aggregate: `AddItem` → `add-item`
/// (`POST /shopping-carts/{id}/add-item`).
pub fn command_path(command: &str) -> String {
    kebab(command)
}

/// The subject an event is published on: `<system>.<context>.<EventType>`.
pub fn subject(system: &str, context: &str, event_type: &str) -> String {
    format!("{system}.{context}.{event_type}")
}

/// Where a consumer's dead letters go: `dead-letter.<consumer>`.
pub fn dead_letter_subject(consumer: &str) -> String {
    format!("dead-letter.{consumer}")
}

/// The system's name as it starts every subject: `OnlineShop` → `online-shop`.
pub fn namespace(system: &str) -> String {
    kebab(system)
}

/// The durable consumer of a policy, unique in a system and stable across deployments:
/// `ordering-on-cart-cart-checked-out-run-order-place-order`.
pub fn policy_consumer(
    context: &str,
    source_context: &str,
    event: &str,
    aggregate: &str,
    command: &str,
) -> String {
    format!(
        "{}-on-{}-{}-run-{}-{}",
        kebab(context),
        kebab(source_context),
        kebab(event),
        kebab(aggregate),
        kebab(command)
    )
}

/// The Cargo package of a context's service: `<system>-<context>` in kebab case.
pub fn service_package(system: &str, context: &str) -> String {
    format!("{}-{}", kebab(system), kebab(context))
}

/// The library crate of a context's service, as Rust code names it: `<system>_<context>`.
pub fn service_lib(system: &str, context: &str) -> String {
    format!("{}_{}", snake(system), snake(context))
}

/// The prefix of a context's environment variables in the monolith: `ORDERING`.
pub fn env_prefix(context: &str) -> String {
    screaming_snake(context)
}

/// Whether `name` can be a Cargo package name that is also a usable Rust crate name:
/// ASCII letters, digits, `-` and `_`, starting with a letter, at most 64 characters, and
/// not a keyword or a crate every Rust program already has once `-` becomes `_`.
pub fn check_package(name: &str) -> Result<(), PackageNameError> {
    let mut chars = name.chars();
    match chars.next() {
        None => return Err(PackageNameError::Empty),
        Some(first) if !first.is_ascii_alphabetic() => {
            return Err(PackageNameError::Start(first));
        }
        Some(_) => {}
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '-' || *c == '_'))
    {
        return Err(PackageNameError::Character(bad));
    }
    if name.len() > 64 {
        return Err(PackageNameError::Length(name.len()));
    }
    let as_crate = name.replace('-', "_");
    if is_keyword(&as_crate) || RESERVED_CRATES.contains(&as_crate.as_str()) {
        return Err(PackageNameError::Reserved(as_crate));
    }
    Ok(())
}

/// Why a name cannot be a package name (see [`check_package`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PackageNameError {
    Empty,
    Start(char),
    Character(char),
    Length(usize),
    Reserved(String),
}

impl std::fmt::Display for PackageNameError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Empty => f.write_str("a name cannot be empty"),
            Self::Start(c) => write!(f, "a name must start with an ASCII letter, not `{c}`"),
            Self::Character(c) => write!(
                f,
                "`{c}` cannot be in a name (ASCII letters, digits, `-` and `_` only)"
            ),
            Self::Length(n) => write!(f, "a name is at most 64 characters long, this is {n}"),
            Self::Reserved(c) => write!(f, "`{c}` is a Rust keyword or a built-in crate"),
        }
    }
}

impl std::error::Error for PackageNameError {}

#[cfg(test)]
mod tests {
    #[test]
    fn variables_step_aside_for_generated_locals() {
        assert_eq!(super::var("state"), "state_");
        assert_eq!(super::var("e12"), "e12_");
        assert_eq!(super::var("sum"), "sum_");
        assert_eq!(super::var("each"), "each");
        assert_eq!(super::var("customer"), "customer");
    }

    use super::*;

    #[test]
    fn articles_follow_the_first_letter() {
        assert_eq!(with_article("Order"), "an Order");
        assert_eq!(with_article("Item"), "an Item");
        assert_eq!(with_article("Cart"), "a Cart");
        assert_eq!(with_article("event"), "an event");
        assert_eq!(with_article("value"), "a value");
    }

    #[test]
    fn prefixed_methods_are_never_escaped() {
        assert_eq!(handler("Return"), "handle_return");
        assert_eq!(handler("Move"), "handle_move");
        assert_eq!(applier("HTTPRequestSent"), "apply_http_request_sent");
        assert_eq!(ident("Return"), "return_");
        assert_eq!(ident("Self"), "self_");
        assert_eq!(ident("PlaceOrder"), "place_order");
    }

    #[test]
    fn routes_and_subjects() {
        assert_eq!(route("ShoppingCart"), "/shopping-carts");
        assert_eq!(route("Address"), "/addresses");
        assert_eq!(route("Category"), "/categories");
        assert_eq!(route("Day"), "/days");
        assert_eq!(view_route("OrderSummary"), "/order-summaries");
        assert_eq!(view_route("CustomerTotals"), "/customer-totals");
        assert_eq!(view_route("OrderStatus"), "/order-statuses");
        assert_eq!(view_route("ShipmentBoard"), "/shipment-boards");
        assert_eq!(command_path("AddItem"), "add-item");
        assert_eq!(
            subject("shop", "Ordering", "OrderPlaced"),
            "shop.Ordering.OrderPlaced"
        );
        assert_eq!(dead_letter_subject("a-b"), "dead-letter.a-b");
        assert_eq!(
            policy_consumer("Ordering", "Cart", "CartCheckedOut", "Order", "PlaceOrder"),
            "ordering-on-cart-cart-checked-out-run-order-place-order"
        );
    }

    #[test]
    fn crate_names() {
        assert_eq!(
            service_package("OnlineShop", "Ordering"),
            "online-shop-ordering"
        );
        assert_eq!(
            service_lib("OnlineShop", "Ordering"),
            "online_shop_ordering"
        );
        assert_eq!(env_prefix("ShoppingCart"), "SHOPPING_CART");
        assert!(check_package("order-tracking").is_ok());
        for bad in ["", "1st", "a b", "std", "fn", "my/service", "core"] {
            assert!(check_package(bad).is_err(), "{bad}");
        }
    }
}
