//! The derives' output compiles and works in a module that shadows the prelude, `Ordering`,
//! `Error`, `core`, `std` and common macros with items of its own, and in one that shadows
//! the primitive types: every path in the generated code is fully qualified. (serde's
//! derives and `aggregate_id!` do not survive shadowed primitives, so that module sticks to
//! the derives that need neither.)

#![allow(
    dead_code,
    non_camel_case_types,
    unused_macros,
    missing_debug_implementations,
    clippy::disallowed_names,
    reason = "the point is a module full of unused look-alikes of std items"
)]

pub mod shadowed {
    use ::ddd_core::memory::InMemoryEventStore;
    use ::ddd_core::testing::AggregateTest;
    use ::ddd_core::{
        Aggregate, BoundedContext, Command, DomainEvent, Entity, Envelope, Payload, Policy,
        PolicyError, Reaction, Rejection, Repository, Validate, ValueObject,
    };
    use serde::{Deserialize, Serialize};

    // The prelude's types, variants and traits...
    pub struct Result;
    pub struct Option;
    pub struct Vec;
    pub struct String;
    pub struct Box;
    pub struct Ok;
    pub struct Err;
    pub struct Some;
    pub struct None;
    pub trait Default {}
    pub trait Into {}
    pub trait From {}
    pub trait Clone {}
    pub trait PartialEq {}
    pub trait Eq {}
    pub trait Hash {}
    pub trait Send {}
    pub trait Sync {}
    pub trait Sized {}
    pub trait Iterator {}
    pub trait IntoIterator {}
    pub trait ToString {}
    pub trait ToOwned {}
    pub trait Fn {}
    pub trait Future {}
    pub fn drop() {}
    // ...std's names that a model may well give a type of its own...
    pub struct Ordering;
    pub struct Error;
    // ...the crates' names...
    pub mod core {}
    pub mod std {}
    pub mod ddd_core {}
    pub mod serde_json {}
    // ...and macros generated code might reach for.
    macro_rules! vec {
        ($($t:tt)*) => {
            compile_error!("the local `vec!` was used")
        };
    }
    macro_rules! matches {
        ($($t:tt)*) => {
            compile_error!("the local `matches!` was used")
        };
    }
    macro_rules! format {
        ($($t:tt)*) => {
            compile_error!("the local `format!` was used")
        };
    }

    type Text = ::std::string::String;
    type List<T> = ::std::vec::Vec<T>;
    type Outcome<T, E> = ::core::result::Result<T, E>;

    ::ddd_core::aggregate_id!(pub AccountId);

    #[derive(::core::clone::Clone, Debug, ValueObject)]
    #[value(eq)]
    pub struct Currency(#[value(len(3), pattern("^[A-Z]+$"))] Text);

    #[derive(::core::clone::Clone, Debug, ValueObject)]
    pub struct Line {
        #[value(range(1..=99))]
        pub quantity: ::core::primitive::u32,
        #[value(range(-1.5..=1.5))]
        pub discount: f64,
    }

    #[derive(::core::clone::Clone, Debug, ValueObject)]
    #[value(eq)]
    pub enum Contact {
        Email(#[value(len(3..))] Text),
        Nobody,
    }

    #[derive(::core::clone::Clone, Debug, Entity)]
    pub struct Holder {
        #[entity(id)]
        pub id: ::core::primitive::u32,
        #[entity(len(1..=50))]
        pub name: Text,
    }

    /// What deciding may consult.
    #[derive(Debug)]
    pub struct Limits {
        pub max: i64,
    }

    #[derive(::core::clone::Clone, Debug, ::core::cmp::PartialEq, Command)]
    #[command(aggregate = Account, services, async)]
    pub enum AccountCommand {
        Open {
            #[command(len(1..=20))]
            owner: Text,
            currency: Currency,
        },
        #[command(rename = "Pay")]
        Deposit(#[command(range(1..))] i64, List<Line>),
        Close,
    }

    #[derive(
        ::core::clone::Clone, Debug, ::core::cmp::PartialEq, Serialize, Deserialize, DomainEvent,
    )]
    #[serde(rename_all = "snake_case")]
    #[event(aggregate = Account, version = 2)]
    pub enum AccountEvent {
        Opened {
            owner: Text,
        },
        #[event(rename = "MoneyDeposited", version = 3, upcast = upcast_deposit)]
        Deposited(i64),
        #[serde(rename = "closed_for_good")]
        Closed,
    }

    fn upcast_deposit(_from: ::core::primitive::u32, payload: Payload) -> Outcome<Payload, Text> {
        ::core::result::Result::Ok(payload)
    }

    #[derive(Debug, ::core::default::Default, Serialize, Deserialize, Aggregate)]
    #[aggregate(
        command = AccountCommand,
        event = AccountEvent,
        services = Limits,
        name = "Account",
        snapshot_version = 2
    )]
    pub struct Account {
        #[aggregate(id)]
        id: ::core::option::Option<AccountId>,
        #[aggregate(version)]
        version: u64,
        balance: i64,
        open: ::core::primitive::bool,
    }

    impl Account {
        async fn handle_open(
            &self,
            owner: Text,
            _: Currency,
            _: &Limits,
        ) -> Outcome<AccountEvent, Rejection> {
            ::core::result::Result::Ok(AccountEvent::Opened { owner })
        }

        async fn handle_deposit(
            &self,
            amount: i64,
            _: List<Line>,
            limits: &Limits,
        ) -> Outcome<List<AccountEvent>, &'static ::core::primitive::str> {
            if amount > limits.max {
                return ::core::result::Result::Err("too much");
            }
            ::core::result::Result::Ok(::std::vec![AccountEvent::Deposited(amount)])
        }

        async fn handle_close(
            &self,
            _: &Limits,
        ) -> Outcome<::core::option::Option<AccountEvent>, Rejection> {
            ::core::result::Result::Ok(self.open.then_some(AccountEvent::Closed))
        }

        fn apply_opened(&mut self, _: &::core::primitive::str) {
            self.open = true;
        }

        fn apply_deposited(&mut self, amount: &i64) {
            self.balance += amount;
        }

        fn apply_closed(&mut self) {
            self.open = false;
        }
    }

    #[derive(::core::clone::Clone, Debug, Command)]
    #[command(name = "Ping")]
    pub struct PingCommand;

    #[derive(::core::clone::Clone, Debug, Serialize, Deserialize, DomainEvent)]
    #[event(name = "Ponged", version = 2, upcast = upcast_deposit)]
    pub struct Ponged;

    #[derive(Debug, ::core::default::Default, Serialize, Deserialize, Aggregate)]
    #[aggregate(id = Text, command = PingCommand, event = Ponged, handle = Pinger::decide, apply = Pinger::evolve)]
    pub struct Pinger;

    impl Pinger {
        fn decide(&self, _: PingCommand, (): &()) -> Outcome<Ponged, Rejection> {
            ::core::result::Result::Ok(Ponged)
        }

        fn evolve(&mut self, _: &Ponged) {}
    }

    /// Reacts to nothing.
    #[derive(Debug)]
    pub struct Idle;

    impl Policy for Idle {
        type Event = Ponged;
        type Target = Pinger;
        const NAME: &'static ::core::primitive::str = "idle";

        async fn react(
            &self,
            _: &Envelope<Ponged>,
        ) -> Outcome<List<Reaction<Pinger>>, PolicyError> {
            ::core::result::Result::Ok(::std::vec::Vec::new())
        }
    }

    #[derive(Debug, BoundedContext)]
    #[bounded_context(
        name = "Banking",
        aggregates(Account, Pinger),
        publishes(AccountEvent::Opened, AccountEvent::Deposited),
        publishes_all(Ponged),
        policies(Idle)
    )]
    pub struct Banking;

    #[test]
    fn everything_works_in_a_hostile_namespace() {
        let limits = Limits { max: 100 };
        AggregateTest::<Account>::with_services(limits)
            .given([AccountEvent::Opened {
                owner: "Ada".into(),
            }])
            .when(AccountCommand::Deposit(5, ::std::vec::Vec::new()))
            .then([AccountEvent::Deposited(5)]);

        let invalid = AccountCommand::Open {
            owner: Text::new(),
            currency: Currency("eu".into()),
        };
        let errors = Command::validate(&invalid).unwrap_err();
        let fields: List<&::core::primitive::str> = errors.fields().collect();
        assert_eq!(fields, ["owner", "currency.0", "currency.0"]);
        assert_eq!(AccountCommand::Close.command_name(), "Close");
        assert_eq!(
            AccountCommand::Deposit(1, ::std::vec::Vec::new()).command_name(),
            "Pay"
        );
        assert_eq!(PingCommand.command_name(), "Ping");

        let deposited = AccountEvent::Deposited(7);
        let payload = deposited.encode().unwrap();
        assert_eq!(
            AccountEvent::decode("MoneyDeposited", 1, payload).unwrap(),
            ::core::option::Option::Some(deposited)
        );
        assert!(
            AccountEvent::decode("Closed", 2, Payload::Null)
                .unwrap()
                .is_some()
        );
        assert!(AccountEvent::decode("Opened", 9, Payload::Null).is_err());
        assert_eq!(Ponged.event_type(), "Ponged");

        assert_eq!(Currency("EUR".into()), Currency("EUR".into()));
        assert!(Currency::try_from(Text::from("eur")).is_err());
        assert_eq!(Contact::Nobody, Contact::Nobody);
        assert!(
            Line {
                quantity: 0,
                discount: 2.0
            }
            .validate()
            .is_err()
        );
        let holder = Holder {
            id: 1,
            name: "Ada".into(),
        };
        assert_eq!(*holder.entity_id(), 1);

        assert_eq!(Banking::NAME, "Banking");
        assert_eq!(
            Banking::published_events(),
            ["Opened", "MoneyDeposited", "Ponged"]
        );
        assert_eq!(Banking::aggregates().len(), 2);
        assert_eq!(Banking::policies()[0].name, "idle");
    }

    #[tokio::test]
    async fn a_repository_runs_the_hostile_aggregate() {
        let accounts =
            Repository::<Account, _>::with_services(InMemoryEventStore::new(), Limits { max: 10 });
        let id = AccountId::new();
        let open = AccountCommand::Open {
            owner: "Ada".into(),
            currency: Currency("EUR".into()),
        };
        accounts.execute(&id, open).await.unwrap();
        accounts
            .execute(&id, AccountCommand::Deposit(7, ::std::vec::Vec::new()))
            .await
            .unwrap();
        assert!(
            accounts
                .execute(&id, AccountCommand::Deposit(70, ::std::vec::Vec::new()))
                .await
                .is_err()
        );
        let loaded = accounts.load(&id).await.unwrap().unwrap();
        assert_eq!((loaded.state().balance, loaded.state().version), (7, 2));
        assert_eq!(loaded.state().id, ::core::option::Option::Some(id));
    }
}

pub mod primitives {
    use ::ddd_core::{BoundedContext, Command, Entity, Validate, ValueObject};

    pub struct str;
    pub struct bool;
    pub struct u8;
    pub struct u32;
    pub struct u64;
    pub struct usize;
    pub struct i64;
    pub struct f64;
    pub struct char;

    type Text = ::std::string::String;

    #[derive(::core::clone::Clone, Debug, ValueObject)]
    #[value(eq)]
    pub struct Code(#[value(len(1..=4), pattern("^[a-z]+$"))] Text);

    #[derive(::core::clone::Clone, Debug, ValueObject)]
    pub enum Amount {
        Exact(#[value(range(0..))] ::core::primitive::i64),
        Ratio {
            #[value(range(0..=1))]
            share: ::core::primitive::f64,
        },
    }

    #[derive(::core::clone::Clone, Debug, Entity)]
    pub struct Item {
        #[entity(id)]
        id: ::core::primitive::u64,
        code: Code,
    }

    #[derive(::core::clone::Clone, Debug, Command)]
    pub enum ItemCommand {
        Add {
            #[command(len(1..))]
            codes: ::std::vec::Vec<Code>,
            #[command(range(1..=9))]
            count: ::core::primitive::u8,
        },
        #[command(rename = "Drop")]
        Remove(::core::primitive::u64),
    }

    #[derive(Debug, BoundedContext)]
    #[bounded_context(name = "Stock", aggregates(super::shadowed::Pinger))]
    pub struct Stock;

    #[test]
    fn derives_survive_shadowed_primitive_types() {
        assert!(Code::try_from(Text::from("ab")).is_ok());
        assert_eq!(Amount::Exact(1), Amount::Exact(1));
        assert!(Amount::Ratio { share: 2.0 }.validate().is_err());
        let item = Item {
            id: 3,
            code: Code("x".into()),
        };
        assert_eq!(*item.entity_id(), 3);
        assert!(item.validate().is_ok());
        let add = ItemCommand::Add {
            codes: ::std::vec![Code("BAD".into())],
            count: 0,
        };
        let errors = Command::validate(&add).unwrap_err();
        assert_eq!(
            errors.fields().collect::<::std::vec::Vec<_>>(),
            ["codes[0].0", "count"]
        );
        assert_eq!(ItemCommand::Remove(1).command_name(), "Drop");
        assert_eq!(Stock::NAME, "Stock");
        assert_eq!(Stock::aggregates()[0].name, "Pinger");
    }
}
