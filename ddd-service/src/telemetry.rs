//! Logging and span export: log lines on stderr as text or JSON, filtered by `RUST_LOG`, with
//! the request's or event's span fields on every line inside it; and, when configured, the
//! same spans exported over OTLP ([`crate::otel`]).

use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

use crate::config::{ServiceConfig, Settings};
use crate::otel::Telemetry;

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
