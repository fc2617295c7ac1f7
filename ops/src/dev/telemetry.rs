//! What the local stack observes: log lines per log group, X-Ray segments per trace,
//! metric data points from EMF lines and from the host. Bounded: the oldest entries go
//! first, so a demo can run all day.

use std::collections::{BTreeMap, HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use serde::Serialize;
use serde_json::{Value, json};

const MAX_LOGS: usize = 50_000;
const MAX_TRACES: usize = 5_000;
const MAX_POINTS: usize = 100_000;

/// One log line as CloudWatch Logs would keep it.
#[derive(Clone, Debug, Serialize)]
pub struct LogEntry {
    /// Increasing per stack: `?after=` tails from here.
    pub seq: u64,
    /// Milliseconds since the epoch, when the host read the line.
    pub timestamp_ms: u64,
    /// The log group.
    pub log_group: String,
    /// The log stream (one per execution environment, as in Lambda).
    pub log_stream: String,
    /// The function's name (`add-comments`).
    pub function: String,
    /// The version that wrote it.
    pub version: String,
    /// `function` for the function's own output, `platform` for `START`/`END`/`REPORT`
    /// and the host's notices.
    pub source: &'static str,
    /// The level, from the JSON line (`INFO`, `ERROR`…), if it has one.
    pub level: Option<String>,
    /// The correlation id, from the JSON line.
    pub correlation_id: Option<String>,
    /// The Lambda request id the line belongs to.
    pub request_id: Option<String>,
    /// The line as written.
    pub message: String,
    /// The line parsed, when it is JSON.
    pub json: Option<Value>,
}

/// A metric data point.
#[derive(Clone, Debug, Serialize)]
pub struct DataPoint {
    /// Milliseconds since the epoch.
    pub timestamp_ms: u64,
    /// The namespace (`OnlineFeedback`, or `AWS/Lambda` for what the host measures).
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

/// A segment document and who sent it.
#[derive(Clone, Debug, Serialize)]
pub struct Segment {
    /// The function whose daemon address received it, or `host` for the facade segments
    /// the local Lambda and API Gateway record.
    pub source: String,
    /// The document.
    pub document: Value,
}

#[derive(Default)]
struct Inner {
    next_seq: u64,
    logs: VecDeque<LogEntry>,
    traces: HashMap<String, Vec<Segment>>,
    trace_order: VecDeque<String>,
    points: VecDeque<DataPoint>,
    rejected_datagrams: u64,
    echo: bool,
}

/// The stack's logs, traces and metrics.
#[derive(Clone, Default)]
pub struct Telemetry {
    inner: Arc<Mutex<Inner>>,
}

/// Filters for [`Telemetry::logs`].
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct LogFilter {
    /// Only this function.
    pub function: Option<String>,
    /// Only this version.
    pub version: Option<String>,
    /// Only this level (case-insensitive).
    pub level: Option<String>,
    /// Only lines with this correlation id.
    pub correlation_id: Option<String>,
    /// Only lines of this request.
    pub request_id: Option<String>,
    /// Only lines containing this text.
    pub text: Option<String>,
    /// Only lines after this sequence number (for a live tail).
    pub after: Option<u64>,
    /// Only lines at or after this time (ms since the epoch).
    pub since_ms: Option<u64>,
    /// At most this many, the newest (default 500).
    pub limit: Option<usize>,
}

/// Filters for the trace list (`GET /ops/api/traces`).
#[derive(Clone, Debug, Default, serde::Deserialize)]
pub struct TraceFilter {
    /// Only traces a function took part in.
    pub function: Option<String>,
    /// `ok`, `error` (4xx) or `fault` (5xx or an invocation error).
    pub status: Option<String>,
    /// Only traces annotated with this correlation id.
    pub correlation_id: Option<String>,
    /// At most this many, the newest (default 100).
    pub limit: Option<usize>,
}

/// A metric series: namespace, name and the dimensions as JSON.
type SeriesKey = (String, String, String);
/// A series' unit, dimensions and `[ms, value]` points.
type Series = (String, BTreeMap<String, String>, Vec<Value>);

/// Milliseconds since the epoch, now.
pub fn now_ms() -> u64 {
    u64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_millis(),
    )
    .unwrap_or(u64::MAX)
}

/// Seconds since the epoch, now, as X-Ray writes times.
pub fn now_secs() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

impl Telemetry {
    /// Prints every log line to stdout as it arrives (see [`super::echo_line`]).
    pub fn echo_to_stdout(&self) {
        self.lock().echo = true;
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps a log line; a JSON line is parsed for its level, correlation id and request
    /// id, and an EMF line also becomes metric data points. Returns the entry.
    pub fn log(&self, mut entry: LogEntry) -> LogEntry {
        if let Ok(json) = serde_json::from_str::<Value>(&entry.message)
            && json.is_object()
        {
            let text = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_owned);
            entry.level = entry.level.or_else(|| text("level"));
            entry.correlation_id = entry.correlation_id.or_else(|| text("correlation_id"));
            entry.request_id = text("request_id")
                .or_else(|| text("lambda_request_id"))
                .or(entry.request_id);
            if json.get("_aws").is_some() {
                for point in emf_points(&json) {
                    self.record_point(point);
                }
            }
            entry.json = Some(json);
        }
        let mut inner = self.lock();
        entry.seq = inner.next_seq;
        inner.next_seq += 1;
        if inner.logs.len() == MAX_LOGS {
            inner.logs.pop_front();
        }
        inner.logs.push_back(entry.clone());
        let echo = inner.echo;
        drop(inner);
        if echo && let Some(line) = super::echo_line(&entry) {
            use std::io::Write as _;
            let _ = writeln!(std::io::stdout().lock(), "{line}");
        }
        entry
    }

    /// Keeps a metric data point.
    pub fn record_point(&self, point: DataPoint) {
        let mut inner = self.lock();
        if inner.points.len() == MAX_POINTS {
            inner.points.pop_front();
        }
        inner.points.push_back(point);
    }

    /// Keeps a segment document.
    pub fn record_segment(&self, source: &str, document: Value) {
        let Some(trace_id) = document["trace_id"].as_str().map(str::to_owned) else {
            self.lock().rejected_datagrams += 1;
            return;
        };
        let mut inner = self.lock();
        if !inner.traces.contains_key(&trace_id) {
            if inner.trace_order.len() == MAX_TRACES
                && let Some(oldest) = inner.trace_order.pop_front()
            {
                inner.traces.remove(&oldest);
            }
            inner.trace_order.push_back(trace_id.clone());
        }
        inner.traces.entry(trace_id).or_default().push(Segment {
            source: source.to_owned(),
            document,
        });
    }

    /// Counts a datagram that was not a segment document.
    pub fn reject_datagram(&self) {
        self.lock().rejected_datagrams += 1;
    }

    /// How many datagrams were not segment documents.
    pub fn rejected_datagrams(&self) -> u64 {
        self.lock().rejected_datagrams
    }

    /// Log lines matching `filter`, oldest first.
    pub fn logs(&self, filter: &LogFilter) -> Vec<LogEntry> {
        let inner = self.lock();
        let level = filter.level.as_deref().map(str::to_ascii_uppercase);
        let matching: Vec<&LogEntry> = inner
            .logs
            .iter()
            .filter(|e| filter.after.is_none_or(|after| e.seq > after))
            .filter(|e| filter.since_ms.is_none_or(|since| e.timestamp_ms >= since))
            .filter(|e| filter.function.as_ref().is_none_or(|f| &e.function == f))
            .filter(|e| filter.version.as_ref().is_none_or(|v| &e.version == v))
            .filter(|e| {
                level.as_ref().is_none_or(|l| {
                    e.level.as_deref().map(str::to_ascii_uppercase).as_ref() == Some(l)
                })
            })
            .filter(|e| {
                filter
                    .correlation_id
                    .as_ref()
                    .is_none_or(|c| e.correlation_id.as_ref() == Some(c))
            })
            .filter(|e| {
                filter
                    .request_id
                    .as_ref()
                    .is_none_or(|r| e.request_id.as_ref() == Some(r))
            })
            .filter(|e| {
                filter
                    .text
                    .as_ref()
                    .is_none_or(|t| e.message.contains(t.as_str()))
            })
            .collect();
        let limit = filter.limit.unwrap_or(500);
        let skip = matching.len().saturating_sub(limit);
        matching.into_iter().skip(skip).cloned().collect()
    }

    /// Metric series: the data points grouped by namespace, name and dimensions.
    pub fn metric_series(
        &self,
        namespace: Option<&str>,
        name: Option<&str>,
        correlation_id: Option<&str>,
        since_ms: Option<u64>,
    ) -> Vec<Value> {
        let inner = self.lock();
        let mut series: BTreeMap<SeriesKey, Series> = BTreeMap::new();
        for point in inner
            .points
            .iter()
            .filter(|p| namespace.is_none_or(|n| p.namespace == n))
            .filter(|p| name.is_none_or(|n| p.name == n))
            .filter(|p| since_ms.is_none_or(|since| p.timestamp_ms >= since))
            .filter(|p| correlation_id.is_none_or(|c| p.correlation_ids.iter().any(|id| id == c)))
        {
            let key = (
                point.namespace.clone(),
                point.name.clone(),
                serde_json::to_string(&point.dimensions).unwrap_or_default(),
            );
            let entry = series
                .entry(key)
                .or_insert_with(|| (point.unit.clone(), point.dimensions.clone(), Vec::new()));
            for value in &point.values {
                entry.2.push(json!([point.timestamp_ms, value]));
            }
        }
        series
            .into_iter()
            .map(|((namespace, name, _), (unit, dimensions, points))| {
                json!({
                    "namespace": namespace,
                    "name": name,
                    "unit": unit,
                    "dimensions": dimensions,
                    "points": points,
                })
            })
            .collect()
    }

    /// Every segment of one trace.
    pub fn trace(&self, trace_id: &str) -> Option<Vec<Segment>> {
        self.lock().traces.get(trace_id).cloned()
    }

    /// Every trace, newest first.
    pub fn traces(&self) -> Vec<(String, Vec<Segment>)> {
        let inner = self.lock();
        inner
            .trace_order
            .iter()
            .rev()
            .filter_map(|id| inner.traces.get(id).map(|s| (id.clone(), s.clone())))
            .collect()
    }
}

/// The data points of one EMF line (CloudWatch's embedded metric format).
pub fn emf_points(line: &Value) -> Vec<DataPoint> {
    let timestamp_ms = line["_aws"]["Timestamp"].as_u64().unwrap_or_else(now_ms);
    let correlation_ids: Vec<String> = match &line["correlation_id"] {
        Value::String(id) => vec![id.clone()],
        Value::Array(ids) => ids
            .iter()
            .filter_map(|id| id.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let mut points = Vec::new();
    for directive in line["_aws"]["CloudWatchMetrics"]
        .as_array()
        .into_iter()
        .flatten()
    {
        let namespace = directive["Namespace"].as_str().unwrap_or_default();
        let dimension_sets: Vec<Vec<String>> = directive["Dimensions"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|set| {
                set.as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|d| d.as_str().map(str::to_owned))
                    .collect()
            })
            .collect();
        let dimension_sets = if dimension_sets.is_empty() {
            vec![Vec::new()]
        } else {
            dimension_sets
        };
        for metric in directive["Metrics"].as_array().into_iter().flatten() {
            let Some(name) = metric["Name"].as_str() else {
                continue;
            };
            let values: Vec<f64> = match &line[name] {
                Value::Array(items) => items.iter().filter_map(Value::as_f64).collect(),
                other => other.as_f64().into_iter().collect(),
            };
            if values.is_empty() {
                continue;
            }
            for set in &dimension_sets {
                points.push(DataPoint {
                    timestamp_ms,
                    namespace: namespace.to_owned(),
                    name: name.to_owned(),
                    unit: metric["Unit"].as_str().unwrap_or("None").to_owned(),
                    dimensions: set
                        .iter()
                        .map(|d| (d.clone(), line[d].as_str().unwrap_or_default().to_owned()))
                        .collect(),
                    values: values.clone(),
                    correlation_ids: correlation_ids.clone(),
                });
            }
        }
    }
    points
}

/// A trace's summary: its span, status, functions and correlation ids.
pub fn summarize(trace_id: &str, segments: &[Segment]) -> Value {
    let mut start: Option<f64> = None;
    let mut end = 0.0_f64;
    let mut functions = std::collections::BTreeSet::new();
    let mut correlation_ids = std::collections::BTreeSet::new();
    let (mut error, mut fault) = (false, false);
    let mut root_name = None;
    for segment in segments {
        let document = &segment.document;
        if let Some(s) = document["start_time"].as_f64() {
            start = Some(start.map_or(s, |start| start.min(s)));
        }
        if let Some(e) = document["end_time"].as_f64() {
            end = end.max(e);
        }
        error |= document["error"] == true;
        fault |= document["fault"] == true;
        if segment.source != "host" {
            functions.insert(segment.source.clone());
        }
        if document["origin"] == "AWS::Lambda::Function"
            && let Some(f) = document["aws"]["function"].as_str()
        {
            functions.insert(f.to_owned());
        }
        if let Some(id) = document["annotations"]["correlation_id"].as_str() {
            correlation_ids.insert(id.to_owned());
        }
        if document.get("parent_id").is_none() && root_name.is_none() {
            root_name = document["name"].as_str().map(str::to_owned);
        }
    }
    let status = if fault {
        "fault"
    } else if error {
        "error"
    } else {
        "ok"
    };
    json!({
        "id": trace_id,
        "root": root_name,
        "start_time": start.unwrap_or(0.0),
        "duration_ms": start.map_or(0.0, |start| ((end - start) * 1000.0).max(0.0)),
        "status": status,
        "functions": functions,
        "correlation_ids": correlation_ids,
        "segments": segments.len(),
    })
}

/// A trace as spans for a waterfall: each document with its depth, oldest first.
pub fn spans(segments: &[Segment]) -> Vec<Value> {
    let by_id: HashMap<&str, &Segment> = segments
        .iter()
        .filter_map(|s| s.document["id"].as_str().map(|id| (id, s)))
        .collect();
    let depth = |segment: &Segment| {
        let mut depth = 0;
        let mut current = segment;
        while let Some(parent) = current.document["parent_id"].as_str() {
            match by_id.get(parent) {
                Some(next) if depth < 64 => {
                    depth += 1;
                    current = next;
                }
                _ => break,
            }
        }
        depth
    };
    let mut spans: Vec<Value> = segments
        .iter()
        .map(|segment| {
            let d = &segment.document;
            json!({
                "id": d["id"],
                "parent_id": d["parent_id"],
                "name": d["name"],
                "source": segment.source,
                "origin": d["origin"],
                "namespace": d["namespace"],
                "start_time": d["start_time"],
                "end_time": d["end_time"],
                "duration_ms": (d["end_time"].as_f64().unwrap_or(0.0)
                    - d["start_time"].as_f64().unwrap_or(0.0)) * 1000.0,
                "error": d["error"] == true,
                "fault": d["fault"] == true,
                "throttle": d["throttle"] == true,
                "annotations": d["annotations"],
                "aws": d["aws"],
                "http": d["http"],
                "depth": depth(segment),
            })
        })
        .collect();
    spans.sort_by(|a, b| {
        a["start_time"]
            .as_f64()
            .unwrap_or(0.0)
            .total_cmp(&b["start_time"].as_f64().unwrap_or(0.0))
    });
    spans
}

/// Receives segment documents on a UDP socket, as the X-Ray daemon does, and keeps them
/// as sent by `source`.
pub async fn xray_daemon(socket: tokio::net::UdpSocket, source: String, telemetry: Telemetry) {
    let mut buffer = vec![0_u8; 65_536];
    while let Ok(length) = socket.recv(&mut buffer).await {
        let parsed = std::str::from_utf8(&buffer[..length])
            .ok()
            .and_then(|text| text.split_once('\n'))
            .filter(|(header, _)| {
                serde_json::from_str::<Value>(header)
                    .is_ok_and(|h| h["format"] == "json" && h["version"] == 1)
            })
            .and_then(|(_, document)| serde_json::from_str::<Value>(document).ok());
        match parsed {
            Some(document) => telemetry.record_segment(&source, document),
            None => telemetry.reject_datagram(),
        }
    }
}

#[cfg(test)]
mod tests {
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
        let points = emf_points(&line);
        assert_eq!(points.len(), 4);
        assert_eq!(points[0].name, "A");
        assert_eq!(points[0].values, [2.0]);
        assert_eq!(points[1].dimensions.len(), 2);
        assert_eq!(points[3].values, [1.5, 2.5]);
    }

    #[test]
    fn log_filters_and_tails() {
        let telemetry = Telemetry::default();
        for (i, level) in ["INFO", "ERROR", "INFO"].into_iter().enumerate() {
            telemetry.log(LogEntry {
                seq: 0,
                timestamp_ms: 1,
                log_group: "g".into(),
                log_stream: "s".into(),
                function: if i == 2 { "b".into() } else { "a".into() },
                version: "1".into(),
                source: "function",
                level: None,
                correlation_id: None,
                request_id: None,
                message: json!({"level": level, "correlation_id": format!("c{i}")}).to_string(),
                json: None,
            });
        }
        let errors = telemetry.logs(&LogFilter {
            level: Some("error".into()),
            ..LogFilter::default()
        });
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].correlation_id.as_deref(), Some("c1"));
        let tail = telemetry.logs(&LogFilter {
            after: Some(errors[0].seq),
            ..LogFilter::default()
        });
        assert_eq!(tail.len(), 1);
        assert_eq!(tail[0].function, "b");
    }

    #[test]
    fn spans_know_their_depth_and_summaries_their_status() {
        let segments = vec![
            Segment {
                source: "host".into(),
                document: json!({"id": "a", "trace_id": "t", "name": "api", "start_time": 1.0, "end_time": 2.0}),
            },
            Segment {
                source: "f".into(),
                document: json!({"id": "b", "trace_id": "t", "parent_id": "a", "name": "x",
                    "start_time": 1.1, "end_time": 1.5, "fault": true,
                    "annotations": {"correlation_id": "c"}}),
            },
        ];
        let spans = spans(&segments);
        assert_eq!(spans[1]["depth"], 1);
        let summary = summarize("t", &segments);
        assert_eq!(summary["status"], "fault");
        assert_eq!(summary["root"], "api");
        assert_eq!(summary["correlation_ids"], json!(["c"]));
        assert!((summary["duration_ms"].as_f64().unwrap() - 1000.0).abs() < 1e-6);
    }
}
