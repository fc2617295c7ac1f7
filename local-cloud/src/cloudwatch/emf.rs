//! CloudWatch's embedded metric format: a log line with an `_aws` member becomes metric
//! data points, as CloudWatch Logs extracts them.

use serde_json::Value;

use super::DataPoint;

/// The data points of one EMF line; none for a line that is not EMF.
pub fn data_points(line: &Value) -> Vec<DataPoint> {
    let Some(document) = ops_wire::emf::EmfDocument::parse(line) else {
        return Vec::new();
    };
    let correlation_ids = document.correlation_ids();
    document
        .data_points()
        .into_iter()
        .map(|point| DataPoint {
            timestamp_ms: document.timestamp_ms(),
            namespace: point.namespace,
            name: point.name,
            unit: point.unit,
            dimensions: point.dimensions,
            values: point.values,
            correlation_ids: correlation_ids.clone(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    // How EMF is read is ops-wire's (and tested there); this is what CloudWatch keeps.
    #[test]
    fn each_point_keeps_the_lines_time_and_correlation_ids() {
        let line = json!({
            "_aws": {"Timestamp": 1000, "CloudWatchMetrics": [{"Namespace": "N",
                "Dimensions": [["service"]], "Metrics": [{"Name": "A", "Unit": "Count"}]}]},
            "service": "s", "A": [1, 2], "correlation_id": ["c1", "c2"]
        });
        let points = data_points(&line);
        assert_eq!(points.len(), 1);
        assert_eq!(points[0].timestamp_ms, 1000);
        assert_eq!(points[0].values, [1.0, 2.0]);
        assert_eq!(points[0].dimensions["service"], "s");
        assert_eq!(points[0].correlation_ids, ["c1", "c2"]);
        assert!(data_points(&json!({"level": "INFO"})).is_empty());
    }
}
