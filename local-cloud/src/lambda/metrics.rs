//! The `AWS/Lambda` metrics Lambda publishes for every invocation: `Invocations`,
//! `Errors`, `Throttles` and `Duration`. Each point carries every dimension Lambda
//! publishes the invocation under — `FunctionName`, `Resource` (`name:alias` or
//! `name:version` for a qualified invocation, else the name) and `ExecutedVersion` —
//! plus the console's `function`; `cloudwatch::rollup` lets an alarm that names fewer
//! of them (such as `FunctionName` and `Resource`) see the aggregate, as it does in AWS.

use std::time::Duration;

use crate::cloudwatch::{DataPoint, MetricStore};

/// The namespace.
pub const NAMESPACE: &str = "AWS/Lambda";

/// What was invoked, and what ran.
pub(super) struct Invoked<'a> {
    /// The physical function name.
    pub function_name: &'a str,
    /// The console's name (`add-comments`).
    pub function: &'a str,
    /// The ARN the caller invoked.
    pub arn: &'a str,
    /// The version that ran.
    pub version: &'a str,
}

/// `Resource`: the part of the invoked ARN after `function:`.
fn resource(invoked_arn: &str) -> &str {
    invoked_arn
        .split_once(":function:")
        .map_or(invoked_arn, |(_, resource)| resource)
}

/// Records one invocation.
pub(super) fn record_invocation(
    metrics: &MetricStore,
    invoked: &Invoked<'_>,
    is_error: bool,
    duration: Duration,
) {
    let dimensions: std::collections::BTreeMap<String, String> = [
        ("FunctionName".to_owned(), invoked.function_name.to_owned()),
        ("Resource".to_owned(), resource(invoked.arn).to_owned()),
        ("ExecutedVersion".to_owned(), invoked.version.to_owned()),
        ("function".to_owned(), invoked.function.to_owned()),
    ]
    .into();
    for (name, unit, value) in [
        ("Invocations", "Count", 1.0),
        ("Errors", "Count", if is_error { 1.0 } else { 0.0 }),
        // Invocations wait for a free environment instead: nothing is throttled.
        ("Throttles", "Count", 0.0),
        ("Duration", "Milliseconds", super::platform::ms(duration)),
    ] {
        metrics.put(DataPoint::now(
            NAMESPACE,
            name,
            unit,
            dimensions.clone(),
            value,
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudwatch::MetricQuery;

    #[test]
    fn an_invocation_carries_the_alias_and_the_executed_version() {
        let metrics = MetricStore::default();
        record_invocation(
            &metrics,
            &Invoked {
                function_name: "stack-f",
                function: "f",
                arn: "arn:aws:lambda:r:1:function:stack-f:live",
                version: "4",
            },
            true,
            Duration::from_millis(7),
        );
        let series = metrics.series(&MetricQuery {
            namespace: Some(NAMESPACE.into()),
            ..MetricQuery::default()
        });
        let names: Vec<_> = series.iter().map(|s| s.name.as_str()).collect();
        assert_eq!(names, ["Duration", "Errors", "Invocations", "Throttles"]);
        assert!(series.iter().all(|s| s.dimensions["ExecutedVersion"] == "4"
            && s.dimensions["Resource"] == "stack-f:live"));
        assert!((series[1].points[0].1 - 1.0).abs() < f64::EPSILON);
        assert!((series[0].points[0].1 - 7.0).abs() < 1e-9);
        assert_eq!(resource("arn:aws:lambda:r:1:function:f"), "f");
    }
}
