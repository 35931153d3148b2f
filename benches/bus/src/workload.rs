//! The messages every contender sends: one realistic `OrderPlaced` envelope (JSON; the report
//! prints its size), with a fresh event id and its sequence number in `position` per message.

use ddd_core::{Message, RawEnvelope};

/// `n` messages on `<system>.ordering.OrderPlaced`, in batches of `batch`. Built before the
/// clock starts; the contender owns them (the bus API takes `Vec<Message>` by value).
pub fn batches(n: usize, batch: usize, system: &str) -> Vec<Vec<Message>> {
    let template = template();
    let subject = format!("{system}.ordering.OrderPlaced");
    let messages: Vec<Message> = (0..n)
        .map(|seq| {
            let mut envelope = template.clone();
            envelope.event_id = uuid::Uuid::now_v7();
            envelope.position = seq as u64;
            envelope.version = seq as u64 + 1;
            Message::new(subject.clone(), envelope)
        })
        .collect();
    messages
        .chunks(batch.max(1))
        .map(<[Message]>::to_vec)
        .collect()
}

/// The sequence number a consumer reads back to match a receipt to its publish.
pub fn sequence(envelope: &RawEnvelope) -> u64 {
    envelope.position
}

/// Encoded size of one message's envelope, for the report.
pub fn envelope_bytes() -> usize {
    serde_json::to_vec(&template()).map_or(0, |bytes| bytes.len())
}

fn template() -> RawEnvelope {
    let value = serde_json::json!({
        "event_id": "019a9f4e-6c1b-7d2e-8f30-4a5b6c7d8e9f",
        "aggregate_type": "Order",
        "aggregate_id": "ord-7f3a9c21",
        "version": 1,
        "position": 0,
        "recorded_at": "2026-11-21T16:00:00.123456Z",
        "event_type": "OrderPlaced",
        "schema_version": 1,
        "correlation_id": "019a9f4e-6c1b-7d2e-8f30-4a5b6c7d8e91",
        "causation_id": "019a9f4e-6c1b-7d2e-8f30-4a5b6c7d8e92",
        "payload": {
            "customer_id": "cus-4711",
            "lines": [
                { "sku": "SKU-1042", "quantity": 2, "unit_price_cents": 1999 },
                { "sku": "SKU-2210", "quantity": 1, "unit_price_cents": 4550 }
            ],
            "total_cents": 8548,
            "currency": "EUR"
        }
    });
    serde_json::from_value(value).expect("the template is a valid envelope")
}
