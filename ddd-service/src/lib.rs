//! The production shell of a ddd service, shared by every generated service and the modular
//! monolith so that none of them carries this code itself:
//!
//! - [`commands`]: an aggregate's HTTP surface (create, command, state, events) with
//!   `If-Match` concurrency and `application/problem+json` errors ([`Problem`]);
//! - [`request`]: W3C `traceparent` and correlation ids from the request into the command's
//!   metadata, and a span per request that every log line inside carries;
//! - [`views`]: a view's HTTP surface (filtered, sorted, paged lists; a row by key; rebuild)
//!   with read-your-writes through consistency tokens, and its lag metrics;
//! - [`health`]: `/health/live` and `/health/ready` over named probes (store, broker);
//! - [`metrics`]: Prometheus `/metrics`, and meters around the bus, the outbox and
//!   subscriptions (events published, outbox lag, consumer lag, redeliveries, dead letters);
//! - [`auth`]: JWT bearer authentication of write requests (HS256 secret or RS256 key);
//! - [`config`]: settings from the environment and an optional file, every bad value
//!   reported at start, and the settings every service shares ([`ServiceConfig`]);
//! - [`telemetry`]: log lines (text or JSON) and, when configured, span export;
//! - [`otel`]: OpenTelemetry export of the spans over OTLP/HTTP (feature `otlp`), in the
//!   trace of the request or event that started them;
//! - [`server`]: the whole app (body limit, fallbacks, layers, the OpenAPI document as the
//!   running configuration makes it true) and graceful shutdown on SIGTERM.

pub mod auth;
pub mod commands;
pub mod config;
pub mod health;
pub mod metrics;
mod openapi;
pub mod otel;
mod problem;
pub mod request;
pub mod server;
pub mod telemetry;
pub mod views;

pub use self::auth::{Auth, AuthConfig};
pub use self::commands::{AggregateApi, CommandRoute};
pub use self::config::{ConfigError, ServiceConfig, Settings};
pub use self::health::Health;
pub use self::otel::{OtlpConfig, Telemetry};
pub use self::problem::Problem;
pub use self::request::RequestContext;
pub use self::server::{Background, app, serve, shutdown_signal};
pub use self::telemetry::{LogFormat, init_logging, init_telemetry};
pub use self::views::ViewApi;
