//! Given / when / then for the account, and the event schema it stores.

use bank_account::{Account, AccountCommand, AccountError, AccountEvent};
use ddd_core::DomainEvent;
use ddd_core::testing::AggregateTest;

fn opened() -> AggregateTest<Account> {
    AggregateTest::new().given([AccountEvent::Opened {
        owner: "Ada".into(),
        currency: "EUR".into(),
    }])
}

#[test]
fn opening_records_the_owner() {
    let open = AccountCommand::Open {
        owner: "Ada".into(),
        currency: "EUR".into(),
    };
    AggregateTest::<Account>::new()
        .when(open)
        .then([AccountEvent::Opened {
            owner: "Ada".into(),
            currency: "EUR".into(),
        }])
        .then_state(|account| assert!(account.is_open()));
}

#[test]
fn opening_twice_is_refused() {
    let open = AccountCommand::Open {
        owner: "Bob".into(),
        currency: "EUR".into(),
    };
    opened().when(open).then_error(AccountError::AlreadyOpen);
}

#[test]
fn deposits_and_withdrawals_move_the_balance() {
    opened()
        .given([AccountEvent::Deposited { cents: 500 }])
        .when(AccountCommand::Withdraw { cents: 200 })
        .then([AccountEvent::Withdrawn { cents: 200 }])
        .then_state(|account| assert_eq!(account.balance().cents, 300));
}

#[test]
fn overdrawing_is_refused_with_the_balance() {
    opened()
        .given([AccountEvent::Deposited { cents: 100 }])
        .when(AccountCommand::Withdraw { cents: 101 })
        .then_error(AccountError::InsufficientFunds { balance: 100 });
}

#[test]
fn nothing_happens_to_an_account_that_is_not_open() {
    AggregateTest::<Account>::new()
        .when(AccountCommand::Deposit { cents: 1 })
        .then_error(AccountError::NotOpen);
}

#[test]
fn closing_needs_an_empty_account() {
    opened()
        .given([AccountEvent::Deposited { cents: 1 }])
        .when(AccountCommand::Close)
        .then_error(AccountError::NotEmpty { balance: 1 });
    opened()
        .when(AccountCommand::Close)
        .then([AccountEvent::Closed]);
}

#[test]
fn constraints_report_every_violated_field() {
    let open = AccountCommand::Open {
        owner: String::new(),
        currency: "euro".into(),
    };
    AggregateTest::<Account>::new()
        .when(open)
        .then_invalid(&["owner", "currency"]);
    opened()
        .when(AccountCommand::Deposit { cents: 0 })
        .then_invalid(&["cents"]);
}

#[test]
fn events_keep_stable_names_and_versions() {
    let deposited = AccountEvent::Deposited { cents: 5 };
    assert_eq!(
        (deposited.event_type(), deposited.schema_version()),
        ("MoneyDeposited", 2)
    );
    assert_eq!(
        AccountEvent::event_types(),
        ["Opened", "MoneyDeposited", "MoneyWithdrawn", "Closed"]
    );
}

#[test]
fn version_one_deposits_are_upcast() {
    let stored = serde_json::json!({ "amount": 700 });
    let event = AccountEvent::decode("MoneyDeposited", 1, stored).unwrap();
    assert_eq!(event, Some(AccountEvent::Deposited { cents: 700 }));
}
