//! In process: `ddd_core::memory::InProcessBus` vs a tokio unbounded mpsc channel (the bus is
//! unbounded too). Both carry the same owned `Message`s; the channel has no ack.

use std::time::Instant;

use ddd_core::Message;
use ddd_core::memory::InProcessBus;
use tokio::sync::mpsc;

use crate::Settings;
use crate::measure::{self, Consumed, Receipts, Sample};

pub async fn ours(settings: &Settings, system: &str) -> Result<Sample, String> {
    let bus = InProcessBus::new();
    measure::through_bus(&bus, settings.memory_messages, settings.batch, system).await
}

pub async fn raw(settings: &Settings, system: &str) -> Result<Sample, String> {
    let (tx, rx) = mpsc::unbounded_channel();
    let batches = crate::workload::batches(settings.memory_messages, settings.batch, system);
    measure::drive(
        settings.batch,
        consume(rx, settings.memory_messages),
        publish(tx, batches),
    )
    .await
}

async fn publish(
    tx: mpsc::UnboundedSender<Message>,
    batches: Vec<Vec<Message>>,
) -> Result<Vec<Instant>, String> {
    let mut starts = Vec::with_capacity(batches.len());
    for batch in batches {
        starts.push(Instant::now());
        for message in batch {
            tx.send(message).map_err(|_| "the receiver is gone")?;
        }
    }
    Ok(starts)
}

async fn consume(mut rx: mpsc::UnboundedReceiver<Message>, n: usize) -> Result<Consumed, String> {
    let mut receipts = Receipts::new(n);
    loop {
        let message = rx.recv().await.ok_or("the channel closed")?;
        let at = Instant::now();
        if receipts.record(crate::workload::sequence(&message.envelope), at)? {
            return Ok((receipts, Instant::now()));
        }
    }
}
