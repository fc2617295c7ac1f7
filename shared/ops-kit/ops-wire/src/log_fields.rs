//! The names of the fields in the ops kit's JSON log lines.
//!
//! ```text
//! {"timestamp":"2026-11-28T04:35:37.774Z","level":"INFO","service":"add-comments",
//!  "lambda_function_arn":"arn:aws:lambda:…:function:add-comments:live",
//!  "correlation_id":"…","lambda_request_id":"…","key_activity":"enqueue",
//!  "message":"comment accepted","cold_start":true,"function_version":"3",
//!  "xray_trace_id":"1-…","comment_id":"…"}
//! ```
//!
//! The leading fields are the *Operations for serverless* talk's, in its order
//! ([`LEADING`]); the event's own fields follow. Lambda's log-level filtering reads
//! [`TIMESTAMP`] (RFC 3339) and [`LEVEL`] (`TRACE`, `DEBUG`, `INFO`, `WARN`, `ERROR`).
//!
//! Three names are shared on purpose with the other signals, so one id finds a request
//! everywhere: [`CORRELATION_ID`], [`LAMBDA_REQUEST_ID`] and [`XRAY_TRACE_ID`] are also
//! the names of an EMF line's properties, and [`CORRELATION_ID`] is the name of the
//! X-Ray annotation.

/// When the event happened: RFC 3339 UTC with milliseconds.
pub const TIMESTAMP: &str = "timestamp";
/// `TRACE`, `DEBUG`, `INFO`, `WARN` or `ERROR`.
pub const LEVEL: &str = "level";
/// The service that wrote the line (`add-comments`).
pub const SERVICE: &str = "service";
/// The ARN the function was invoked by, so it names the alias (`…:function:f:live`).
pub const LAMBDA_FUNCTION_ARN: &str = "lambda_function_arn";
/// The id that follows a request through functions, queues and logs.
pub const CORRELATION_ID: &str = "correlation_id";
/// Lambda's id for the invocation.
pub const LAMBDA_REQUEST_ID: &str = "lambda_request_id";
/// The step of the business flow the line belongs to (`enqueue`, `store`).
pub const KEY_ACTIVITY: &str = "key_activity";
/// The constant, human text of the event.
pub const MESSAGE: &str = "message";
/// Whether this invocation started the execution environment.
pub const COLD_START: &str = "cold_start";
/// The function version that ran (`3`, `$LATEST`).
pub const FUNCTION_VERSION: &str = "function_version";
/// The invocation's X-Ray trace id alone (`1-5759e988-bd862e3fe1be46a994272793`), in a
/// log line as in an EMF line: what Powertools logs and the X-Ray console searches for.
pub const XRAY_TRACE_ID: &str = "xray_trace_id";
/// An error and its whole `source()` chain, `outer: inner: root cause`.
pub const ERROR: &str = "error";

/// The fields every line leads with, in this order, each present on every line (`null`
/// where none applies, such as `correlation_id` on a batch line that spans several
/// requests), so a Logs Insights query never meets a missing field; the event's other
/// fields follow alphabetically.
pub const LEADING: [&str; 11] = [
    TIMESTAMP,
    LEVEL,
    SERVICE,
    LAMBDA_FUNCTION_ARN,
    CORRELATION_ID,
    LAMBDA_REQUEST_ID,
    KEY_ACTIVITY,
    MESSAGE,
    COLD_START,
    FUNCTION_VERSION,
    XRAY_TRACE_ID,
];

/// Not ours: the request id in Lambda's own JSON log format, in the application lines
/// of the managed runtimes' built-in loggers and in the `record` of platform events
/// (`platform.start`, `platform.report`). A Rust function's lines never carry it.
pub const LAMBDA_JSON_REQUEST_ID: &str = "requestId";

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    #[test]
    fn the_leading_fields_are_distinct_and_snake_case() {
        let unique: BTreeSet<&str> = LEADING.iter().copied().collect();
        assert_eq!(unique.len(), LEADING.len());
        for name in LEADING.iter().chain(&[ERROR]) {
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{name}"
            );
        }
    }

    #[test]
    fn the_talks_order_starts_with_what_lambda_filters_on() {
        assert_eq!(&LEADING[..3], &[TIMESTAMP, LEVEL, SERVICE]);
        assert!(!LEADING.contains(&ERROR), "error is an event field");
    }
}
