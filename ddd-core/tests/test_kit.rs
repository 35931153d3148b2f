//! The given / when / then kit reports what it must, and fails when it must.

mod common;

use common::{Account, AccountCommand, AccountEvent};
use ddd_core::Rejection;
use ddd_core::testing::AggregateTest;

fn opened() -> AggregateTest<Account> {
    AggregateTest::new().given([AccountEvent::Opened])
}

#[test]
fn then_checks_events_errors_validation_and_state() {
    opened()
        .when(AccountCommand::Deposit(5))
        .then([AccountEvent::Deposited { amount: 5 }]);
    opened()
        .when(AccountCommand::Withdraw(5))
        .then_error(Rejection::new("insufficient funds"));
    opened()
        .when(AccountCommand::Open)
        .then_error_message("already open");
    opened()
        .when(AccountCommand::Deposit(-1))
        .then_invalid(&["amount"]);
    opened()
        .given([AccountEvent::Deposited { amount: 9 }])
        .when(AccountCommand::Withdraw(4))
        .then_state(|account| assert_eq!(account.balance, 5));
}

#[test]
#[should_panic(expected = "the command produced other events than expected")]
fn then_fails_on_other_events() {
    opened()
        .when(AccountCommand::Deposit(5))
        .then([AccountEvent::Deposited { amount: 6 }]);
}

#[test]
#[should_panic(expected = "expected events")]
fn then_fails_on_a_rejection() {
    AggregateTest::<Account>::new()
        .when(AccountCommand::Deposit(5))
        .then([AccountEvent::Deposited { amount: 5 }]);
}

#[test]
#[should_panic(expected = "expected rejection")]
fn then_error_fails_when_the_command_is_accepted() {
    opened()
        .when(AccountCommand::Deposit(5))
        .then_error(Rejection::new("nope"));
}

#[test]
#[should_panic(expected = "expected invalid fields")]
fn then_invalid_fails_when_the_command_is_valid() {
    opened()
        .when(AccountCommand::Deposit(5))
        .then_invalid(&["amount"]);
}
