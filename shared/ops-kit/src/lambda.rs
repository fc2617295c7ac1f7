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

use aws_lambda_events::event::sqs::SqsMessage;

use crate::correlation::CorrelationId;
use crate::faults::{FaultInjection, InjectedFault, draw_failure};
use crate::metrics::{COLD_START, INVOCATION_ERRORS, Metrics};
use crate::xray::{TraceHeader, TraceScope, in_scope};
use crate::{ConfigError, invocation};

/// What [`crate::init`] or [`crate::Builder::init`] started, ready to wrap the handler.
#[derive(Debug, Clone, Copy)]
pub struct Ops {
    metrics: Option<Metrics>,
    faults: FaultInjection,
}

/// The ops kit could not start.
///
/// Its `Debug` is its message: `main` returning `Err` prints `Error: {:?}`, and that
/// line must say what to set.
#[non_exhaustive]
pub enum InitError {
    /// A required variable is missing.
    Config(ConfigError),
    /// Metrics are on, and neither the code nor the environment names a namespace.
    NoMetricsNamespace,
    /// The log subscriber or metrics recorder was already installed.
    AlreadyInstalled(String),
}

impl std::fmt::Display for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Config(error) => error.fmt(f),
            Self::NoMetricsNamespace => write!(
                f,
                "no metrics namespace: set {} (or METRICS_NAMESPACE) in the function's \
                 environment, or call .metrics_namespace(…) or .metrics(false) on the builder",
                crate::env::METRICS_NAMESPACE
            ),
            Self::AlreadyInstalled(what) => write!(f, "the ops kit is already initialised: {what}"),
        }
    }
}

impl std::fmt::Debug for InitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        std::fmt::Display::fmt(self, f)
    }
}

impl std::error::Error for InitError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            Self::Config(error) => Some(error),
            Self::NoMetricsNamespace | Self::AlreadyInstalled(_) => None,
        }
    }
}

impl Ops {
    pub(crate) fn new(metrics: Option<Metrics>, faults: FaultInjection) -> Self {
        Self { metrics, faults }
    }

    /// The layer to wrap the handler in.
    pub fn layer(&self) -> OpsLayer {
        OpsLayer {
            metrics: self.metrics,
            faults: self.faults,
        }
    }

    /// For a handler that does not go through [`Ops::layer`]: a guard that writes the
    /// invocation's metrics exactly once, with its request id and trace id as
    /// properties, when [`MetricsFlush::flush`] is called or when it is dropped (so also
    /// when the handler returns early, panics or is cancelled).
    ///
    /// ```no_run
    /// # async fn handler(ops: ops_kit::Ops, event: lambda_runtime::LambdaEvent<serde_json::Value>)
    /// # -> Result<(), lambda_runtime::Error> {
    /// let flush = ops.metrics_flush(&event.context);
    /// flush.correlate(&ops_kit::CorrelationId::generate());
    /// ops_kit::metrics::counter!("OrdersPlaced").increment(1);
    /// flush.flush();
    /// # Ok(())
    /// # }
    /// ```
    pub fn metrics_flush(&self, context: &lambda_runtime::Context) -> MetricsFlush {
        let trace = context
            .xray_trace_id
            .as_deref()
            .and_then(|raw| TraceHeader::parse(raw).ok());
        MetricsFlush::new(self.metrics, &context.request_id, trace.as_ref())
    }
}

/// Writes one invocation's metrics exactly once: on [`MetricsFlush::flush`] or on drop.
/// Made by [`Ops::metrics_flush`]; [`OpsLayer`] uses one per invocation.
#[must_use = "the metrics are written when the guard is flushed or dropped: keep it for the whole invocation"]
#[derive(Debug)]
pub struct MetricsFlush {
    metrics: Option<Metrics>,
    request_id: String,
    trace_id: Option<String>,
    correlation_ids: CorrelationIds,
    flushed: bool,
}

impl MetricsFlush {
    fn new(metrics: Option<Metrics>, request_id: &str, trace: Option<&TraceHeader>) -> Self {
        Self {
            metrics,
            request_id: request_id.to_owned(),
            trace_id: trace.map(|t| t.root.to_string()),
            correlation_ids: CorrelationIds::default(),
            flushed: false,
        }
    }

    /// Adds `id` to the correlation ids the metric lines carry. [`correlate`] does this
    /// by itself inside [`OpsLayer`]; without the layer, call this as well.
    pub fn correlate(&self, id: &CorrelationId) {
        add_correlation_id(&self.correlation_ids, id);
    }

    /// Writes the metrics now; nothing is written again on drop.
    pub fn flush(mut self) {
        self.write();
    }

    fn write(&mut self) {
        if std::mem::replace(&mut self.flushed, true) {
            return;
        }
        if let Some(metrics) = self.metrics {
            metrics.flush(&properties(
                std::mem::take(&mut self.request_id),
                self.trace_id.take(),
                &self.correlation_ids,
            ));
        }
    }
}

impl Drop for MetricsFlush {
    fn drop(&mut self) {
        self.write();
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
    let _ = CORRELATION_IDS.try_with(|ids| add_correlation_id(ids, id));
}

/// Runs `work` as the handling of one SQS record, so that each record of a batch reads as
/// its own request: in a `record` span with the record's message id and receive count,
/// in the X-Ray trace of the request that queued it (the record's `AWSTraceHeader`,
/// else the invocation's), and [`correlate`]d with the record's id
/// ([`CorrelationId::from_sqs_message`]). Inside `work`, [`correlate`] again to replace
/// that id with one only the body holds.
///
/// ```no_run
/// # async fn store(_: &ops_kit::aws_lambda_events::sqs::SqsMessage) -> Result<(), ()> { Ok(()) }
/// # async fn handle(batch: ops_kit::aws_lambda_events::sqs::SqsEvent) {
/// for record in &batch.records {
///     let stored = ops_kit::in_sqs_record(record, store(record)).await;
///     // On an error, report record.message_id as a batch item failure.
/// #   let _ = stored;
/// }
/// # }
/// ```
pub async fn in_sqs_record<F: Future>(record: &SqsMessage, work: F) -> F::Output {
    let trace = record
        .attributes
        .get(AWS_TRACE_HEADER_ATTRIBUTE)
        .and_then(|header| TraceHeader::parse(header).ok())
        .or_else(crate::xray::current_header);
    let span = tracing::info_span!(
        "record",
        correlation_id = tracing::field::Empty,
        message_id = record.message_id.as_deref(),
        receive_count = record
            .attributes
            .get(RECEIVE_COUNT_ATTRIBUTE)
            .map(String::as_str),
    );
    let id = CorrelationId::from_sqs_message(record);
    let work = async move {
        correlate(&id);
        work.await
    };
    in_scope(TraceScope::new(trace), work.instrument(span)).await
}

/// The SQS system attribute that carries the sender's X-Ray trace header.
const AWS_TRACE_HEADER_ATTRIBUTE: &str = "AWSTraceHeader";
/// The SQS system attribute that counts a message's receives.
const RECEIVE_COUNT_ATTRIBUTE: &str = "ApproximateReceiveCount";

fn add_correlation_id(ids: &CorrelationIds, id: &CorrelationId) {
    if let Ok(mut ids) = ids.lock()
        && !ids.iter().any(|known| known == id.as_str())
    {
        ids.push(id.to_string());
    }
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
        let flush = MetricsFlush::new(self.metrics, &event.context.request_id, trace.as_ref());
        let faults = self.faults;
        // An injected failure never reaches the handler, as if the function crashed.
        let handler = (!draw_failure(&faults)).then(|| self.inner.call(event));
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
        let scoped = CORRELATION_IDS.scope(
            Arc::clone(&flush.correlation_ids),
            in_scope(TraceScope::new(trace), invocation),
        );
        Box::pin(
            async move {
                let result = scoped.await;
                // Also written if this future is dropped first (the guard's drop).
                flush.flush();
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
    async fn an_sqs_record_runs_in_its_senders_trace_with_its_own_correlation_id() {
        let header = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
        let mut queued = SqsMessage::default();
        queued.message_id = Some("m-1".into());
        queued
            .attributes
            .insert("AWSTraceHeader".into(), header.into());
        let mut attribute = aws_lambda_events::event::sqs::SqsMessageAttribute::default();
        attribute.data_type = Some("String".into());
        attribute.string_value = Some("caller-7".into());
        queued
            .message_attributes
            .insert(crate::CORRELATION_ATTRIBUTE.into(), attribute);
        let mut bare = SqsMessage::default();
        bare.message_id = Some("m-2".into());

        let invocation = TraceHeader::parse(
            "Root=1-5759e988-00000000000000000000000a;Parent=0000000000000001;Sampled=1",
        )
        .unwrap();
        let ids = CorrelationIds::default();
        let traces = CORRELATION_IDS
            .scope(
                Arc::clone(&ids),
                in_scope(TraceScope::new(Some(invocation.clone())), async {
                    let first = in_sqs_record(&queued, async { crate::xray::current_header() });
                    let second = in_sqs_record(&bare, async { crate::xray::current_header() });
                    (first.await, second.await)
                }),
            )
            .await;
        assert_eq!(traces.0, Some(TraceHeader::parse(header).unwrap()));
        assert_eq!(
            traces.1,
            Some(invocation),
            "no header: the invocation's trace"
        );
        let properties = properties("req".into(), None, &ids);
        assert_eq!(
            properties[1],
            ("correlation_id", serde_json::json!(["caller-7", "m-2"])),
            "the caller's id, else the message id"
        );
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
