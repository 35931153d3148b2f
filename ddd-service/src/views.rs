//! A view's HTTP surface:
//!
//! - `GET /<views>?<field>=<value>&sort=<field>|-<field>&limit=N&after=<cursor>`: a page of
//!   rows, `{"items": [...], "next": <cursor or null>}`; filters only on `@filter` fields,
//!   sorts only on `@sort` fields, `limit` 1 to 500 (50 without one); anything else is a 400
//!   problem naming the parameter;
//! - `GET /<views>/{key}`: one row;
//! - `POST /<views>/rebuild`: refolds the view from every event into a fresh table and swaps
//!   it in (a write: behind the same authentication as commands).
//!
//! Read-your-writes: a read that sends a command's `Consistency-Token` waits (bounded) until
//! the view has folded that command's events, or answers 503 saying how far behind it is.

use std::borrow::Cow;
use std::marker::PhantomData;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use ddd_core::view::{ViewError, ViewPage, WaitError};
use ddd_core::{ConsistencyToken, View, ViewHandle, ViewQuery, ViewStatus, ViewStore};
use ddd_names::http;
use serde_json::json;

use crate::Problem;

/// How long, in milliseconds, a read with a consistency token waits for the view by default
/// (what a service's `VIEW_WAIT_MS` defaults to).
pub const DEFAULT_WAIT_MS: u64 = 2000;

/// How long a read with a consistency token waits for the view by default.
pub const DEFAULT_WAIT: Duration = Duration::from_millis(DEFAULT_WAIT_MS);

/// The HTTP surface of one view over its store.
pub struct ViewApi<V, S> {
    store: S,
    handle: ViewHandle,
    route: Cow<'static, str>,
    context: &'static str,
    wait: Duration,
    view: PhantomData<fn() -> V>,
}

impl<V, S> std::fmt::Debug for ViewApi<V, S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ViewApi")
            .field("view", &self.handle.schema().name)
            .field("route", &self.route)
            .field("context", &self.context)
            .field("wait", &self.wait)
            .finish_non_exhaustive()
    }
}

impl<V: View, S: ViewStore + Clone> ViewApi<V, S> {
    /// The surface of the view `handle` runs at `route` (`/order-summaries`), in the
    /// context whose tokens it accepts.
    pub fn new(
        store: S,
        handle: ViewHandle,
        route: impl Into<Cow<'static, str>>,
        context: &'static str,
    ) -> Self {
        Self {
            store,
            handle,
            route: route.into(),
            context,
            wait: DEFAULT_WAIT,
            view: PhantomData,
        }
    }

    /// How long a read with a consistency token waits for the view.
    #[must_use]
    pub fn wait(mut self, wait: Duration) -> Self {
        self.wait = wait;
        self
    }

    /// The routes, ready to merge into a service's router.
    pub fn router(self) -> Router {
        let route = self.route.clone();
        Router::new()
            .route(&route, get(list::<V, S>))
            // `GET` of a row keyed `rebuild` still reads that row.
            .route(
                &format!("{route}/rebuild"),
                post(rebuild::<V, S>).get(|api: Api<V, S>, headers: HeaderMap| async move {
                    row(&api, "rebuild", &headers).await
                }),
            )
            .route(&format!("{route}/{{key}}"), get(one::<V, S>))
            .with_state(Arc::new(self))
    }

    /// Waits until the view shows the command the request's token names, if it sent one.
    async fn consistent(&self, headers: &HeaderMap) -> Result<(), Problem> {
        let Some(value) = headers.get(http::CONSISTENCY_TOKEN) else {
            return Ok(());
        };
        let bad = |detail: String| {
            Problem::of(http::BAD_TOKEN, detail).with("parameter", json!("Consistency-Token"))
        };
        let text = value
            .to_str()
            .map_err(|_| bad("the token is not text".to_owned()))?;
        let token =
            ConsistencyToken::decode(text, self.context).map_err(|error| bad(error.to_string()))?;
        let position = match token.position {
            0 => self
                .store
                .event_position(token.event_id)
                .await
                .map_err(Problem::internal)?
                .ok_or_else(|| bad(format!("{} holds no such event", self.context)))?,
            position => position,
        };
        let name = self.handle.schema().name;
        match self.handle.wait_for(&self.store, position, self.wait).await {
            Ok(_) => Ok(()),
            Err(WaitError::Behind {
                checkpoint,
                wanted,
                waited,
            }) => Err(Problem::of(
                http::VIEW_BEHIND,
                format!(
                    "{name} has not yet folded the command's events: it is {} events behind \
                     after {} ms",
                    wanted.saturating_sub(checkpoint),
                    waited.as_millis()
                ),
            )
            .with("view", json!(name))
            .with("position", json!(checkpoint))
            .with("wanted", json!(wanted))
            .with("behind", json!(wanted.saturating_sub(checkpoint)))),
            Err(WaitError::Failed { position, reason }) => Err(stopped(name, position, &reason)),
            Err(WaitError::Store(error)) => Err(Problem::internal(error)),
        }
    }
}

type Api<V, S> = State<Arc<ViewApi<V, S>>>;

async fn list<V: View, S: ViewStore + Clone>(
    State(api): Api<V, S>,
    headers: HeaderMap,
    query: Result<Query<Vec<(String, String)>>, QueryRejection>,
) -> Result<Response, Problem> {
    let Query(pairs) = query.map_err(|rejection| {
        Problem::of(http::BAD_QUERY, rejection.body_text()).with("parameter", json!(null))
    })?;
    let query = ViewQuery::parse(&V::SCHEMA, &pairs, &[]).map_err(|error| {
        Problem::of(http::BAD_QUERY, error.to_string()).with("parameter", json!(error.parameter))
    })?;
    api.consistent(&headers).await?;
    let page = api
        .store
        .query_view(&V::SCHEMA, &query)
        .await
        .map_err(Problem::internal)?;
    Ok(json_response(page_body(&page)))
}

async fn one<V: View, S: ViewStore + Clone>(
    api: Api<V, S>,
    Path(key): Path<String>,
    headers: HeaderMap,
) -> Result<Response, Problem> {
    row(&api, &key, &headers).await
}

async fn row<V: View, S: ViewStore + Clone>(
    State(api): &Api<V, S>,
    key: &str,
    headers: &HeaderMap,
) -> Result<Response, Problem> {
    let schema = &V::SCHEMA;
    let not_found = || Problem::not_found(format!("no {} row `{key}`", schema.name));
    let Ok(stored_key) = schema.parse_key(key) else {
        return Err(not_found());
    };
    api.consistent(headers).await?;
    let record = api
        .store
        .view_row(schema, &stored_key)
        .await
        .map_err(Problem::internal)?
        .ok_or_else(not_found)?;
    Ok(json_response(record.row))
}

async fn rebuild<V: View, S: ViewStore + Clone>(
    State(api): Api<V, S>,
) -> Result<Response, Problem> {
    let name = V::SCHEMA.name;
    let started = Instant::now();
    tracing::info!(view = name, "rebuilding the view");
    let rebuilt = api.store.rebuild_view::<V>(500).await;
    api.handle.wake();
    match rebuilt {
        Ok(done) => {
            tracing::info!(view = name, events = done.applied, "view rebuilt");
            Ok(axum::Json(json!({
                "view": name,
                "applied": done.applied,
                "position": done.checkpoint,
                "took_ms": started.elapsed().as_millis(),
            }))
            .into_response())
        }
        Err(ViewError::Event {
            position, reason, ..
        }) => Err(stopped(name, position, &reason)),
        Err(ViewError::Store(error)) => Err(Problem::internal(error)),
    }
}

/// 503 for a view stopped at an event; the reason (from the view's code) goes to the log.
fn stopped(name: &str, position: u64, reason: &str) -> Problem {
    tracing::error!(view = name, position, %reason, "view stopped at an event");
    Problem::of(
        http::VIEW_STOPPED,
        format!("{name} stopped at the event at position {position}; the service log has why"),
    )
    .with("view", json!(name))
    .with("position", json!(position))
}

/// `{"items": [...], "next": ...}` from rows already JSON, without parsing them again.
fn page_body(page: &ViewPage) -> String {
    let rows: usize = page.rows.iter().map(|record| record.row.len() + 1).sum();
    let mut body = String::with_capacity(rows + 64);
    body.push_str("{\"items\":[");
    for (index, record) in page.rows.iter().enumerate() {
        if index > 0 {
            body.push(',');
        }
        body.push_str(&record.row);
    }
    body.push_str("],\"next\":");
    match &page.next {
        Some(cursor) => body.push_str(&json!(cursor.encode()).to_string()),
        None => body.push_str("null"),
    }
    body.push('}');
    body
}

fn json_response(body: String) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        )],
        body,
    )
        .into_response()
}

/// Whether a view runs, for readiness reports.
pub fn view_check(handle: &ViewHandle) -> Result<(), String> {
    match handle.status() {
        ViewStatus::Running { .. } => Ok(()),
        ViewStatus::Failed {
            position, reason, ..
        } => Err(format!(
            "stopped before the event at position {position}: {reason}"
        )),
    }
}

/// Keeps the lag gauges of `handles` current until `shutdown`: `ddd_view_lag_events`,
/// `ddd_view_lag_seconds` and `ddd_view_up` (0 when a view stopped at an event), per view.
pub async fn monitor<S: ViewStore>(
    store: S,
    handles: Vec<ViewHandle>,
    interval: Duration,
    shutdown: impl std::future::Future<Output = ()>,
) -> Result<(), String> {
    tokio::pin!(shutdown);
    loop {
        for handle in &handles {
            let name = handle.schema().name;
            let up = matches!(handle.status(), ViewStatus::Running { .. });
            metrics::gauge!("ddd_view_up", "view" => name).set(if up { 1.0 } else { 0.0 });
            match store.view_progress(handle.schema()).await {
                Ok(progress) => {
                    metrics::gauge!("ddd_view_lag_events", "view" => name)
                        .set(progress.lag_events() as f64);
                    metrics::gauge!("ddd_view_lag_seconds", "view" => name)
                        .set(progress.lag_seconds(chrono::Utc::now()));
                }
                Err(error) => tracing::warn!(view = name, %error, "cannot read the view's lag"),
            }
        }
        tokio::select! {
            () = &mut shutdown => return Ok(()),
            () = tokio::time::sleep(interval) => {}
        }
    }
}
