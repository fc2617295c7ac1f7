//! The per-invocation span: the Lambda context every log line of one invocation carries.

use std::sync::atomic::{AtomicBool, Ordering};

use tracing::Span;

/// True until the first invocation of this execution environment has started.
static COLD: AtomicBool = AtomicBool::new(true);

/// Whether this is the first invocation in this process. Returns `true` exactly once.
pub(crate) fn take_cold_start() -> bool {
    COLD.swap(false, Ordering::Relaxed)
}

/// The span for one invocation: `lambda_request_id`, `lambda_function_arn` (the ARN it
/// was invoked by, so it names the alias), `function_version`, `xray_trace_id` and
/// `cold_start`, with `correlation_id` and `key_activity` left for the handler to
/// record once it knows them.
///
/// [`crate::OpsLayer`] enters it around every invocation, so every event inside
/// carries these fields.
pub(crate) fn span(context: &lambda_runtime::Context, cold_start: bool) -> Span {
    tracing::info_span!(
        "invocation",
        lambda_request_id = %context.request_id,
        lambda_function_arn = %context.invoked_function_arn,
        function_version = %context.env_config.version,
        xray_trace_id = context.xray_trace_id.as_deref(),
        cold_start,
        correlation_id = tracing::field::Empty,
        key_activity = tracing::field::Empty,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cold_start_is_reported_once_per_process() {
        // Other tests in this binary may have taken it already; after one call it is
        // false for good.
        let _ = take_cold_start();
        assert!(!take_cold_start());
        assert!(!take_cold_start());
    }
}
