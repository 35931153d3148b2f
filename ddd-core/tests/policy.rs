//! Policies run as durable consumers: decode, react, run commands with the event's
//! correlation, deduplicate redeliveries, dead-letter what can never succeed.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};

use common::{Account, AccountCommand, AccountEvent, AccountId};
use ddd_core::bus::{dead_letter, dead_letter_subject};
use ddd_core::memory::{InMemoryEventStore, InProcessBus};
use ddd_core::testing::PolicyTest;
use ddd_core::testing::conformance::event_bus::{next, nothing_more};
use ddd_core::{
    ConsumerConfig, Delivery, Envelope, EventBus, Handled, Message, Policy, PolicyError,
    PolicyRunner, Reaction, Relay, Repository, Routing,
};

/// Every opened account gets a savings account, whose id is derived from the event so a
/// redelivery cannot open two.
struct OpenSavings {
    transient_failures: AtomicU32,
}

impl OpenSavings {
    fn new() -> Self {
        Self {
            transient_failures: AtomicU32::new(0),
        }
    }

    fn savings_of(event_id: uuid::Uuid) -> AccountId {
        AccountId::derived_from(&event_id, b"savings")
    }
}

impl Policy for OpenSavings {
    type Event = AccountEvent;
    type Target = Account;
    const NAME: &'static str = "open-savings";

    async fn react(
        &self,
        event: &Envelope<AccountEvent>,
    ) -> Result<Vec<Reaction<Account>>, PolicyError> {
        if self.transient_failures.load(Ordering::SeqCst) > 0 {
            self.transient_failures.fetch_sub(1, Ordering::SeqCst);
            return Err(PolicyError::Transient("rates service down".into()));
        }
        match &event.payload {
            AccountEvent::Opened if event.aggregate_type == "Account" => {
                Ok(vec![Reaction::create(
                    Self::savings_of(event.event_id),
                    AccountCommand::Open,
                )])
            }
            AccountEvent::Deposited { amount } if *amount < 0 => {
                Err(PolicyError::Unmapped("negative amounts".into()))
            }
            _ => Ok(Vec::new()),
        }
    }
}

struct World {
    bus: InProcessBus,
    accounts: Arc<Repository<Account, InMemoryEventStore>>,
    relay: Relay<InMemoryEventStore, InProcessBus>,
    runner: PolicyRunner<OpenSavings, InMemoryEventStore>,
}

impl World {
    fn new(policy: OpenSavings) -> Self {
        let (store, bus) = (InMemoryEventStore::new(), InProcessBus::new());
        let accounts = Arc::new(Repository::new(store.clone()));
        let relay = Relay::new(store.clone(), bus.clone(), Routing::new("bank", "accounts"));
        let runner = PolicyRunner::new(policy, Arc::clone(&accounts));
        Self {
            bus,
            accounts,
            relay,
            runner,
        }
    }

    fn consumer() -> ConsumerConfig {
        PolicyRunner::<OpenSavings, InMemoryEventStore>::consumer(["bank.accounts.>"])
            .max_deliver(3)
    }
}

#[test]
fn the_policy_is_testable_without_a_bus() {
    let test = PolicyTest::new(OpenSavings::new());
    let when = test.when("Account", "a1", AccountEvent::Opened);
    let expected = Reaction::create(
        OpenSavings::savings_of(when.event().event_id),
        AccountCommand::Open,
    );
    when.then([expected]);
    test.when("Account", "a1", AccountEvent::Deposited { amount: 3 })
        .then([]);
    test.when("Account", "a1", AccountEvent::Deposited { amount: -3 })
        .then_error_containing("negative amounts");
}

#[tokio::test]
async fn an_event_becomes_a_command_once_even_when_redelivered() {
    let world = World::new(OpenSavings::new());
    let mut subscription = world.bus.subscribe(World::consumer()).await.unwrap();
    let id = AccountId::new();
    let opened = world
        .accounts
        .execute(&id, AccountCommand::Open)
        .await
        .unwrap();
    world.relay.drain().await.unwrap();
    let delivery = next(&mut subscription, "the Opened event").await;
    let original: Message = delivery.message().clone();
    assert_eq!(world.runner.handle(delivery).await.unwrap(), Handled::Done);
    let savings = OpenSavings::savings_of(opened.events[0].event_id);
    let savings_events = world.accounts.events(&savings, 0).await.unwrap();
    assert_eq!(savings_events.len(), 1, "the savings account was opened");
    let caused = &savings_events[0];
    assert_eq!(
        caused.causation_id,
        Some(opened.events[0].event_id),
        "caused by the event"
    );
    assert_eq!(
        caused.correlation_id, opened.events[0].correlation_id,
        "same correlation"
    );
    // The savings account's own Opened is relayed too, and opens another one.
    world.relay.drain().await.unwrap();
    let follow_up = next(&mut subscription, "the savings Opened event").await;
    assert_eq!(world.runner.handle(follow_up).await.unwrap(), Handled::Done);
    // Redelivery of the first event (a relay that crashed before marking, say).
    world.bus.publish(vec![original]).await.unwrap();
    let again = next(&mut subscription, "the redelivered event").await;
    assert_eq!(world.runner.handle(again).await.unwrap(), Handled::Done);
    assert_eq!(
        world.accounts.events(&savings, 0).await.unwrap().len(),
        1,
        "no second effect"
    );
    nothing_more(&mut subscription, "after the redelivery").await;
}

#[tokio::test]
async fn transient_failures_are_retried_and_permanent_ones_dead_lettered() {
    let world = World::new(OpenSavings {
        transient_failures: AtomicU32::new(1),
    });
    let mut dead = world
        .bus
        .subscribe(ConsumerConfig::new(
            "ops",
            [dead_letter_subject(OpenSavings::NAME)],
        ))
        .await
        .unwrap();
    let mut subscription = world.bus.subscribe(World::consumer()).await.unwrap();
    let id = AccountId::new();
    world
        .accounts
        .execute(&id, AccountCommand::Open)
        .await
        .unwrap();
    world.relay.drain().await.unwrap();
    let first = next(&mut subscription, "first attempt").await;
    assert!(matches!(
        world.runner.handle(first).await.unwrap(),
        Handled::Retried(_)
    ));
    let second = next(&mut subscription, "retry").await;
    assert_eq!(second.attempt(), 2);
    assert_eq!(world.runner.handle(second).await.unwrap(), Handled::Done);
    world.relay.drain().await.unwrap();
    let savings = next(&mut subscription, "the savings Opened").await;
    world.runner.handle(savings).await.unwrap();

    // An event the policy cannot translate yet goes to the dead letters, with the reason.
    let mut raw = world.accounts.events(&id, 0).await.unwrap().remove(0);
    raw.payload = AccountEvent::Deposited { amount: -1 };
    raw.event_type = "Deposited".into();
    raw.event_id = uuid::Uuid::now_v7();
    world
        .bus
        .publish(vec![Message::new(
            "bank.accounts.Deposited",
            raw.to_raw().unwrap(),
        )])
        .await
        .unwrap();
    let unmapped = next(&mut subscription, "an unmapped event").await;
    assert!(matches!(
        world.runner.handle(unmapped).await.unwrap(),
        Handled::DeadLettered(_)
    ));
    let letter = next(&mut dead, "the dead letter").await;
    let reason = letter.message().envelope.metadata[dead_letter::REASON]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(reason.contains("negative amounts"), "{reason}");

    // A payload that does not decode is dead-lettered, never a panic or a stuck consumer.
    let mut broken = raw.to_raw().unwrap();
    broken.event_id = uuid::Uuid::now_v7();
    broken.payload = serde_json::json!({"amount": "lots"});
    world
        .bus
        .publish(vec![Message::new("bank.accounts.Deposited", broken)])
        .await
        .unwrap();
    let undecodable = next(&mut subscription, "an undecodable event").await;
    match world.runner.handle(undecodable).await.unwrap() {
        Handled::DeadLettered(reason) => assert!(reason.starts_with("does not decode"), "{reason}"),
        other => panic!("expected a dead letter, got {other:?}"),
    }
}

#[tokio::test]
async fn run_handles_deliveries_until_shutdown() {
    let world = Arc::new(World::new(OpenSavings::new()));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let running = {
        let world = Arc::clone(&world);
        tokio::spawn(async move {
            world
                .runner
                .run(&world.bus, World::consumer(), async {
                    let _ = stopped.await;
                })
                .await
        })
    };
    tokio::task::yield_now().await;
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let id = AccountId::new();
    let opened = world
        .accounts
        .execute(&id, AccountCommand::Open)
        .await
        .unwrap();
    world.relay.drain().await.unwrap();
    let savings = OpenSavings::savings_of(opened.events[0].event_id);
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    while world.accounts.load(&savings).await.unwrap().is_none() {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the running policy never opened the savings account"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    stop.send(()).unwrap();
    running.await.unwrap().unwrap();
}
