//! Health probes: `/health/live` says the process serves requests; `/health/ready` asks
//! every dependency (event store, broker) and answers 503 while one of them does not, so an
//! orchestrator stops routing to the replica, and 200 again as soon as they are back.
//! Reported checks (a view stopped at an event) show in the answer as `degraded` without
//! taking the replica out: the rest of it still serves.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use ddd_core::{EventBus, EventStore};
use serde_json::{Map, Value, json};
use tokio::task::JoinSet;

type ProbeFuture = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
type Probe = Arc<dyn Fn() -> ProbeFuture + Send + Sync>;

/// Whether a failing check takes the replica out of service.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Gate {
    Required,
    Reported,
}

/// The dependencies a service needs to be ready.
#[derive(Clone)]
pub struct Health {
    probes: Vec<(String, Probe, Gate)>,
    timeout: Duration,
}

impl std::fmt::Debug for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.probes.iter().map(|(name, ..)| name.as_str()).collect();
        f.debug_struct("Health")
            .field("probes", &names)
            .field("timeout", &self.timeout)
            .finish()
    }
}

impl Default for Health {
    fn default() -> Self {
        Self::new()
    }
}

impl Health {
    /// No probes yet; each probe gets 2 s to answer.
    pub fn new() -> Self {
        Self {
            probes: Vec::new(),
            timeout: Duration::from_secs(2),
        }
    }

    /// How long a probe may take before it counts as down.
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// A named check the replica needs to be ready.
    #[must_use]
    pub fn probe<F, Fut>(self, name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.add(
            name.into(),
            Arc::new(move || Box::pin(check())),
            Gate::Required,
        )
    }

    /// A named check that is reported (`degraded`) but leaves the replica ready.
    #[must_use]
    pub fn report<F, Fut>(self, name: impl Into<String>, check: F) -> Self
    where
        F: Fn() -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<(), String>> + Send + 'static,
    {
        self.add(
            name.into(),
            Arc::new(move || Box::pin(check())),
            Gate::Reported,
        )
    }

    /// Reports a view that stopped at an event it could not fold.
    #[must_use]
    pub fn view(self, handle: ddd_core::ViewHandle) -> Self {
        let name = format!("view {}", handle.schema().name);
        self.report(name, move || {
            let outcome = crate::views::view_check(&handle);
            async move { outcome }
        })
    }

    fn add(mut self, name: String, probe: Probe, gate: Gate) -> Self {
        self.probes.push((name, probe, gate));
        self
    }

    /// The event store answers.
    #[must_use]
    pub fn store<S: EventStore + Clone>(self, name: impl Into<String>, store: S) -> Self {
        self.probe(name, move || {
            let store = store.clone();
            async move { store.ping().await.map_err(|error| error.to_string()) }
        })
    }

    /// The broker answers.
    #[must_use]
    pub fn bus<B: EventBus + Clone>(self, name: impl Into<String>, bus: B) -> Self {
        self.probe(name, move || {
            let bus = bus.clone();
            async move { bus.ping().await.map_err(|error| error.to_string()) }
        })
    }

    /// Runs every probe at once; whether all passed, and each one's answer.
    pub async fn check(&self) -> (bool, Value) {
        let mut running = JoinSet::new();
        for (index, (_, probe, _)) in self.probes.iter().enumerate() {
            let answer = tokio::time::timeout(self.timeout, probe());
            let timeout = self.timeout;
            running.spawn(async move {
                let outcome = match answer.await {
                    Ok(outcome) => outcome,
                    Err(_) => Err(format!("no answer within {timeout:?}")),
                };
                (index, outcome)
            });
        }
        let mut outcomes = vec![Err("the probe did not finish".to_owned()); self.probes.len()];
        while let Some(joined) = running.join_next().await {
            if let Ok((index, outcome)) = joined {
                outcomes[index] = outcome;
            }
        }
        let failing = |gate: Gate| {
            self.probes
                .iter()
                .zip(&outcomes)
                .any(|((.., of), outcome)| *of == gate && outcome.is_err())
        };
        let ready = !failing(Gate::Required);
        let degraded = failing(Gate::Reported);
        let checks: Map<String, Value> = self
            .probes
            .iter()
            .zip(outcomes)
            .map(|((name, ..), outcome)| {
                let answer = match outcome {
                    Ok(()) => json!({ "status": "up" }),
                    Err(error) => json!({ "status": "down", "error": error }),
                };
                (name.clone(), answer)
            })
            .collect();
        let status = match (ready, degraded) {
            (false, _) => "not ready",
            (true, true) => "degraded",
            (true, false) => "ready",
        };
        (ready, json!({ "status": status, "checks": checks }))
    }

    /// `GET /health/live` and `GET /health/ready`.
    pub fn router(self) -> Router {
        let health = Arc::new(self);
        Router::new()
            .route(
                "/health/live",
                get(|| async { axum::Json(json!({ "status": "live" })) }),
            )
            .route("/health/ready", get(move || ready(Arc::clone(&health))))
    }
}

async fn ready(health: Arc<Health>) -> Response {
    let (ready, body) = health.check().await;
    if !ready {
        tracing::warn!(%body, "not ready");
    }
    let status = if ready {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, axum::Json(body)).into_response()
}
