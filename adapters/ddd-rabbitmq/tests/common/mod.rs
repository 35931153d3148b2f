//! A bus per test whose queues expire soon after the test, so the shared broker does not
//! collect them.

#![allow(
    dead_code,
    reason = "each test binary includes this module and uses a part of it"
)]
use std::time::Duration;

use ddd_rabbitmq::{RabbitMqBus, RabbitMqConfig};

pub(crate) fn url() -> String {
    std::env::var("AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".to_owned())
}

pub(crate) fn config() -> RabbitMqConfig {
    RabbitMqConfig::new(url())
        .queue_prefix("ddd-test.")
        .queue_expires(Some(Duration::from_secs(600)))
}

pub(crate) async fn bus() -> RabbitMqBus {
    connect(config()).await
}

pub(crate) async fn connect(config: RabbitMqConfig) -> RabbitMqBus {
    RabbitMqBus::connect(config).await.unwrap_or_else(|e| {
        panic!(
            "{e}: {}",
            ddd_bus_testkit::broker::Broker::RabbitMq.not_running()
        )
    })
}
