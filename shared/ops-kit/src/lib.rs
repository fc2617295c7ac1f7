//! # ops-kit
//!
//! Operations for serverless Rust functions, as the AWS Summit talk *Operations for
//! serverless* describes them. It knows nothing of the application it serves: copy the
//! crate into another service and use it unchanged.
//!
//! | module | gives you |
//! |---|---|
//! | [`CorrelationId`] | one id per request, from `X-Correlation-Id` or API Gateway's request id |
//! | [`init_logging`], [`JsonLogLayer`] | one JSON object per line with the talk's fields |
//! | [`invocation_span`] | the Lambda context (request id, ARN, version, trace id, cold start) on every line |
//! | [`required_env`] | typed configuration that names the missing variable |
//! | [`Problem`] | RFC 9457 error responses that carry the correlation id and no internals |
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! let config = ops_kit::LogConfig::from_env("add-comments");
//! ops_kit::init_logging(&config)?;
//! tracing::info!(key_activity = "startup", "ready");
//! # Ok(())
//! # }
//! ```

mod config;
mod correlation;
mod invocation;
mod logging;
mod problem;

pub use config::{ConfigError, required_env};
pub use correlation::{
    CORRELATION_ATTRIBUTE, CORRELATION_HEADER, CorrelationId, InvalidCorrelationId,
};
pub use invocation::{invocation_span, take_cold_start};
pub use logging::{JsonLogLayer, LogConfig, init_logging};
pub use problem::{FieldError, PROBLEM_JSON, Problem};
