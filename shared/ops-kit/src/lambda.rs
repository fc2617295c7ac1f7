//! The Lambda wiring: one tower layer that gives every invocation the ops kit.
//!
//! ```no_run
//! use lambda_runtime::{service_fn, tower::Layer as _, Error, LambdaEvent};
//! use serde_json::Value;
//!
//! async fn handler(event: LambdaEvent<Value>) -> Result<Value, Error> {
//!     Ok(event.payload)
//! }
//!
//! #[tokio::main]
//! async fn main() -> Result<(), Error> {
//!     let ops = ops_kit::init("my-function")?;
//!     lambda_runtime::run(ops.layer().layer(service_fn(handler))).await
//! }
//! ```
//!
//! For each invocation the layer:
//! 1. opens the invocation span (request id, invoked ARN, version, trace id, cold start);
//! 2. counts `ColdStart` on the first invocation;
//! 3. enters the trace Lambda started, so AWS calls become subsegments;
//! 4. applies fault injection when it is on;
//! 5. turns a handler panic into an invocation error, logged like any other;
//! 6. counts `InvocationErrors` and flushes the invocation's metrics, with the request
//!    id, trace id and correlation ids as properties.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskContext, Poll};

use futures::FutureExt as _;
use lambda_runtime::tower::{Layer, Service};
use lambda_runtime::{Error, LambdaEvent};
use ops_wire::log_fields::{CORRELATION_ID, LAMBDA_REQUEST_ID, XRAY_TRACE_ID};
use serde_json::Value;
use tracing::Instrument as _;

use crate::correlation::CorrelationId;
use crate::faults::{FaultInjection, InjectedFault, draw_failure};
use crate::metrics::{COLD_START, INVOCATION_ERRORS, Metrics};
use crate::xray::{TraceHeader, TraceScope, in_scope};
use crate::{ConfigError, LogConfig, init_logging, invocation, required_env};

/// What [`init`] set up, ready to wrap the handler.
#[derive(Debug, Clone, Copy)]
pub struct Ops {
    metrics: Metrics,
    faults: FaultInjection,
}

/// The ops kit could not start.
#[derive(Debug)]
pub enum InitError {
    /// A required variable is missing.
    Config(ConfigError),
    /// The log subscriber or metrics recorder was already installed.
    AlreadyInstalled(String),
}

impl std::fmt::Display for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Config(error) => error.fmt(f),
            Self::AlreadyInstalled(what) => write!(f, "the ops kit is already initialised: {what}"),
        }
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(error) => Some(error),
            Self::AlreadyInstalled(_) => None,
        }
    }
}

/// Starts the ops kit for a function: JSON logs, EMF metrics, X-Ray subsegments (when
/// Lambda provides a daemon address), and fault injection (when configured).
///
/// Reads `SERVICE_NAME` (default `default_service`), `METRICS_NAMESPACE` (required),
/// `AWS_LAMBDA_FUNCTION_VERSION`, `AWS_LAMBDA_LOG_LEVEL` and `AWS_XRAY_DAEMON_ADDRESS`.
///
/// # Errors
/// [`InitError`] when `METRICS_NAMESPACE` is missing or `init` already ran.
pub fn init(default_service: &str) -> Result<Ops, InitError> {
    let service = std::env::var("SERVICE_NAME")
        .ok()
        .filter(|s| !s.trim().is_empty())
        .unwrap_or_else(|| default_service.to_owned());
    init_logging(&LogConfig::from_env(service.clone()))
        .map_err(|e| InitError::AlreadyInstalled(e.to_string()))?;
    let namespace = required_env("METRICS_NAMESPACE").map_err(InitError::Config)?;
    let version =
        std::env::var("AWS_LAMBDA_FUNCTION_VERSION").unwrap_or_else(|_| "$LATEST".to_owned());
    let metrics = Metrics::install(&namespace, &service, &version)
        .map_err(|e| InitError::AlreadyInstalled(e.to_string()))?;
    if let Some(sink) = crate::xray::UdpDaemonSink::from_env() {
        crate::xray::install_sink(Arc::new(sink));
    }
    let faults = crate::faults::from_env();
    if faults.is_active() {
        tracing::warn!(
            error_rate = faults.error_rate,
            latency_ms = faults.latency_ms,
            key_activity = "fault-injection",
            "fault injection is ON"
        );
    }
    Ok(Ops { metrics, faults })
}

impl Ops {
    /// The layer to wrap the handler in.
    pub fn layer(&self) -> OpsLayer {
        OpsLayer {
            metrics: Some(self.metrics),
            faults: self.faults,
        }
    }
}

/// The tower layer; see the module docs.
#[derive(Debug, Clone, Copy, Default)]
pub struct OpsLayer {
    metrics: Option<Metrics>,
    faults: FaultInjection,
}

impl OpsLayer {
    /// A layer without metrics, with the given faults: for tests of the wiring.
    pub fn without_metrics(faults: FaultInjection) -> Self {
        Self {
            metrics: None,
            faults,
        }
    }
}

impl<S> Layer<S> for OpsLayer {
    type Service = OpsService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        OpsService {
            inner,
            metrics: self.metrics,
            faults: self.faults,
        }
    }
}

/// The service [`OpsLayer`] makes.
#[derive(Debug, Clone)]
pub struct OpsService<S> {
    inner: S,
    metrics: Option<Metrics>,
    faults: FaultInjection,
}

/// The correlation ids seen in one invocation (a batch carries several).
type CorrelationIds = Arc<Mutex<Vec<String>>>;

tokio::task_local! {
    static CORRELATION_IDS: CorrelationIds;
}

/// Makes `id` the correlation id of the current work: on the current span (so on every
/// log line inside it), as an X-Ray annotation, and among the invocation's metric
/// properties, under the same name in all three. Call it once the request or record
/// has told you its id.
pub fn correlate(id: &CorrelationId) {
    tracing::Span::current().record(CORRELATION_ID, id.as_str());
    crate::xray::annotate(CORRELATION_ID, id.as_str());
    let _ = CORRELATION_IDS.try_with(|ids| {
        if let Ok(mut ids) = ids.lock()
            && !ids.iter().any(|known| known == id.as_str())
        {
            ids.push(id.to_string());
        }
    });
}

impl<S, T> Service<LambdaEvent<T>> for OpsService<S>
where
    S: Service<LambdaEvent<T>>,
    S::Future: Send + 'static,
    S::Error: Into<Error>,
    T: Send + 'static,
{
    type Response = S::Response;
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut TaskContext<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx).map_err(Into::into)
    }

    fn call(&mut self, event: LambdaEvent<T>) -> Self::Future {
        let cold_start = invocation::take_cold_start();
        let span = invocation::span(&event.context, cold_start);
        let trace = event
            .context
            .xray_trace_id
            .as_deref()
            .and_then(|raw| TraceHeader::parse(raw).ok());
        let request_id = event.context.request_id.clone();
        let faults = self.faults;
        let metrics = self.metrics;
        // An injected failure never reaches the handler, as if the function crashed.
        let handler = (!draw_failure(&faults)).then(|| self.inner.call(event));
        let correlation_ids = CorrelationIds::default();

        let invocation = {
            let span = span.clone();
            async move {
                if cold_start {
                    metrics::counter!(COLD_START).increment(1);
                }
                if faults.latency_ms > 0 {
                    tokio::time::sleep(faults.latency()).await;
                }
                let result = match handler {
                    None => Err(Error::from(InjectedFault)),
                    Some(handler) => match AssertUnwindSafe(handler).catch_unwind().await {
                        Ok(result) => result.map_err(Into::into),
                        Err(panic) => Err(Error::from(format!(
                            "handler panicked: {}",
                            panic_message(&*panic)
                        ))),
                    },
                };
                if let Err(error) = &result {
                    metrics::counter!(INVOCATION_ERRORS).increment(1);
                    span.in_scope(|| {
                        tracing::error!(
                            error = &**error as &dyn std::error::Error,
                            key_activity = "invocation",
                            "invocation failed"
                        );
                    });
                }
                result
            }
        };
        let trace_id = trace.as_ref().map(|t| t.root.to_string());
        let scoped = CORRELATION_IDS.scope(
            correlation_ids.clone(),
            in_scope(TraceScope::new(trace), invocation),
        );
        Box::pin(
            async move {
                let result = scoped.await;
                if let Some(metrics) = metrics {
                    metrics.flush(&properties(request_id, trace_id, &correlation_ids));
                }
                result
            }
            .instrument(span),
        )
    }
}

fn properties(
    request_id: String,
    trace_id: Option<String>,
    correlation_ids: &CorrelationIds,
) -> Vec<(&'static str, Value)> {
    let mut properties = vec![(LAMBDA_REQUEST_ID, Value::from(request_id))];
    if let Some(trace_id) = trace_id {
        properties.push((XRAY_TRACE_ID, Value::from(trace_id)));
    }
    let ids = correlation_ids
        .lock()
        .map(|ids| ids.clone())
        .unwrap_or_default();
    match ids.as_slice() {
        [] => {}
        [one] => properties.push((CORRELATION_ID, Value::from(one.clone()))),
        many => properties.push((CORRELATION_ID, Value::from(many.to_vec()))),
    }
    properties
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> &str {
    panic
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| panic.downcast_ref::<String>().map(String::as_str))
        .unwrap_or("a non-string panic payload")
}

#[cfg(test)]
mod tests {
    use lambda_runtime::service_fn;
    use lambda_runtime::tower::ServiceExt as _;

    use super::*;

    fn event() -> LambdaEvent<Value> {
        let mut context = lambda_runtime::Context::default();
        context.request_id = "req-1".into();
        LambdaEvent::new(Value::Null, context)
    }

    /// A handler body that panics, as a bug in a handler would.
    fn explode(message: &str) -> Value {
        panic!("{message}")
    }

    #[tokio::test]
    async fn a_handler_panic_becomes_an_invocation_error() {
        let service = OpsLayer::without_metrics(FaultInjection::default()).layer(service_fn(
            |_: LambdaEvent<Value>| async { Ok::<Value, Error>(explode("boom")) },
        ));
        let error = service.oneshot(event()).await.unwrap_err();
        assert_eq!(error.to_string(), "handler panicked: boom");
    }

    #[tokio::test]
    async fn an_injected_failure_never_reaches_the_handler() {
        let faults = FaultInjection {
            error_rate: 1.0,
            latency_ms: 0,
        };
        let service =
            OpsLayer::without_metrics(faults).layer(service_fn(|_: LambdaEvent<Value>| async {
                Ok::<Value, Error>(explode("the handler ran"))
            }));
        let error = service.oneshot(event()).await.unwrap_err();
        assert!(error.is::<InjectedFault>(), "{error}");
    }

    #[tokio::test]
    async fn correlate_collects_each_id_once_for_the_metrics() {
        let ids = CorrelationIds::default();
        CORRELATION_IDS
            .scope(Arc::clone(&ids), async {
                for raw in ["a", "b", "a"] {
                    correlate(&CorrelationId::parse(raw).unwrap());
                }
            })
            .await;
        let properties = properties("req".into(), None, &ids);
        assert_eq!(
            properties[1],
            ("correlation_id", serde_json::json!(["a", "b"]))
        );
    }
}
