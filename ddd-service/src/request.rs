//! Where a request's trace starts: the W3C `traceparent` and the correlation id are taken
//! from the request (or started here), carried into the command's metadata, so the events
//! it records and every policy they trigger in other services share them, and put on a span
//! that every log line of the request carries.

use std::time::Instant;

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderName, HeaderValue};
use axum::middleware::Next;
use axum::response::Response;
use ddd_core::{CommandMeta, TraceContext};
use tracing::Instrument as _;
use uuid::Uuid;

/// The correlation header: an id a caller may pass to tie its own logs to ours.
pub const CORRELATION_ID: HeaderName = HeaderName::from_static("x-correlation-id");
/// The W3C trace context header.
pub const TRACEPARENT: HeaderName = HeaderName::from_static("traceparent");
const TRACESTATE: HeaderName = HeaderName::from_static("tracestate");

/// The trace and correlation of one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestContext {
    /// The trace this request belongs to, with a span id of its own.
    pub trace: TraceContext,
    /// The correlation id of everything the request causes.
    pub correlation_id: Uuid,
}

impl RequestContext {
    /// Reads `traceparent`/`tracestate` and `x-correlation-id`; a missing or malformed one
    /// starts a new trace or correlation (a client's bad header is not worth a 400).
    pub fn from_headers(headers: &HeaderMap) -> Self {
        let trace = match remote_parent(headers) {
            Some(parent) => TraceContext {
                span_id: new_span_id(),
                state: headers
                    .get(TRACESTATE)
                    .and_then(|value| value.to_str().ok())
                    .map(str::to_owned),
                ..parent
            },
            None => TraceContext {
                trace_id: Uuid::new_v4().as_u128(),
                span_id: new_span_id(),
                flags: 1,
                state: None,
            },
        };
        let correlation_id = headers
            .get(CORRELATION_ID)
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(Uuid::now_v7);
        Self {
            trace,
            correlation_id,
        }
    }

    /// The metadata of a command this request runs.
    pub fn command_meta(&self) -> CommandMeta {
        CommandMeta::default()
            .correlation_id(self.correlation_id)
            .trace(self.trace.clone())
    }

    /// The trace id as the 32 hex digits log search and trace viewers use.
    pub fn trace_id(&self) -> String {
        format!("{:032x}", self.trace.trace_id)
    }
}

/// The caller's span, from a well-formed `traceparent`.
fn remote_parent(headers: &HeaderMap) -> Option<TraceContext> {
    headers
        .get(TRACEPARENT)
        .and_then(|value| value.to_str().ok())
        .and_then(TraceContext::from_traceparent)
}

fn new_span_id() -> u64 {
    // A v4 UUID's random bits; zero is reserved by the spec.
    let random = Uuid::new_v4().as_u64_pair().1;
    random.max(1)
}

/// Middleware: a span per request carrying the trace and correlation ids, one log line when
/// it ends (status, latency), the context in the request's extensions for the handlers, and
/// both ids echoed on the response.
///
/// The span's `traceparent` field (the caller's, when given) makes it, when spans are
/// exported, the child of the caller's span (see [`crate::otel`]).
pub async fn trace_requests(mut request: Request, next: Next) -> Response {
    let parent = remote_parent(request.headers());
    let mut context = RequestContext::from_headers(request.headers());
    let span = tracing::info_span!(
        "request",
        method = %request.method(),
        path = %request.uri().path(),
        trace_id = tracing::field::Empty,
        correlation_id = %context.correlation_id,
        traceparent = parent.as_ref().map(tracing::field::display),
    );
    // An exported span has ids of OpenTelemetry's making (a new trace's id too): the
    // request takes them, so the events it records name a span the collector received.
    if let Some((trace_id, span_id)) = crate::otel::exported_ids(&span) {
        context.trace.trace_id = trace_id;
        context.trace.span_id = span_id;
    }
    span.record("trace_id", tracing::field::display(context.trace_id()));
    request.extensions_mut().insert(context.clone());
    let started = Instant::now();
    async move {
        let mut response = next.run(request).await;
        let status = response.status();
        let elapsed_ms = started.elapsed().as_secs_f64() * 1000.0;
        if status.is_server_error() {
            tracing::error!(status = status.as_u16(), elapsed_ms, "request failed");
        } else {
            tracing::info!(status = status.as_u16(), elapsed_ms, "request handled");
        }
        let headers = response.headers_mut();
        if let Ok(value) = HeaderValue::from_str(&context.trace.traceparent()) {
            headers.insert(TRACEPARENT, value);
        }
        if let Ok(value) = HeaderValue::from_str(&context.correlation_id.to_string()) {
            headers.insert(CORRELATION_ID, value);
        }
        response
    }
    .instrument(span)
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_traceparent_continues_the_trace_with_a_new_span() {
        let mut headers = HeaderMap::new();
        headers.insert(
            TRACEPARENT,
            HeaderValue::from_static("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
        );
        let context = RequestContext::from_headers(&headers);
        assert_eq!(context.trace_id(), "4bf92f3577b34da6a3ce929d0e0e4736");
        assert_ne!(context.trace.span_id, 0x00f0_67aa_0ba9_02b7);
        assert_eq!(context.trace.flags, 1);
    }

    #[test]
    fn a_malformed_traceparent_or_correlation_starts_new_ones() {
        let mut headers = HeaderMap::new();
        headers.insert(TRACEPARENT, HeaderValue::from_static("00-zz-00-01"));
        headers.insert(CORRELATION_ID, HeaderValue::from_static("not-a-uuid"));
        let first = RequestContext::from_headers(&headers);
        let second = RequestContext::from_headers(&headers);
        assert_ne!(first.trace.trace_id, 0);
        assert_ne!(first.trace.trace_id, second.trace.trace_id);
        assert_ne!(first.correlation_id, second.correlation_id);
    }

    #[test]
    fn a_given_correlation_id_is_kept_and_reaches_the_command() {
        let id = Uuid::now_v7();
        let mut headers = HeaderMap::new();
        headers.insert(
            CORRELATION_ID,
            HeaderValue::from_str(&id.to_string()).expect("a header"),
        );
        let context = RequestContext::from_headers(&headers);
        assert_eq!(context.correlation_id, id);
        let meta = context.command_meta();
        assert_eq!(meta.correlation_id, Some(id));
        assert_eq!(meta.trace, Some(context.trace));
    }
}
