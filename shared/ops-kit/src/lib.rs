//! # ops-kit
//!
//! Operations for serverless Rust functions, as the AWS Summit talk *Operations for
//! serverless* describes them. It knows nothing of the application it serves: copy the
//! crate into another service and use it unchanged.
//!
//! | module | gives you |
//! |---|---|
//! | [`CorrelationId`] | one id per request or record: the caller's (`X-Correlation-Id`, the `correlation_id` SQS/SNS attribute or EventBridge detail member) or the source's own (API Gateway REST and HTTP API, function URL, ALB, SQS, SNS, EventBridge); [`CorrelationId::message_attribute`] and [`CorrelationId::eventbridge_detail`] send it on |
//! | [`init`], [`builder`] | one call at start-up with every part on, or a builder to leave parts out (logs, metrics, tracing, faults) and set the namespace in code |
//! | [`OpsLayer`] ([`Ops::layer`]) | one tower layer around the handler: the invocation span, cold starts, metrics flush, panics as errors, fault injection |
//! | [`MetricsFlush`] ([`Ops::metrics_flush`]) | for a handler outside the layer: a guard that writes the invocation's metrics exactly once |
//! | [`init_logging`], [`log_layer`], [`LogLayer`] | one JSON object per line with the talk's fields; the layer alone for a subscriber of your own |
//! | [`mod@env`] | the environment variables, one prefix (`OPS_KIT_`), the older names still read |
//! | [`correlate`] | one call puts the correlation id on the logs, the trace and the metrics |
//! | [`in_sqs_record`] | one SQS record of a batch handled as its own request: its span, its sender's trace, its correlation id |
//! | [`metrics`] | CloudWatch Embedded Metric Format through the `metrics` facade, whose macros it re-exports (`ops_kit::metrics::counter!`) |
//! | [`xray`] | X-Ray subsegments for AWS calls and key activities, over UDP to the daemon |
//! | [`FaultInjection`] | error rate and latency from the environment, for rehearsals |
//! | [`required_env`] | typed configuration that names the missing variable |
//! | [`Problem`] | RFC 9457 error responses that carry the correlation id and no internals |
//!
//! What the kit writes for other programs to read (the trace header, segment
//! documents, EMF lines, log field names, fault settings) is defined in [`ops_wire`],
//! which the local cloud reads it with.
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ops_kit::LogConfig::from_env("add-comments");
//! ops_kit::init_logging(&config)?;
//! tracing::info!(key_activity = "startup", "ready");
//! # Ok(())
//! # }
//! ```

mod builder;
mod config;
mod correlation;
pub mod env;
mod faults;
mod invocation;
mod lambda;
mod logging;
pub mod metrics;
mod problem;
pub mod xray;

/// The event types the correlation readers take ([`CorrelationId::from_sqs_message`],
/// [`CorrelationId::from_sns_record`], [`CorrelationId::from_eventbridge`]), in the
/// version the kit was built with.
pub use aws_lambda_events;
pub use builder::{Builder, builder, init};
pub use config::{ConfigError, required_env};
pub use correlation::{
    CORRELATION_ATTRIBUTE, CORRELATION_HEADER, CorrelationId, EventBridgeDetailError,
    InvalidCorrelationId, MessageAttribute,
};
pub use faults::{
    ERROR_RATE_VAR, FaultInjection, InjectedFault, LATENCY_VAR, LEGACY_ERROR_RATE_VAR,
    LEGACY_LATENCY_VAR,
};
pub use lambda::{InitError, MetricsFlush, Ops, OpsLayer, OpsService, correlate, in_sqs_record};
pub use logging::{LogConfig, LogFormat, LogLayer, StdoutLogLayer, init_logging, log_layer};
pub use problem::{FieldError, PROBLEM_JSON, Problem};
/// The `tracing` the kit's log layer and spans are built on.
pub use tracing;
