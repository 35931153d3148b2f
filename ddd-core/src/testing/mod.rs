//! Test kit: given / when / then for aggregates, policies, projections and views, and (feature
//! `testing`) the conformance suite that store, bus and outbox adapters run on themselves.

mod aggregate;
#[cfg(feature = "testing")]
pub mod conformance;
mod policy;
mod projection;
mod view;

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

pub use aggregate::{AggregateTest, When};
pub use policy::{PolicyTest, PolicyWhen};
pub use projection::ProjectionTest;
pub use view::ViewTest;

use crate::event::{DomainEvent, Envelope};

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }
}

/// Runs a future to completion on the current thread. Decisions and policies are plain
/// futures; one that needs a tokio reactor (network IO) must be tested under a runtime with
/// the `*_async` methods instead.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut context = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        match future.as_mut().poll(&mut context) {
            Poll::Ready(output) => return output,
            Poll::Pending => thread::park(),
        }
    }
}

/// Wraps an event in an envelope as a store would have recorded it, for tests of code that
/// reads envelopes (policies, projections).
pub fn envelope<E: DomainEvent>(
    aggregate_type: &'static str,
    aggregate_id: impl Into<String>,
    version: crate::Version,
    event: E,
) -> Envelope<E> {
    let id = uuid::Uuid::now_v7();
    Envelope {
        event_id: id,
        aggregate_type: aggregate_type.into(),
        aggregate_id: aggregate_id.into(),
        version,
        position: version,
        recorded_at: chrono::Utc::now(),
        event_type: event.event_type().into(),
        schema_version: event.schema_version(),
        correlation_id: id,
        causation_id: None,
        trace: None,
        metadata: crate::event::Metadata::new(),
        payload: event,
    }
}
