//! CloudWatch: log groups and streams ([`LogStore`]), metrics ([`MetricStore`]), and
//! the embedded metric format that turns a log line into data points, as CloudWatch Logs
//! does for a Lambda function's output.
//!
//! | file | owns |
//! |---|---|
//! | `logs.rs` | log lines by group and stream, filters, the live tail |
//! | `emf.rs` | EMF lines → data points |
//! | `metrics.rs` | data points, series by namespace, name and dimensions |

mod emf;
mod logs;
mod metrics;

pub use emf::data_points;
pub use logs::{LogEntry, LogFilter, LogSource, LogStore, Tail};
pub use metrics::{DataPoint, MetricQuery, MetricStore, Series};

/// CloudWatch Logs and metrics for one local cloud.
#[derive(Clone, Default)]
pub struct CloudWatch {
    /// Log groups and streams.
    pub logs: LogStore,
    /// Metric data points.
    pub metrics: MetricStore,
}

impl CloudWatch {
    /// Keeps a log line: a JSON line is read for its fields, and an EMF line also
    /// becomes data points. Returns the line as kept.
    pub fn put_log(&self, mut entry: LogEntry) -> LogEntry {
        entry.parse_json();
        if let Some(json) = &entry.json {
            for point in data_points(json) {
                self.metrics.put(point);
            }
        }
        self.logs.put(entry)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_emf_line_is_kept_as_a_log_line_and_as_metrics() {
        let cloudwatch = CloudWatch::default();
        let line = serde_json::json!({
            "_aws": {"Timestamp": 5, "CloudWatchMetrics": [{"Namespace": "N",
                "Dimensions": [["service"]], "Metrics": [{"Name": "ColdStart", "Unit": "Count"}]}]},
            "service": "s", "ColdStart": 1, "correlation_id": "c"
        });
        let kept = cloudwatch.put_log(LogEntry::new(
            "f",
            "1",
            "g",
            "s",
            LogSource::Function,
            line.to_string(),
        ));
        assert_eq!(kept.correlation_id.as_deref(), Some("c"));
        let series = cloudwatch.metrics.series(&MetricQuery::default());
        assert_eq!(series.len(), 1);
        assert_eq!(series[0].points, [(5, 1.0)]);
    }
}
