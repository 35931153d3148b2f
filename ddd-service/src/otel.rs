//! OpenTelemetry export: with the `otlp` feature and `OTEL_EXPORTER_OTLP_ENDPOINT` set, the
//! service's spans (a request's, a policy's delivery, and everything inside them) go to an
//! OTLP/HTTP collector as protobuf, in batches.
//!
//! Trace continuity does not need OpenTelemetry anywhere else: a span created with a
//! `traceparent` field (the W3C header value of a remote parent) is exported as that remote
//! span's child. The request middleware records the incoming header there, and ddd-core's
//! policy runner records the event envelope's trace there, so an event handled in another
//! service lands in the trace of the request that recorded it.

use crate::config::Settings;

/// The variable naming the collector: `http://HOST:PORT`, spans go to `<it>/v1/traces`.
pub const OTEL_EXPORTER_OTLP_ENDPOINT: &str = "OTEL_EXPORTER_OTLP_ENDPOINT";
/// The variable naming the service in the exported spans (default: the service's crate).
pub const OTEL_SERVICE_NAME: &str = "OTEL_SERVICE_NAME";

/// Where spans are exported, if anywhere. Read from (defaults in brackets):
///
/// - `OTEL_EXPORTER_OTLP_ENDPOINT` [none: no export]: an `http://` collector (OTLP/HTTP,
///   usually port 4318); needs the service built with the `otlp` feature;
/// - `OTEL_SERVICE_NAME` [the service's crate name]: `service.name` of the spans.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OtlpConfig {
    /// The collector's base URL, validated; `None` when export is off.
    pub endpoint: Option<String>,
    /// The service name, when configured.
    pub service_name: Option<String>,
}

impl OtlpConfig {
    /// Reads the settings; a bad endpoint (or one this build cannot use) is recorded in
    /// `settings` and leaves export off.
    pub fn read(settings: &mut Settings) -> Self {
        let service_name = settings.get(OTEL_SERVICE_NAME).map(str::to_owned);
        let Some(raw) = settings.get(OTEL_EXPORTER_OTLP_ENDPOINT).map(str::to_owned) else {
            return Self {
                endpoint: None,
                service_name,
            };
        };
        let endpoint = match validate_endpoint(&raw) {
            Err(problem) => {
                settings.problem(format!("{OTEL_EXPORTER_OTLP_ENDPOINT}: `{raw}` {problem}"));
                None
            }
            // Silently not exporting what the operator asked for would hide the mistake until
            // someone looks for a trace that is not there.
            Ok(_) if !cfg!(feature = "otlp") => {
                settings.problem(format!(
                    "{OTEL_EXPORTER_OTLP_ENDPOINT}: set, but this service was built without the \
                     `otlp` feature (rebuild with `--features otlp`, or unset it)"
                ));
                None
            }
            Ok(endpoint) => Some(endpoint),
        };
        Self {
            endpoint,
            service_name,
        }
    }

    /// `<endpoint>/v1/traces`, where OTLP/HTTP takes spans.
    pub fn traces_url(&self) -> Option<String> {
        self.endpoint
            .as_deref()
            .map(|endpoint| format!("{}/v1/traces", endpoint.trim_end_matches('/')))
    }
}

fn validate_endpoint(raw: &str) -> Result<String, String> {
    let uri: axum::http::Uri = raw
        .parse()
        .map_err(|error| format!("is not a URL ({error})"))?;
    match uri.scheme_str() {
        Some("http") => {}
        // The exporter is built without a TLS stack: a local collector or agent over plain
        // http is the supported deployment.
        Some("https") => {
            return Err(
                "uses https, which this build cannot speak: point it at a collector over http://"
                    .to_owned(),
            );
        }
        _ => return Err("is not an http:// URL (expected http://HOST:PORT)".to_owned()),
    }
    if uri
        .authority()
        .is_none_or(|authority| authority.host().is_empty())
    {
        return Err("has no host (expected http://HOST:PORT)".to_owned());
    }
    if uri.query().is_some() {
        return Err("has a query, which OTLP endpoints do not take".to_owned());
    }
    Ok(raw.to_owned())
}

/// The running export; [`Telemetry::shutdown`] flushes what is buffered. Without export (no
/// endpoint, or built without `otlp`) it does nothing.
#[derive(Debug, Default)]
#[must_use = "call `shutdown().await` when the service stops, or buffered spans are lost"]
pub struct Telemetry {
    #[cfg(feature = "otlp")]
    provider: Option<opentelemetry_sdk::trace::SdkTracerProvider>,
}

impl Telemetry {
    /// Nothing exported.
    pub fn none() -> Self {
        Self::default()
    }

    /// Whether spans are being exported.
    pub fn is_exporting(&self) -> bool {
        #[cfg(feature = "otlp")]
        return self.provider.is_some();
        #[cfg(not(feature = "otlp"))]
        false
    }

    /// Exports what is buffered and stops the exporter; call it after the server and the
    /// background work stopped, so their last spans are included.
    pub async fn shutdown(self) {
        #[cfg(feature = "otlp")]
        if let Some(provider) = self.provider {
            // The SDK's shutdown blocks until the batch is sent, and sending runs on this
            // runtime: off its worker threads, so that a current-thread runtime cannot
            // deadlock.
            let outcome = tokio::task::spawn_blocking(move || provider.shutdown()).await;
            match outcome {
                Ok(Ok(())) => {}
                Ok(Err(error)) => tracing::warn!(%error, "cannot flush the span exporter"),
                Err(error) => tracing::warn!(%error, "cannot flush the span exporter"),
            }
        }
    }
}

/// The trace and span id OpenTelemetry gave `span`, when spans are exported: the request
/// adopts them so that the trace it records in its events names a span the collector has.
pub(crate) fn exported_ids(span: &tracing::Span) -> Option<(u128, u64)> {
    #[cfg(feature = "otlp")]
    {
        use opentelemetry::trace::TraceContextExt as _;
        use tracing_opentelemetry::OpenTelemetrySpanExt as _;
        let context = span.context();
        let span_context = context.span().span_context().clone();
        span_context.is_valid().then(|| {
            (
                u128::from_be_bytes(span_context.trace_id().to_bytes()),
                u64::from_be_bytes(span_context.span_id().to_bytes()),
            )
        })
    }
    #[cfg(not(feature = "otlp"))]
    {
        let _ = span;
        None
    }
}

#[cfg(feature = "otlp")]
pub(crate) use self::export::{install, layers};

#[cfg(feature = "otlp")]
mod export {
    use std::cell::RefCell;
    use std::fmt;
    use std::future::Future;
    use std::pin::Pin;

    use ddd_core::TraceContext;
    use opentelemetry::trace::{
        SpanContext, SpanId, TraceContextExt as _, TraceFlags, TraceId, TraceState,
        TracerProvider as _,
    };
    use opentelemetry_http::{Bytes, HttpClient, HttpError, Request, Response};
    use opentelemetry_otlp::{Protocol, WithExportConfig as _, WithHttpConfig as _};
    use opentelemetry_sdk::Resource;
    use opentelemetry_sdk::trace::SdkTracerProvider;
    use tracing::Subscriber;
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id};
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::Context;
    use tracing_subscriber::registry::LookupSpan;

    use super::{OtlpConfig, Telemetry};

    /// Starts the exporter when `config` names an endpoint: the provider behind the tracer
    /// the layers use. Must run inside the service's tokio runtime, which sends the batches.
    pub(crate) fn install(
        config: &OtlpConfig,
        default_service_name: &str,
    ) -> Result<Option<(Telemetry, opentelemetry_sdk::trace::SdkTracer)>, String> {
        let Some(url) = config.traces_url() else {
            return Ok(None);
        };
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            "OTLP export needs the service's tokio runtime: call init_telemetry inside it"
                .to_owned()
        })?;
        let client = RuntimeClient {
            runtime,
            inner: opentelemetry_http::hyper::HyperClient::with_default_connector(
                std::time::Duration::from_secs(10),
                None,
            ),
        };
        let exporter = opentelemetry_otlp::SpanExporter::builder()
            .with_http()
            .with_http_client(client)
            .with_protocol(Protocol::HttpBinary)
            .with_endpoint(url)
            .build()
            .map_err(|error| format!("{}: {error}", super::OTEL_EXPORTER_OTLP_ENDPOINT))?;
        let service_name = config
            .service_name
            .clone()
            .unwrap_or_else(|| default_service_name.to_owned());
        let provider = SdkTracerProvider::builder()
            .with_batch_exporter(exporter)
            .with_resource(Resource::builder().with_service_name(service_name).build())
            .build();
        let tracer = provider.tracer("ddd-service");
        Ok(Some((
            Telemetry {
                provider: Some(provider),
            },
            tracer,
        )))
    }

    /// The subscriber layers that export spans through `tracer`, each span created with a
    /// `traceparent` field as the child of that remote span.
    pub(crate) fn layers<S>(tracer: opentelemetry_sdk::trace::SdkTracer) -> impl Layer<S>
    where
        S: Subscriber + for<'span> LookupSpan<'span>,
    {
        // Layers see a new span innermost first: the remote parent is made the current
        // OpenTelemetry context just for the OpenTelemetry layer's look at the new span,
        // which takes a contextual span's parent from there.
        AdoptRemoteParent
            .and_then(tracing_opentelemetry::layer().with_tracer(tracer))
            .and_then(ReleaseRemoteParent)
    }

    thread_local! {
        /// The remote parent attached for the span being created; never held longer than
        /// one `on_new_span` across the layers.
        static ATTACHED: RefCell<Option<(Id, opentelemetry::ContextGuard)>> =
            const { RefCell::new(None) };
    }

    struct AdoptRemoteParent;

    impl<S: Subscriber> Layer<S> for AdoptRemoteParent {
        fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _ctx: Context<'_, S>) {
            // An explicit parent wins over the current context, as in the OpenTelemetry
            // layer; only contextual spans can take a remote one.
            if !attrs.is_contextual() {
                return;
            }
            let mut found = TraceparentField(None);
            attrs.record(&mut found);
            let Some(remote) = found.0 else {
                return;
            };
            let parent = opentelemetry::Context::current().with_remote_span_context(remote);
            let guard = parent.attach();
            ATTACHED.with(|attached| *attached.borrow_mut() = Some((id.clone(), guard)));
        }
    }

    struct ReleaseRemoteParent;

    impl<S: Subscriber> Layer<S> for ReleaseRemoteParent {
        fn on_new_span(&self, _attrs: &Attributes<'_>, id: &Id, _ctx: Context<'_, S>) {
            ATTACHED.with(|attached| {
                let mut attached = attached.borrow_mut();
                if attached.as_ref().is_some_and(|(span, _)| span == id) {
                    // Dropping the guard restores the context the span was created in.
                    attached.take();
                }
            });
        }
    }

    /// The value of a `traceparent` field, as OpenTelemetry's remote span context.
    struct TraceparentField(Option<SpanContext>);

    impl TraceparentField {
        fn take(&mut self, value: &str) {
            self.0 = TraceContext::from_traceparent(value).map(|trace| {
                SpanContext::new(
                    TraceId::from_bytes(trace.trace_id.to_be_bytes()),
                    SpanId::from_bytes(trace.span_id.to_be_bytes()),
                    TraceFlags::new(trace.flags),
                    true,
                    trace
                        .state
                        .as_deref()
                        .and_then(|state| state.parse::<TraceState>().ok())
                        .unwrap_or_default(),
                )
            });
        }
    }

    impl Visit for TraceparentField {
        fn record_str(&mut self, field: &Field, value: &str) {
            if field.name() == "traceparent" {
                self.take(value);
            }
        }

        fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
            // `%trace` (Display) arrives here, formatted.
            if field.name() == "traceparent" {
                self.take(&format!("{value:?}"));
            }
        }
    }

    /// The hyper client, run on the service's runtime: the SDK's batch processor sends from a
    /// thread of its own, where hyper (which needs tokio's reactor and timers) cannot run.
    #[derive(Debug)]
    struct RuntimeClient {
        runtime: tokio::runtime::Handle,
        inner: opentelemetry_http::hyper::HyperClient,
    }

    impl HttpClient for RuntimeClient {
        fn send_bytes<'life0, 'async_trait>(
            &'life0 self,
            request: Request<Bytes>,
        ) -> Pin<Box<dyn Future<Output = Result<Response<Bytes>, HttpError>> + Send + 'async_trait>>
        where
            'life0: 'async_trait,
            Self: 'async_trait,
        {
            let inner = self.inner.clone();
            let sent = self
                .runtime
                .spawn(async move { inner.send_bytes(request).await });
            Box::pin(async move {
                let outcome = sent
                    .await
                    .map_err(|error| HttpError::from(format!("the runtime stopped: {error}")))
                    .and_then(|sent| sent);
                match &outcome {
                    Ok(response) if !response.status().is_success() => tracing::warn!(
                        status = response.status().as_u16(),
                        "the OTLP collector refused spans"
                    ),
                    Ok(_) => {}
                    Err(error) => tracing::warn!(%error, "cannot send spans to the OTLP collector"),
                }
                outcome
            })
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(vars: &[(&str, &str)]) -> (OtlpConfig, Vec<String>) {
        let mut settings =
            Settings::from_vars(vars.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())));
        let config = OtlpConfig::read(&mut settings);
        let problems = settings
            .finish()
            .err()
            .map(|e| e.problems)
            .unwrap_or_default();
        (config, problems)
    }

    #[test]
    fn no_endpoint_means_no_export_and_no_problem() {
        let (config, problems) = read(&[(OTEL_SERVICE_NAME, "orders")]);
        assert_eq!(config.endpoint, None);
        assert_eq!(config.service_name.as_deref(), Some("orders"));
        assert!(problems.is_empty(), "{problems:?}");
    }

    #[test]
    fn a_bad_endpoint_is_a_configuration_problem() {
        for (endpoint, expected) in [
            ("collector:4318", "not an http:// URL"),
            ("https://collector:4318", "uses https"),
            ("http://", "is not a URL"),
            ("http://collector:4318/?x=1", "has a query"),
            ("not a url", "is not a URL"),
        ] {
            let (config, problems) = read(&[(OTEL_EXPORTER_OTLP_ENDPOINT, endpoint)]);
            assert_eq!(config.endpoint, None, "{endpoint}");
            assert_eq!(problems.len(), 1, "{endpoint}: {problems:?}");
            assert!(
                problems[0].starts_with(OTEL_EXPORTER_OTLP_ENDPOINT)
                    && problems[0].contains(expected),
                "{endpoint}: {problems:?}"
            );
        }
    }

    #[test]
    fn a_good_endpoint_takes_spans_at_v1_traces_or_needs_the_feature() {
        let (config, problems) = read(&[(OTEL_EXPORTER_OTLP_ENDPOINT, "http://127.0.0.1:4318/")]);
        if cfg!(feature = "otlp") {
            assert!(problems.is_empty(), "{problems:?}");
            assert_eq!(
                config.traces_url().as_deref(),
                Some("http://127.0.0.1:4318/v1/traces")
            );
        } else {
            assert_eq!(config.endpoint, None);
            assert_eq!(problems.len(), 1, "{problems:?}");
            assert!(
                problems[0].contains("built without the `otlp` feature"),
                "{problems:?}"
            );
        }
    }
}
