//! The Kafka bus against a misbehaving cluster — librdkafka's mock cluster, since no Kafka
//! broker runs on this machine: every broker down for 10 s during a steady publish, a
//! consumer process killed before its ack (the child connects to the parent's mock cluster
//! over TCP), three members sharing 10,000 messages.

use std::time::Duration;

use ddd_bus_testkit::outage::{Outage, broker_outage};
use ddd_bus_testkit::{competing, exclusive, killed};

mod common;

/// Where the parent tells the child the mock cluster's address.
const BOOTSTRAP_ENV: &str = "DDD_KAFKA_TEST_BOOTSTRAP";

/// Takes every broker of a mock cluster down and brings them back.
struct MockOutage<'a> {
    cluster: &'a common::Cluster,
    brokers: i32,
}

impl Outage for MockOutage<'_> {
    async fn stop(&mut self) {
        for broker in 1..=self.brokers {
            self.cluster.broker_down(broker).expect("broker down");
        }
    }

    async fn start(&mut self) {
        for broker in 1..=self.brokers {
            self.cluster.broker_up(broker).expect("broker up");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_broker_down_during_a_steady_publish_loses_no_acked_message() {
    let _serial = exclusive().await;
    let brokers = 3;
    let cluster = common::cluster(brokers);
    let config = common::config(&cluster.bootstrap_servers())
        .publish_timeout(Duration::from_secs(3))
        .replication(3);
    let bus = common::connect(config.clone()).await;
    let outage = MockOutage {
        cluster: &cluster,
        brokers,
    };
    broker_outage(&bus, outage, config.publish_timeout).await;
    drop(bus);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_killed_before_its_ack_is_redelivered_and_handled_once() {
    let _serial = exclusive().await;
    let cluster = common::cluster(1);
    let bootstrap = cluster.bootstrap_servers();
    let bus = common::connect(common::config(&bootstrap)).await;
    killed::consumer_killed_before_ack(
        &bus,
        "killed_consumer_child",
        &[(BOOTSTRAP_ENV, &bootstrap)],
    )
    .await;
    drop(bus);
}

/// The consumer process of the test above (this binary, run again); a no-op otherwise.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_consumer_child() {
    killed::child(|| async {
        let bootstrap = std::env::var(BOOTSTRAP_ENV).unwrap_or_default();
        common::connect(common::config(&bootstrap)).await
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_competing_consumers_share_ten_thousand_messages() {
    let _serial = exclusive().await;
    let cluster = common::cluster(1);
    let config = common::config(&cluster.bootstrap_servers());
    let mut members = Vec::new();
    for _ in 0..3 {
        members.push(common::connect(config.clone()).await);
    }
    competing::competing_consumers_share(&members, 10_000, Duration::from_secs(300)).await;
    drop(members);
}
