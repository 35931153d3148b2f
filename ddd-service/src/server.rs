//! The whole service: the API behind authentication and a body limit, health, metrics and
//! the OpenAPI document beside it, problem+json for unknown routes and methods, a traced
//! span per request; served until SIGTERM, then shut down without losing what was accepted.

use std::future::Future;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::header;
use axum::middleware;
use axum::response::IntoResponse;
use axum::routing::get;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::auth::{Auth, AuthConfig, authenticate};
use crate::config::Settings;
use crate::otel::{OtlpConfig, Telemetry};
use crate::{Health, Problem};

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    /// Human-readable lines.
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

impl std::str::FromStr for LogFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "text" => Ok(Self::Text),
            "json" => Ok(Self::Json),
            _ => Err("expected `text` or `json`".to_owned()),
        }
    }
}

/// The settings every service shares. Read from (defaults in brackets):
///
/// - `HTTP_ADDR` [the service's own]: where to listen;
/// - `BODY_LIMIT_BYTES` [65536]: the largest request body; larger is a 413;
/// - `JWT_HS256_SECRET` (at least 32 bytes) or `JWT_RS256_PUBLIC_KEY` (PEM) or
///   `JWT_RS256_PUBLIC_KEY_FILE`: enable bearer authentication of writes; with
///   `JWT_ISSUER`, `JWT_AUDIENCE`, `JWT_REQUIRED_SCOPE` [none];
/// - `SHUTDOWN_TIMEOUT_SECS` [30]: how long in-flight work may take after SIGTERM;
/// - `LOG_FORMAT` [text]: `text` or `json`; `RUST_LOG` [info]: the log filter (of the
///   exported spans too);
/// - `OTEL_EXPORTER_OTLP_ENDPOINT` [none], `OTEL_SERVICE_NAME` [the crate's name]: export
///   spans over OTLP/HTTP (see [`OtlpConfig`]; needs the `otlp` feature).
#[derive(Debug, Clone)]
pub struct ServiceConfig {
    /// Where to listen.
    pub http_addr: SocketAddr,
    /// The largest request body.
    pub body_limit: usize,
    /// Authentication of writes.
    pub auth: Auth,
    /// How long in-flight work may take after SIGTERM.
    pub shutdown_timeout: Duration,
    /// How log lines are written.
    pub log_format: LogFormat,
    /// Where spans are exported, if anywhere.
    pub otlp: OtlpConfig,
}

impl ServiceConfig {
    /// Reads the shared settings; problems are recorded in `settings`.
    pub fn read(settings: &mut Settings, default_addr: SocketAddr) -> Self {
        let http_addr = settings.parse("HTTP_ADDR", default_addr, "HOST:PORT");
        let body_limit = settings.parse("BODY_LIMIT_BYTES", 64 * 1024, "a number of bytes");
        let shutdown_timeout =
            Duration::from_secs(settings.parse("SHUTDOWN_TIMEOUT_SECS", 30, "a number of seconds"));
        let log_format = settings.parse("LOG_FORMAT", LogFormat::Text, "`text` or `json`");
        let auth = read_auth(settings);
        let otlp = OtlpConfig::read(settings);
        Self {
            http_addr,
            body_limit,
            auth,
            shutdown_timeout,
            log_format,
            otlp,
        }
    }
}

fn read_auth(settings: &mut Settings) -> Auth {
    let secret = settings.get("JWT_HS256_SECRET").map(str::to_owned);
    let pem = match (
        settings.get("JWT_RS256_PUBLIC_KEY").map(str::to_owned),
        settings.get("JWT_RS256_PUBLIC_KEY_FILE").map(str::to_owned),
    ) {
        (Some(pem), _) => Some(pem.into_bytes()),
        (None, Some(path)) => match std::fs::read(&path) {
            Ok(pem) => Some(pem),
            Err(error) => {
                settings.problem(format!(
                    "JWT_RS256_PUBLIC_KEY_FILE: cannot read {path}: {error}"
                ));
                None
            }
        },
        (None, None) => None,
    };
    let config = match (secret, pem) {
        (None, None) => return Auth::none(),
        (Some(_), Some(_)) => {
            settings.problem("JWT_HS256_SECRET and JWT_RS256_PUBLIC_KEY: set one, not both");
            return Auth::none();
        }
        (Some(secret), None) => AuthConfig::hs256(secret.as_bytes())
            .map_err(|error| format!("JWT_HS256_SECRET: {error}")),
        (None, Some(pem)) => {
            AuthConfig::rs256(&pem).map_err(|error| format!("JWT_RS256_PUBLIC_KEY: {error}"))
        }
    };
    let mut config = match config {
        Ok(config) => config,
        Err(problem) => {
            settings.problem(problem);
            return Auth::none();
        }
    };
    if let Some(issuer) = settings.get("JWT_ISSUER") {
        config = config.issuer(issuer);
    }
    if let Some(audience) = settings.get("JWT_AUDIENCE") {
        config = config.audience(audience);
    }
    if let Some(scope) = settings.get("JWT_REQUIRED_SCOPE") {
        config = config.required_scope(scope);
    }
    Auth::jwt(config)
}

/// Logs to stderr in `format`, filtered by `RUST_LOG` (default `info`). Span fields (the
/// request's or event's `trace_id` and `correlation_id`) are on every line inside them.
/// [`init_telemetry`] does the same and also exports spans when configured.
pub fn init_logging(format: LogFormat) {
    #[cfg(feature = "otlp")]
    let export = None::<opentelemetry_sdk::trace::SdkTracer>;
    #[cfg(not(feature = "otlp"))]
    let export = None::<std::convert::Infallible>;
    // A second init (tests) keeps the first subscriber.
    let _ = install_subscriber(format, export);
}

/// Logging as [`init_logging`], and, when `config.otlp` names an endpoint, the export of
/// every span over OTLP/HTTP as `OTEL_SERVICE_NAME` or else `default_service_name` (the
/// service passes its crate name). Call it inside the tokio runtime, which sends the
/// batches; a failure to start the exporter is recorded in `settings`. Call
/// [`Telemetry::shutdown`] when the service has stopped, to send what is buffered.
pub fn init_telemetry(
    config: &ServiceConfig,
    default_service_name: &str,
    settings: &mut Settings,
) -> Telemetry {
    #[cfg(feature = "otlp")]
    {
        let (telemetry, tracer) = match crate::otel::install(&config.otlp, default_service_name) {
            Ok(Some((telemetry, tracer))) => (telemetry, Some(tracer)),
            Ok(None) => (Telemetry::none(), None),
            Err(problem) => {
                settings.problem(problem);
                (Telemetry::none(), None)
            }
        };
        if !install_subscriber(config.log_format, tracer) && telemetry.is_exporting() {
            // Spans go to the subscriber installed first (tests); nothing would reach this
            // exporter, so say so rather than pretend.
            tracing::warn!("a subscriber was installed before: spans are not exported");
        }
        telemetry
    }
    #[cfg(not(feature = "otlp"))]
    {
        // `OtlpConfig::read` reported an endpoint this build cannot use.
        let _ = (default_service_name, settings);
        init_logging(config.log_format);
        Telemetry::none()
    }
}

/// Installs the global subscriber: the filter, the log lines, and the span export when a
/// tracer is given; `false` when a subscriber was installed before.
#[cfg(feature = "otlp")]
fn install_subscriber(
    format: LogFormat,
    export: Option<opentelemetry_sdk::trace::SdkTracer>,
) -> bool {
    let export = export.map(crate::otel::layers);
    subscriber_with(format, export)
}

#[cfg(not(feature = "otlp"))]
fn install_subscriber(format: LogFormat, export: Option<std::convert::Infallible>) -> bool {
    let export = export.map(|never| -> tracing_subscriber::layer::Identity { match never {} });
    subscriber_with(format, export)
}

fn subscriber_with<L>(format: LogFormat, export: Option<L>) -> bool
where
    L: tracing_subscriber::Layer<
            tracing_subscriber::layer::Layered<EnvFilter, tracing_subscriber::Registry>,
        > + Send
        + Sync
        + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let (text, json) = match format {
        LogFormat::Text => (
            Some(tracing_subscriber::fmt::layer().with_writer(std::io::stderr)),
            None,
        ),
        LogFormat::Json => (
            None,
            Some(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_writer(std::io::stderr),
            ),
        ),
    };
    tracing_subscriber::registry()
        .with(filter)
        .with(export)
        .with(text)
        .with(json)
        .try_init()
        .is_ok()
}

/// The service's app: `api` behind authentication and the body limit; `/health/*`,
/// `/metrics` and `/openapi.json` (when given) open; problem+json for the rest.
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
