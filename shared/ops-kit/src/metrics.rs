//! Metrics in CloudWatch Embedded Metric Format (EMF): JSON lines on stdout that
//! CloudWatch Logs turns into metrics, with no `PutMetricData` call on the request path.
//!
//! Code records through the [`metrics`] facade (`metrics::counter!("CommentsAccepted")
//! .increment(1)`); [`Metrics::flush`] writes what was recorded once per invocation,
//! with the dimensions `service` and `function_version` and the invocation's request
//! id, trace id and correlation ids as properties, so a metric can be tied back to the
//! log lines and the trace that produced it. Dimensions and properties carry the log
//! lines' field names ([`ops_wire::log_fields`]); the local cloud reads the lines with
//! [`ops_wire::emf`].

use std::io::Write as _;

/// The `metrics` facade's macros and types, in the version the kit's recorder is
/// installed for: record through these (`ops_kit::metrics::counter!("OrdersPlaced")`),
/// and a second version of `metrics` in your dependency tree can never send your
/// counters to a recorder that nobody flushes.
pub use ::metrics::{
    Counter, Gauge, Histogram, Unit, counter, describe_counter, describe_gauge, describe_histogram,
    gauge, histogram,
};

use metrics_cloudwatch_embedded::Collector;
use ops_wire::log_fields::{FUNCTION_VERSION, SERVICE};
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
            .with_dimension(SERVICE, service.to_owned())
            .with_dimension(FUNCTION_VERSION, function_version.to_owned())
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
        let mut lines = Vec::with_capacity(1024);
        match self.write_lines(properties, &mut lines) {
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

    /// Appends the EMF lines for everything recorded since the last flush, with
    /// `properties` on each line, to `lines`.
    fn write_lines(
        self,
        properties: &[(&'static str, Value)],
        lines: &mut Vec<u8>,
    ) -> std::io::Result<()> {
        for (name, value) in properties {
            self.collector.set_property(*name, value.clone());
        }
        let flushed = self.collector.flush(&mut *lines);
        for (name, _) in properties {
            self.collector.remove_property(*name);
        }
        flushed
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use ops_wire::emf::{EmfDataPoint, EmfDocument};
    use ops_wire::log_fields::{CORRELATION_ID, LAMBDA_REQUEST_ID};
    use serde_json::json;

    use super::*;

    // The only test in this binary that installs the process-wide recorder. Others may
    // count cold starts and errors into it meanwhile, so only this test's own series
    // is asserted exactly.
    #[test]
    fn the_lines_a_flush_writes_are_emf_that_ops_wire_reads() {
        let metrics = Metrics::install("OnlineFeedback", "svc", "7").unwrap();
        metrics::counter!(COLD_START).increment(1);
        metrics::histogram!(DEPENDENCY_LATENCY, "dependency" => "ops-kit-test").record(12.5);
        let mut lines = Vec::new();
        metrics
            .write_lines(
                &[
                    (LAMBDA_REQUEST_ID, json!("req-1")),
                    (CORRELATION_ID, json!(["c-1", "c-2"])),
                ],
                &mut lines,
            )
            .unwrap();

        let documents: Vec<EmfDocument> = std::str::from_utf8(&lines)
            .unwrap()
            .lines()
            .map(|line| EmfDocument::parse(&serde_json::from_str(line).unwrap()).unwrap())
            .collect();
        assert!(!documents.is_empty());
        for document in &documents {
            assert_eq!(document.correlation_ids(), ["c-1", "c-2"]);
        }
        let points: Vec<EmfDataPoint> = documents
            .iter()
            .flat_map(EmfDocument::data_points)
            .collect();
        let point = |name: &str| points.iter().find(|p| p.name == name).unwrap();

        let cold = point(COLD_START);
        assert_eq!(cold.namespace, "OnlineFeedback");
        assert_eq!(cold.unit, "Count");
        assert!(cold.values.iter().all(|v| *v >= 1.0), "{cold:?}");
        assert_eq!(
            cold.dimensions,
            BTreeMap::from([
                (SERVICE.to_owned(), "svc".to_owned()),
                (FUNCTION_VERSION.to_owned(), "7".to_owned()),
            ])
        );

        let latency = point(DEPENDENCY_LATENCY);
        assert_eq!(latency.unit, "Milliseconds");
        assert_eq!(latency.values, [12.5]);
        assert_eq!(latency.dimensions["dependency"], "ops-kit-test");
        assert_eq!(latency.dimensions[SERVICE], "svc");
    }
}
