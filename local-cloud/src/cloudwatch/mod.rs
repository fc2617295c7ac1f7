//! CloudWatch: log groups and streams ([`LogStore`]), metrics ([`MetricStore`]), and
//! the embedded metric format that turns a log line into data points, as CloudWatch Logs
//! does for a Lambda function's output.
//!
//! | file | owns |
//! |---|---|
//! | `logs.rs` | log lines by group and stream, filters, the live tail |
//! | `emf.rs` | EMF lines → data points |
//! | `metrics.rs` | data points, series by namespace, name and dimensions |
//! | `filter_pattern.rs` | metric filters' patterns and transformation values |
//! | `metric_filters.rs` | the template's metric filters, applied to every line kept |
//! | `alarm_eval.rs` | one alarm's specification and its evaluation over data points |
//! | `alarms.rs` | the template's alarms: states, changes, the evaluation loop |

mod alarm_eval;
mod alarms;
mod emf;
mod filter_pattern;
mod logs;
mod metric_filters;
mod metrics;

pub use alarm_eval::{
    AlarmSpec, AlarmSpecError, AlarmState, Comparison, Evaluation, MissingData, Statistic, evaluate,
};
pub use alarms::{AlarmChange, AlarmInfo, Alarms, rollup};
pub use emf::data_points;
pub use filter_pattern::{FilterPattern, FilterPatternError, transformation_value};
pub use logs::{LogEntry, LogFilter, LogSource, LogStore, Tail};
pub use metric_filters::MetricFilter;
pub use metrics::{DataPoint, MetricQuery, MetricStore, Series};

use std::sync::{Arc, RwLock};

/// CloudWatch Logs and metrics for one local cloud.
#[derive(Clone, Default)]
pub struct CloudWatch {
    /// Log groups and streams.
    pub logs: LogStore,
    /// Metric data points.
    pub metrics: MetricStore,
    /// The metric filters on the log groups.
    filters: Arc<RwLock<Vec<MetricFilter>>>,
}

impl CloudWatch {
    /// Keeps a log line: a JSON line is read for its fields, an EMF line also becomes
    /// data points, and so does a line a metric filter of its log group matches.
    /// Returns the line as kept.
    pub fn put_log(&self, mut entry: LogEntry) -> LogEntry {
        entry.parse_json();
        if let Some(json) = &entry.json {
            for point in data_points(json) {
                self.metrics.put(point);
            }
        }
        for filter in self
            .filters
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter(|f| f.log_group == entry.log_group)
        {
            for point in filter.apply(&entry) {
                self.metrics.put(point);
            }
        }
        self.logs.put(entry)
    }

    /// Applies `filter` to every line its log group keeps from now on.
    pub fn add_metric_filter(&self, filter: MetricFilter) {
        self.filters
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(filter);
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
