//! The `AWS/Lambda` metrics Lambda publishes for every invocation: `Invocations`,
//! `Errors` and `Duration`, dimensioned by function name and executed version.

use std::time::Duration;

use crate::cloudwatch::{DataPoint, MetricStore};

/// The namespace.
pub const NAMESPACE: &str = "AWS/Lambda";

/// Records one invocation of `function_name` (shown as `function`) at `version`.
pub(super) fn record_invocation(
    metrics: &MetricStore,
    function_name: &str,
    function: &str,
    version: &str,
    is_error: bool,
    duration: Duration,
) {
    let dimensions: std::collections::BTreeMap<String, String> = [
        ("FunctionName".to_owned(), function_name.to_owned()),
        ("ExecutedVersion".to_owned(), version.to_owned()),
        ("function".to_owned(), function.to_owned()),
    ]
    .into();
    let now = crate::clock::now_ms();
    for (name, unit, value) in [
        ("Invocations", "Count", 1.0),
        ("Errors", "Count", if is_error { 1.0 } else { 0.0 }),
        ("Duration", "Milliseconds", super::platform::ms(duration)),
    ] {
        metrics.put(DataPoint {
            timestamp_ms: now,
            namespace: NAMESPACE.to_owned(),
            name: name.to_owned(),
            unit: unit.to_owned(),
            dimensions: dimensions.clone(),
            values: vec![value],
            correlation_ids: Vec::new(),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudwatch::MetricQuery;

    #[test]
    fn an_invocation_is_three_points_with_the_executed_version() {
        let metrics = MetricStore::default();
        record_invocation(
            &metrics,
            "stack-f",
            "f",
            "4",
            true,
            Duration::from_millis(7),
        );
        let series = metrics.series(&MetricQuery {
            namespace: Some(NAMESPACE.into()),
            ..MetricQuery::default()
        });
        let names: Vec<_> = series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Duration", "Errors", "Invocations"]);
        assert!(
            series
                .iter()
                .all(|s| s.dimensions["ExecutedVersion"] == "4")
        );
        assert!((series[1].points[0].1 - 1.0).abs() < f64::EPSILON);
        assert!((series[0].points[0].1 - 7.0).abs() < 1e-9);
    }
}
