//! Opens an account, moves money, shows a refused command and an invalid one, and prints the
//! recorded events: the derives and the repository on the in-memory store.

#![allow(
    clippy::print_stdout,
    reason = "printing what happened is the point of this example"
)]

use bank_account::{Account, AccountCommand, AccountId};
use ddd_core::memory::InMemoryEventStore;
use ddd_core::{ExecuteError, Repository};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let accounts = Repository::<Account, _>::new(InMemoryEventStore::new());
    let id = AccountId::new();
    let open = AccountCommand::Open {
        owner: "Ada Lovelace".into(),
        currency: "EUR".into(),
    };
    accounts.execute(&id, open).await?;
    accounts
        .execute(&id, AccountCommand::Deposit { cents: 10_000 })
        .await?;
    accounts
        .execute(&id, AccountCommand::Withdraw { cents: 2_500 })
        .await?;

    match accounts
        .execute(&id, AccountCommand::Withdraw { cents: 1_000_000 })
        .await
    {
        Err(ExecuteError::Rejected(reason)) => println!("refused: {reason}"),
        other => return Err(format!("expected a refusal, got {other:?}").into()),
    }
    match accounts
        .execute(&id, AccountCommand::Deposit { cents: 0 })
        .await
    {
        Err(ExecuteError::Invalid(invalid)) => println!("invalid: {invalid}"),
        other => return Err(format!("expected a validation error, got {other:?}").into()),
    }

    println!("events of account {id}:");
    for event in accounts.events(&id, 0).await? {
        println!(
            "  v{} {} {:?}",
            event.version, event.event_type, event.payload
        );
    }
    let account = accounts.load(&id).await?.ok_or("the account exists")?;
    println!(
        "balance: {} cents at version {}",
        account.state().balance().cents,
        account.version()
    );
    Ok(())
}
