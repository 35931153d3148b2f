//! Kafka, on librdkafka's mock cluster (there is no Kafka broker on these machines): one
//! in-process cluster per run, shared by nobody else. `ddd_kafka::KafkaBus` vs rdkafka
//! doing the same: an idempotent producer with `acks=all`, `linger.ms=5` and records keyed by
//! aggregate, confirmed in windows of the same size; a group consumer with manual offsets
//! that commits each message synchronously after receiving it (what the adapter's `ack`
//! does). The mock cluster keeps everything in memory: the ratio shows the adapter's own
//! cost over the client, not what a real cluster's disks and network would add.

use std::sync::Arc;
use std::time::{Duration, Instant};

use ddd_core::{Message, RawEnvelope};
use ddd_kafka::{KafkaBus, KafkaConfig, TopicCreation};
use rdkafka::ClientConfig;
use rdkafka::consumer::{CommitMode, Consumer as _, StreamConsumer};
use rdkafka::message::Message as _;
use rdkafka::mocking::MockCluster;
use rdkafka::producer::{
    DefaultProducerContext, DeliveryFuture, FutureProducer, FutureRecord, Producer as _,
};

use crate::Settings;
use crate::measure::{self, Consumed, Receipts, Sample};

const TIMEOUT: Duration = Duration::from_secs(10);

fn cluster() -> Result<MockCluster<'static, DefaultProducerContext>, String> {
    MockCluster::new(1).map_err(|e| format!("mock cluster: {e}"))
}

pub async fn ours(settings: &Settings, system: &str) -> Result<Sample, String> {
    let cluster = cluster()?;
    let config = KafkaConfig::new(cluster.bootstrap_servers())
        .topic_creation(TopicCreation::BrokerAuto)
        .publish_window(settings.window)
        .publish_timeout(TIMEOUT);
    let bus = KafkaBus::connect(config)
        .await
        .map_err(|e| format!("connect: {e}"))?;
    let result = measure::through_bus(&bus, messages(settings), settings.batch, system).await;
    drop(bus);
    drop(cluster);
    result
}

pub async fn raw(settings: &Settings, system: &str) -> Result<Sample, String> {
    let cluster = cluster()?;
    let bootstrap = cluster.bootstrap_servers();
    let topic = format!("ddd.{system}");
    // The adapter's producer settings (ddd-kafka's `producer_config`).
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("enable.idempotence", "true")
        .set("acks", "all")
        .set("message.timeout.ms", "10000")
        .set("partitioner", "murmur2_random")
        .set("linger.ms", "5")
        .create()
        .map_err(|e| format!("producer: {e}"))?;
    // The mock cluster creates a topic when asked for its metadata, as the adapter does.
    let probe = producer.clone();
    let name = topic.clone();
    tokio::task::spawn_blocking(move || probe.client().fetch_metadata(Some(&name), TIMEOUT))
        .await
        .map_err(|e| e.to_string())?
        .map_err(|e| format!("topic: {e}"))?;
    let consumer: StreamConsumer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", "bench")
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest")
        .create()
        .map_err(|e| format!("consumer: {e}"))?;
    consumer
        .subscribe(&[&topic])
        .map_err(|e| format!("subscribe: {e}"))?;
    // Like the adapter's `subscribe`, start publishing once the group assigned partitions.
    wait_for_assignment(&consumer).await?;
    let batches = crate::workload::batches(messages(settings), settings.batch, system);
    let result = measure::drive(
        settings.batch,
        consume(Arc::new(consumer), messages(settings)),
        publish(&producer, &topic, batches, settings.window),
    )
    .await;
    drop(producer);
    drop(cluster);
    result
}

/// Fewer than on the other brokers: a synchronous commit per message takes milliseconds on
/// the mock cluster, for both contenders.
fn messages(settings: &Settings) -> usize {
    settings.kafka_messages.min(settings.messages)
}

/// Polls until the group gave the consumer its partitions; nothing is published yet, so
/// no message is taken.
async fn wait_for_assignment(consumer: &StreamConsumer) -> Result<(), String> {
    let deadline = Instant::now() + TIMEOUT;
    while consumer.assignment().map_or(0, |a| a.count()) == 0 {
        if Instant::now() > deadline {
            return Err("no partitions assigned".to_owned());
        }
        if let Ok(Ok(_)) = tokio::time::timeout(Duration::from_millis(100), consumer.recv()).await {
            return Err("a message arrived before anything was published".to_owned());
        }
    }
    Ok(())
}

async fn publish(
    producer: &FutureProducer,
    topic: &str,
    batches: Vec<Vec<Message>>,
    window: usize,
) -> Result<Vec<Instant>, String> {
    measure::windowed(batches, window, |message| {
        let sent = produce(producer, topic, &message);
        async move { sent.map(confirm) }
    })
    .await
}

fn produce(
    producer: &FutureProducer,
    topic: &str,
    message: &Message,
) -> Result<DeliveryFuture, String> {
    let envelope = &message.envelope;
    let payload = serde_json::to_vec(envelope).map_err(|e| e.to_string())?;
    let key = format!("{}/{}", envelope.aggregate_type, envelope.aggregate_id);
    let record = FutureRecord::to(topic).key(&key).payload(&payload);
    producer
        .send_result(record)
        .map_err(|(e, _)| format!("produce: {e}"))
}

async fn confirm(delivery: DeliveryFuture) -> Result<(), String> {
    match delivery.await {
        Ok(Ok(_)) => Ok(()),
        Ok(Err((e, _))) => Err(format!("delivery report: {e}")),
        Err(_) => Err("the producer went away".to_owned()),
    }
}

async fn consume(consumer: Arc<StreamConsumer>, n: usize) -> Result<Consumed, String> {
    let mut receipts = Receipts::new(n);
    loop {
        let message = consumer.recv().await.map_err(|e| format!("recv: {e}"))?;
        let payload = message.payload().ok_or("no payload")?;
        let envelope: RawEnvelope =
            serde_json::from_slice(payload).map_err(|e| format!("decode: {e}"))?;
        let at = Instant::now();
        tokio::task::block_in_place(|| consumer.commit_message(&message, CommitMode::Sync))
            .map_err(|e| format!("commit: {e}"))?;
        if receipts.record(crate::workload::sequence(&envelope), at)? {
            return Ok((receipts, Instant::now()));
        }
    }
}
