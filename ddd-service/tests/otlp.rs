//! OTLP export (feature `otlp`) to a fake collector: a request's span continues the caller's
//! trace, the events it records name that span, and a policy's delivery of one of them is
//! exported as that span's child. Its own test binary: the global subscriber is set once.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use axum::routing::post;
use ddd_core::memory::{InMemoryEventStore, InProcessBus};
use ddd_core::{
    Aggregate, Envelope, EventBus, EventStore, Policy, PolicyError, PolicyRunner, Reaction, Relay,
    Repository, Routing, StreamId,
};
use ddd_service::{Health, ServiceConfig, Settings};
use http_body_util::BodyExt as _;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::any_value;
use opentelemetry_proto::tonic::trace::v1::Span;
use prost::Message as _;
use tokio::sync::mpsc;
use tower::ServiceExt as _;

mod common;

use common::{COMMANDS, Ticket, TicketEvent};

/// Tells the test which events it saw; reacts with nothing (the span is what matters).
struct Watch(mpsc::UnboundedSender<uuid::Uuid>);

impl Policy for Watch {
    type Event = TicketEvent;
    type Target = Ticket;
    const NAME: &'static str = "watch-tickets";

    async fn react(
        &self,
        event: &Envelope<TicketEvent>,
    ) -> Result<Vec<Reaction<Ticket>>, PolicyError> {
        let _ = self.0.send(event.event_id);
        Ok(Vec::new())
    }
}

/// What the fake collector received.
#[derive(Clone, Default)]
struct Received {
    spans: Arc<Mutex<Vec<(String, Span)>>>,
}

impl Received {
    fn spans(&self) -> Vec<(String, Span)> {
        self.spans.lock().expect("not poisoned").clone()
    }
}

/// An OTLP/HTTP collector on a free port: decodes every protobuf export, keeping each span
/// with its resource's `service.name`.
async fn collector() -> (SocketAddr, Received) {
    let received = Received::default();
    let keep = received.clone();
    let app = Router::new().route(
        "/v1/traces",
        post(move |headers: axum::http::HeaderMap, body: Bytes| {
            let keep = keep.clone();
            async move {
                assert_eq!(
                    headers[header::CONTENT_TYPE],
                    "application/x-protobuf",
                    "OTLP/HTTP protobuf"
                );
                let Ok(export) = ExportTraceServiceRequest::decode(body) else {
                    return StatusCode::BAD_REQUEST;
                };
                let mut spans = keep.spans.lock().expect("not poisoned");
                for resource_spans in export.resource_spans {
                    let service = resource_spans
                        .resource
                        .iter()
                        .flat_map(|resource| &resource.attributes)
                        .find(|attribute| attribute.key == "service.name")
                        .and_then(|attribute| attribute.value.as_ref()?.value.as_ref())
                        .map(|value| match value {
                            any_value::Value::StringValue(name) => name.clone(),
                            other => format!("{other:?}"),
                        })
                        .unwrap_or_default();
                    for scope in resource_spans.scope_spans {
                        spans.extend(scope.spans.into_iter().map(|span| (service.clone(), span)));
                    }
                }
                StatusCode::OK
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let addr = listener.local_addr().expect("an address");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (addr, received)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

async fn open(app: &Router, traceparent: Option<&str>) -> (String, String) {
    let mut request = Request::post("/tickets").header(header::CONTENT_TYPE, "application/json");
    if let Some(traceparent) = traceparent {
        request = request.header("traceparent", traceparent);
    }
    let request = request
        .body(Body::from(r#"{"title":"printer","priority":1}"#))
        .expect("a request");
    let response = app.clone().oneshot(request).await.expect("a response");
    assert_eq!(response.status(), StatusCode::CREATED);
    let echoed = response.headers()["traceparent"]
        .to_str()
        .expect("ascii")
        .to_owned();
    let body = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    let body: serde_json::Value = serde_json::from_slice(&body).expect("json");
    (body["id"].as_str().expect("an id").to_owned(), echoed)
}

// The default current-thread runtime: flushing at shutdown must not need a second worker.
#[tokio::test]
async fn requests_and_policy_deliveries_are_exported_in_the_callers_trace() {
    let (addr, received) = collector().await;
    let mut settings = Settings::from_vars([(
        "OTEL_EXPORTER_OTLP_ENDPOINT".to_owned(),
        format!("http://{addr}"),
    )]);
    let config = ServiceConfig::read(&mut settings, ([127, 0, 0, 1], 0).into());
    let telemetry = ddd_service::init_telemetry(&config, "tickets-service", &mut settings);
    settings.finish().expect("a good configuration");
    assert!(telemetry.is_exporting());

    let (store, bus) = (InMemoryEventStore::new(), InProcessBus::new());
    let repository = Arc::new(Repository::<Ticket, _>::new(store.clone()));
    let api =
        ddd_service::AggregateApi::new(Arc::clone(&repository), "/tickets", COMMANDS).router();
    let app = ddd_service::app(api, Health::new(), &config, None);

    // A caller's trace, continued.
    let caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
    let caller_span = "00f067aa0ba902b7";
    let (id, echoed) = open(&app, Some(&format!("00-{caller_trace}-{caller_span}-01"))).await;
    let events = store
        .load::<TicketEvent>(&StreamId::new(Ticket::TYPE, &id), 0)
        .await
        .expect("loaded");
    let recorded = events[0].trace.clone().expect("a trace context");
    assert_eq!(format!("{:032x}", recorded.trace_id), caller_trace);
    assert_eq!(
        echoed,
        recorded.traceparent(),
        "the response names the same span"
    );

    // A new trace: the exported root's ids are the ones the request hands on.
    let (_, new_trace) = open(&app, None).await;
    let new_trace = ddd_core::TraceContext::from_traceparent(&new_trace).expect("a traceparent");

    // The event, relayed, and handled by a policy in "another service".
    let (seen_tx, mut seen) = mpsc::unbounded_channel();
    let runner = PolicyRunner::new(Watch(seen_tx), Arc::clone(&repository));
    let subscription = bus
        .subscribe(PolicyRunner::<Watch, InMemoryEventStore>::consumer([
            "help.tickets.>",
        ]))
        .await
        .expect("subscribed");
    Relay::new(store.clone(), bus.clone(), Routing::new("help", "tickets"))
        .drain()
        .await
        .expect("relayed");
    let (stop_tx, stop) = tokio::sync::oneshot::channel::<()>();
    let consumer = tokio::spawn(async move {
        runner
            .consume(subscription, async {
                let _ = stop.await;
            })
            .await
    });
    for _ in 0..2 {
        tokio::time::timeout(std::time::Duration::from_secs(10), seen.recv())
            .await
            .expect("the policy saw both events in time");
    }
    let _ = stop_tx.send(());
    consumer.await.expect("joined").expect("consumed");

    // Flush: what the service does when it stops.
    telemetry.shutdown().await;
    let spans = received.spans();
    let named = |name: &str, trace: &str| {
        spans
            .iter()
            .find(|(_, span)| span.name == name && hex(&span.trace_id) == trace)
            .unwrap_or_else(|| panic!("a `{name}` span in trace {trace}: {spans:#?}"))
    };

    let (service, request) = named("request", caller_trace);
    assert_eq!(service, "tickets-service", "the default service name");
    assert_eq!(
        hex(&request.parent_span_id),
        caller_span,
        "child of the caller's span"
    );
    assert_eq!(
        hex(&request.span_id),
        format!("{:016x}", recorded.span_id),
        "the events name the exported request span"
    );
    let (_, delivery) = named("event", caller_trace);
    assert_eq!(
        hex(&delivery.parent_span_id),
        format!("{:016x}", recorded.span_id),
        "the policy's span is the child of the span that recorded the event"
    );

    let new_trace_id = format!("{:032x}", new_trace.trace_id);
    let (_, root) = named("request", &new_trace_id);
    assert!(
        root.parent_span_id.is_empty(),
        "a new trace starts at the request"
    );
    assert_eq!(hex(&root.span_id), format!("{:016x}", new_trace.span_id));
    let (_, delivery) = named("event", &new_trace_id);
    assert_eq!(hex(&delivery.parent_span_id), hex(&root.span_id));
}
