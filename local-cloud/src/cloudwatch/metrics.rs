//! CloudWatch metrics: data points (from EMF lines, and from what Lambda itself measures)
//! grouped into series by namespace, name and dimensions. Bounded like the logs.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::{Deserialize, Serialize};

/// How far out of time order a point may arrive (an EMF line carries its writer's
/// timestamp): [`MetricStore::values`] reads back this far past its window.
const ARRIVAL_SLACK_MS: u64 = 5_000;

/// How many points the store keeps.
const MAX_POINTS: usize = 100_000;

/// A metric data point.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DataPoint {
    /// Milliseconds since the epoch.
    pub timestamp_ms: u64,
    /// The namespace (`OnlineFeedback`, or `AWS/Lambda` for what Lambda measures).
    pub namespace: String,
    /// The metric name.
    pub name: String,
    /// The unit.
    pub unit: String,
    /// The dimensions and their values.
    pub dimensions: BTreeMap<String, String>,
    /// The values (an EMF member may hold an array).
    pub values: Vec<f64>,
    /// The correlation ids of the EMF line's `correlation_id` property (one, or one per
    /// record of a batch).
    pub correlation_ids: Vec<String>,
}

impl DataPoint {
    /// One value of a service's own metric (no correlation ids), stamped now.
    pub fn now(
        namespace: &str,
        name: &str,
        unit: &str,
        dimensions: BTreeMap<String, String>,
        value: f64,
    ) -> Self {
        Self {
            timestamp_ms: crate::clock::now_ms(),
            namespace: namespace.to_owned(),
            name: name.to_owned(),
            unit: unit.to_owned(),
            dimensions,
            values: vec![value],
            correlation_ids: Vec::new(),
        }
    }
}

/// Which series [`MetricStore::series`] returns.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct MetricQuery {
    /// Only this namespace.
    pub namespace: Option<String>,
    /// Only this metric.
    pub name: Option<String>,
    /// Only points of lines that carry this correlation id.
    pub correlation_id: Option<String>,
    /// Only points at or after this time (ms since the epoch).
    pub since_ms: Option<u64>,
}

/// One series: every point of one metric with one set of dimension values.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Series {
    /// The namespace.
    pub namespace: String,
    /// The metric name.
    pub name: String,
    /// The unit.
    pub unit: String,
    /// The dimensions.
    pub dimensions: BTreeMap<String, String>,
    /// `[ms since the epoch, value]`, oldest first.
    pub points: Vec<(u64, f64)>,
}

/// Every data point, oldest first.
#[derive(Clone, Default)]
pub struct MetricStore {
    points: Arc<Mutex<VecDeque<DataPoint>>>,
}

impl MetricStore {
    fn lock(&self) -> MutexGuard<'_, VecDeque<DataPoint>> {
        self.points
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps a data point.
    pub fn put(&self, point: DataPoint) {
        let mut points = self.lock();
        if points.len() == MAX_POINTS {
            points.pop_front();
        }
        points.push_back(point);
    }

    /// The values of one metric as an alarm or a dashboard asks for it: the points of
    /// `namespace` and `name` whose dimensions are exactly `dimensions`, or are
    /// `dimensions` plus any of `rollup` (the dimensions the metric's publisher
    /// aggregates away), at or after `since_ms`; `(timestamp_ms, value)`, oldest first.
    pub fn values(
        &self,
        namespace: &str,
        name: &str,
        dimensions: &BTreeMap<String, String>,
        rollup: &[&str],
        since_ms: u64,
    ) -> Vec<(u64, f64)> {
        let points = self.lock();
        // Points arrive in time order (give or take a line's own clock), so an alarm's
        // window is read from the newest back, not by scanning the whole store each tick.
        let recent = points
            .iter()
            .rev()
            .take_while(|p| p.timestamp_ms.saturating_add(ARRIVAL_SLACK_MS) >= since_ms)
            .count();
        points
            .range(points.len() - recent..)
            .filter(|p| p.timestamp_ms >= since_ms && p.namespace == namespace && p.name == name)
            .filter(|p| {
                dimensions
                    .iter()
                    .all(|(k, v)| p.dimensions.get(k) == Some(v))
                    && p.dimensions
                        .keys()
                        .all(|k| dimensions.contains_key(k) || rollup.contains(&k.as_str()))
            })
            .flat_map(|p| p.values.iter().map(|v| (p.timestamp_ms, *v)))
            .collect()
    }

    /// The series with points matching `query`, by namespace, name and dimensions.
    pub fn series(&self, query: &MetricQuery) -> Vec<Series> {
        let points = self.lock();
        let mut series: BTreeMap<(String, String, String), Series> = BTreeMap::new();
        for point in points
            .iter()
            .filter(|p| query.namespace.as_ref().is_none_or(|n| &p.namespace == n))
            .filter(|p| query.name.as_ref().is_none_or(|n| &p.name == n))
            .filter(|p| query.since_ms.is_none_or(|since| p.timestamp_ms >= since))
            .filter(|p| {
                query
                    .correlation_id
                    .as_ref()
                    .is_none_or(|c| p.correlation_ids.contains(c))
            })
        {
            let key = (
                point.namespace.clone(),
                point.name.clone(),
                serde_json::to_string(&point.dimensions).unwrap_or_default(),
            );
            let entry = series.entry(key).or_insert_with(|| Series {
                namespace: point.namespace.clone(),
                name: point.name.clone(),
                unit: point.unit.clone(),
                dimensions: point.dimensions.clone(),
                points: Vec::new(),
            });
            entry
                .points
                .extend(point.values.iter().map(|v| (point.timestamp_ms, *v)));
        }
        series.into_values().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(
        name: &str,
        version: &str,
        at: u64,
        values: &[f64],
        correlation: &[&str],
    ) -> DataPoint {
        DataPoint {
            timestamp_ms: at,
            namespace: "N".into(),
            name: name.into(),
            unit: "Count".into(),
            dimensions: [("function_version".to_owned(), version.to_owned())].into(),
            values: values.to_vec(),
            correlation_ids: correlation.iter().map(|c| (*c).to_owned()).collect(),
        }
    }

    #[test]
    fn an_alarms_query_matches_exact_dimensions_or_the_publishers_rollup() {
        let store = MetricStore::default();
        let mut a = point("A", "1", 10, &[1.0], &[]);
        a.dimensions.insert("FunctionName".into(), "f".into());
        let mut b = a.clone();
        b.dimensions.insert("function_version".into(), "2".into());
        b.values = vec![5.0];
        store.put(a);
        store.put(b);
        let exact: BTreeMap<String, String> = [
            ("FunctionName".to_owned(), "f".to_owned()),
            ("function_version".to_owned(), "1".to_owned()),
        ]
        .into();
        assert_eq!(store.values("N", "A", &exact, &[], 0), [(10, 1.0)]);
        let by_function: BTreeMap<String, String> =
            [("FunctionName".to_owned(), "f".to_owned())].into();
        assert!(store.values("N", "A", &by_function, &[], 0).is_empty());
        assert_eq!(
            store.values("N", "A", &by_function, &["function_version"], 0),
            [(10, 1.0), (10, 5.0)]
        );
        assert!(
            store
                .values("N", "A", &by_function, &["function_version"], 11)
                .is_empty()
        );
        assert!(
            store
                .values("M", "A", &by_function, &["function_version"], 0)
                .is_empty()
        );
    }

    #[test]
    fn points_group_into_series_by_dimensions_and_filter_by_time_and_correlation() {
        let store = MetricStore::default();
        store.put(point("A", "1", 10, &[1.0], &["c1"]));
        store.put(point("A", "2", 20, &[2.0, 3.0], &["c2"]));
        store.put(point("A", "1", 30, &[4.0], &[]));
        store.put(point("B", "1", 40, &[5.0], &["c1"]));
        let all = store.series(&MetricQuery::default());
        assert_eq!(all.len(), 3);
        assert_eq!(all[0].points, [(10, 1.0), (30, 4.0)]);
        assert_eq!(all[1].points, [(20, 2.0), (20, 3.0)]);
        let a_since = store.series(&MetricQuery {
            name: Some("A".into()),
            since_ms: Some(15),
            ..MetricQuery::default()
        });
        assert_eq!(a_since.len(), 2);
        let c1 = store.series(&MetricQuery {
            correlation_id: Some("c1".into()),
            ..MetricQuery::default()
        });
        assert_eq!(
            c1.iter().map(|s| s.name.as_str()).collect::<Vec<_>>(),
            ["A", "B"]
        );
        assert_eq!(
            serde_json::to_value(&c1[0]).unwrap()["points"],
            serde_json::json!([[10, 1.0]])
        );
    }
}
