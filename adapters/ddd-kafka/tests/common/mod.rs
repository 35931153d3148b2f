//! Buses on librdkafka's mock cluster: each test runs its own cluster in-process.

#![allow(
    dead_code,
    reason = "each test binary includes this module and uses a part of it"
)]
use std::time::Duration;

use ddd_kafka::{KafkaBus, KafkaConfig, TopicCreation};
use rdkafka::mocking::MockCluster;
use rdkafka::producer::DefaultProducerContext;

pub(crate) type Cluster = MockCluster<'static, DefaultProducerContext>;

/// A mock cluster of `brokers` brokers.
pub(crate) fn cluster(brokers: i32) -> Cluster {
    MockCluster::new(brokers).expect("librdkafka mock cluster")
}

pub(crate) fn config(bootstrap: &str) -> KafkaConfig {
    KafkaConfig::new(bootstrap)
        .topic_creation(TopicCreation::BrokerAuto)
        .session_timeout(Duration::from_secs(6))
        .publish_timeout(Duration::from_secs(10))
}

pub(crate) async fn connect(config: KafkaConfig) -> KafkaBus {
    KafkaBus::connect(config)
        .await
        .expect("the mock cluster answers")
}

pub(crate) async fn bus(cluster: &Cluster) -> KafkaBus {
    connect(config(&cluster.bootstrap_servers())).await
}
