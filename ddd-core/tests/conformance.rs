//! The in-memory adapters pass the conformance suite they ship for other adapters.

use ddd_core::memory::{InMemoryEventStore, InProcessBus};
use ddd_core::testing::conformance::{event_bus, event_store, outbox, repository, views};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_memory_store_conforms() {
    event_store::run_all(InMemoryEventStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_memory_store_survives_a_heavier_hot_stream_load() {
    let load = event_store::Load {
        writers: 32,
        streams: 4,
        attempts_per_writer: 300,
    };
    event_store::concurrent_writers_on_hot_streams(&InMemoryEventStore::new(), load).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn repositories_over_the_in_memory_store_avoid_the_anchors_bugs() {
    repository::run_all(&InMemoryEventStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_memory_outbox_and_inbox_conform() {
    outbox::run_all(InMemoryEventStore::new()).await;
}

macro_rules! bus_checks {
    ($($check:ident),* $(,)?) => {$(
        #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
        async fn $check() {
            event_bus::$check(&InProcessBus::new()).await;
        }
    )*};
}

mod in_process_bus {
    use super::*;

    ddd_core::for_each_bus_check!(bus_checks);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_memory_views_conform() {
    views::run_all(|| async { InMemoryEventStore::new() }).await;
}
