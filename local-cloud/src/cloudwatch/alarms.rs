//! CloudWatch alarms: every `AWS::CloudWatch::Alarm` of the template, evaluated against
//! the local metrics as CloudWatch evaluates it (its statistic over its period, M out of
//! N datapoints, missing data as the alarm says), its state kept, and every state change
//! told to whoever watches (a deployment's rollback trigger, the console).
//!
//! A query names a metric's exact dimensions, as in CloudWatch; the AWS services publish
//! each data point under several dimension sets (Lambda by function, by alias or version,
//! and by executed version), which [`rollup`] stands for.

use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use super::MetricStore;
use super::alarm_eval::{AlarmSpec, AlarmState, Evaluation, evaluate};
use crate::cloudformation::AlarmResource;

/// The dimensions a service's metrics can be queried without, because the service
/// also publishes every point aggregated over them: `AWS/Lambda` by function name
/// alone or with `Resource` (an alias or version), `AWS/ApiGateway` by API and stage
/// without the detailed `Resource` and `Method`.
pub fn rollup(namespace: &str) -> &'static [&'static str] {
    match namespace {
        "AWS/Lambda" => &["Resource", "ExecutedVersion", "function"],
        "AWS/ApiGateway" => &["Resource", "Method"],
        _ => &[],
    }
}

/// A change of an alarm's state.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AlarmChange {
    /// The alarm (its logical id).
    pub name: String,
    /// The state before.
    pub from: AlarmState,
    /// The state now.
    pub to: AlarmState,
    /// Why, as CloudWatch words it.
    pub reason: String,
    /// When, ms since the epoch.
    pub at_ms: u64,
}

/// What the ops API shows of an alarm.
#[derive(Clone, Debug, Serialize)]
pub struct AlarmInfo {
    /// The logical id.
    pub name: String,
    /// `AlarmDescription`.
    pub description: String,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    pub state: AlarmState,
    /// Why it is in that state.
    pub reason: String,
    /// When the state last changed (ISO 8601).
    pub updated_at: String,
    /// The same, ms since the epoch.
    pub updated_at_ms: u64,
    /// What it watches and when it fires; `None` for an alarm the local cloud cannot
    /// evaluate (the reason says why).
    pub metric: Option<AlarmSpec>,
    /// The period, ms, as evaluated (the template's divided by the time scale).
    pub period_ms: u64,
    /// The statistic of each evaluated period, oldest first (`null`: no data).
    pub datapoints: Vec<Option<f64>>,
}

struct Entry {
    name: String,
    description: String,
    spec: Result<AlarmSpec, String>,
    state: AlarmState,
    reason: String,
    updated_at_ms: u64,
    datapoints: Vec<Option<f64>>,
}

/// The template's alarms, evaluated over one metric store.
#[derive(Clone)]
pub struct Alarms {
    entries: Arc<Mutex<Vec<Entry>>>,
    metrics: MetricStore,
    time_scale: f64,
    changes: broadcast::Sender<AlarmChange>,
}

fn iso(ms: u64) -> String {
    let nanos = i128::from(ms) * 1_000_000;
    time::OffsetDateTime::from_unix_timestamp_nanos(nanos)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

impl Alarms {
    /// Every alarm of `resources`, `INSUFFICIENT_DATA` until first evaluated, over
    /// `metrics`; periods last `1 / time_scale` of the template's.
    pub fn new(resources: &[AlarmResource], metrics: MetricStore, time_scale: f64) -> Self {
        let now = crate::clock::now_ms();
        let entries = resources
            .iter()
            .map(|resource| {
                let spec = AlarmSpec::from_properties(&resource.properties)
                    .map_err(|error| error.to_string());
                Entry {
                    name: resource.logical_id.clone(),
                    description: resource.description.clone(),
                    reason: match &spec {
                        Ok(_) => "Unchecked: Initial alarm creation".to_owned(),
                        Err(error) => format!("not evaluated locally: {error}"),
                    },
                    spec,
                    state: AlarmState::InsufficientData,
                    updated_at_ms: now,
                    datapoints: Vec::new(),
                }
            })
            .collect();
        Self {
            entries: Arc::new(Mutex::new(entries)),
            metrics,
            time_scale: if time_scale.is_finite() && time_scale > 0.0 {
                time_scale
            } else {
                1.0
            },
            changes: broadcast::channel(256).0,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Vec<Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A period of `spec`, ms, as evaluated.
    fn period_ms(&self, spec: &AlarmSpec) -> u64 {
        #[allow(
            clippy::cast_precision_loss,
            clippy::cast_possible_truncation,
            clippy::cast_sign_loss
        )]
        let scaled = (spec.period_secs as f64 * 1000.0 / self.time_scale) as u64;
        scaled.max(1)
    }

    /// Evaluates every alarm now; answers (and tells subscribers) the state changes.
    pub fn evaluate(&self) -> Vec<AlarmChange> {
        self.evaluate_at(crate::clock::now_ms())
    }

    fn evaluate_at(&self, now: u64) -> Vec<AlarmChange> {
        let mut changes = Vec::new();
        let mut entries = self.lock();
        for entry in entries.iter_mut() {
            let Ok(spec) = &entry.spec else { continue };
            let period = self.period_ms(spec);
            let window = period * (spec.evaluation_periods as u64 + 1);
            let points = self.metrics.values(
                &spec.namespace,
                &spec.metric_name,
                &spec.dimensions,
                rollup(&spec.namespace),
                now.saturating_sub(window),
            );
            let Evaluation {
                state,
                reason,
                datapoints,
            } = evaluate(spec, &points, now, period, entry.state);
            entry.datapoints = datapoints;
            if state != entry.state {
                let change = AlarmChange {
                    name: entry.name.clone(),
                    from: entry.state,
                    to: state,
                    reason: reason.clone(),
                    at_ms: now,
                };
                entry.state = state;
                entry.reason = reason;
                entry.updated_at_ms = now;
                changes.push(change);
            }
        }
        drop(entries);
        for change in &changes {
            let _ = self.changes.send(change.clone());
        }
        changes
    }

    /// Every alarm, as the ops API lists them.
    pub fn list(&self) -> Vec<AlarmInfo> {
        self.lock()
            .iter()
            .map(|entry| AlarmInfo {
                name: entry.name.clone(),
                description: entry.description.clone(),
                state: entry.state,
                reason: entry.reason.clone(),
                updated_at: iso(entry.updated_at_ms),
                updated_at_ms: entry.updated_at_ms,
                period_ms: entry.spec.as_ref().map_or(0, |spec| self.period_ms(spec)),
                metric: entry.spec.as_ref().ok().cloned(),
                datapoints: entry.datapoints.clone(),
            })
            .collect()
    }

    /// One alarm's state.
    pub fn state(&self, name: &str) -> Option<AlarmState> {
        self.lock().iter().find(|e| e.name == name).map(|e| e.state)
    }

    /// Every state change from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<AlarmChange> {
        self.changes.subscribe()
    }

    /// How often [`Alarms::run`] evaluates: an eighth of the shortest period, from
    /// 100 ms to 5 s.
    pub fn tick(&self) -> Duration {
        let shortest = self
            .lock()
            .iter()
            .filter_map(|e| e.spec.as_ref().ok().map(|spec| self.period_ms(spec)))
            .min()
            .unwrap_or(60_000);
        Duration::from_millis((shortest / 8).clamp(100, 5_000))
    }

    /// Evaluates every [`Alarms::tick`] until `stopping` is cancelled.
    pub async fn run(self, stopping: CancellationToken) {
        let tick = self.tick();
        loop {
            self.evaluate();
            tokio::select! {
                () = tokio::time::sleep(tick) => {}
                () = stopping.cancelled() => return,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudwatch::DataPoint;
    use serde_json::json;

    fn errors_alarm() -> AlarmResource {
        AlarmResource {
            logical_id: "FErrorsAlarm".into(),
            description: "f errors".into(),
            properties: json!({
                "Namespace": "AWS/Lambda", "MetricName": "Errors",
                "Dimensions": [{"Name": "FunctionName", "Value": "s-f"}, {"Name": "Resource", "Value": "s-f:live"}],
                "Statistic": "Sum", "Period": 60, "EvaluationPeriods": 1, "Threshold": 0,
                "ComparisonOperator": "GreaterThanThreshold", "TreatMissingData": "notBreaching"
            }),
        }
    }

    fn error_point(at: u64, resource: &str, version: &str) -> DataPoint {
        DataPoint {
            timestamp_ms: at,
            namespace: "AWS/Lambda".into(),
            name: "Errors".into(),
            unit: "Count".into(),
            dimensions: [
                ("FunctionName".to_owned(), "s-f".to_owned()),
                ("Resource".to_owned(), resource.to_owned()),
                ("ExecutedVersion".to_owned(), version.to_owned()),
                ("function".to_owned(), "f".to_owned()),
            ]
            .into(),
            values: vec![1.0],
            correlation_ids: Vec::new(),
        }
    }

    #[test]
    fn an_alias_alarm_sees_every_version_behind_the_alias_and_nothing_else() {
        let metrics = MetricStore::default();
        // 60 s periods at a time scale of 600: 100 ms.
        let alarms = Alarms::new(&[errors_alarm()], metrics.clone(), 600.0);
        let mut watching = alarms.subscribe();
        assert_eq!(
            alarms.state("FErrorsAlarm"),
            Some(AlarmState::InsufficientData)
        );
        // Periods of 100 ms from `base`.
        let base = 1_700_000_000_000;
        assert_eq!(alarms.evaluate_at(base)[0].to, AlarmState::Ok);
        assert!(
            alarms.evaluate_at(base + 10).is_empty(),
            "no change, no news"
        );

        // An error of a version invoked directly is not the alias's.
        metrics.put(error_point(base + 50, "s-f:7", "7"));
        assert!(alarms.evaluate_at(base + 150).is_empty());

        // An error of the canary version, through the alias, is; but only once its
        // period is complete.
        metrics.put(error_point(base + 250, "s-f:live", "7"));
        assert!(alarms.evaluate_at(base + 290).is_empty());
        let changes = alarms.evaluate_at(base + 350);
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].to, AlarmState::Alarm);
        assert_eq!(watching.try_recv().unwrap().to, AlarmState::Ok);
        assert_eq!(watching.try_recv().unwrap().to, AlarmState::Alarm);
        let listed = &alarms.list()[0];
        assert_eq!(listed.state, AlarmState::Alarm);
        assert_eq!(listed.period_ms, 100);
        assert!(
            listed.updated_at.starts_with("2023"),
            "{}",
            listed.updated_at
        );

        // A period later, with no errors, it is OK again.
        assert_eq!(alarms.evaluate_at(base + 450)[0].to, AlarmState::Ok);
    }

    #[test]
    fn an_alarm_the_local_cloud_cannot_evaluate_says_why() {
        let alarms = Alarms::new(
            &[AlarmResource {
                logical_id: "MathAlarm".into(),
                description: String::new(),
                properties: json!({"Metrics": [], "EvaluationPeriods": 1, "Threshold": 1,
                    "ComparisonOperator": "GreaterThanThreshold"}),
            }],
            MetricStore::default(),
            1.0,
        );
        assert!(alarms.evaluate().is_empty());
        let listed = &alarms.list()[0];
        assert!(listed.metric.is_none());
        assert!(
            listed.reason.starts_with("not evaluated locally"),
            "{}",
            listed.reason
        );
    }

    #[test]
    fn rollups_are_the_services_aggregations() {
        assert!(rollup("AWS/Lambda").contains(&"ExecutedVersion"));
        assert_eq!(rollup("AWS/ApiGateway"), ["Resource", "Method"]);
        assert!(rollup("OnlineFeedback").is_empty());
    }
}
