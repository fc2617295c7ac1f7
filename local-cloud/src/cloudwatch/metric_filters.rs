//! Metric filters (`AWS::Logs::MetricFilter`): a pattern over a log group's lines and
//! the data points a matching line becomes (`MetricTransformations`: namespace, name,
//! value and dimensions, each a literal or a `$.field` of the line), as CloudWatch Logs
//! publishes them.

use std::collections::BTreeMap;

use serde_json::Value;

use super::filter_pattern::{FilterPattern, FilterPatternError, transformation_value};
use super::{DataPoint, LogEntry};
use crate::cloudformation::MetricFilterResource;

/// One `MetricTransformations` entry.
#[derive(Clone, Debug)]
struct Transformation {
    namespace: String,
    name: String,
    value: String,
    unit: String,
    default_value: Option<f64>,
    dimensions: BTreeMap<String, String>,
}

/// A metric filter on one log group.
#[derive(Clone, Debug)]
pub struct MetricFilter {
    /// Its logical id.
    pub name: String,
    /// The log group it reads.
    pub log_group: String,
    pattern: FilterPattern,
    transformations: Vec<Transformation>,
}

impl MetricFilter {
    /// The template's filter, its pattern parsed.
    ///
    /// # Errors
    /// A pattern CloudWatch would refuse (or the local cloud cannot read).
    pub fn new(resource: &MetricFilterResource) -> Result<Self, FilterPatternError> {
        let text = |v: &Value| match v {
            Value::String(s) => s.clone(),
            Value::Null => String::new(),
            other => other.to_string(),
        };
        let transformations = resource
            .transformations
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| Transformation {
                namespace: text(&t["MetricNamespace"]),
                name: text(&t["MetricName"]),
                value: text(&t["MetricValue"]),
                unit: t["Unit"].as_str().unwrap_or("None").to_owned(),
                default_value: t["DefaultValue"]
                    .as_f64()
                    .or_else(|| t["DefaultValue"].as_str().and_then(|s| s.parse().ok())),
                dimensions: t["Dimensions"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|d| (text(&d["Key"]), text(&d["Value"])))
                    .collect(),
            })
            .collect();
        Ok(Self {
            name: resource.logical_id.clone(),
            log_group: resource.log_group.clone(),
            pattern: FilterPattern::parse(&resource.pattern)?,
            transformations,
        })
    }

    /// The data points `entry` becomes: one per transformation when the pattern
    /// matches (none when its value or a dimension is not in the line), its
    /// `DefaultValue` when it does not.
    pub fn apply(&self, entry: &LogEntry) -> Vec<DataPoint> {
        let json = entry.json.as_ref().filter(|j| j.is_object());
        let matched = self.pattern.matches(&entry.message, json);
        self.transformations
            .iter()
            .filter_map(|t| {
                let value = if matched {
                    transformation_value(&t.value, json)?.parse::<f64>().ok()?
                } else {
                    t.default_value?
                };
                let mut dimensions = BTreeMap::new();
                if matched {
                    for (key, spec) in &t.dimensions {
                        dimensions.insert(key.clone(), transformation_value(spec, json)?);
                    }
                }
                Some(DataPoint {
                    timestamp_ms: entry.timestamp_ms,
                    namespace: t.namespace.clone(),
                    name: t.name.clone(),
                    unit: t.unit.clone(),
                    dimensions,
                    values: vec![value],
                    correlation_ids: entry.correlation_id.iter().cloned().collect(),
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudwatch::LogSource;
    use serde_json::json;

    fn filter() -> MetricFilter {
        MetricFilter::new(&MetricFilterResource {
            logical_id: "ErrorLinesFilter".into(),
            log_group: "/aws/lambda/s/f".into(),
            pattern: r#"{ $.level = "ERROR" }"#.into(),
            transformations: json!([{
                "MetricNamespace": "OnlineFeedback", "MetricName": "ErrorLogLines",
                "MetricValue": "1", "Unit": "Count",
                "Dimensions": [{"Key": "service", "Value": "$.service"}]
            }]),
        })
        .unwrap()
    }

    fn line(message: &str) -> LogEntry {
        let mut entry = LogEntry::new(
            "f",
            "1",
            "/aws/lambda/s/f",
            "st",
            LogSource::Function,
            message.into(),
        );
        entry.parse_json();
        entry
    }

    #[test]
    fn a_matching_json_line_is_one_point_with_its_dimensions_from_the_line() {
        let points = filter().apply(&line(
            r#"{"level":"ERROR","service":"add-comments","message":"x"}"#,
        ));
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].name, "ErrorLogLines");
        assert_eq!(points[0].values, [1.0]);
        assert_eq!(points[0].dimensions["service"], "add-comments");
        assert!(
            filter()
                .apply(&line(r#"{"level":"INFO","service":"a"}"#))
                .is_empty()
        );
        assert!(filter().apply(&line("ERROR but not JSON")).is_empty());
        // No `service` in the line: no dimension value, no point.
        assert!(filter().apply(&line(r#"{"level":"ERROR"}"#)).is_empty());
    }

    #[test]
    fn a_pattern_cloudwatch_refuses_is_an_error() {
        let broken = MetricFilterResource {
            logical_id: "Broken".into(),
            log_group: "g".into(),
            pattern: "{ $.level = ".into(),
            transformations: json!([]),
        };
        assert!(MetricFilter::new(&broken).is_err());
    }
}
