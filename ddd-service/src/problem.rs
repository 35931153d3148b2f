//! `application/problem+json` (RFC 9457): the one error shape of every endpoint. Statuses
//! and titles come from `ddd_names::http`, the table the generated OpenAPI documents.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use ddd_names::http::{self, Outcome};
use serde_json::{Map, Value, json};

/// An error response: status, a short title, a detail for this occurrence and extra members
/// (such as `violations`).
#[derive(Debug, Clone)]
pub struct Problem {
    status: StatusCode,
    title: &'static str,
    detail: String,
    extra: Map<String, Value>,
}

impl Problem {
    /// A problem with a title and a detail.
    pub fn new(status: StatusCode, title: &'static str, detail: impl Into<String>) -> Self {
        Self {
            status,
            title,
            detail: detail.into(),
            extra: Map::new(),
        }
    }

    /// The problem of `outcome`, with its status and title.
    pub fn of(outcome: Outcome, detail: impl Into<String>) -> Self {
        Self::new(status(outcome), outcome.title, detail)
    }

    /// Adds a member to the body.
    #[must_use]
    pub fn with(mut self, name: &str, value: Value) -> Self {
        self.extra.insert(name.to_owned(), value);
        self
    }

    /// The response status.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// A 404.
    pub fn not_found(detail: impl Into<String>) -> Self {
        Self::of(http::NOT_FOUND, detail)
    }

    /// A 500 whose cause goes to the log, not to the client (it may name internals).
    pub fn internal(error: impl std::fmt::Display) -> Self {
        tracing::error!(%error, "request failed");
        Self::of(
            http::INTERNAL,
            "the request failed; the service log has the cause",
        )
    }

    /// The body as JSON.
    pub fn body(&self) -> Value {
        let mut body = json!({
            "type": "about:blank",
            "title": self.title,
            "status": self.status.as_u16(),
            "detail": self.detail,
        });
        if let Value::Object(members) = &mut body {
            members.extend(self.extra.clone());
        }
        body
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let body = self.body().to_string();
        let mut response = (self.status, body).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(http::PROBLEM_JSON),
        );
        response
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {}: {}",
            self.status.as_u16(),
            self.title,
            self.detail
        )
    }
}

/// The status of `outcome`.
pub(crate) fn status(outcome: Outcome) -> StatusCode {
    StatusCode::from_u16(outcome.status).expect("`ddd_names::http` holds valid statuses")
}
