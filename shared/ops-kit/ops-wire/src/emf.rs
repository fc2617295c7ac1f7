//! CloudWatch Embedded Metric Format (EMF): metrics as JSON log lines.
//!
//! ```text
//! {"_aws":{"Timestamp":1700000000000,"CloudWatchMetrics":[{"Namespace":"OnlineFeedback",
//!   "Dimensions":[["service","function_version"]],"Metrics":[{"Name":"ColdStart","Unit":"Count"}]}]},
//!  "service":"add-comments","function_version":"3","ColdStart":1,
//!  "lambda_request_id":"…","correlation_id":["c-1","c-2"]}
//! ```
//!
//! `_aws` ([`EmfMetadata`]) says which root members are metrics and which are
//! dimensions; the values live in the root members themselves. [`EmfDocument`] reads a
//! line as CloudWatch Logs does and lists its [`EmfDataPoint`]s.
//!
//! What counts as EMF here follows AWS's specification: `_aws` with a numeric
//! `Timestamp` and a `CloudWatchMetrics` array, at most [`MAX_METRICS`] metrics per
//! directive, [`MAX_DIMENSIONS`] dimensions per set and [`MAX_VALUES`] values per
//! metric. A line that breaks these yields no data points, as CloudWatch extracts none
//! from it. Within a valid line the reader
//! is lenient where the specification leaves room: a metric whose member holds no
//! number is skipped, a dimension whose member is not a string reads as empty, and a
//! metric without a unit has the unit `None`.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// The root member that holds the metadata.
pub const METADATA_MEMBER: &str = "_aws";

/// The most metric definitions a directive may hold (AWS's limit).
pub const MAX_METRICS: usize = 100;

/// The most dimensions a dimension set may hold (AWS's limit).
pub const MAX_DIMENSIONS: usize = 30;

/// The most values a metric member may hold (AWS's limit).
pub const MAX_VALUES: usize = 100;

/// The most data points one line may yield. Not AWS's: this reader's bound, so that a
/// hostile line of many empty dimension sets times many metrics cannot exhaust memory.
pub const MAX_DATA_POINTS: usize = 1_000;

/// The unit of a metric that names none.
pub const DEFAULT_UNIT: &str = "None";

/// The `_aws` member of an EMF line.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EmfMetadata {
    /// When the metrics were recorded, in milliseconds since the epoch.
    #[serde(rename = "Timestamp")]
    pub timestamp_ms: u64,
    /// Which root members are metrics, in which namespace, with which dimensions.
    #[serde(rename = "CloudWatchMetrics")]
    pub cloudwatch_metrics: Vec<MetricDirective>,
}

/// One entry of `CloudWatchMetrics`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricDirective {
    /// The CloudWatch namespace (`OnlineFeedback`).
    #[serde(rename = "Namespace")]
    pub namespace: String,
    /// Dimension sets: each names root members whose string values become one
    /// combination of dimensions. No set means metrics without dimensions.
    #[serde(rename = "Dimensions", default)]
    pub dimensions: Vec<Vec<String>>,
    /// The root members that are metrics.
    #[serde(rename = "Metrics")]
    pub metrics: Vec<MetricDefinition>,
}

/// One entry of a directive's `Metrics`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetricDefinition {
    /// The root member holding the value(s), and the metric's name.
    #[serde(rename = "Name")]
    pub name: String,
    /// A CloudWatch unit (`Count`, `Milliseconds`); [`DEFAULT_UNIT`] when absent.
    #[serde(rename = "Unit", default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// `1` for a high-resolution metric, `60` (the default) otherwise.
    #[serde(
        rename = "StorageResolution",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub storage_resolution: Option<u32>,
}

/// An EMF line, read: its metadata and the root members it refers to.
#[derive(Clone, Debug, PartialEq)]
pub struct EmfDocument {
    /// The `_aws` member.
    pub metadata: EmfMetadata,
    /// The root members named as metrics or dimensions, and `correlation_id`; other
    /// members are not kept.
    members: Map<String, Value>,
}

/// One metric in one combination of dimensions.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct EmfDataPoint {
    /// The CloudWatch namespace.
    pub namespace: String,
    /// The metric's name.
    pub name: String,
    /// Its unit ([`DEFAULT_UNIT`] when the line names none).
    pub unit: String,
    /// Dimension name to value.
    pub dimensions: BTreeMap<String, String>,
    /// The values: a member may hold one number or an array of them (a histogram).
    pub values: Vec<f64>,
}

impl EmfDocument {
    /// Reads a parsed log line as EMF. `None` when it is not an object with a valid
    /// `_aws` member (see the module docs for what valid means).
    pub fn parse(line: &Value) -> Option<Self> {
        let root = line.as_object()?;
        let metadata = EmfMetadata::deserialize(root.get(METADATA_MEMBER)?).ok()?;
        let mut points = 0_usize;
        for directive in &metadata.cloudwatch_metrics {
            if directive.metrics.len() > MAX_METRICS
                || directive
                    .dimensions
                    .iter()
                    .any(|s| s.len() > MAX_DIMENSIONS)
            {
                return None;
            }
            points = points.saturating_add(
                directive
                    .metrics
                    .len()
                    .saturating_mul(directive.dimensions.len().max(1)),
            );
        }
        if points > MAX_DATA_POINTS {
            return None;
        }
        let too_many_values = metadata
            .cloudwatch_metrics
            .iter()
            .flat_map(|directive| &directive.metrics)
            .filter_map(|metric| root.get(&metric.name)?.as_array())
            .any(|values| values.len() > MAX_VALUES);
        if too_many_values {
            return None;
        }
        let mut members = Map::new();
        let referenced = metadata.cloudwatch_metrics.iter().flat_map(|directive| {
            directive
                .metrics
                .iter()
                .map(|metric| metric.name.as_str())
                .chain(directive.dimensions.iter().flatten().map(String::as_str))
        });
        for name in referenced.chain([crate::log_fields::CORRELATION_ID]) {
            if let Some(value) = root.get(name) {
                members.insert(name.to_owned(), value.clone());
            }
        }
        Some(Self { metadata, members })
    }

    /// When the metrics were recorded, in milliseconds since the epoch.
    pub fn timestamp_ms(&self) -> u64 {
        self.metadata.timestamp_ms
    }

    /// One point per metric per dimension set, in the order the line lists them.
    pub fn data_points(&self) -> Vec<EmfDataPoint> {
        let mut points = Vec::new();
        for directive in &self.metadata.cloudwatch_metrics {
            let no_dimensions = [Vec::new()];
            let sets = if directive.dimensions.is_empty() {
                &no_dimensions[..]
            } else {
                &directive.dimensions[..]
            };
            for metric in &directive.metrics {
                let values = self.values(&metric.name);
                if values.is_empty() {
                    continue;
                }
                for set in sets {
                    points.push(EmfDataPoint {
                        namespace: directive.namespace.clone(),
                        name: metric.name.clone(),
                        unit: metric
                            .unit
                            .clone()
                            .unwrap_or_else(|| DEFAULT_UNIT.to_owned()),
                        dimensions: set
                            .iter()
                            .map(|name| (name.clone(), self.text(name)))
                            .collect(),
                        values: values.clone(),
                    });
                }
            }
        }
        points
    }

    /// The correlation ids the line carries as its `correlation_id` property: one, or
    /// one per record of a batch. Non-string entries are skipped.
    pub fn correlation_ids(&self) -> Vec<String> {
        match self.members.get(crate::log_fields::CORRELATION_ID) {
            Some(Value::String(id)) => vec![id.clone()],
            Some(Value::Array(ids)) => ids
                .iter()
                .filter_map(|id| id.as_str().map(str::to_owned))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// The numbers a metric member holds.
    fn values(&self, name: &str) -> Vec<f64> {
        match self.members.get(name) {
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_f64).collect(),
            Some(other) => other.as_f64().into_iter().collect(),
            None => Vec::new(),
        }
    }

    fn text(&self, name: &str) -> String {
        self.members
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned()
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn an_emf_line_becomes_one_point_per_metric_and_dimension_set() {
        let line = json!({
            "_aws": {"Timestamp": 1000, "CloudWatchMetrics": [{
                "Namespace": "N", "Dimensions": [["service"], ["service", "function_version"]],
                "Metrics": [{"Name": "A", "Unit": "Count"}, {"Name": "B", "Unit": "Milliseconds"}]
            }]},
            "service": "s", "function_version": "1", "A": 2, "B": [1.5, 2.5]
        });
        let document = EmfDocument::parse(&line).unwrap();
        assert_eq!(document.timestamp_ms(), 1000);
        let points = document.data_points();
        assert_eq!(points.len(), 4);
        assert_eq!(points[0].name, "A");
        assert_eq!(points[0].unit, "Count");
        assert_eq!(points[0].values, [2.0]);
        assert_eq!(
            points[0].dimensions,
            BTreeMap::from([("service".into(), "s".into())])
        );
        assert_eq!(points[1].dimensions.len(), 2);
        assert_eq!(points[1].dimensions["function_version"], "1");
        assert_eq!(points[3].namespace, "N");
        assert_eq!(points[3].values, [1.5, 2.5]);
    }

    #[test]
    fn no_dimension_set_means_one_point_without_dimensions() {
        for dimensions in [json!([]), Value::Null] {
            let mut directive = json!({"Namespace": "N", "Metrics": [{"Name": "A"}]});
            if !dimensions.is_null() {
                directive["Dimensions"] = dimensions;
            }
            let line = json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [directive]}, "A": 1});
            let points = EmfDocument::parse(&line).unwrap().data_points();
            assert_eq!(points.len(), 1);
            assert!(points[0].dimensions.is_empty());
            assert_eq!(points[0].unit, DEFAULT_UNIT);
        }
    }

    #[test]
    fn correlation_ids_are_one_string_or_an_array_of_strings() {
        let line = |ids: Value| json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": []}, "correlation_id": ids});
        let ids = |ids| EmfDocument::parse(&line(ids)).unwrap().correlation_ids();
        assert_eq!(ids(json!("c-1")), ["c-1"]);
        assert_eq!(ids(json!(["c-1", 7, "c-2"])), ["c-1", "c-2"]);
        assert!(ids(json!({"id": "c-1"})).is_empty());
        assert!(ids(Value::Null).is_empty());
    }

    #[test]
    fn members_that_hold_no_number_give_no_point_and_odd_dimensions_read_empty() {
        let line = json!({
            "_aws": {"Timestamp": 1, "CloudWatchMetrics": [{
                "Namespace": "N", "Dimensions": [["service"]],
                "Metrics": [{"Name": "Missing"}, {"Name": "Text"}, {"Name": "Empty"}, {"Name": "Mixed"}]
            }]},
            "service": 42, "Text": "12", "Empty": [], "Mixed": [1, "x", 2]
        });
        let points = EmfDocument::parse(&line).unwrap().data_points();
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].name, "Mixed");
        assert_eq!(points[0].values, [1.0, 2.0]);
        assert_eq!(points[0].dimensions["service"], "");
    }

    #[test]
    fn lines_that_are_not_emf_are_none() {
        let directive = json!({"Namespace": "N", "Metrics": [{"Name": "A"}]});
        for line in [
            json!("text"),
            json!([1, 2]),
            json!({"level": "INFO", "message": "no _aws"}),
            json!({"_aws": "x"}),
            json!({"_aws": {"CloudWatchMetrics": [directive]}}),
            json!({"_aws": {"Timestamp": "now", "CloudWatchMetrics": [directive]}}),
            json!({"_aws": {"Timestamp": -1, "CloudWatchMetrics": [directive]}}),
            json!({"_aws": {"Timestamp": 1}}),
            json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": {}}}),
            json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Metrics": [{"Name": "A"}]}]}}),
            json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "N", "Metrics": [{"Unit": "Count"}]}]}}),
            json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [{"Namespace": "N", "Dimensions": [[1]], "Metrics": []}]}}),
        ] {
            assert_eq!(EmfDocument::parse(&line), None, "{line}");
        }
    }

    #[test]
    fn lines_beyond_the_limits_yield_nothing() {
        let metrics: Vec<Value> = (0..=MAX_METRICS)
            .map(|i| json!({"Name": format!("M{i}")}))
            .collect();
        let too_many_metrics = json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [
            {"Namespace": "N", "Metrics": metrics}
        ]}});
        assert_eq!(EmfDocument::parse(&too_many_metrics), None);

        let wide: Vec<String> = (0..=MAX_DIMENSIONS).map(|i| format!("d{i}")).collect();
        let too_wide = json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [
            {"Namespace": "N", "Dimensions": [wide], "Metrics": [{"Name": "A"}]}
        ]}, "A": 1});
        assert_eq!(EmfDocument::parse(&too_wide), None);

        // Many empty sets times many metrics: small on the wire, huge once expanded.
        let sets = vec![Vec::<String>::new(); 2_000];
        let metrics: Vec<Value> = (0..MAX_METRICS)
            .map(|i| json!({"Name": format!("M{i}")}))
            .collect();
        let explosive = json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [
            {"Namespace": "N", "Dimensions": sets, "Metrics": metrics}
        ]}});
        assert_eq!(EmfDocument::parse(&explosive), None);
    }

    #[test]
    fn a_metric_member_holds_at_most_the_allowed_number_of_values() {
        let line = |count: u32| {
            let values: Vec<u32> = (0..count).collect();
            json!({"_aws": {"Timestamp": 1, "CloudWatchMetrics": [
                {"Namespace": "N", "Metrics": [{"Name": "A"}]}
            ]}, "A": values})
        };
        let points = EmfDocument::parse(&line(100)).unwrap().data_points();
        assert_eq!(points[0].values.len(), MAX_VALUES);
        assert_eq!(EmfDocument::parse(&line(101)), None);
    }

    #[test]
    fn metadata_round_trips_with_the_specifications_member_names() {
        let raw = json!({"Timestamp": 5, "CloudWatchMetrics": [{
            "Namespace": "N", "Dimensions": [["a"]],
            "Metrics": [{"Name": "A", "Unit": "Count", "StorageResolution": 1}, {"Name": "B"}]
        }]});
        let metadata: EmfMetadata = serde_json::from_value(raw.clone()).unwrap();
        assert_eq!(
            metadata.cloudwatch_metrics[0].metrics[0].storage_resolution,
            Some(1)
        );
        assert_eq!(serde_json::to_value(&metadata).unwrap(), raw);
    }
}
