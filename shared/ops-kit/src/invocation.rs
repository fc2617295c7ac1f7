//! The per-invocation span: the Lambda context every log line of one invocation carries.

use std::sync::atomic::{AtomicBool, Ordering};

use ops_wire::log_fields::{
    COLD_START, CORRELATION_ID, FUNCTION_VERSION, KEY_ACTIVITY, LAMBDA_FUNCTION_ARN,
    LAMBDA_REQUEST_ID, XRAY_TRACE_ID,
};
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
/// carries these fields. The names are [`ops_wire::log_fields`]'s, which the local
/// cloud's log view reads.
pub(crate) fn span(context: &lambda_runtime::Context, cold_start: bool) -> Span {
    tracing::info_span!(
        "invocation",
        { LAMBDA_REQUEST_ID } = %context.request_id,
        { LAMBDA_FUNCTION_ARN } = %context.invoked_function_arn,
        { FUNCTION_VERSION } = %context.env_config.version,
        { XRAY_TRACE_ID } = trace_id(context.xray_trace_id.as_deref()).as_deref(),
        { COLD_START } = cold_start,
        { CORRELATION_ID } = tracing::field::Empty,
        { KEY_ACTIVITY } = tracing::field::Empty,
    )
}

/// The trace id alone (`1-5759e988-bd862e3fe1be46a994272793`) from the header Lambda
/// passes (`Root=…;Parent=…;Sampled=…`): what Powertools logs and the X-Ray console
/// searches for. `None` when there is no header or it does not parse.
fn trace_id(header: Option<&str>) -> Option<String> {
    let header = ops_wire::trace::TraceHeader::parse(header?).ok()?;
    Some(header.root.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_field_holds_the_trace_id_alone() {
        assert_eq!(
            trace_id(Some(
                "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1"
            ))
            .as_deref(),
            Some("1-5759e988-bd862e3fe1be46a994272793")
        );
        assert_eq!(trace_id(Some("not a header")), None);
        assert_eq!(trace_id(None), None);
    }

    #[test]
    fn cold_start_is_reported_once_per_process() {
        // Other tests in this binary may have taken it already; after one call it is
        // false for good.
        let _ = take_cold_start();
        assert!(!take_cold_start());
        assert!(!take_cold_start());
    }

    #[test]
    fn the_span_declares_every_field_it_promises() {
        let span =
            tracing::subscriber::with_default(tracing_subscriber::Registry::default(), || {
                span(&lambda_runtime::Context::default(), true)
            });
        let fields = span.metadata().map(tracing::Metadata::fields).unwrap();
        for name in [
            LAMBDA_REQUEST_ID,
            LAMBDA_FUNCTION_ARN,
            FUNCTION_VERSION,
            XRAY_TRACE_ID,
            COLD_START,
            CORRELATION_ID,
            KEY_ACTIVITY,
        ] {
            assert!(fields.field(name).is_some(), "{name}");
        }
    }
}
