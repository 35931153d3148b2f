//! What `#[derive(Command)]` does: command names, validation of every constraint with the
//! field's path, nested values, and dispatch to `handle_<variant>` methods.

use ddd_core::testing::AggregateTest;
use ddd_core::{
    Aggregate, Command, DispatchCommand, DomainEvent, Rejection, Validate, ValidationErrors,
    ValueObject,
};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, ValueObject)]
pub struct Line {
    #[value(len(1..=20))]
    sku: String,
    #[value(range(1..=99))]
    quantity: u32,
}

#[derive(Clone, Debug, ValueObject)]
pub struct Currency(#[value(pattern("^[A-Z]{3}$"))] String);

#[derive(Clone, Debug, PartialEq, Command)]
#[command(name = "PlaceOrder")]
pub struct PlaceOrderCommand {
    #[command(len(1..=50))]
    customer: String,
    #[command(len(1..))]
    lines: Vec<Line>,
    currency: Currency,
    #[command(range(-10.5..=10.5))]
    discount: f64,
    #[command(range(0..=100))]
    tip_percent: f32,
    #[command(pattern = r"^\+?[0-9 ]+$")]
    phone: Option<String>,
    #[command(len(..=3))]
    tags: Vec<String>,
    #[command(skip)]
    trace: Line,
}

fn line(sku: &str, quantity: u32) -> Line {
    Line {
        sku: sku.into(),
        quantity,
    }
}

fn valid() -> PlaceOrderCommand {
    PlaceOrderCommand {
        customer: "Ada".into(),
        lines: vec![line("A-1", 1)],
        currency: Currency("EUR".into()),
        discount: 0.0,
        tip_percent: 10.0,
        phone: Some("+44 20".into()),
        tags: vec![],
        // skipped: never validated
        trace: line("", 0),
    }
}

fn violations(errors: &ValidationErrors) -> Vec<(String, String, String)> {
    errors
        .violations()
        .iter()
        .map(|violation| {
            (
                violation.field.clone(),
                violation.constraint.to_string(),
                violation.message.clone(),
            )
        })
        .collect()
}

#[test]
fn struct_commands_are_named_by_their_attribute() {
    assert_eq!(valid().command_name(), "PlaceOrder");
    assert_eq!(Command::validate(&valid()), Ok(()));
}

#[test]
fn every_violation_is_reported_with_its_path() {
    let command = PlaceOrderCommand {
        customer: String::new(),
        lines: vec![line("A-1", 1), line("", 0)],
        currency: Currency("eur".into()),
        discount: -11.0,
        tip_percent: 100.5,
        phone: Some("call me".into()),
        tags: vec!["a".into(), "b".into(), "c".into(), "d".into()],
        trace: line("", 0),
    };
    let errors = Command::validate(&command).unwrap_err();
    let expected = [
        ("customer", "len", "length must be between 1 and 50 (is 0)"),
        (
            "lines[1].sku",
            "len",
            "length must be between 1 and 20 (is 0)",
        ),
        (
            "lines[1].quantity",
            "range",
            "must be between 1 and 99 (is 0)",
        ),
        ("currency.0", "pattern", "must match `^[A-Z]{3}$`"),
        (
            "discount",
            "range",
            "must be between -10.5 and 10.5 (is -11)",
        ),
        (
            "tip_percent",
            "range",
            "must be between 0 and 100 (is 100.5)",
        ),
        ("phone", "pattern", r"must match `^\+?[0-9 ]+$`"),
        ("tags", "len", "length must be at most 3 (is 4)"),
    ];
    let expected: Vec<_> = expected
        .iter()
        .map(|(field, constraint, message)| {
            (
                (*field).to_owned(),
                (*constraint).to_owned(),
                (*message).to_owned(),
            )
        })
        .collect();
    assert_eq!(violations(&errors), expected);
}

#[test]
fn absent_options_and_empty_collections_pass() {
    let command = PlaceOrderCommand {
        phone: None,
        lines: vec![],
        ..valid()
    };
    let errors = Command::validate(&command).unwrap_err();
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["lines"]);
}

// An enum is one command per variant; constraints sit on the variants' fields.

#[derive(Clone, Debug, PartialEq, Command)]
#[command(aggregate = Account)]
pub enum AccountCommand {
    Open {
        #[command(len(1..=10))]
        owner: String,
        #[command(len(3))]
        currency: String,
    },
    #[command(rename = "Pay")]
    Deposit(
        #[command(range(1..))] i64,
        #[command(pattern("^[a-z]*$"))] String,
    ),
    Close,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
pub enum AccountEvent {
    Opened { owner: String },
    Deposited(i64),
    Closed,
}

#[derive(Debug, Default, Serialize, Deserialize, ddd_core::Aggregate)]
#[aggregate(id = String, command = AccountCommand, event = AccountEvent, apply = Account::evolve)]
pub struct Account {
    open: bool,
}

impl Account {
    fn evolve(&mut self, event: &AccountEvent) {
        self.open = !matches!(event, AccountEvent::Closed);
    }

    fn handle_open(&self, owner: String, currency: String) -> Result<AccountEvent, Rejection> {
        assert_eq!(currency, "EUR");
        Ok(AccountEvent::Opened { owner })
    }

    fn handle_deposit(&self, amount: i64, memo: String) -> Result<Vec<AccountEvent>, Rejection> {
        if !self.open {
            return Err(Rejection::new(format!("closed ({memo})")));
        }
        Ok(vec![AccountEvent::Deposited(amount)])
    }

    fn handle_close(&self) -> Result<(), &'static str> {
        Err("never")
    }
}

#[test]
fn variant_names_and_constraints() {
    let open = AccountCommand::Open {
        owner: String::new(),
        currency: "EURO".into(),
    };
    assert_eq!(open.command_name(), "Open");
    assert_eq!(
        AccountCommand::Deposit(1, String::new()).command_name(),
        "Pay"
    );
    assert_eq!(AccountCommand::Close.command_name(), "Close");
    let errors = Command::validate(&open).unwrap_err();
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["owner", "currency"]);
    assert_eq!(
        errors.violations()[1].message,
        "length must be exactly 3 (is 4)"
    );
    let errors = Command::validate(&AccountCommand::Deposit(0, "X".into())).unwrap_err();
    assert_eq!(errors.fields().collect::<Vec<_>>(), ["0", "1"]);
    assert!(Validate::validate(&AccountCommand::Close).is_ok());
}

#[test]
fn dispatch_calls_the_variant_handlers_with_fields_by_value() {
    AggregateTest::<Account>::new()
        .when(AccountCommand::Open {
            owner: "Ada".into(),
            currency: "EUR".into(),
        })
        .then([AccountEvent::Opened {
            owner: "Ada".into(),
        }]);
    AggregateTest::<Account>::new()
        .given([AccountEvent::Opened {
            owner: "Ada".into(),
        }])
        .when(AccountCommand::Deposit(5, "salary".into()))
        .then([AccountEvent::Deposited(5)]);
    AggregateTest::<Account>::new()
        .when(AccountCommand::Deposit(5, "salary".into()))
        .then_error(Rejection::new("closed (salary)"));
    AggregateTest::<Account>::new()
        .when(AccountCommand::Close)
        .then_error(Rejection::new("never"));
}

#[test]
fn invalid_commands_are_not_decided() {
    let when = AggregateTest::<Account>::new().when(AccountCommand::Deposit(0, "salary".into()));
    assert!(format!("{when:?}").starts_with("Invalid("), "{when:?}");
}

// `services` passes the aggregate's services; `async` awaits async handlers.

/// A stand-in for an exchange-rate service.
#[derive(Debug)]
pub struct Rates {
    eur_per_usd: f64,
}

#[derive(Clone, Debug, PartialEq, Command)]
#[command(aggregate = Wallet, services, async)]
pub enum WalletCommand {
    DepositUsd { amount: f64 },
    Reset,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
pub enum WalletEvent {
    DepositedEur(f64),
    Reset,
}

#[derive(Debug, Default, Serialize, Deserialize, ddd_core::Aggregate)]
#[aggregate(id = String, command = WalletCommand, event = WalletEvent, services = Rates, apply = Wallet::evolve)]
pub struct Wallet {
    eur: f64,
}

impl Wallet {
    fn evolve(&mut self, event: &WalletEvent) {
        match event {
            WalletEvent::DepositedEur(eur) => self.eur += eur,
            WalletEvent::Reset => self.eur = 0.0,
        }
    }

    async fn handle_deposit_usd(
        &self,
        amount: f64,
        rates: &Rates,
    ) -> Result<WalletEvent, Rejection> {
        std::future::ready(()).await;
        Ok(WalletEvent::DepositedEur(amount * rates.eur_per_usd))
    }

    async fn handle_reset(&self, _: &Rates) -> Result<Option<WalletEvent>, Rejection> {
        Ok((self.eur != 0.0).then_some(WalletEvent::Reset))
    }
}

#[tokio::test]
async fn async_handlers_with_services() {
    let rates = Rates { eur_per_usd: 0.5 };
    let wallet = Wallet::default();
    let events = WalletCommand::DepositUsd { amount: 10.0 }
        .dispatch(&wallet, &rates)
        .await
        .unwrap();
    assert_eq!(events, [WalletEvent::DepositedEur(5.0)]);
    let events = wallet.handle(WalletCommand::Reset, &rates).await.unwrap();
    assert!(events.is_empty());
    AggregateTest::<Wallet>::with_services(rates)
        .given([WalletEvent::DepositedEur(1.0)])
        .when_async(WalletCommand::Reset)
        .await
        .then([WalletEvent::Reset]);
}

// A variant named by a Rust keyword dispatches to `handle_return` and `apply_return`, never
// to an escaped `handle_return_`: the names `ddd_names::handler` and `ddd_names::applier`
// give, which are the names the generator writes.

#[derive(Clone, Debug, PartialEq, Command)]
#[command(aggregate = Parcel)]
pub enum ParcelCommand {
    Return,
    Move { to: String },
    Type(String),
    Loop,
    Impl,
    Await,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(aggregate = Parcel)]
pub enum ParcelEvent {
    Return,
    Move { to: String },
    Type(String),
    Loop,
    Impl,
    Await,
}

#[derive(Debug, Default, Serialize, Deserialize, ddd_core::Aggregate)]
#[aggregate(id = String, command = ParcelCommand, event = ParcelEvent)]
pub struct Parcel {
    applied: Vec<String>,
}

impl Parcel {
    fn handle_return(&self) -> Result<ParcelEvent, Rejection> {
        Ok(ParcelEvent::Return)
    }

    fn handle_move(&self, to: String) -> Result<ParcelEvent, Rejection> {
        Ok(ParcelEvent::Move { to })
    }

    fn handle_type(&self, kind: String) -> Result<ParcelEvent, Rejection> {
        Ok(ParcelEvent::Type(kind))
    }

    fn handle_loop(&self) -> Result<ParcelEvent, Rejection> {
        Ok(ParcelEvent::Loop)
    }

    fn handle_impl(&self) -> Result<ParcelEvent, Rejection> {
        Ok(ParcelEvent::Impl)
    }

    fn handle_await(&self) -> Result<ParcelEvent, Rejection> {
        Ok(ParcelEvent::Await)
    }

    fn apply_return(&mut self) {
        self.applied.push("return".into());
    }

    fn apply_move(&mut self, to: &str) {
        self.applied.push(format!("move {to}"));
    }

    fn apply_type(&mut self, kind: &str) {
        self.applied.push(format!("type {kind}"));
    }

    fn apply_loop(&mut self) {
        self.applied.push("loop".into());
    }

    fn apply_impl(&mut self) {
        self.applied.push("impl".into());
    }

    fn apply_await(&mut self) {
        self.applied.push("await".into());
    }
}

#[test]
fn keyword_variants_dispatch_to_prefixed_methods() {
    use ddd_core::DispatchEvent as _;
    let mut parcel = Parcel::default();
    for (command, event) in [
        (ParcelCommand::Return, ParcelEvent::Return),
        (
            ParcelCommand::Move { to: "Oslo".into() },
            ParcelEvent::Move { to: "Oslo".into() },
        ),
        (
            ParcelCommand::Type("fragile".into()),
            ParcelEvent::Type("fragile".into()),
        ),
        (ParcelCommand::Loop, ParcelEvent::Loop),
        (ParcelCommand::Impl, ParcelEvent::Impl),
        (ParcelCommand::Await, ParcelEvent::Await),
    ] {
        AggregateTest::<Parcel>::new()
            .when(command)
            .then([event.clone()]);
        event.dispatch(&mut parcel);
    }
    assert_eq!(
        parcel.applied,
        [
            "return",
            "move Oslo",
            "type fragile",
            "loop",
            "impl",
            "await"
        ]
    );
}
