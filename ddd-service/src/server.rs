//! The whole service: the API behind authentication and a body limit, health, metrics and
//! the OpenAPI document beside it, problem+json for unknown routes and methods, a traced
//! span per request; served until SIGTERM, then shut down without losing what was accepted.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;

use crate::auth::authenticate;
use crate::config::ServiceConfig;
use crate::{Health, Problem};

/// The service's app: `api` behind authentication and the body limit; `/health/*`,
/// `/metrics` and `/openapi.json` (when given; without its security declarations when
/// `config` authenticates nothing) open; problem+json for the rest.
pub fn app(
    api: Router,
    health: Health,
    config: &ServiceConfig,
    openapi: Option<&'static str>,
) -> Router {
    let api =
        api.layer(DefaultBodyLimit::max(config.body_limit))
            .layer(middleware::from_fn_with_state(
                config.auth.clone(),
                authenticate,
            ));
    let mut app = api
        .merge(health.router())
        .merge(crate::metrics::router(crate::metrics::install()));
    if let Some(document) = openapi {
        let document = Bytes::from(crate::openapi::served(document, &config.auth).into_owned());
        app = app.route(
            "/openapi.json",
            get(move || async move {
                ([(header::CONTENT_TYPE, "application/json")], document).into_response()
            }),
        );
    }
    app.fallback(|| async { Problem::not_found("no such route") })
        .method_not_allowed_fallback(|| async {
            Problem::of(
                ddd_names::http::METHOD_NOT_ALLOWED,
                "the route exists, but not for this method",
            )
        })
        .layer(middleware::from_fn(crate::request::trace_requests))
}

/// A service's background work (policy consumers, outbox relays) and the switch that stops
/// it.
#[derive(Debug)]
pub struct Background {
    tasks: JoinSet<Result<(), String>>,
    stop: watch::Sender<bool>,
}

impl Default for Background {
    fn default() -> Self {
        Self::new()
    }
}

impl Background {
    /// Nothing running yet.
    pub fn new() -> Self {
        Self {
            tasks: JoinSet::new(),
            stop: watch::channel(false).0,
        }
    }

    /// Completes when the work should stop (finishing what it holds first).
    pub fn stopped(&self) -> impl Future<Output = ()> + Send + 'static {
        let mut stopped = self.stop.subscribe();
        async move {
            // A dropped sender also means stop.
            let _ = stopped.wait_for(|stop| *stop).await;
        }
    }

    /// Runs `task` until it ends; an error ends the service.
    pub fn spawn<F>(&mut self, name: &'static str, task: F)
    where
        F: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.tasks
            .spawn(async move { task.await.map_err(|error| format!("{name}: {error}")) });
    }

    /// Signals stop and waits up to `timeout` for every task to finish.
    pub async fn shutdown(mut self, timeout: Duration) -> Result<(), String> {
        let _ = self.stop.send(true);
        let all = async {
            let mut first_error = Ok(());
            while let Some(joined) = self.tasks.join_next().await {
                let outcome = joined
                    .map_err(|error| error.to_string())
                    .and_then(|done| done);
                if let Err(error) = outcome {
                    tracing::error!(%error, "background task failed");
                    first_error = first_error.and(Err(error));
                }
            }
            first_error
        };
        tokio::time::timeout(timeout, all)
            .await
            .unwrap_or_else(|_| Err(format!("background work did not stop within {timeout:?}")))
    }

    async fn failed(&mut self) -> String {
        loop {
            match self.tasks.join_next().await {
                Some(Ok(Ok(()))) => {}
                Some(Ok(Err(error))) => return error,
                Some(Err(error)) => return error.to_string(),
                None => std::future::pending::<()>().await,
            }
        }
    }
}

/// Serves `app` on `config.http_addr` until `shutdown` completes (or background work
/// fails), then stops accepting, lets in-flight requests finish, stops the background work
/// (consumers settle what they hold, relays drain the outbox) within the configured timeout.
pub async fn serve(
    app: Router,
    mut background: Background,
    config: &ServiceConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    let listener = TcpListener::bind(config.http_addr)
        .await
        .map_err(|error| format!("HTTP_ADDR {}: {error}", config.http_addr))?;
    let addr = listener.local_addr().map_err(|error| error.to_string())?;
    tracing::info!(%addr, "listening");
    let (failed_tx, failed_rx) = tokio::sync::oneshot::channel::<String>();
    let server = axum::serve(listener, app).with_graceful_shutdown(async move {
        tokio::select! {
            () = shutdown => tracing::info!("shutting down: no new requests, finishing the rest"),
            Ok(error) = failed_rx => tracing::error!(%error, "shutting down: background work failed"),
        }
    });
    let outcome = tokio::select! {
        served = server => served.map_err(|error| error.to_string()),
        error = background.failed() => {
            let _ = failed_tx.send(error.clone());
            Err(error)
        }
    };
    let stopped = background.shutdown(config.shutdown_timeout).await;
    tracing::info!("stopped");
    outcome.and(stopped)
}

/// Completes on SIGTERM (what orchestrators send) or Ctrl-C.
pub async fn shutdown_signal() {
    let interrupt = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::warn!(%error, "cannot listen for SIGTERM; Ctrl-C only");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}
