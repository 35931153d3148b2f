//! The service shell over the in-memory store: routes, problem+json for every bad input,
//! If-Match, trace propagation into the events, JWT, health and metrics.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use ddd_core::memory::{InMemoryEventStore, InProcessBus};
use ddd_core::{Aggregate, EventStore, Repository, StreamId};
use ddd_service::metrics::MeteredBus;
use ddd_service::{AuthConfig, Health, ServiceConfig, Settings};
use serde_json::{Value, json};

mod common;

use common::{COMMANDS, Ticket, TicketCommand, TicketEvent, TicketId, send};

const SECRET: &str = "a-secret-of-at-least-thirty-two-bytes!";

fn config(vars: &[(&str, &str)]) -> ServiceConfig {
    let mut settings =
        Settings::from_vars(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let config = ServiceConfig::read(&mut settings, ([127, 0, 0, 1], 0).into());
    settings.finish().expect("a good configuration");
    config
}

fn service(store: &InMemoryEventStore, config: &ServiceConfig) -> Router {
    let repository = Arc::new(Repository::<Ticket, _>::new(store.clone()));
    let api = ddd_service::AggregateApi::new(repository, "/tickets", COMMANDS).router();
    let health = Health::new()
        .store("store", store.clone())
        .bus("bus", MeteredBus::new(InProcessBus::new()));
    ddd_service::app(api, health, config, Some(r#"{"openapi":"3.1.0"}"#))
}

fn post(uri: &str) -> axum::http::request::Builder {
    Request::post(uri).header(header::CONTENT_TYPE, "application/json")
}

fn json_post(uri: &str, body: &str) -> Request<Body> {
    post(uri)
        .body(Body::from(body.to_owned()))
        .expect("a request")
}

fn get(uri: &str) -> Request<Body> {
    Request::get(uri).body(Body::empty()).expect("a request")
}

async fn open(app: &Router) -> String {
    let (status, headers, body) = send(
        app,
        json_post("/tickets", r#"{"title":"printer","priority":2}"#),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["id"].as_str().expect("an id").to_owned();
    assert_eq!(headers[header::LOCATION], format!("/tickets/{id}").as_str());
    assert_eq!(headers[header::ETAG], "\"1\"");
    id
}

#[tokio::test]
async fn commands_state_and_events_round_trip() {
    let app = service(&InMemoryEventStore::new(), &config(&[]));
    let id = open(&app).await;
    let (status, _, state) = send(&app, get(&format!("/tickets/{id}"))).await;
    assert_eq!(
        (status, &state["state"]["title"], &state["version"]),
        (StatusCode::OK, &json!("printer"), &json!(1))
    );
    let (status, _, closed) = send(&app, json_post(&format!("/tickets/{id}/close"), "")).await;
    assert_eq!(
        (status, &closed["version"]),
        (StatusCode::OK, &json!(2)),
        "{closed}"
    );
    let (status, _, problem) = send(&app, json_post(&format!("/tickets/{id}/close"), "{}")).await;
    assert_eq!(status, StatusCode::CONFLICT, "{problem}");
    assert_eq!(problem["detail"], "the ticket is closed already");
    let (status, _, events) = send(&app, get(&format!("/tickets/{id}/events"))).await;
    assert_eq!(status, StatusCode::OK);
    let types: Vec<&str> = events
        .as_array()
        .expect("a list")
        .iter()
        .filter_map(|e| e["type"].as_str())
        .collect();
    assert_eq!(types, ["Opened", "Closed"]);
}

#[tokio::test]
async fn every_bad_input_is_a_problem_that_names_what_is_wrong() {
    let app = service(
        &InMemoryEventStore::new(),
        &config(&[("BODY_LIMIT_BYTES", "256")]),
    );
    let id = open(&app).await;
    let cases: Vec<(Request<Body>, StatusCode, Option<&str>)> = vec![
        (json_post("/tickets", "{"), StatusCode::BAD_REQUEST, None),
        (json_post("/tickets", "[1]"), StatusCode::BAD_REQUEST, None),
        (
            json_post("/tickets", r#"{"title":"x","priority":1,"colour":"red"}"#),
            StatusCode::BAD_REQUEST,
            Some("colour"),
        ),
        (
            json_post("/tickets", r#"{"title":"x","priority":"high"}"#),
            StatusCode::BAD_REQUEST,
            Some("priority"),
        ),
        (
            json_post("/tickets", r#"{"title":"x","priority":300}"#),
            StatusCode::BAD_REQUEST,
            Some("priority"),
        ),
        (
            json_post("/tickets", r#"{"title":"x","priority":1.5}"#),
            StatusCode::BAD_REQUEST,
            Some("priority"),
        ),
        (
            json_post("/tickets", "{}"),
            StatusCode::BAD_REQUEST,
            Some("title"),
        ),
        (
            json_post("/tickets", r#"{"priority":1}"#),
            StatusCode::BAD_REQUEST,
            Some("title"),
        ),
        (
            json_post(
                "/tickets",
                &format!(r#"{{"title":"{}","priority":1}}"#, "x".repeat(400)),
            ),
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
        ),
        (
            json_post(&format!("/tickets/{id}/reopen"), "{}"),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            json_post("/tickets/not-an-id/close", "{}"),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            get(&format!("/tickets/{}", uuid::Uuid::nil())),
            StatusCode::NOT_FOUND,
            None,
        ),
        (
            Request::post("/tickets")
                .header(header::CONTENT_TYPE, "text/plain")
                .body(Body::from(r#"{"title":"x","priority":1}"#))
                .expect("a request"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
        ),
        (
            Request::post("/tickets")
                .body(Body::from(r#"{"title":"x","priority":1}"#))
                .expect("a request"),
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            None,
        ),
        (get("/no/such/route"), StatusCode::NOT_FOUND, None),
        (
            Request::delete("/tickets")
                .body(Body::empty())
                .expect("a request"),
            StatusCode::METHOD_NOT_ALLOWED,
            None,
        ),
    ];
    for (request, expected, field) in cases {
        let what = format!("{} {}", request.method(), request.uri());
        let (status, headers, problem) = send(&app, request).await;
        assert_eq!(status, expected, "{what}: {problem}");
        assert_eq!(
            headers[header::CONTENT_TYPE],
            "application/problem+json",
            "{what}"
        );
        assert_eq!(problem["status"], expected.as_u16(), "{what}: {problem}");
        if let Some(field) = field {
            assert_eq!(problem["field"], field, "{what}: {problem}");
        }
    }
    let (status, _, problem) =
        send(&app, json_post("/tickets", r#"{"title":"","priority":1}"#)).await;
    assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY, "{problem}");
    assert_eq!(problem["violations"][0]["field"], "title", "{problem}");
}

#[tokio::test]
async fn if_match_guards_the_version() {
    let app = service(&InMemoryEventStore::new(), &config(&[]));
    let id = open(&app).await;
    let stale = post(&format!("/tickets/{id}/close"))
        .header(header::IF_MATCH, "\"7\"")
        .body(Body::empty())
        .expect("a request");
    let (status, _, problem) = send(&app, stale).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{problem}");
    // What the document's pattern refuses, the service refuses too.
    for bad in [
        "soon",
        "\"1",
        "1\"",
        "",
        "123456789012345678901",
        "-1",
        "W/\"1\"",
    ] {
        let request = post(&format!("/tickets/{id}/close"))
            .header(header::IF_MATCH, bad)
            .body(Body::empty())
            .expect("a request");
        assert_eq!(
            send(&app, request).await.0,
            StatusCode::BAD_REQUEST,
            "{bad}"
        );
    }
    let current = post(&format!("/tickets/{id}/close"))
        .header(header::IF_MATCH, "1")
        .body(Body::empty())
        .expect("a request");
    let (status, headers, _) = send(&app, current).await;
    assert_eq!(
        (status, &headers[header::ETAG]),
        (StatusCode::OK, &"\"2\"".parse().expect("a header"))
    );
}

#[tokio::test]
async fn the_requests_trace_and_correlation_reach_the_events() {
    let store = InMemoryEventStore::new();
    let app = service(&store, &config(&[]));
    let correlation = uuid::Uuid::now_v7();
    let request = post("/tickets")
        .header(
            "traceparent",
            "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
        )
        .header("x-correlation-id", correlation.to_string())
        .body(Body::from(r#"{"title":"traced","priority":1}"#))
        .expect("a request");
    let (status, headers, body) = send(&app, request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert!(
        headers["traceparent"]
            .to_str()
            .expect("ascii")
            .starts_with("00-4bf92f3577b34da6a3ce929d0e0e4736-")
    );
    let stream = StreamId::new(Ticket::TYPE, body["id"].as_str().expect("an id"));
    let events = store.load::<TicketEvent>(&stream, 0).await.expect("loaded");
    let trace = events[0].trace.as_ref().expect("a trace context");
    assert_eq!(
        format!("{:032x}", trace.trace_id),
        "4bf92f3577b34da6a3ce929d0e0e4736"
    );
    assert_eq!(events[0].correlation_id, correlation);
}

fn token(claims: &Value, secret: &str) -> String {
    common::signed(claims, secret)
}

#[tokio::test]
async fn writes_need_a_valid_token_with_the_scope_when_jwt_is_configured() {
    let config = config(&[
        ("JWT_HS256_SECRET", SECRET),
        ("JWT_REQUIRED_SCOPE", "tickets:write"),
    ]);
    let app = service(&InMemoryEventStore::new(), &config);
    let exp = chrono::Utc::now().timestamp() + 600;
    let body = r#"{"title":"secured","priority":1}"#;
    let with = |token: Option<String>| {
        let mut request = post("/tickets");
        if let Some(token) = token {
            request = request.header(header::AUTHORIZATION, format!("Bearer {token}"));
        }
        request.body(Body::from(body)).expect("a request")
    };
    let (status, headers, problem) = send(&app, with(None)).await;
    assert_eq!(
        (status, &headers[header::WWW_AUTHENTICATE]),
        (StatusCode::UNAUTHORIZED, &"Bearer".parse().expect("h")),
        "{problem}"
    );
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    let forged = token(
        &json!({"sub": "eve", "exp": exp, "scope": "tickets:write"}),
        "another-secret-of-at-least-32-bytes!!",
    );
    assert_eq!(
        send(&app, with(Some(forged))).await.0,
        StatusCode::UNAUTHORIZED
    );
    let expired = token(
        &json!({"sub": "ann", "exp": 1_000_000, "scope": "tickets:write"}),
        SECRET,
    );
    assert_eq!(
        send(&app, with(Some(expired))).await.0,
        StatusCode::UNAUTHORIZED
    );
    let unscoped = token(
        &json!({"sub": "ann", "exp": exp, "scope": "tickets:read"}),
        SECRET,
    );
    assert_eq!(
        send(&app, with(Some(unscoped))).await.0,
        StatusCode::FORBIDDEN
    );
    let good = token(
        &json!({"sub": "ann", "exp": exp, "scope": "profile tickets:write"}),
        SECRET,
    );
    let (status, _, created) = send(&app, with(Some(good))).await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let id = created["id"].as_str().expect("an id");
    // Reads and probes stay open.
    assert_eq!(
        send(&app, get(&format!("/tickets/{id}"))).await.0,
        StatusCode::OK
    );
    assert_eq!(send(&app, get("/health/ready")).await.0, StatusCode::OK);
}

#[test]
fn a_weak_secret_or_two_keys_stop_the_start() {
    let mut settings = Settings::from_vars([("JWT_HS256_SECRET".to_owned(), "short".to_owned())]);
    let _ = ServiceConfig::read(&mut settings, ([127, 0, 0, 1], 0).into());
    let error = settings.finish().expect_err("a weak secret");
    assert!(error.to_string().contains("at least 32 bytes"), "{error}");
    let vars = [
        ("JWT_HS256_SECRET", SECRET),
        ("JWT_RS256_PUBLIC_KEY", "pem"),
        ("HTTP_ADDR", "x"),
    ];
    let mut settings =
        Settings::from_vars(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let _ = ServiceConfig::read(&mut settings, ([127, 0, 0, 1], 0).into());
    let error = settings.finish().expect_err("two problems");
    assert_eq!(error.problems.len(), 2, "{error}");
    assert!(AuthConfig::rs256(b"not a pem").is_err());
}

#[tokio::test]
async fn health_is_ready_only_while_every_probe_answers() {
    let up = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let flag = Arc::clone(&up);
    let health = Health::new().probe("broker", move || {
        let up = flag.load(std::sync::atomic::Ordering::SeqCst);
        async move {
            if up {
                Ok(())
            } else {
                Err("connection refused".to_owned())
            }
        }
    });
    let app = ddd_service::app(Router::new(), health, &config(&[]), None);
    assert_eq!(send(&app, get("/health/ready")).await.0, StatusCode::OK);
    up.store(false, std::sync::atomic::Ordering::SeqCst);
    let (status, _, body) = send(&app, get("/health/ready")).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["checks"]["broker"]["error"], "connection refused");
    assert_eq!(send(&app, get("/health/live")).await.0, StatusCode::OK);
    up.store(true, std::sync::atomic::Ordering::SeqCst);
    assert_eq!(send(&app, get("/health/ready")).await.0, StatusCode::OK);
}

#[tokio::test]
async fn metrics_count_commands_by_type_and_outcome() {
    let app = service(&InMemoryEventStore::new(), &config(&[]));
    let id = open(&app).await;
    send(&app, json_post(&format!("/tickets/{id}/close"), "")).await;
    send(&app, json_post(&format!("/tickets/{id}/close"), "")).await;
    let (status, _, text) = send(&app, get("/metrics")).await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().expect("text");
    for line in [
        r#"ddd_commands_total{aggregate="Ticket",command="Open",outcome="handled"}"#,
        r#"ddd_commands_total{aggregate="Ticket",command="Close",outcome="rejected"}"#,
        "ddd_command_duration_seconds_bucket{aggregate=\"Ticket\",command=\"Close\",le=",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    assert_eq!(send(&app, get("/openapi.json")).await.2["openapi"], "3.1.0");
}

#[tokio::test]
async fn the_meters_count_publishes_lag_redeliveries_and_dead_letters() {
    use ddd_core::{
        ConsumerConfig, Delivery as _, EventBus as _, Message, Outbox as _, Subscription as _,
    };
    use ddd_service::metrics::MeteredOutbox;

    let handle = ddd_service::metrics::install();
    let bus = MeteredBus::new(InProcessBus::new());
    let mut subscription = bus
        .subscribe(ConsumerConfig::new("metered-consumer", ["metered.Ctx.>"]).max_deliver(2))
        .await
        .expect("subscribed");
    let store = InMemoryEventStore::new();
    let repository = Repository::<Ticket, _>::new(store.clone());
    repository
        .execute(
            &TicketId::new(),
            TicketCommand::Open {
                title: "metered".into(),
                priority: 1,
            },
        )
        .await
        .expect("opened");
    let outbox = MeteredOutbox::new(store.clone(), "Metered");
    let pending = outbox.pending(10).await.expect("pending");
    let message = Message::new("metered.Ctx.Opened", pending[0].clone());
    bus.publish(vec![message.clone(), message])
        .await
        .expect("published");

    let first = subscription
        .next()
        .await
        .expect("next")
        .expect("a delivery");
    first.nack("try again").await.expect("nacked");
    let again = subscription
        .next()
        .await
        .expect("next")
        .expect("redelivered");
    assert_eq!(again.attempt(), 2);
    again.ack().await.expect("acked");
    let second = subscription
        .next()
        .await
        .expect("next")
        .expect("a delivery");
    second
        .dead_letter("cannot decode")
        .await
        .expect("dead-lettered");

    let text = handle.render();
    for line in [
        r#"ddd_events_published_total{subject="metered.Ctx.Opened"} 2"#,
        r#"ddd_redeliveries_total{consumer="metered-consumer"} 1"#,
        r#"ddd_dead_letters_total{consumer="metered-consumer"} 1"#,
        r#"ddd_events_handled_total{consumer="metered-consumer",outcome="retried"} 1"#,
        r#"ddd_events_handled_total{consumer="metered-consumer",outcome="acked"} 1"#,
        r#"ddd_outbox_pending{context="Metered"} 1"#,
        "ddd_consumer_lag_seconds_count{consumer=\"metered-consumer\"} 3",
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
}

/// Of two replicas' metered outboxes over one store, the one whose relay holds the lease
/// shows 1 on `ddd_outbox_relay_leader`, the other 0; a released lease shows 0.
#[tokio::test]
async fn the_leader_gauge_says_which_replica_publishes() {
    use ddd_core::Outbox as _;
    use ddd_service::metrics::MeteredOutbox;

    let handle = ddd_service::metrics::install();
    let store = InMemoryEventStore::new();
    let (first, second) = (
        MeteredOutbox::new(store.clone(), "LeaderFirst"),
        MeteredOutbox::new(store.clone(), "LeaderSecond"),
    );
    let ttl = std::time::Duration::from_secs(60);
    let lease = first
        .claim_lease(uuid::Uuid::new_v4(), ttl)
        .await
        .expect("claim")
        .expect("a free lease");
    let refused = second
        .claim_lease(uuid::Uuid::new_v4(), ttl)
        .await
        .expect("claim");
    assert_eq!(refused, None);
    let text = handle.render();
    for line in [
        r#"ddd_outbox_relay_leader{context="LeaderFirst"} 1"#,
        r#"ddd_outbox_relay_leader{context="LeaderSecond"} 0"#,
    ] {
        assert!(text.contains(line), "{line} missing from\n{text}");
    }
    first.release_lease(lease).await.expect("release");
    let text = handle.render();
    let line = r#"ddd_outbox_relay_leader{context="LeaderFirst"} 0"#;
    assert!(text.contains(line), "{line} missing from\n{text}");
}

/// JSON Schema counts `2.0` as an integer, and so does a command's body: an integer field
/// takes it, and the event records the integer.
#[tokio::test]
async fn a_number_without_a_fraction_fills_an_integer_field() {
    let app = service(&InMemoryEventStore::new(), &config(&[]));
    for body in [
        r#"{"title":"printer","priority":2.0}"#,
        r#"{"title":"printer","priority":2e0}"#,
    ] {
        let (status, _, created) = send(&app, json_post("/tickets", body)).await;
        assert_eq!(status, StatusCode::CREATED, "{body}: {created}");
        let id = created["id"].as_str().expect("an id");
        let (_, _, events) = send(&app, get(&format!("/tickets/{id}/events"))).await;
        assert_eq!(events[0]["payload"]["priority"], json!(2), "{events}");
    }
}

/// A command on an aggregate that does not exist is a 404 from the repository's own load,
/// and records nothing.
#[tokio::test]
async fn a_command_on_a_missing_aggregate_is_not_found_and_records_nothing() {
    let store = InMemoryEventStore::new();
    let app = service(&store, &config(&[]));
    let missing = uuid::Uuid::now_v7();
    let (status, _, problem) =
        send(&app, json_post(&format!("/tickets/{missing}/close"), "{}")).await;
    assert_eq!(status, StatusCode::NOT_FOUND, "{problem}");
    assert_eq!(problem["detail"], format!("no Ticket `{missing}`"));
    assert_eq!(store.len(), 0);
}

/// The served document declares security only when the service checks tokens.
#[tokio::test]
async fn the_served_document_declares_security_only_when_jwt_is_configured() {
    let document = json!({
        "openapi": "3.1.0",
        "paths": { "/tickets": { "post": {
            "security": [{ "bearer": [] }],
            "responses": {
                "201": { "description": "Created." },
                "401": { "description": "No valid token." },
            },
        } } },
        "components": { "securitySchemes": { "bearer": { "type": "http", "scheme": "bearer" } } },
    })
    .to_string();
    let document: &'static str = Box::leak(document.into_boxed_str());
    for (config, secured) in [
        (config(&[]), false),
        (config(&[("JWT_HS256_SECRET", SECRET)]), true),
    ] {
        let app = ddd_service::app(Router::new(), Health::new(), &config, Some(document));
        let (status, _, served) = send(&app, get("/openapi.json")).await;
        assert_eq!(status, StatusCode::OK);
        let post = &served["paths"]["/tickets"]["post"];
        assert_eq!(post.get("security").is_some(), secured, "{served}");
        assert_eq!(post["responses"].get("401").is_some(), secured, "{served}");
        assert_eq!(
            served["components"].get("securitySchemes").is_some(),
            secured,
            "{served}"
        );
    }
}

/// A body is JSON by its type (`application/json`, with parameters, or a `+json` type); a
/// command without fields may come with no body and no type.
#[tokio::test]
async fn json_bodies_come_as_json_and_empty_ones_as_anything() {
    let app = service(&InMemoryEventStore::new(), &config(&[]));
    for content_type in [
        "application/json",
        "Application/JSON; charset=utf-8",
        "application/merge-patch+json",
    ] {
        let request = Request::post("/tickets")
            .header(header::CONTENT_TYPE, content_type)
            .body(Body::from(r#"{"title":"x","priority":1}"#))
            .expect("a request");
        let (status, _, body) = send(&app, request).await;
        assert_eq!(status, StatusCode::CREATED, "{content_type}: {body}");
    }
    let id = open(&app).await;
    let bare = Request::post(format!("/tickets/{id}/close"))
        .body(Body::empty())
        .expect("a request");
    let (status, _, body) = send(&app, bare).await;
    assert_eq!(status, StatusCode::OK, "{body}");
}

/// An in-memory outbox whose own relay step is told apart from the two calls the trait's
/// default would make instead.
#[derive(Clone, Default)]
struct OwnStep {
    store: InMemoryEventStore,
    steps: Arc<AtomicUsize>,
    reads: Arc<AtomicUsize>,
}

impl ddd_core::Outbox for OwnStep {
    async fn pending(
        &self,
        limit: usize,
    ) -> Result<Vec<ddd_core::RawEnvelope>, ddd_core::StoreError> {
        self.reads.fetch_add(1, Ordering::SeqCst);
        self.store.pending(limit).await
    }

    async fn mark_published(&self, ids: &[ddd_core::EventId]) -> Result<(), ddd_core::StoreError> {
        self.store.mark_published(ids).await
    }

    async fn claim_lease(
        &self,
        holder: uuid::Uuid,
        ttl: std::time::Duration,
    ) -> Result<Option<ddd_core::Lease>, ddd_core::StoreError> {
        self.store.claim_lease(holder, ttl).await
    }

    async fn release_lease(&self, lease: ddd_core::Lease) -> Result<(), ddd_core::StoreError> {
        self.store.release_lease(lease).await
    }

    async fn mark_published_under(
        &self,
        ids: &[ddd_core::EventId],
        lease: ddd_core::Lease,
    ) -> Result<bool, ddd_core::StoreError> {
        self.store.mark_published_under(ids, lease).await
    }

    async fn settle_and_read(
        &self,
        published: &[ddd_core::EventId],
        lease: Option<ddd_core::Lease>,
        limit: usize,
    ) -> Result<Option<Vec<ddd_core::RawEnvelope>>, ddd_core::StoreError> {
        self.steps.fetch_add(1, Ordering::SeqCst);
        self.store.settle_and_read(published, lease, limit).await
    }
}

/// The metered outbox runs the store's own relay step (one round trip on PostgreSQL), not
/// the trait's default of a mark and a read, and meters what it read.
#[tokio::test]
async fn the_metered_outbox_keeps_the_stores_own_relay_step() {
    use ddd_core::Outbox as _;
    use ddd_service::metrics::MeteredOutbox;

    let handle = ddd_service::metrics::install();
    let inner = OwnStep::default();
    Repository::<Ticket, _>::new(inner.store.clone())
        .execute(
            &TicketId::new(),
            TicketCommand::Open {
                title: "stepped".into(),
                priority: 1,
            },
        )
        .await
        .expect("opened");
    let outbox = MeteredOutbox::new(inner.clone(), "Stepped");
    let read = outbox
        .settle_and_read(&[], None, 10)
        .await
        .expect("a step")
        .expect("no lease to lose");
    assert_eq!(read.len(), 1);
    assert_eq!(
        inner.steps.load(Ordering::SeqCst),
        1,
        "the store's own step"
    );
    assert_eq!(inner.reads.load(Ordering::SeqCst), 0, "no separate read");
    let line = r#"ddd_outbox_pending{context="Stepped"} 1"#;
    assert!(handle.render().contains(line), "{line} missing");
}
