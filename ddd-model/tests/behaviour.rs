//! Behaviour in the model: guards, `sets`, lifecycles, named types and scopes, typed.

use ddd_model::ir::{Function, NameScope, StateMove, SubdomainKind, Type, TypePath, TypedKind};
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

const BEHAVIOUR: &str = include_str!("models/good/behaviour.ddd");

/// `(code, line:col, message)` of every error and warning.
fn located(model: &str) -> Vec<(Code, (usize, usize), String)> {
    match load(model, Format::Ddd) {
        Ok(loaded) => loaded.diagnostics,
        Err(rejected) => rejected.diagnostics,
    }
    .into_iter()
    .filter(|d| d.severity != Severity::Note)
    .map(|d| {
        let at = d.line_col(model).unwrap_or_default();
        (d.code, at, d.message)
    })
    .collect()
}

/// Line and column of the `n`th (from 0) occurrence of `text` in `model`: where a diagnostic
/// about it must point.
fn nth(model: &str, text: &str, n: usize) -> (usize, usize) {
    let offset = model
        .match_indices(text)
        .nth(n)
        .unwrap_or_else(|| panic!("no {text:?} #{n} in the model"))
        .0;
    ddd_model::diagnostic::line_col(model, offset)
}

fn first(model: &str, text: &str) -> (usize, usize) {
    nth(model, text, 0)
}

/// Asserts that a diagnostic of `code` points at `at`, and returns its message.
fn expect_at(found: &[(Code, (usize, usize), String)], code: Code, at: (usize, usize)) -> String {
    found
        .iter()
        .find(|(c, position, _)| *c == code && *position == at)
        .map(|(_, _, message)| message.clone())
        .unwrap_or_else(|| panic!("no {code:?} at {at:?} in {found:#?}"))
}

/// Every typed expression of the model's guards and `sets`.
fn typed_trees(system: &ddd_model::System) -> Vec<ddd_model::ir::Typed> {
    let mut trees = Vec::new();
    for aggregate in system.contexts.iter().flat_map(|c| &c.aggregates) {
        for command in &aggregate.commands {
            for guard in &command.requires {
                trees.push(guard.rule.checked().expect("typed guard").clone());
            }
        }
        for event in &aggregate.events {
            for set in &event.sets {
                trees.push(set.value.checked().expect("typed sets").clone());
            }
        }
    }
    trees
}

#[test]
fn every_built_in_is_typed() {
    let loaded = load(BEHAVIOUR, Format::Ddd).unwrap_or_else(|r| panic!("{:#?}", r.diagnostics));
    assert!(
        loaded
            .diagnostics
            .iter()
            .all(|d| d.severity == Severity::Note),
        "{:#?}",
        loaded.diagnostics
    );
    let mut functions = Vec::new();
    let mut records = 0;
    let mut element_names = Vec::new();
    for tree in typed_trees(&loaded.system) {
        tree.visit(&mut |node| match &node.kind {
            TypedKind::Call { function, args } => {
                functions.push(*function);
                let expected = match function {
                    Function::Count | Function::Len => Some(Type::U32),
                    Function::Append | Function::Upsert | Function::Remove => {
                        Some(args[0].ty.clone())
                    }
                    Function::Insert | Function::Delete => Some(args[0].ty.clone()),
                    Function::Some => Some(Type::Option(Box::new(args[0].ty.clone()))),
                    Function::Sum => Some(args[1].ty.clone()),
                };
                assert_eq!(Some(&node.ty), expected.as_ref(), "{function:?}");
            }
            TypedKind::Record { .. } => records += 1,
            TypedKind::Name {
                scope: NameScope::Element(depth),
                name,
            } => element_names.push((*depth, name.to_string())),
            _ => {}
        });
    }
    for function in Function::ALL {
        assert!(functions.contains(function), "{function:?} is not used");
    }
    assert!(records >= 3, "record literals: {records}");
    // `sum(lines, unit_price.amount_cents * quantity)`: the element's fields are in scope.
    assert!(element_names.contains(&(0, "unit_price".to_owned())));
    assert!(element_names.contains(&(0, "quantity".to_owned())));
    let order = loaded.system.aggregate("Order").expect("Order").1;
    let place = order.command("Place").expect("Place").requires[0]
        .rule
        .checked()
        .expect("typed");
    let TypedKind::Binary { lhs: sum, .. } = &place.kind else {
        panic!("{place:?}")
    };
    // `i64 * u32` per element is `i64`, and so is the sum.
    assert_eq!(sum.ty, Type::I64);
}

/// `a OP b > 0` over fields of types `a` and `b`: the type of `a OP b`, or the codes.
fn arithmetic(a: &str, b: &str, op: &str) -> Result<Type, Vec<Code>> {
    let model = format!(
        "system S\ncontext C {{\n  aggregate A {{\n    command Make(a: {a}, b: {b}) creates requires a {op} b > 0 emits Made\n    event Made()\n  }}\n}}\n"
    );
    match load(&model, Format::Ddd) {
        Ok(loaded) => {
            let rule = loaded.system.contexts[0].aggregates[0].commands[0].requires[0]
                .rule
                .checked()
                .expect("typed")
                .clone();
            let TypedKind::Binary { lhs, .. } = rule.kind else {
                panic!("{rule:?}")
            };
            Ok(lhs.ty)
        }
        Err(rejected) => Err(rejected.diagnostics.iter().map(|d| d.code).collect()),
    }
}

#[test]
fn integers_widen_where_no_value_is_lost() {
    assert_eq!(arithmetic("i64", "u32", "*"), Ok(Type::I64));
    assert_eq!(arithmetic("u32", "i64", "+"), Ok(Type::I64));
    assert_eq!(arithmetic("u8", "i8", "-"), Ok(Type::I16));
    assert_eq!(arithmetic("u32", "i32", "+"), Ok(Type::I64));
    assert_eq!(arithmetic("u64", "u8", "*"), Ok(Type::U64));
    assert_eq!(arithmetic("f64", "f64", "*"), Ok(Type::F64));
    assert_eq!(arithmetic("u64", "i64", "+"), Err(vec![Code::TypeMismatch]));
    assert_eq!(arithmetic("i64", "u64", "*"), Err(vec![Code::TypeMismatch]));
    assert_eq!(arithmetic("f64", "i64", "+"), Err(vec![Code::TypeMismatch]));
    assert_eq!(
        arithmetic("String", "String", "+"),
        Err(vec![Code::TypeMismatch])
    );
    let model = "system S\ncontext C {\n  aggregate A {\n    command Make(a: u64, b: i64) creates requires a + b > 0 emits Made\n    event Made()\n  }\n}\n";
    let found = located(model);
    let message = expect_at(&found, Code::TypeMismatch, first(model, "a + b"));
    assert!(message.contains("`u64` and `i64`"), "{message}");
}

const MEMBERSHIP: &str = r#"system S
context C {
  enum Status { Open, Paid, Closed }
  aggregate A {
    status: Status
    size: u8
    note: Option<String>
    command Make(size: u8) creates emits Made
    command Pay() requires status in {Open, Paid} and size in {1, 2, 3} and note == none and none != note emits Paid
    command Close() requires note == some("x") and not (status in {Closed}) emits Closed
    event Made(size: u8)
    event Paid() sets status = Paid, note = none
    event Closed() sets status = Closed, note = some("closed")
  }
}
"#;

#[test]
fn membership_and_none_are_typed() {
    let loaded = load(MEMBERSHIP, Format::Ddd).unwrap_or_else(|r| panic!("{:#?}", r.diagnostics));
    let mut sets = Vec::new();
    let mut nones = Vec::new();
    for tree in typed_trees(&loaded.system) {
        tree.visit(&mut |node| match &node.kind {
            TypedKind::In { value, set } => {
                sets.push((
                    value.ty.clone(),
                    set.iter().map(|t| t.ty.clone()).collect::<Vec<_>>(),
                ));
            }
            TypedKind::None => nones.push(node.ty.clone()),
            _ => {}
        });
    }
    let status = sets[0].0.clone();
    assert!(matches!(status, Type::Enum(_)), "{status:?}");
    assert_eq!(sets[0].1, [status.clone(), status.clone()]);
    // Integer literals take the type of what they are compared with.
    assert_eq!(sets[1], (Type::U8, vec![Type::U8, Type::U8, Type::U8]));
    let optional = Type::Option(Box::new(Type::String));
    assert_eq!(nones, [optional.clone(), optional.clone(), optional]);

    let broken = MEMBERSHIP
        .replace("{Open, Paid}", "{Open, Payd}")
        .replace("size in {1, 2, 3}", "size in {1, 300}")
        .replace("note == none and", "size == none and");
    let found = located(&broken);
    let message = expect_at(&found, Code::UnknownField, first(&broken, "Payd"));
    assert!(message.contains("variant of `Status`"), "{message}");
    let message = expect_at(&found, Code::TypeMismatch, first(&broken, "300"));
    assert!(message.contains("does not fit in `u8`"), "{message}");
    let message = expect_at(&found, Code::TypeMismatch, nth(&broken, "none", 0));
    assert!(message.contains("expected `u8`, found `none`"), "{message}");
}

const ORDER: &str = r#"system S
context C {
  enum Status { Open, Paid }
  aggregate Order {
    status: Status
    total: i64
    items: Vec<String>
    command Open() creates emits Opened
    command Pay(total: i64) requires total > 0 emits Paid
    command Check() requires count(total) > 0 and frobnicate(items) and nope > 1 and items emits Paid
    event Opened() sets status = Open
    event Paid(total: i64) sets total = total + 1, status = "paid", itemz = items, items = cnt(items), missing = 1
  }
}
"#;

#[test]
fn errors_in_requires_and_sets_are_located() {
    let found = located(ORDER);
    // Requires.
    let message = expect_at(&found, Code::AmbiguousName, nth(ORDER, "total", 2));
    assert!(
        message.contains("command's parameter `total` or the state field `total`"),
        "{message}"
    );
    expect_at(&found, Code::TypeMismatch, nth(ORDER, "total", 3));
    expect_at(&found, Code::UnknownFunction, first(ORDER, "frobnicate"));
    let message = expect_at(&found, Code::UnknownField, first(ORDER, "nope"));
    assert_eq!(message, "unknown name `nope`");
    let message = expect_at(&found, Code::TypeMismatch, nth(ORDER, "items emits", 0));
    assert!(message.contains("expected `bool`"), "{message}");
    // Sets.
    let message = expect_at(&found, Code::AmbiguousName, nth(ORDER, "total", 6));
    assert!(
        message.contains("event's field `total` or the state field `total`"),
        "{message}"
    );
    expect_at(&found, Code::TypeMismatch, first(ORDER, "\"paid\""));
    let message = expect_at(&found, Code::UnknownField, first(ORDER, "itemz"));
    assert!(message.contains("no state field `itemz`"), "{message}");
    expect_at(&found, Code::UnknownFunction, first(ORDER, "cnt"));
    expect_at(&found, Code::UnknownField, first(ORDER, "missing"));
    assert!(
        found
            .iter()
            .all(|(_, at, _)| *at != (0, 0) && *at != (1, 1)),
        "every error is located: {found:#?}"
    );
}

#[test]
fn sets_on_a_field_the_aggregate_does_not_have() {
    let model = "system S\ncontext C {\n  aggregate A {\n    total: i64\n    command Make() creates emits Made\n    event Made() sets totl = 1, total = 0, total = 2\n  }\n}\n";
    let loaded = load(model, Format::Ddd).expect_err("rejected");
    let unknown = rejected_one(&loaded.diagnostics, Code::UnknownField);
    assert_eq!(unknown.line_col(model), Some(first(model, "totl")));
    assert_eq!(unknown.help.as_deref(), Some("did you mean `total`?"));
    let twice = rejected_one(&loaded.diagnostics, Code::DuplicateName);
    assert_eq!(twice.line_col(model), Some(nth(model, "total", 2)));
}

fn rejected_one(diagnostics: &[ddd_model::Diagnostic], code: Code) -> &ddd_model::Diagnostic {
    let found: Vec<&ddd_model::Diagnostic> =
        diagnostics.iter().filter(|d| d.code == code).collect();
    assert_eq!(found.len(), 1, "one {code:?} in {diagnostics:#?}");
    found[0]
}

const LIFECYCLES: &str = r#"system S
context C {
  enum Status { Draft, Open, Done }
  aggregate A {
    status: Status
    count: u32
    lifecycle count { Draft -> Open by Go }
    lifecycle status {
      Draft -> Open by Make
      Draft -> Open by Go
      Open -> Done by Finish, Go
      Open -> Closed by Close
      Done -> Draft by Nope
    }
    command Make() creates emits Made
    command Go() emits Went
    command Finish() emits Finished
    command Close() emits Finished
    event Made()
    event Went(count: u32)
    event Finished()
  }
}
"#;

#[test]
fn lifecycle_errors_are_located() {
    let found = located(LIFECYCLES);
    let message = expect_at(&found, Code::InvalidLifecycle, nth(LIFECYCLES, "count", 1));
    assert!(message.contains("`count` is `u32`"), "{message}");
    let message = expect_at(&found, Code::InvalidLifecycle, nth(LIFECYCLES, "Make", 0));
    assert!(message.contains("creates the aggregate"), "{message}");
    let message = expect_at(&found, Code::InvalidLifecycle, nth(LIFECYCLES, "Go", 2));
    assert!(message.contains("in two transitions"), "{message}");
    let message = expect_at(&found, Code::InvalidLifecycle, first(LIFECYCLES, "Closed"));
    assert!(message.contains("not a state of `Status`"), "{message}");
    let message = expect_at(&found, Code::UnknownCommand, first(LIFECYCLES, "Nope"));
    assert!(message.contains("no command `Nope`"), "{message}");
    // A state the lifecycle does not know stops the reachability check: no second error.
    assert!(
        !found.iter().any(|(c, ..)| *c == Code::UnreachableState),
        "{found:#?}"
    );
}

#[test]
fn unreachable_transitions_are_reported_and_the_creating_command_starts_at_the_first_state() {
    let model = r#"system S
context C {
  enum Status { Draft, Open, Done, Archived }
  aggregate A {
    status: Status
    lifecycle status {
      Draft -> Open by Go
      Done, Archived -> Draft by Restore
      Open -> Draft by Back
    }
    command Make() creates emits Made
    command Go() emits Went
    command Restore() emits Restored
    command Back() emits Backed
    event Made()
    event Went()
    event Restored()
    event Backed()
  }
}
"#;
    let found = located(model);
    let unreachable: Vec<_> = found
        .iter()
        .filter(|(c, ..)| *c == Code::UnreachableState)
        .collect();
    assert_eq!(unreachable.len(), 1, "{found:#?}");
    assert_eq!(unreachable[0].1, nth(model, "Done", 1));
    assert!(
        unreachable[0]
            .2
            .contains("from `Draft` to `Done` or `Archived`"),
        "{}",
        unreachable[0].2
    );
    let fixed = model.replace(
        "Done, Archived -> Draft by Restore",
        "Open -> Done by Restore",
    );
    let loaded = load(&fixed, Format::Ddd).unwrap_or_else(|r| panic!("{:#?}", r.diagnostics));
    let aggregate = &loaded.system.contexts[0].aggregates[0];
    let moves = |event: &str| aggregate.event(event).expect(event).apply.moves.clone();
    // The creating command makes no move: the state starts at the enum's first variant.
    assert!(moves("Made").is_empty());
    assert_eq!(moves("Went")[0].to, "Open");
    assert_eq!(moves("Backed")[0].to, "Draft");
}

/// An aggregate with an entity whose `id` field has type `ty` and is marked `@key`.
fn keyed(ty: &str) -> String {
    format!(
        "system S\nvalue V {{ x: i32 }}\ncontext C {{\n  enum E {{ One, Two }}\n  aggregate A {{\n    items: Vec<Item>\n    entity Item {{ key: {ty} @key, note: String }}\n    command Make(items: Vec<Item>) creates emits Made\n    event Made(items: Vec<Item>)\n  }}\n}}\n"
    )
}

#[test]
fn a_key_is_a_type_that_compares_exactly() {
    for good in [
        "String", "u32", "i64", "u8", "bool", "Uuid", "Date", "DateTime", "Decimal", "E", "AId",
    ] {
        let model = keyed(good);
        let loaded =
            load(&model, Format::Ddd).unwrap_or_else(|r| panic!("{good}: {:#?}", r.diagnostics));
        let item = &loaded.system.contexts[0].aggregates[0].entities[0];
        assert!(item.fields[0].key, "{good}");
    }
    for bad in [
        "Json",
        "f32",
        "f64",
        "Vec<String>",
        "Map<String, u32>",
        "Option<String>",
        "V",
    ] {
        let model = keyed(bad);
        let found = located(&model);
        let message = expect_at(
            &found,
            Code::ConstraintMismatch,
            first(&model, &format!("{bad} @key")),
        );
        assert_eq!(message, format!("`@key` does not fit `{bad}`"));
    }
}

#[test]
fn a_key_belongs_to_one_field_of_an_entity() {
    let model = "system S\nvalue V { code: String @key }\ncontext C {\n  aggregate A {\n    sku: String @key\n    entity Item { a: String @key, b: u32 @key }\n    command Make(sku: String @key) creates emits Made\n    event Made(sku: String)\n  }\n}\n";
    let found = located(model);
    for place in ["@key }", "@key\n", "@key) creates"] {
        let message = expect_at(&found, Code::InvalidConstraint, first(model, place));
        assert_eq!(message, "`@key` is only for an entity's fields");
    }
    let message = expect_at(&found, Code::InvalidConstraint, first(model, "b: u32"));
    assert!(message.contains("second `@key`"), "{message}");

    // In JSON too, where `key` is a flag that any field could carry.
    let json = r#"{"name": "S", "contexts": [{"name": "C", "aggregates": [{
        "name": "A",
        "fields": [{"name": "sku", "type": "string", "key": true}],
        "entities": [{"name": "Item", "fields": [{"name": "ratio", "type": "f64", "key": true}]}],
        "commands": [{"name": "Make", "creates": true, "emits": ["Made"]}],
        "events": [{"name": "Made", "fields": [{"name": "sku", "type": "string"}]}]
    }]}]}"#;
    let rejected = load(json, Format::Json).expect_err("rejected");
    let paths: Vec<(Code, Option<String>)> = rejected
        .diagnostics
        .iter()
        .filter(|d| d.is_error())
        .map(|d| (d.code, d.location.as_ref().and_then(|l| l.path.clone())))
        .collect();
    assert_eq!(
        paths,
        [
            (
                Code::InvalidConstraint,
                Some("$.contexts[0].aggregates[0].fields[0].key".to_owned())
            ),
            (
                Code::ConstraintMismatch,
                Some("$.contexts[0].aggregates[0].entities[0].fields[0].key".to_owned())
            ),
        ]
    );
}

#[test]
fn upsert_and_remove_need_a_key() {
    let model = "system S\ncontext C {\n  aggregate A {\n    items: Vec<Item>\n    entity Item { sku: String, quantity: u32 }\n    command Make() creates emits Made\n    event Made(sku: String) sets items = upsert(items, Item { sku: sku, quantity: 1 })\n    event Gone(sku: String) sets items = remove(items, sku)\n  }\n}\n";
    let found = located(model);
    for n in [1, 3] {
        let message = expect_at(&found, Code::TypeMismatch, nth(model, "items", n + 1));
        assert!(message.contains("has none"), "{message}");
    }
    let keyed = model.replace("sku: String, quantity", "sku: String @key, quantity");
    let found = located(&keyed);
    assert!(
        found.iter().all(|(c, ..)| *c != Code::TypeMismatch),
        "{found:#?}"
    );
}

#[test]
fn named_types_bring_their_constraints() {
    let model = r#"system S
type Quantity = u32 @range(1..=99)
type Small = Quantity
type Code = String @len(3) @pattern("^[A-Z]+$")
context C {
  type Title = String @len(1..=80)
  aggregate A {
    type Note = Option<Title>
    quantity: Small
    code: Code
    note: Note
    command Make(quantity: Small, code: Code, note: Note, title: C.Title) creates emits Made
    event Made(quantity: Small, code: Code, note: Note, title: Title)
  }
}
"#;
    let loaded = load(model, Format::Ddd).unwrap_or_else(|r| panic!("{:#?}", r.diagnostics));
    let aggregate = &loaded.system.contexts[0].aggregates[0];
    let shown = |field: &ddd_model::ir::Field| {
        let constraints: Vec<String> = field.constraints.iter().map(ToString::to_string).collect();
        format!("{}: {} {}", field.name, field.ty, constraints.join(" "))
    };
    let state: Vec<String> = aggregate.fields.iter().map(shown).collect();
    assert_eq!(
        state,
        [
            "quantity: u32 @range(1..=99)",
            "code: String @len(3) @pattern(\"^[A-Z]+$\")",
            "note: Option<String> @len(1..=80)",
        ]
    );
    let title = &aggregate.command("Make").expect("Make").params[3];
    assert_eq!(shown(title), "title: String @len(1..=80)");
    // A field adds constraints of other kinds after the named type's.
    let with_pattern = model.replace("note: Note\n", "note: Note @pattern(\"^[a-z ]*$\")\n");
    let loaded =
        load(&with_pattern, Format::Ddd).unwrap_or_else(|r| panic!("{:#?}", r.diagnostics));
    let note = &loaded.system.contexts[0].aggregates[0].fields[2];
    assert_eq!(
        shown(note),
        "note: Option<String> @len(1..=80) @pattern(\"^[a-z ]*$\")"
    );
    // One of a kind the named type has would be checked twice: an error where it is written.
    let narrowed = model
        .replace("quantity: Small\n", "quantity: Small @range(..=10)\n")
        .replace("code: Code\n", "code: Code @len(2)\n");
    let found = located(&narrowed);
    let message = expect_at(
        &found,
        Code::InvalidConstraint,
        first(&narrowed, "@range(..=10)"),
    );
    assert_eq!(
        message,
        "`@range` is given twice: `Small` already has `@range(1..=99)`"
    );
    let message = expect_at(&found, Code::InvalidConstraint, first(&narrowed, "@len(2)"));
    assert_eq!(
        message,
        "`@len` is given twice: `Code` already has `@len(3)`"
    );
}

#[test]
fn named_types_in_a_cycle_or_out_of_scope_are_errors() {
    let model = r#"system S
type A = B
type B = Vec<A>
type Fine = u8
context C {
  aggregate X {
    type Inner = String
    a: A
    command Make() creates emits Made
    event Made()
  }
  aggregate Y {
    inner: Inner
    list: Vec<Fine>
    command Make() creates emits Made
    event Made()
  }
}
"#;
    let found = located(model);
    expect_at(&found, Code::ValueCycle, first(model, "A = B"));
    expect_at(&found, Code::ValueCycle, first(model, "B = Vec"));
    let message = expect_at(&found, Code::UnknownType, nth(model, "Inner", 1));
    assert_eq!(message, "unknown type `Inner`");
    let found = located(&model.replace("type Fine = u8", "type Fine = u8 @range(1..)"));
    expect_at(&found, Code::ConstraintMismatch, nth(model, "Fine", 1));
}

const SCOPES: &str = r#"system S
context Catalog {
  aggregate Product {
    command Create() creates emits Created
    event Created()
  }
  value Price { cents: i64 }
}
context Inventory {
  aggregate Product {
    command Create() creates emits Created
    event Created()
  }
  value Price { cents: i64 }
}
context Sales {
  aggregate Sale {
    product: ProductId
    price: Price
    other: Nowhere.Price
    missing: Catalog.Cost
    command Sell(product: ProductId, price: Price) creates emits Sold
    event Sold(product: ProductId, price: Price)
  }
}
"#;

#[test]
fn a_name_in_two_other_contexts_names_both_places() {
    let rejected = load(SCOPES, Format::Ddd).expect_err("ambiguous");
    let ambiguous: Vec<&ddd_model::Diagnostic> = rejected
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::AmbiguousName)
        .collect();
    assert_eq!(ambiguous.len(), 6, "{:#?}", rejected.diagnostics);
    let price = ambiguous
        .iter()
        .find(|d| d.line_col(SCOPES) == Some(nth(SCOPES, "Price", 2)))
        .expect("the state field `price`");
    assert_eq!(
        price.message,
        "`Price` could mean `Catalog.Price` or `Inventory.Price`"
    );
    let places: Vec<(Option<(usize, usize)>, &str)> = price
        .related
        .iter()
        .map(|(location, label)| {
            let at = location
                .span
                .map(|s| ddd_model::diagnostic::line_col(SCOPES, s.start as usize));
            (at, label.as_str())
        })
        .collect();
    assert_eq!(
        places,
        [
            (
                Some(first(SCOPES, "Price")),
                "`Catalog.Price` is defined here"
            ),
            (
                Some(nth(SCOPES, "Price", 1)),
                "`Inventory.Price` is defined here"
            ),
        ]
    );
    assert_eq!(
        price.help.as_deref(),
        Some("name the context: `Catalog.Price`")
    );
    let found = located(SCOPES);
    expect_at(&found, Code::UnknownContext, first(SCOPES, "Nowhere.Price"));
    expect_at(&found, Code::UnknownType, first(SCOPES, "Catalog.Cost"));

    let qualified = SCOPES
        .replace("ProductId", "Catalog.ProductId")
        .replace(": Price", ": Inventory.Price")
        .replace("    other: Nowhere.Price\n    missing: Catalog.Cost\n", "");
    let loaded = load(&qualified, Format::Ddd).unwrap_or_else(|r| panic!("{:#?}", r.diagnostics));
    let sale = &loaded.system.contexts[2].aggregates[0];
    assert_eq!(
        sale.fields[0].ty,
        Type::Id(TypePath::context("Catalog".into(), "Product".into()))
    );
    assert_eq!(
        sale.fields[1].ty,
        Type::Value(TypePath::context("Inventory".into(), "Price".into()))
    );
}

#[test]
fn a_name_of_this_context_hides_those_of_others() {
    // Found in the context itself first: not ambiguous.
    let model = SCOPES.replace(
        "context Sales {\n",
        "context Sales {\n  value Price { cents: i64 }\n",
    );
    let found = located(&model);
    assert!(
        found
            .iter()
            .all(|(c, _, m)| *c != Code::AmbiguousName || m.contains("ProductId")),
        "{found:#?}"
    );
}

const MAPPED: &str = r#"system S
context Ordering : core {
  aggregate Order {
    command Place() creates emits Placed
    event Placed()
  }
  publishes Placed
}
context Billing : supporting {
  aggregate Invoice {
    command Open() creates emits Opened
    event Opened()
  }
  on Ordering.Placed run Invoice.Open
}
context Mail {
  aggregate Letter {
    command Send() creates emits Sent
    event Sent()
  }
  on Ordering.Placed run Letter.Send
}
"#;

#[test]
fn policies_between_unrelated_contexts_are_warned_about_only_with_a_map() {
    let codes = |model: &str| -> Vec<(Code, (usize, usize))> {
        located(model)
            .into_iter()
            .map(|(c, at, _)| (c, at))
            .collect()
    };
    assert!(codes(MAPPED).is_empty(), "{:?}", codes(MAPPED));
    let with_map = format!("{MAPPED}map {{\n  Ordering -> Billing : customer-supplier\n}}\n");
    assert_eq!(
        codes(&with_map),
        [(
            Code::UnrelatedContexts,
            first(&with_map, "on Ordering.Placed run Letter")
        )]
    );
    // Either direction relates them.
    let reversed = format!(
        "{MAPPED}map {{\n  Billing -> Ordering : conformist\n  Mail <-> Ordering : partnership\n}}\n"
    );
    assert!(codes(&reversed).is_empty(), "{:?}", codes(&reversed));
}

#[test]
fn subdomain_kinds_are_in_the_model() {
    let system = load(MAPPED, Format::Ddd).expect("accepted").system;
    let kinds: Vec<Option<SubdomainKind>> = system.contexts.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            Some(SubdomainKind::Core),
            Some(SubdomainKind::Supporting),
            None
        ]
    );
    let json = serde_json::to_value(&system).expect("serializes");
    assert_eq!(json["contexts"][0]["kind"], "core");
    assert!(json["contexts"][2].get("kind").is_none());
    let system = load(BEHAVIOUR, Format::Ddd).expect("accepted").system;
    let kinds: Vec<Option<SubdomainKind>> = system.contexts.iter().map(|c| c.kind).collect();
    assert_eq!(
        kinds,
        [
            Some(SubdomainKind::Supporting),
            Some(SubdomainKind::Generic),
            Some(SubdomainKind::Core)
        ]
    );
}

#[test]
fn roles_on_the_wrong_side_are_errors_in_json_too() {
    let json = r#"{"name": "S",
        "contexts": [
            {"name": "A", "aggregates": [{"name": "X", "commands": [{"name": "Make", "creates": true, "emits": ["Made"]}], "events": [{"name": "Made"}]}]},
            {"name": "B", "aggregates": [{"name": "Y", "commands": [{"name": "Make", "creates": true, "emits": ["Made"]}], "events": [{"name": "Made"}]}]}
        ],
        "relations": [
            {"from": "A", "to": "B", "kind": "customer-supplier", "from_roles": ["open-host", "conformist"], "to_roles": ["published-language"]},
            {"from": "A", "to": "B", "kind": "partnership", "both_ways": true, "to_roles": ["conformist"]}
        ]}"#;
    let rejected = load(json, Format::Json).expect_err("rejected");
    let paths: Vec<String> = rejected
        .diagnostics
        .iter()
        .filter(|d| d.code == Code::InvalidRelation)
        .filter_map(|d| d.location.as_ref().and_then(|l| l.path.clone()))
        .collect();
    assert_eq!(
        paths,
        [
            "$.relations[0].from_roles[1]",
            "$.relations[0].to_roles[0]",
            "$.relations[1].to_roles[0]"
        ]
    );
}

#[test]
fn a_transition_from_no_state_is_an_error_in_json() {
    let json = r#"{"name": "S", "contexts": [{"name": "C",
        "enums": [{"name": "Status", "variants": [{"name": "Open"}, {"name": "Shut"}]}],
        "aggregates": [{"name": "A",
            "fields": [{"name": "status", "type": {"named": "Status"}}],
            "lifecycles": [{"field": "status", "transitions": [{"from": [], "to": "Shut", "by": ["Shut"]}]}],
            "commands": [
                {"name": "Make", "creates": true, "emits": ["Made"]},
                {"name": "Shut", "emits": ["Shut"]}
            ],
            "events": [{"name": "Made"}, {"name": "Shut"}]}]}]}"#;
    let rejected = load(json, Format::Json).expect_err("rejected");
    let found: Vec<(Code, Option<String>)> = rejected
        .diagnostics
        .iter()
        .map(|d| (d.code, d.location.as_ref().and_then(|l| l.path.clone())))
        .collect();
    assert_eq!(
        found,
        [(
            Code::InvalidLifecycle,
            Some("$.contexts[0].aggregates[0].lifecycles[0].transitions[0].from".into())
        )]
    );
}

#[test]
fn a_creating_command_reads_its_parameters_only() {
    let model = "system S\ncontext C {\n  aggregate A {\n    open: bool\n    command Make(n: u32) creates requires n > 0 and not open emits Made\n    event Made(open: bool)\n  }\n}\n";
    let rejected = load(model, Format::Ddd).expect_err("no state before creation");
    let unknown = rejected_one(&rejected.diagnostics, Code::UnknownField);
    assert_eq!(unknown.line_col(model), Some(nth(model, "open", 1)));
    assert!(
        unknown
            .notes
            .iter()
            .any(|n| n.contains("before there is a state")),
        "{:?}",
        unknown.notes
    );
}

#[test]
fn event_defaults_are_constants_of_the_field_type() {
    let model = "system S\ncontext C {\n  aggregate A {\n    command Make() creates emits Made\n    event Made v3(a: String = \"x\", b: u8 = 300, c: Option<u32> = none, d: String = a)\n  }\n}\n";
    let found = located(model);
    expect_at(&found, Code::TypeMismatch, first(model, "300"));
    let message = expect_at(&found, Code::UnknownField, first(model, "a)"));
    assert_eq!(message, "unknown name `a`");
    let fixed = model
        .replace("b: u8 = 300", "b: u8 = 3")
        .replace(", d: String = a", "");
    let loaded = load(&fixed, Format::Ddd).unwrap_or_else(|r| panic!("{:#?}", r.diagnostics));
    let made = &loaded.system.contexts[0].aggregates[0].events[0];
    assert_eq!(made.version, 3);
    let defaults: Vec<Type> = made
        .fields
        .iter()
        .map(|f| {
            f.default
                .as_ref()
                .and_then(|d| d.checked())
                .expect("typed")
                .ty
                .clone()
        })
        .collect();
    assert_eq!(
        defaults,
        [Type::String, Type::U8, Type::Option(Box::new(Type::U32))]
    );
}

#[test]
fn the_contract_example_with_its_wrapped_command_is_accepted() {
    let model = r#"system Shop
value Money { amount_cents: i64, currency: String @len(3) }
type Quantity = u32 @range(1..=99)
context Catalog { aggregate Product { command Create() creates emits Created
    event Created() } }
context Cart {
aggregate ShoppingCart {
  items: Vec<CartItem>
  checked_out: bool

  entity CartItem { product: ProductId @key, quantity: Quantity, unit_price: Money }

  command Open() creates emits Opened
  command AddItem(product: ProductId, quantity: Quantity, unit_price: Money)
    requires not checked_out else "the cart is checked out" emits ItemAdded
  command RemoveItem(product: ProductId) emits ItemRemoved
  command CheckOut() requires not checked_out and count(items) > 0 emits CartCheckedOut

  event Opened()
  event ItemAdded(product: ProductId, quantity: Quantity, unit_price: Money)
  event ItemRemoved(product: ProductId) sets items = remove(items, product)
  event CartCheckedOut(customer: Uuid, items: Vec<CartItem>) sets checked_out = true
}
}
"#;
    let loaded = load(model, Format::Ddd).unwrap_or_else(|r| panic!("{:#?}", r.diagnostics));
    let cart = &loaded.system.contexts[1].aggregates[0];
    let add = cart.command("AddItem").expect("AddItem");
    assert_eq!(
        add.requires[0].message.as_deref(),
        Some("the cart is checked out")
    );
    assert_eq!(add.emits, ["ItemAdded"]);
    // A field called like a clause keyword on the next line is a field, not a clause.
    let field_named_requires = model.replace(
        "  checked_out: bool\n",
        "  checked_out: bool\n  requires: bool\n",
    );
    let loaded = load(&field_named_requires, Format::Ddd);
    let system = match loaded {
        Ok(loaded) => loaded.system,
        Err(rejected) => panic!("{:#?}", rejected.diagnostics),
    };
    assert!(system.contexts[1].aggregates[0].field("requires").is_some());
}

#[test]
fn every_error_of_a_model_is_reported_in_one_run() {
    let model = r#"system S
context C : central {
  enum Status { Open, Done }
  aggregate A {
    status: Status
    n: u64
    m: i64
    items: Vec<Item>
    entity Item { ratio: f64 @key }
    lifecycle n { Open -> Done by Finish }
    lifecycle status { Done -> Open by Finish }
    command Make() creates emits Made
    command Finish(x: u32) requires n + m > 0 and zap(x) emits Done
    event Made() sets status = Opn
    event Done() sets nn = 1
  }
  on D.Gone run A.Finish
}
context D {
  aggregate B {
    command Make() creates emits Gone
    event Gone()
  }
  publishes Gone
}
map {
  C [conformist] -> D : customer-supplier
}
"#;
    let codes: Vec<Code> = located(model).into_iter().map(|(c, ..)| c).collect();
    for expected in [
        Code::UnknownSubdomainKind,
        Code::ConstraintMismatch,
        Code::InvalidLifecycle,
        Code::UnreachableState,
        Code::TypeMismatch,
        Code::UnknownFunction,
        Code::UnknownField,
        Code::InvalidRelation,
    ] {
        assert!(codes.contains(&expected), "{expected:?} in {codes:?}");
    }
}

#[test]
fn an_event_of_a_transition_is_emitted_only_by_commands_of_the_lifecycle() {
    let model = r#"system S
context C {
  enum Status { Open, Closed }
  aggregate A {
    status: Status
    lifecycle status { Open -> Closed by Close }
    command Make() creates emits Closed
    command Close() emits Closed
    command Force() emits Closed
    event Closed()
  }
}
"#;
    let found = located(model);
    let message = expect_at(&found, Code::InvalidLifecycle, first(model, "Closed()"));
    assert_eq!(
        message,
        "event `Closed` moves `status` to `Closed`, but `Make` and `Force` emit it outside the lifecycle"
    );
    let fixed = model
        .replace(
            "command Make() creates emits Closed",
            "command Make() creates emits Made",
        )
        .replace("command Force() emits Closed", "")
        .replace("event Closed()", "event Closed()\n    event Made()");
    assert!(located(&fixed).is_empty(), "{:#?}", located(&fixed));
}

#[test]
fn event_versions_count_from_one() {
    let model = "system S\ncontext C {\n  aggregate A {\n    command Make() creates emits Made\n    event Made v0()\n  }\n}\n";
    let found = located(model);
    expect_at(&found, Code::Syntax, first(model, "v0"));
    let json = r#"{"name": "S", "contexts": [{"name": "C", "aggregates": [{"name": "A",
        "commands": [{"name": "Make", "creates": true, "emits": ["Made"]}],
        "events": [{"name": "Made", "version": 0}]}]}]}"#;
    let rejected = load(json, Format::Json).expect_err("version 0");
    let paths: Vec<Option<String>> = rejected
        .diagnostics
        .iter()
        .map(|d| d.location.as_ref().and_then(|l| l.path.clone()))
        .collect();
    assert_eq!(
        paths,
        [Some(
            "$.contexts[0].aggregates[0].events[0].version".to_owned()
        )]
    );
    let schema = ddd_model::schema::json_schema();
    assert_eq!(
        schema["$defs"]["Event"]["properties"]["version"]["minimum"],
        1
    );
}
