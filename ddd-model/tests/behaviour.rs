//! Behaviour in the model: guards, `sets`, lifecycles, named types and scopes, typed.

use ddd_model::ir::{StateMove, Type, TypedKind};
use ddd_model::{Code, Format, Severity, load};

fn problems(model: &str) -> Vec<(Severity, Code, String)> {
    match load(model, Format::Ddd) {
        Ok(loaded) => loaded.diagnostics,
        Err(rejected) => rejected.diagnostics,
    }
    .into_iter()
    .filter(|d| d.severity != Severity::Note)
    .map(|d| (d.severity, d.code, d.message))
    .collect()
}

const CART: &str = r#"system S
type Quantity = u32 @range(1..=99)
context Cart : supporting {
  enum Status { Open, Closed }
  aggregate Cart {
    items: Vec<Item>
    status: Status
    total: i64
    entity Item { sku: String @key, quantity: Quantity, price: i64 }
    lifecycle status { Open -> Closed by Close }
    command OpenCart() creates emits Opened
    command Add(sku: String, quantity: Quantity, price: i64) requires status == Open and price * quantity < 1000000 else "too much" emits Added
    command Close() requires count(items) > 0 emits Closed
    event Opened()
    event Added(sku: String, quantity: Quantity, price: i64) sets total = total + price * quantity
    event Closed()
  }
}
"#;

#[test]
fn guards_sets_and_lifecycles_are_typed() {
    let loaded = load(CART, Format::Ddd).expect("accepted");
    let cart = &loaded.system.contexts[0].aggregates[0];
    let add = cart.command("Add").expect("Add");
    let rule = add.requires[0].rule.checked().expect("typed");
    assert_eq!(rule.ty, Type::Bool);
    assert!(rule.has_arithmetic());
    let added = cart.event("Added").expect("Added");
    assert_eq!(added.apply.appends[0].key.as_deref(), Some("sku"));
    let total = added.sets[0].value.checked().expect("typed");
    assert_eq!(total.ty, Type::I64);
    let TypedKind::Binary { rhs, .. } = &total.kind else {
        panic!("{total:?}")
    };
    // `price * quantity`: the `u32` widens to `i64`.
    let TypedKind::Binary { rhs: quantity, .. } = &rhs.kind else {
        panic!("{rhs:?}")
    };
    assert!(
        matches!(quantity.kind, TypedKind::Convert { .. }),
        "{quantity:?}"
    );
    assert_eq!(
        cart.event("Closed").expect("Closed").apply.moves,
        [StateMove {
            field: "status".into(),
            to: "Closed".into()
        }]
    );
    // The named type brought its constraint along.
    let quantity = &cart.entities[0].fields[1];
    assert_eq!(quantity.ty, Type::U32);
    assert_eq!(quantity.constraints.len(), 1);
    assert!(
        loaded
            .diagnostics
            .iter()
            .all(|d| d.severity == Severity::Note)
    );
}

#[test]
fn every_expression_error_is_reported_in_one_run() {
    let model = r#"system S
context C {
  enum Status { Open, Closed }
  aggregate A {
    n: u32
    status: Status
    flag: bool
    lifecycle status { Open -> Closed by Close; Shut -> Open by Nope }
    command Make() creates emits Made
    command Close(n: u32) requires n > 0 emits Closed
    command Other() requires flag + 1 emits Closed
    command Third() requires count(flag) > 0 and frobnicate(n) emits Closed
    command Fourth() requires status == Opn emits Closed
    event Made() sets missing = 1
    event Closed() sets n = "text", flag = not n
  }
}
"#;
    let codes: Vec<Code> = problems(model).into_iter().map(|p| p.1).collect();
    for expected in [
        Code::InvalidLifecycle,
        Code::UnknownCommand,
        Code::AmbiguousName,
        Code::TypeMismatch,
        Code::UnknownFunction,
        Code::UnknownField,
    ] {
        assert!(codes.contains(&expected), "{expected:?} in {codes:?}");
    }
}

#[test]
fn two_contexts_may_each_have_a_product() {
    let model = r#"system S
context Catalog {
  aggregate Product { command Create() creates emits Created
    event Created() }
}
context Inventory {
  aggregate Product { sku: Catalog.ProductId
    command Create(sku: Catalog.ProductId) creates emits Created
    event Created(sku: Catalog.ProductId) }
}
context Sales {
  aggregate Sale { product: ProductId
    command Sell(product: ProductId) creates emits Sold
    event Sold(product: ProductId) }
}
"#;
    let found = problems(model);
    let ambiguous: Vec<&(Severity, Code, String)> = found
        .iter()
        .filter(|p| p.1 == Code::AmbiguousName)
        .collect();
    assert_eq!(ambiguous.len(), 3, "{found:?}");
    assert!(
        ambiguous[0]
            .2
            .contains("`Catalog.ProductId` or `Inventory.ProductId`"),
        "{}",
        ambiguous[0].2
    );
    let fixed = model
        .replace(
            "Sale { product: ProductId",
            "Sale { product: Inventory.ProductId",
        )
        .replace(
            "Sell(product: ProductId)",
            "Sell(product: Inventory.ProductId)",
        )
        .replace(
            "Sold(product: ProductId)",
            "Sold(product: Inventory.ProductId)",
        );
    let loaded = load(&fixed, Format::Ddd).expect("accepted");
    let sale = &loaded.system.contexts[2].aggregates[0];
    assert_eq!(sale.fields[0].ty.to_string(), "ProductId");
    assert!(
        matches!(&sale.fields[0].ty, Type::Id(path) if path.context.as_deref() == Some("Inventory"))
    );
}
