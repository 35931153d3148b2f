//! Append, lose the reply, retry with the same event ids: exactly one copy. A TCP proxy
//! drops the server's answer after the server committed; and, as every store runs it
//! (`ddd_store_testkit::lost_reply`), the appending process dies between its commits and
//! their replies.

#[path = "support/proxy.rs"]
mod proxy;

use std::time::Duration;

use ddd_core::testing::conformance::{Tick, request, ticks};
use ddd_core::{AppendError, EventStore, ExpectedVersion, StreamId};
use ddd_postgres::PostgresStore;
use ddd_postgres::testing::TestDatabase;
use ddd_store_testkit::lost_reply;
use proxy::Proxy;

async fn upstream() -> std::net::SocketAddr {
    let url = url::Url::parse(&ddd_postgres::testing::database_url()).expect("DATABASE_URL");
    let host = url.host_str().expect("a host").to_owned();
    let port = url.port().unwrap_or(5432);
    tokio::net::lookup_host((host, port))
        .await
        .expect("resolve")
        .next()
        .expect("an address")
}

/// A store that reaches the test schema through the proxy, on one connection.
async fn through(proxy: &Proxy, database: &TestDatabase) -> PostgresStore {
    let mut url = url::Url::parse(&database.url_with("max_connections=1")).expect("url");
    url.set_port(Some(proxy.port())).expect("port");
    // The proxy finds its marker in the wire protocol: with the `tls` feature on, the
    // default `sslmode=prefer` would encrypt it out of sight.
    url.query_pairs_mut().append_pair("sslmode", "disable");
    PostgresStore::connect(url.as_str())
        .await
        .expect("connect through the proxy")
}

fn assert_lost(outcome: Result<ddd_core::Appended<Tick>, AppendError>) {
    match outcome {
        Err(AppendError::Store(error)) => {
            assert!(
                error.is_retryable(),
                "a lost connection is transient: {error}"
            );
        }
        other => panic!("the reply was cut, the append cannot have succeeded: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_lost_reply_stores_one_copy() {
    let database = TestDatabase::new();
    let direct = database.connect().await;
    let proxy = Proxy::start(upstream().await, Duration::ZERO).await;
    let store = through(&proxy, &database).await;
    let stream = StreamId::new("Lost", "reply");
    // Prepares the append statement on the proxied connection, so what is cut next is the
    // reply to the execution itself.
    store
        .append(request(
            &stream,
            ExpectedVersion::NoStream,
            ticks(&stream, 1),
        ))
        .await
        .expect("warm-up append");

    let events = ticks(&stream, 3);
    proxy.cut_reply_after(events[0].event_id.as_bytes());
    assert_lost(
        store
            .append(request(&stream, ExpectedVersion::Exact(1), events.clone()))
            .await,
    );
    assert_eq!(proxy.replies_cut(), 1, "the proxy cut the append's reply");
    let committed = direct.load::<Tick>(&stream, 0).await.expect("load");
    assert_eq!(
        committed.len(),
        4,
        "the server committed before the reply was lost"
    );

    let retried = store
        .append(request(&stream, ExpectedVersion::Exact(1), events.clone()))
        .await
        .expect("the retry succeeds");
    assert!(retried.already_stored, "the retry stores nothing new");
    assert_eq!(retried.version, 4);
    assert_eq!(
        retried.events,
        committed[1..],
        "the retry returns the stored copies"
    );
    let after = direct.load::<Tick>(&stream, 0).await.expect("load");
    assert_eq!(after.len(), 4, "exactly one copy");
    let ids: Vec<_> = after[1..].iter().map(|e| e.event_id).collect();
    assert_eq!(ids, events.iter().map(|e| e.event_id).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_a_lost_commit_reply_stores_one_copy() {
    let database = TestDatabase::new();
    let direct = database.connect().await;
    let proxy = Proxy::start(upstream().await, Duration::ZERO).await;
    let store = through(&proxy, &database).await;
    let stream = StreamId::new("Lost", "commit");
    let events = ticks(&stream, 2);

    // The application's own transaction: the events commit with its other writes, and the
    // reply to COMMIT is what gets lost.
    let mut transaction = store.pool().begin().await.expect("begin");
    store
        .append_in(
            &mut transaction,
            request(&stream, ExpectedVersion::NoStream, events.clone()),
        )
        .await
        .expect("append in the transaction");
    proxy.cut_reply_after(b"COMMIT");
    let committed = transaction.commit().await;
    assert!(committed.is_err(), "the reply to COMMIT was cut");
    assert_eq!(proxy.replies_cut(), 1);

    let retried = store
        .append(request(&stream, ExpectedVersion::NoStream, events.clone()))
        .await
        .expect("the retry succeeds");
    assert!(retried.already_stored);
    let stored = direct.load::<Tick>(&stream, 0).await.expect("load");
    assert_eq!(stored.len(), 2, "exactly one copy");
    assert_eq!(retried.events, stored);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "the child process of a_retry_after_the_appender_died_stores_one_copy"]
async fn appender_child_process() {
    lost_reply::child::<PostgresStore>().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retry_after_the_appender_died_stores_one_copy() {
    let database = TestDatabase::new();
    let store = database.connect().await;
    lost_reply::a_retry_after_the_appender_died_stores_one_copy(&store, &database.url()).await;
}
