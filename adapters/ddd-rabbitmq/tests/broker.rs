//! The RabbitMQ bus against a real broker that misbehaves: restarted during a steady
//! publish, a consumer process killed before its ack, three members sharing 10,000
//! messages.
//!
//! These tests share one lock: the restart would disturb the others.

use std::time::Duration;

use ddd_bus_testkit::broker::Broker;
use ddd_bus_testkit::outage::{LocalBroker, broker_outage};
use ddd_bus_testkit::{competing, exclusive, killed};

mod common;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_broker_restart_during_a_steady_publish_loses_no_acked_message() {
    let _serial = exclusive().await;
    let config = common::config().publish_timeout(Duration::from_secs(3));
    let bus = common::connect(config.clone()).await;
    broker_outage(
        &bus,
        LocalBroker::new(Broker::RabbitMq),
        config.publish_timeout,
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_killed_before_its_ack_is_redelivered_and_handled_once() {
    let _serial = exclusive().await;
    killed::consumer_killed_before_ack(&common::bus().await, "killed_consumer_child", &[]).await;
}

/// The consumer process of the test above (this binary, run again); a no-op otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_consumer_child() {
    killed::child(common::bus).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_competing_consumers_share_ten_thousand_messages() {
    let _serial = exclusive().await;
    let mut members = Vec::new();
    for _ in 0..3 {
        members.push(common::bus().await);
    }
    competing::competing_consumers_share(&members, 10_000, Duration::from_secs(300)).await;
}
