//! The aggregate both test binaries serve: a ticket opened with a title (1 to 20 characters)
//! and a priority, closed once.

#![allow(
    dead_code,
    reason = "each test binary includes this module and uses a part of it"
)]

use ddd_core::{Aggregate, Command, DomainEvent};
use ddd_service::CommandRoute;
use serde::{Deserialize, Serialize};

ddd_core::aggregate_id! {
    /// Identifies a ticket.
    pub TicketId
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, Command)]
#[command(aggregate = Ticket)]
#[serde(deny_unknown_fields)]
pub(crate) enum TicketCommand {
    Open {
        #[command(len(1..=20))]
        title: String,
        priority: u8,
    },
    Close,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, DomainEvent)]
#[event(aggregate = Ticket)]
pub(crate) enum TicketEvent {
    Opened { title: String, priority: u8 },
    Closed,
}

#[derive(Debug, Default, Serialize, Deserialize, Aggregate)]
#[aggregate(id = TicketId, command = TicketCommand, event = TicketEvent, error = ddd_core::Rejection)]
pub(crate) struct Ticket {
    title: String,
    open: bool,
}

impl Ticket {
    fn handle_open(&self, title: String, priority: u8) -> Result<TicketEvent, ddd_core::Rejection> {
        Ok(TicketEvent::Opened { title, priority })
    }

    fn handle_close(&self) -> Result<TicketEvent, ddd_core::Rejection> {
        if !self.open {
            return Err(ddd_core::Rejection::new("the ticket is closed already"));
        }
        Ok(TicketEvent::Closed)
    }

    fn apply_opened(&mut self, title: &str, _priority: &u8) {
        self.title = title.to_owned();
        self.open = true;
    }

    fn apply_closed(&mut self) {
        self.open = false;
    }
}

pub(crate) const COMMANDS: &[CommandRoute] = &[
    CommandRoute {
        path: "open",
        name: "Open",
        creates: true,
    },
    CommandRoute {
        path: "close",
        name: "Close",
        creates: false,
    },
];

/// A bearer token signed with `secret` for `claims`.
pub(crate) fn signed(claims: &serde_json::Value, secret: &str) -> String {
    let key = jsonwebtoken::EncodingKey::from_secret(secret.as_bytes());
    jsonwebtoken::encode(&jsonwebtoken::Header::default(), claims, &key).expect("a token")
}

/// A bearer token signed with `secret` that expires in an hour.
pub(crate) fn bearer(secret: &str) -> String {
    let exp = chrono::Utc::now().timestamp() + 3600;
    signed(&serde_json::json!({ "sub": "test", "exp": exp }), secret)
}

/// Sends `request` to `app`: the status, the headers and the body (JSON, or the text as a
/// JSON string).
pub(crate) async fn send(
    app: &axum::Router,
    request: axum::http::Request<axum::body::Body>,
) -> (
    axum::http::StatusCode,
    axum::http::HeaderMap,
    serde_json::Value,
) {
    use http_body_util::BodyExt as _;
    use tower::ServiceExt as _;
    let response = app.clone().oneshot(request).await.expect("a response");
    let (status, headers) = (response.status(), response.headers().clone());
    let bytes = response
        .into_body()
        .collect()
        .await
        .expect("a body")
        .to_bytes();
    let body = serde_json::from_slice(&bytes).unwrap_or_else(|_| {
        serde_json::Value::String(String::from_utf8_lossy(&bytes).into_owned())
    });
    (status, headers, body)
}
