//! The lines Lambda's platform writes to a function's log stream: `START`, `END`,
//! `REPORT` (duration, billed duration, memory, init duration, status) and
//! `INIT_REPORT` for an init that failed. Formatting only, so each is unit-tested.

use std::fmt::Write as _;
use std::time::Duration;

/// How an invocation ended, as the `REPORT` line's `Status` says it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum InvocationStatus {
    /// The handler answered (its answer may still be an error it reported).
    Success,
    /// The handler reported an error, or the process died.
    Error,
    /// The invocation outlived its timeout and the process was killed.
    Timeout,
}

impl InvocationStatus {
    fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Error => "error",
            Self::Timeout => "timeout",
        }
    }

    /// The level the platform line has: `ERROR` unless it succeeded.
    pub(super) fn level(self) -> &'static str {
        if self == Self::Success {
            "INFO"
        } else {
            "ERROR"
        }
    }
}

/// What a `REPORT` line reports.
#[derive(Clone, Debug)]
pub(super) struct Report<'a> {
    /// The request id.
    pub request_id: &'a str,
    /// How long the handler took.
    pub duration: Duration,
    /// `MemorySize`, MB.
    pub memory_mb: u32,
    /// The process's peak memory, when it could be read.
    pub peak_mb: Option<u64>,
    /// The init duration, on the first invocation of a process only.
    pub init: Option<Duration>,
    /// How it ended.
    pub status: InvocationStatus,
}

/// Milliseconds, as Lambda prints them.
pub(super) fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// `START RequestId: … Version: …`.
pub(super) fn start_line(request_id: &str, version: &str) -> String {
    format!("START RequestId: {request_id} Version: {version}")
}

/// `END RequestId: …`.
pub(super) fn end_line(request_id: &str) -> String {
    format!("END RequestId: {request_id}")
}

/// The `REPORT` line. Lambda bills whole milliseconds, rounded up, at least one; a
/// `Status` appears only when the invocation did not succeed.
pub(super) fn report_line(report: &Report<'_>) -> String {
    let billed = report.duration.as_micros().div_ceil(1000).max(1);
    let mut line = format!(
        "REPORT RequestId: {}\tDuration: {:.2} ms\tBilled Duration: {billed} ms\tMemory Size: {} MB\tMax Memory Used: {} MB",
        report.request_id,
        ms(report.duration),
        report.memory_mb,
        report
            .peak_mb
            .map_or_else(|| "?".to_owned(), |m| m.to_string()),
    );
    if let Some(init) = report.init {
        let _ = write!(line, "\tInit Duration: {:.2} ms", ms(init));
    }
    if report.status != InvocationStatus::Success {
        let _ = write!(line, "\tStatus: {}", report.status.as_str());
    }
    line
}

/// The `INIT_REPORT` line of an init that failed.
pub(super) fn init_failed_line(init: Duration, reason: &str) -> String {
    format!(
        "INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: error\t{reason}",
        ms(init)
    )
}

/// The message of an invocation that outlived its timeout.
pub(super) fn timed_out_message(request_id: &str, timeout: Duration) -> String {
    format!(
        "{request_id} Task timed out after {:.2} seconds",
        timeout.as_secs_f64()
    )
}

/// The message of an invocation whose process died.
pub(super) fn exit_error_message(request_id: &str, status: &str) -> String {
    format!("RequestId: {request_id} Error: Runtime exited with error: {status}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_bills_whole_milliseconds_and_shows_init_only_when_cold() {
        let cold = report_line(&Report {
            request_id: "r",
            duration: Duration::from_micros(12_301),
            memory_mb: 256,
            peak_mb: Some(9),
            init: Some(Duration::from_micros(15_500)),
            status: InvocationStatus::Success,
        });
        assert_eq!(
            cold,
            "REPORT RequestId: r\tDuration: 12.30 ms\tBilled Duration: 13 ms\tMemory Size: 256 MB\tMax Memory Used: 9 MB\tInit Duration: 15.50 ms"
        );
        let warm_fast = report_line(&Report {
            request_id: "r",
            duration: Duration::from_micros(10),
            memory_mb: 128,
            peak_mb: None,
            init: None,
            status: InvocationStatus::Timeout,
        });
        assert!(warm_fast.contains("Billed Duration: 1 ms"), "{warm_fast}");
        assert!(warm_fast.contains("Max Memory Used: ? MB"));
        assert!(warm_fast.ends_with("\tStatus: timeout"));
        assert!(!warm_fast.contains("Init Duration"));
    }

    #[test]
    fn platform_lines_read_as_lambdas() {
        assert_eq!(start_line("r", "3"), "START RequestId: r Version: 3");
        assert_eq!(end_line("r"), "END RequestId: r");
        assert_eq!(
            timed_out_message("r", Duration::from_secs(10)),
            "r Task timed out after 10.00 seconds"
        );
        assert!(init_failed_line(Duration::from_millis(5), "why").ends_with("Status: error\twhy"));
        assert_eq!(InvocationStatus::Error.level(), "ERROR");
        assert_eq!(InvocationStatus::Success.level(), "INFO");
    }
}
