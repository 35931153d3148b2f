//! Configuration by URL and connecting: typed errors for bad URLs, a clear error naming
//! host:port for an unreachable server, and retries while a server comes up.

#[path = "support/proxy.rs"]
mod proxy;

use std::time::{Duration, Instant};

use ddd_core::testing::conformance::{Tick, tick};
use ddd_core::{AppendRequest, EventStore, ExpectedVersion, StreamId};
use ddd_postgres::testing::TestDatabase;
use ddd_postgres::{ConfigError, ConnectError, PostgresStore};

#[tokio::test]
async fn a_bad_url_is_a_configuration_error() {
    let cases = [
        "mysql://localhost/db",
        "postgres://localhost/db?schema=a-b",
        "postgres://localhost/db?pool=3",
        "postgres://localhost:70000/db",
    ];
    for url in cases {
        match PostgresStore::connect(url).await {
            Err(ConnectError::Config(
                ConfigError::Scheme { .. }
                | ConfigError::InvalidOption { .. }
                | ConfigError::UnknownOption { .. }
                | ConfigError::Malformed { .. },
            )) => {}
            other => panic!("{url}: {other:?}"),
        }
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

#[tokio::test]
async fn an_unreachable_server_is_retried_then_named() {
    let port = free_port();
    let url = format!("postgres://postgres@127.0.0.1:{port}/test?connect_retry=1s");
    let started = Instant::now();
    let error = PostgresStore::connect(&url)
        .await
        .expect_err("nothing listens there");
    let ConnectError::Unreachable {
        ref target,
        attempts,
        ..
    } = error
    else {
        panic!("expected Unreachable, got {error:?}");
    };
    assert_eq!(target, &format!("127.0.0.1:{port}"));
    assert!(attempts >= 3, "retried with backoff: {attempts} attempts");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "bounded by connect_retry"
    );
    assert!(
        error.to_string().contains(&format!("127.0.0.1:{port}")),
        "{error}"
    );
}

#[tokio::test]
async fn a_server_that_refuses_is_not_retried() {
    let database = TestDatabase::new();
    let mut url = url::Url::parse(&database.url()).expect("url");
    url.set_path("/ddd_no_such_database");
    let started = Instant::now();
    match PostgresStore::connect(url.as_str()).await {
        Err(ConnectError::Refused { .. }) => {}
        other => panic!("an unknown database is refused: {other:?}"),
    }
    assert!(started.elapsed() < Duration::from_secs(5), "no retries");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_waits_for_a_server_that_comes_up_late() {
    let database = TestDatabase::new();
    let upstream = {
        let url = url::Url::parse(&ddd_postgres::testing::database_url()).expect("url");
        let address = (
            url.host_str().expect("host").to_owned(),
            url.port().unwrap_or(5432),
        );
        tokio::net::lookup_host(address)
            .await
            .expect("resolve")
            .next()
            .expect("an address")
    };
    // Nothing listens on the proxy's port for the first 1.5 s.
    let proxy = proxy::Proxy::start(upstream, Duration::from_millis(1500)).await;
    let mut url = url::Url::parse(&database.url_with("connect_retry=30s")).expect("url");
    url.set_port(Some(proxy.port())).expect("port");
    let started = Instant::now();
    let store = PostgresStore::connect(url.as_str())
        .await
        .expect("connects once the server is up");
    assert!(started.elapsed() >= Duration::from_millis(1400));
    let stream = StreamId::new("Late", "server");
    store
        .append(AppendRequest {
            stream: stream.clone(),
            expected: ExpectedVersion::NoStream,
            events: vec![tick("Late", "server", 0, 1)],
            inbox: None,
        })
        .await
        .expect("the store works");
    assert_eq!(store.load::<Tick>(&stream, 0).await.expect("load").len(), 1);
}
