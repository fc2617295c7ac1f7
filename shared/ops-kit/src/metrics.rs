//! Metrics in CloudWatch Embedded Metric Format (EMF): JSON lines on stdout that
//! CloudWatch Logs turns into metrics, with no `PutMetricData` call on the request path.
//!
//! Code records through the [`metrics`] facade (`metrics::counter!("CommentsAccepted")
//! .increment(1)`); [`Metrics::flush`] writes what was recorded once per invocation,
//! with the dimensions `service` and `function_version` and the invocation's request
//! id, trace id and correlation ids as properties, so a metric can be tied back to the
//! log lines and the trace that produced it.

use std::io::Write as _;

use metrics_cloudwatch_embedded::Collector;
use serde_json::Value;

/// Counts cold starts: one per execution environment.
pub const COLD_START: &str = "ColdStart";
/// Latency of each call to a dependency, in milliseconds, dimensioned by `dependency`.
pub const DEPENDENCY_LATENCY: &str = "DependencyLatency";
/// Invocations that ended in an error (including injected faults and panics).
pub const INVOCATION_ERRORS: &str = "InvocationErrors";

/// The installed EMF recorder.
#[derive(Clone, Copy)]
pub struct Metrics {
    collector: &'static Collector,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Metrics").finish_non_exhaustive()
    }
}

/// The metrics recorder could not be installed (another one already is).
#[derive(Debug)]
pub struct MetricsError(String);

impl std::fmt::Display for MetricsError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "could not install the EMF metrics recorder: {}", self.0)
    }
}

impl std::error::Error for MetricsError {}

impl Metrics {
    /// Installs the EMF recorder as the process's `metrics` recorder.
    ///
    /// # Errors
    /// [`MetricsError`] when a recorder is already installed.
    pub fn install(
        namespace: &str,
        service: &str,
        function_version: &str,
    ) -> Result<Self, MetricsError> {
        let collector = metrics_cloudwatch_embedded::Builder::new()
            .cloudwatch_namespace(namespace.to_owned())
            .with_dimension("service", service.to_owned())
            .with_dimension("function_version", function_version.to_owned())
            .init()
            .map_err(|e| MetricsError(e.to_string()))?;
        metrics::describe_counter!(COLD_START, metrics::Unit::Count, "cold starts");
        metrics::describe_counter!(
            INVOCATION_ERRORS,
            metrics::Unit::Count,
            "failed invocations"
        );
        metrics::describe_histogram!(
            DEPENDENCY_LATENCY,
            metrics::Unit::Milliseconds,
            "latency of calls to dependencies"
        );
        Ok(Self { collector })
    }

    /// Writes everything recorded since the last flush as EMF lines on stdout, with
    /// `properties` on each line. The lines are built first and written with one call,
    /// so they never interleave with log lines.
    pub fn flush(&self, properties: &[(&'static str, Value)]) {
        for (name, value) in properties {
            self.collector.set_property(*name, value.clone());
        }
        let mut lines = Vec::with_capacity(1024);
        let flushed = self.collector.flush(&mut lines);
        for (name, _) in properties {
            self.collector.remove_property(*name);
        }
        match flushed {
            Ok(()) if !lines.is_empty() => {
                let _ = std::io::stdout().lock().write_all(&lines);
            }
            Ok(()) => {}
            Err(error) => {
                tracing::warn!(
                    error = &error as &dyn std::error::Error,
                    "metrics flush failed"
                );
            }
        }
    }
}
