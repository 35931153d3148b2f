//! Append, lose the reply, retry with the same event ids: exactly one copy. The reply is
//! lost the way every store can lose it: the appending process dies between the commit and
//! its caller hearing of it. A child process appends batches with ids derived from a seed
//! and is killed with SIGKILL at a random moment; the parent then retries every batch with
//! the same ids and expectations.
//!
//! The store's ignored test [`CHILD_TEST`] runs [`child()`]; its parent test runs
//! [`a_retry_after_the_appender_died_stores_one_copy`].

use std::time::Duration;

use ddd_core::testing::conformance::{Tick, tick};
use ddd_core::{AppendRequest, Envelope, ExpectedVersion, StreamId};

use crate::rng::{self, Rng};
use crate::{TestStore, child};

/// The name the store's ignored test that runs [`child()`] must have.
pub const CHILD_TEST: &str = "appender_child_process";
const CHILD_URL: &str = "DDD_APPENDER_URL";
const CHILD_SEED: &str = "DDD_APPENDER_SEED";
const BATCHES: u64 = 200;
const ROUNDS: u64 = 20;

fn stream(seed: u64) -> StreamId {
    StreamId::new("Lost", format!("run-{seed}"))
}

/// Batch `i` of run `seed`: two events whose ids depend only on (seed, i), appended where
/// the stream must be at 2i.
fn request(seed: u64, i: u64) -> AppendRequest<Tick> {
    let stream = stream(seed);
    let events: Vec<Envelope<Tick>> = (0..2)
        .map(|k| {
            let mut event = tick(&stream.aggregate_type, &stream.aggregate_id, 0, i * 2 + k);
            event.event_id = uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_OID,
                format!("{seed}-{i}-{k}").as_bytes(),
            );
            event
        })
        .collect();
    AppendRequest {
        stream,
        expected: ExpectedVersion::Exact(i * 2),
        events,
        inbox: None,
    }
}

/// The appender process: appends the batches in order until killed. Returns at once in a
/// run that is not a child.
pub async fn child<S: TestStore>() {
    let (Some(url), Some(seed)) = (child::var::<String>(CHILD_URL), child::var(CHILD_SEED)) else {
        return;
    };
    let store = S::open(&url).await;
    // Connected before the parent's clock starts: a store that connects lazily would
    // otherwise spend a short lifetime connecting and commit nothing before the kill.
    store.ping().await.expect("the child reaches the store");
    child::up();
    for i in 0..BATCHES {
        store.append(request(seed, i)).await.expect("child append");
    }
}

/// The scenario, on `store` (reachable at `url` by the children).
pub async fn a_retry_after_the_appender_died_stores_one_copy<S: TestStore>(store: &S, url: &str) {
    let mut rng = Rng::new(rng::seed());
    let (mut retried, mut fresh) = (0, 0);
    for round in 0..ROUNDS {
        let seed = rng.next();
        let env = [(CHILD_URL, url.to_owned()), (CHILD_SEED, seed.to_string())];
        let lifetime = Duration::from_millis(rng.below(60));
        child::run_and_kill(CHILD_TEST, &env, lifetime).await;
        for i in 0..BATCHES {
            let appended = store
                .append(request(seed, i))
                .await
                .unwrap_or_else(|e| panic!("round {round}, batch {i}: {e}"));
            if appended.already_stored {
                // The stream's version now, at or after this batch's.
                assert!(appended.version >= (i + 1) * 2);
                retried += 1;
            } else {
                assert_eq!(appended.version, (i + 1) * 2);
                fresh += 1;
            }
        }
        let stored = store.load::<Tick>(&stream(seed), 0).await.expect("load");
        let ids: Vec<_> = stored.iter().map(|e| e.event_id).collect();
        let expected: Vec<_> = (0..BATCHES)
            .flat_map(|i| request(seed, i).events)
            .map(|e| e.event_id)
            .collect();
        assert_eq!(
            ids, expected,
            "round {round}: each event exactly once, in order"
        );
        let versions: Vec<u64> = stored.iter().map(|e| e.version).collect();
        assert_eq!(versions, (1..=BATCHES * 2).collect::<Vec<_>>());
    }
    eprintln!(
        "{ROUNDS} appenders killed: {retried} batches had been committed by the dead process \
         and were answered from the store on retry, {fresh} were stored by the retry"
    );
    assert!(retried > 0, "some kills came after commits");
}
