//! A view's HTTP surface over the in-memory store: lists with filters, sort and cursors,
//! a row by key, every bad parameter a 400 naming it, read-your-writes with the token a
//! command returns, a view that stops at an event, rebuild behind the auth of writes.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::http::{Request, StatusCode, header};
use ddd_core::memory::InMemoryEventStore;
use ddd_core::view::{Column, ColumnType, ColumnValue, RowMeta, ViewSchema};
use ddd_core::{Envelope, Repository, View, ViewHandle, ViewRunner};
use ddd_service::{AggregateApi, Health, ServiceConfig, Settings, ViewApi};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

mod common;

use common::{COMMANDS, Ticket, TicketEvent, send};

/// Tickets by priority, for a board: filter on `open` and `priority`, sort by `priority`.
#[derive(Debug, Default, Serialize, Deserialize)]
struct TicketBoard {
    title: String,
    priority: u8,
    open: bool,
}

#[derive(Debug, Serialize)]
struct BoardRow {
    id: String,
    title: String,
    priority: u8,
    open: bool,
    version: u64,
}

impl View for TicketBoard {
    type Event = TicketEvent;
    type State = Self;
    type Row = BoardRow;

    const SCHEMA: ViewSchema = ViewSchema {
        name: "TicketBoard",
        table: "ticket_board",
        key: "id",
        key_type: ColumnType::Uuid,
        columns: &[
            Column {
                name: "open",
                ty: ColumnType::Bool,
                filter: true,
                sort: false,
            },
            Column {
                name: "priority",
                ty: ColumnType::Integer { min: 0, max: 255 },
                filter: true,
                sort: true,
            },
        ],
        state_is_row: false,
    };

    fn key(event: &Envelope<TicketEvent>) -> Option<String> {
        Some(event.aggregate_id.clone())
    }

    fn apply(state: &mut Self, event: &Envelope<TicketEvent>) -> Result<(), String> {
        match &event.payload {
            TicketEvent::Opened { title, priority } => {
                if title == "poison" {
                    return Err("a poisoned ticket".to_owned());
                }
                state.title.clone_from(title);
                state.priority = *priority;
                state.open = true;
            }
            TicketEvent::Closed => state.open = false,
        }
        Ok(())
    }

    fn row(key: &str, state: &Self, meta: &RowMeta) -> BoardRow {
        BoardRow {
            id: key.to_owned(),
            title: state.title.clone(),
            priority: state.priority,
            open: state.open,
            version: meta.version,
        }
    }

    fn columns(row: &BoardRow) -> Vec<ColumnValue> {
        vec![
            ColumnValue::Bool(row.open),
            ColumnValue::Int(i64::from(row.priority)),
        ]
    }
}

struct Service {
    app: Router,
}

const SECRET: &str = "a-secret-of-at-least-thirty-two-bytes!";

/// The ticket commands and the board over the in-memory store.
fn service(running: bool, vars: &[(&str, &str)]) -> Service {
    service_over(InMemoryEventStore::new(), running, vars)
}

/// The ticket commands and the board over `store`, with a runner that catches up only when
/// woken (or none: `running` false), so a test sees what the token waits for.
fn service_over<S>(store: S, running: bool, vars: &[(&str, &str)]) -> Service
where
    S: ddd_core::EventStore + ddd_core::ViewStore + Clone,
{
    let handle = ViewHandle::of::<TicketBoard>();
    if running {
        let runner = ViewRunner::<TicketBoard, _>::new(store.clone(), &handle);
        tokio::spawn(runner.run(Duration::from_secs(3600), std::future::pending()));
    }
    let repository = Arc::new(Repository::<Ticket, _>::new(store.clone()));
    let api = AggregateApi::new(repository, "/tickets", COMMANDS)
        .context("Support")
        .router()
        .merge(
            ViewApi::<TicketBoard, _>::new(
                store.clone(),
                handle.clone(),
                "/ticket-boards",
                "Support",
            )
            .wait(Duration::from_millis(300))
            .router(),
        );
    let mut settings =
        Settings::from_vars(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
    let config = ServiceConfig::read(&mut settings, ([127, 0, 0, 1], 0).into());
    settings.finish().expect("a good configuration");
    let health = Health::new()
        .store("store", store.clone())
        .view(handle.clone());
    let app = ddd_service::app(api, health, &config, None);
    Service { app }
}

fn get(uri: &str, token: Option<&str>) -> Request<Body> {
    let mut request = Request::get(uri);
    if let Some(token) = token {
        request = request.header("consistency-token", token);
    }
    request.body(Body::empty()).expect("a request")
}

/// Opens a ticket; its id and the response's token (header and body agree).
async fn open(app: &Router, title: &str, priority: u8) -> (String, String) {
    let body = json!({ "title": title, "priority": priority }).to_string();
    let request = Request::post("/tickets")
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body))
        .expect("a request");
    let (status, headers, body) = send(app, request).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let token = headers["consistency-token"]
        .to_str()
        .expect("text")
        .to_owned();
    assert_eq!(body["consistency_token"], json!(token));
    (body["id"].as_str().expect("an id").to_owned(), token)
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|row| row["id"].as_str().expect("an id").to_owned())
        .collect()
}

#[tokio::test]
async fn a_list_filters_sorts_and_pages_and_a_row_reads_by_key() {
    let service = service(true, &[]);
    let mut opened = Vec::new();
    let mut token = String::new();
    for (index, priority) in [3u8, 1, 2, 3, 1].into_iter().enumerate() {
        let (id, last) = open(&service.app, &format!("t{index}"), priority).await;
        opened.push((priority, id));
        token = last;
    }
    let (status, _, all) = send(
        &service.app,
        get("/ticket-boards?sort=-priority&limit=2", Some(&token)),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{all}");
    let mut wanted = opened.clone();
    wanted.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    let wanted: Vec<String> = wanted.into_iter().map(|(_, id)| id).collect();
    let mut seen = ids(&all);
    let mut next = all["next"].as_str().map(str::to_owned);
    while let Some(cursor) = next {
        let (status, _, page) = send(
            &service.app,
            get(
                &format!("/ticket-boards?sort=-priority&limit=2&after={cursor}"),
                None,
            ),
        )
        .await;
        assert_eq!(status, StatusCode::OK, "{page}");
        seen.extend(ids(&page));
        next = page["next"].as_str().map(str::to_owned);
    }
    assert_eq!(
        seen, wanted,
        "highest priority first, ties by id, in pages of 2"
    );

    let (_, _, ones) = send(
        &service.app,
        get("/ticket-boards?priority=1&open=true", None),
    )
    .await;
    assert_eq!(ids(&ones).len(), 2, "{ones}");

    let (_, id) = &opened[0];
    let (status, _, row) = send(&service.app, get(&format!("/ticket-boards/{id}"), None)).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        row,
        json!({"id": id, "title": "t0", "priority": 3, "open": true, "version": 1})
    );
    for missing in [
        "/ticket-boards/not-a-uuid",
        "/ticket-boards/rebuild",
        "/ticket-boards/0190f5c4-0000-7000-8000-000000000000",
    ] {
        let (status, _, problem) = send(&service.app, get(missing, None)).await;
        assert_eq!(status, StatusCode::NOT_FOUND, "{missing}: {problem}");
    }
}

#[tokio::test]
async fn every_bad_parameter_is_a_400_that_names_it() {
    let service = service(true, &[]);
    let (_, token) = open(&service.app, "t", 1).await;
    let (_, _, first) = send(
        &service.app,
        get("/ticket-boards?sort=priority&limit=1", Some(&token)),
    )
    .await;
    assert!(first["next"].is_null(), "one row, no next page: {first}");
    let (_, token) = open(&service.app, "u", 2).await;
    let (_, _, paged) = send(&service.app, get("/ticket-boards?limit=1", Some(&token))).await;
    let cursor = paged["next"].as_str().expect("a next page").to_owned();
    let other = "1:Billing:0190f5c4000070008000000000000000:1";
    let other = base64_url(other);
    let cases = [
        ("/ticket-boards?colour=red", "colour", ""),
        ("/ticket-boards?title=t", "title", ""),
        ("/ticket-boards?priority=high", "priority", ""),
        ("/ticket-boards?priority=300", "priority", ""),
        ("/ticket-boards?open=yes", "open", ""),
        ("/ticket-boards?sort=title", "sort", ""),
        ("/ticket-boards?sort=-open", "sort", ""),
        ("/ticket-boards?limit=0", "limit", ""),
        ("/ticket-boards?limit=501", "limit", ""),
        ("/ticket-boards?limit=ten", "limit", ""),
        ("/ticket-boards?limit=1&limit=2", "limit", ""),
        ("/ticket-boards?after=nonsense", "after", ""),
        (
            &format!("/ticket-boards?sort=priority&after={cursor}"),
            "after",
            "",
        ),
        ("/ticket-boards", "Consistency-Token", "garbage"),
        ("/ticket-boards", "Consistency-Token", &other),
    ];
    for (uri, parameter, token) in cases {
        let token = (!token.is_empty()).then_some(token);
        let (status, headers, problem) = send(&service.app, get(uri, token)).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{uri}: {problem}");
        assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
        assert_eq!(problem["parameter"], json!(parameter), "{uri}: {problem}");
    }
}

fn base64_url(text: &str) -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(text)
}

#[tokio::test]
async fn a_read_with_the_token_always_sees_the_command() {
    sixteen_writers_read_their_writes(service(true, &[])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_with_the_token_always_sees_the_command_on_sqlite() {
    let file = ddd_sqlite::testing::TestFile::new();
    sixteen_writers_read_their_writes(service_over(file.connect().await, true, &[])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_with_the_token_always_sees_the_command_on_postgres() {
    let database = ddd_postgres::testing::TestDatabase::new();
    sixteen_writers_read_their_writes(service_over(database.connect().await, true, &[])).await;
}

/// 16 writers each open tickets and read each one back, with its token, by key and in a
/// filtered list: always there.
async fn sixteen_writers_read_their_writes(service: Service) {
    let app = Arc::new(service.app);
    let mut writers = tokio::task::JoinSet::new();
    for writer in 0..16u8 {
        let app = Arc::clone(&app);
        writers.spawn(async move {
            for round in 0..5u8 {
                let (id, token) = open(&app, &format!("w{writer}r{round}"), writer).await;
                let (status, _, row) =
                    send(&app, get(&format!("/ticket-boards/{id}"), Some(&token))).await;
                assert_eq!(status, StatusCode::OK, "{row}");
                let uri = format!("/ticket-boards?priority={writer}&limit=500");
                let (status, _, page) = send(&app, get(&uri, Some(&token))).await;
                assert_eq!(status, StatusCode::OK, "{page}");
                assert!(
                    ids(&page).contains(&id),
                    "the list shows the ticket just opened"
                );
            }
        });
    }
    writers.join_all().await;
}

#[tokio::test]
async fn a_view_behind_its_bound_answers_how_far_behind_it_is() {
    // No runner: nothing folds the events.
    let service = service(false, &[]);
    let (_, token) = open(&service.app, "t", 1).await;
    let (status, headers, problem) = send(&service.app, get("/ticket-boards", Some(&token))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    assert_eq!(headers[header::CONTENT_TYPE], "application/problem+json");
    assert_eq!(problem["title"], "View behind");
    assert_eq!(
        (problem["view"].clone(), problem["behind"].clone()),
        (json!("TicketBoard"), json!(1))
    );
    let (status, _, page) = send(&service.app, get("/ticket-boards", None)).await;
    assert_eq!(
        (status, ids(&page).len()),
        (StatusCode::OK, 0),
        "without a token it answers what it has"
    );
}

#[tokio::test]
async fn a_view_that_stops_at_an_event_stops_alone() {
    let service = service(true, &[]);
    let (good, _) = open(&service.app, "fine", 1).await;
    let (_, token) = open(&service.app, "poison", 2).await;
    let (status, _, problem) = send(&service.app, get("/ticket-boards", Some(&token))).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{problem}");
    assert_eq!(problem["title"], "View stopped");
    let (status, _, page) = send(&service.app, get("/ticket-boards", None)).await;
    assert_eq!(
        (status, ids(&page)),
        (StatusCode::OK, vec![good]),
        "the rows before the event still serve"
    );
    let (status, _, ready) = send(&service.app, get("/health/ready", None)).await;
    assert_eq!(
        status,
        StatusCode::OK,
        "the rest of the service stays in: {ready}"
    );
    assert_eq!(ready["status"], "degraded");
    assert_eq!(ready["checks"]["view TicketBoard"]["status"], "down");
    let (status, _, _) = send(
        &service.app,
        Request::post("/tickets")
            .header(header::CONTENT_TYPE, "application/json")
            .body(Body::from(r#"{"title":"more","priority":3}"#))
            .expect("a request"),
    )
    .await;
    assert_eq!(status, StatusCode::CREATED, "commands keep working");
}

#[tokio::test]
async fn rebuild_refolds_the_view_behind_the_auth_of_writes() {
    let service = service(true, &[("JWT_HS256_SECRET", SECRET)]);
    let token = common::bearer(SECRET);
    let mut opened = Vec::new();
    for priority in 1..=3 {
        let body = json!({ "title": "t", "priority": priority }).to_string();
        let request = Request::post("/tickets")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(body))
            .expect("a request");
        let (status, _, body) = send(&service.app, request).await;
        assert_eq!(status, StatusCode::CREATED, "{body}");
        opened.push(body["id"].as_str().expect("an id").to_owned());
    }
    let (status, _, _) = send(
        &service.app,
        Request::post("/ticket-boards/rebuild")
            .body(Body::empty())
            .expect("a request"),
    )
    .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let request = Request::post("/ticket-boards/rebuild")
        .header(header::AUTHORIZATION, format!("Bearer {token}"))
        .body(Body::empty())
        .expect("a request");
    let (status, _, rebuilt) = send(&service.app, request).await;
    assert_eq!(status, StatusCode::OK, "{rebuilt}");
    assert_eq!(
        (rebuilt["view"].clone(), rebuilt["applied"].clone()),
        (json!("TicketBoard"), json!(3))
    );
    let (_, _, page) = send(&service.app, get("/ticket-boards?limit=10", None)).await;
    opened.sort();
    assert_eq!(ids(&page), opened);
}

#[tokio::test]
async fn view_lag_and_state_are_metrics() {
    let store = InMemoryEventStore::new();
    let handle = ViewHandle::of::<TicketBoard>();
    let service = service_over(store.clone(), false, &[]);
    open(&service.app, "t", 1).await;
    open(&service.app, "u", 2).await;
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let monitor = tokio::spawn(ddd_service::views::monitor(
        store,
        vec![handle],
        Duration::from_millis(10),
        async {
            let _ = stopped.await;
        },
    ));
    tokio::time::sleep(Duration::from_millis(100)).await;
    let (status, _, text) = send(&service.app, get("/metrics", None)).await;
    assert_eq!(status, StatusCode::OK);
    let text = text.as_str().expect("the exposition format").to_owned();
    for line in [
        r#"ddd_view_lag_events{view="TicketBoard"} 2"#,
        r#"ddd_view_up{view="TicketBoard"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "no `{line}` in:\n{text}");
    }
    assert!(
        text.lines()
            .any(|l| l.starts_with(r#"ddd_view_lag_seconds{view="TicketBoard"}"#)),
        "{text}"
    );
    let _ = stop.send(());
    monitor.await.expect("joins").expect("stops cleanly");
}
