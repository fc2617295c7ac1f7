//! Traces as the console reads them: a summary per trace (span, status, functions,
//! correlation ids) and a waterfall of spans with their depth.

use std::collections::{BTreeSet, HashMap};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::Segment;

/// A trace's status, as X-Ray's console colours it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TraceStatus {
    /// No error or fault.
    Ok,
    /// A client error (4xx) somewhere.
    Error,
    /// A fault (5xx or an invocation error) somewhere.
    Fault,
}

/// One trace in the list.
#[derive(Clone, Debug, Serialize)]
pub struct TraceSummary {
    /// The trace id.
    pub id: String,
    /// The name of the first document without a parent.
    pub root: Option<String>,
    /// The earliest start, seconds since the epoch.
    pub start_time: f64,
    /// From the earliest start to the latest end.
    pub duration_ms: f64,
    /// The worst status of any document.
    pub status: TraceStatus,
    /// The functions that took part.
    pub functions: BTreeSet<String>,
    /// The `correlation_id` annotations.
    pub correlation_ids: BTreeSet<String>,
    /// How many documents the trace has.
    pub segments: usize,
}

/// Filters for the trace list.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TraceFilter {
    /// Only traces a function took part in.
    pub function: Option<String>,
    /// Only traces of this status.
    pub status: Option<TraceStatus>,
    /// Only traces annotated with this correlation id.
    pub correlation_id: Option<String>,
    /// At most this many, the newest (default 100).
    pub limit: Option<usize>,
}

impl TraceFilter {
    /// Whether `summary` passes.
    pub fn matches(&self, summary: &TraceSummary) -> bool {
        self.status.is_none_or(|s| summary.status == s)
            && self
                .function
                .as_ref()
                .is_none_or(|f| summary.functions.contains(f))
            && self
                .correlation_id
                .as_ref()
                .is_none_or(|c| summary.correlation_ids.contains(c))
    }
}

/// A trace's summary.
pub fn summarize(trace_id: &str, segments: &[Segment]) -> TraceSummary {
    let mut start: Option<f64> = None;
    let mut end = 0.0_f64;
    let mut functions = BTreeSet::new();
    let mut correlation_ids = BTreeSet::new();
    let (mut error, mut fault) = (false, false);
    let mut root = None;
    for segment in segments {
        let document = &segment.document;
        start = Some(start.map_or(document.start_time, |s| s.min(document.start_time)));
        if let Some(e) = document.end_time {
            end = end.max(e);
        }
        error |= document.error;
        fault |= document.fault;
        if let super::SegmentSource::Function(name) = &segment.source {
            functions.insert(name.clone());
        }
        if document.origin.as_deref() == Some("AWS::Lambda::Function")
            && let Some(function) = document
                .aws
                .as_ref()
                .and_then(|aws| aws["function"].as_str())
        {
            functions.insert(function.to_owned());
        }
        if let Some(id) = document
            .annotations
            .get("correlation_id")
            .and_then(Value::as_str)
        {
            correlation_ids.insert(id.to_owned());
        }
        if document.parent_id.is_none() && root.is_none() {
            root = Some(document.name.clone());
        }
    }
    let status = if fault {
        TraceStatus::Fault
    } else if error {
        TraceStatus::Error
    } else {
        TraceStatus::Ok
    };
    TraceSummary {
        id: trace_id.to_owned(),
        root,
        start_time: start.unwrap_or(0.0),
        duration_ms: start.map_or(0.0, |start| ((end - start) * 1000.0).max(0.0)),
        status,
        functions,
        correlation_ids,
        segments: segments.len(),
    }
}

/// One row of a waterfall.
#[derive(Clone, Debug, Serialize)]
pub struct Span {
    /// The document's id.
    pub id: String,
    /// Its parent's id.
    pub parent_id: Option<String>,
    /// Its name.
    pub name: String,
    /// `host` or the function that sent it.
    pub source: String,
    /// `AWS::Lambda`, `AWS::SQS::Queue`…
    pub origin: Option<String>,
    /// `aws` or `remote` for a call.
    pub namespace: Option<String>,
    /// Seconds since the epoch.
    pub start_time: f64,
    /// Seconds since the epoch, unless in progress.
    pub end_time: Option<f64>,
    /// End − start.
    pub duration_ms: f64,
    /// A 4xx.
    pub error: bool,
    /// A 5xx or an invocation error.
    pub fault: bool,
    /// Throttled.
    pub throttle: bool,
    /// Its annotations.
    pub annotations: Value,
    /// Its `aws` member.
    pub aws: Option<Value>,
    /// Its `http` member.
    pub http: Option<Value>,
    /// How many ancestors it has in this trace.
    pub depth: usize,
}

/// A trace as spans for a waterfall, oldest first.
pub fn spans(segments: &[Segment]) -> Vec<Span> {
    let by_id: HashMap<String, &Segment> = segments
        .iter()
        .map(|s| (s.document.id.to_string(), s))
        .collect();
    let depth = |segment: &Segment| {
        let mut depth = 0;
        let mut current = segment;
        while let Some(parent) = &current.document.parent_id {
            match by_id.get(&parent.to_string()) {
                // A cycle in a hostile trace stops at 64.
                Some(next) if depth < 64 => {
                    depth += 1;
                    current = next;
                }
                _ => break,
            }
        }
        depth
    };
    let mut spans: Vec<Span> = segments
        .iter()
        .map(|segment| {
            let d = &segment.document;
            Span {
                id: d.id.to_string(),
                parent_id: d.parent_id.as_ref().map(ToString::to_string),
                name: d.name.clone(),
                source: segment.source.label().to_owned(),
                origin: d.origin.clone(),
                namespace: d.namespace.clone(),
                start_time: d.start_time,
                end_time: d.end_time,
                duration_ms: (d.end_time.unwrap_or(d.start_time) - d.start_time) * 1000.0,
                error: d.error,
                fault: d.fault,
                throttle: d.throttle,
                annotations: serde_json::to_value(&d.annotations).unwrap_or_default(),
                aws: d.aws.clone(),
                http: d.http.clone(),
                depth: depth(segment),
            }
        })
        .collect();
    spans.sort_by(|a, b| a.start_time.total_cmp(&b.start_time));
    spans
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::xray::SegmentSource;

    fn segment(source: SegmentSource, document: Value) -> Segment {
        Segment {
            source,
            document: serde_json::from_value(document).unwrap(),
        }
    }

    const TRACE: &str = "1-5e1b4151-5ac6c58f5b5dbd0e1ddc2a2b";

    #[test]
    fn spans_know_their_depth_and_summaries_their_status() {
        let segments = vec![
            segment(
                SegmentSource::Service,
                serde_json::json!({"id": "aaaaaaaaaaaaaaaa", "trace_id": TRACE, "name": "api",
                    "start_time": 1.0, "end_time": 2.0}),
            ),
            segment(
                SegmentSource::Function("f".into()),
                serde_json::json!({"id": "bbbbbbbbbbbbbbbb", "trace_id": TRACE,
                    "parent_id": "aaaaaaaaaaaaaaaa", "name": "x", "start_time": 1.1,
                    "end_time": 1.5, "fault": true, "annotations": {"correlation_id": "c"}}),
            ),
        ];
        let spans = spans(&segments);
        assert_eq!(spans[1].depth, 1);
        assert_eq!(spans[1].source, "f");
        let summary = summarize(TRACE, &segments);
        assert_eq!(summary.status, TraceStatus::Fault);
        assert_eq!(summary.root.as_deref(), Some("api"));
        assert_eq!(summary.correlation_ids, BTreeSet::from(["c".to_owned()]));
        assert!((summary.duration_ms - 1000.0).abs() < 1e-6);
        let filter = TraceFilter {
            status: Some(TraceStatus::Ok),
            ..TraceFilter::default()
        };
        assert!(!filter.matches(&summary));
        let filter = TraceFilter {
            function: Some("f".into()),
            correlation_id: Some("c".into()),
            ..TraceFilter::default()
        };
        assert!(filter.matches(&summary));
    }

    #[test]
    fn a_parent_cycle_does_not_loop() {
        let segments = vec![
            segment(
                SegmentSource::Service,
                serde_json::json!({"id": "aaaaaaaaaaaaaaaa", "trace_id": TRACE,
                    "parent_id": "bbbbbbbbbbbbbbbb", "name": "a", "start_time": 1.0, "end_time": 2.0}),
            ),
            segment(
                SegmentSource::Service,
                serde_json::json!({"id": "bbbbbbbbbbbbbbbb", "trace_id": TRACE,
                    "parent_id": "aaaaaaaaaaaaaaaa", "name": "b", "start_time": 1.0, "end_time": 2.0}),
            ),
        ];
        assert!(spans(&segments).iter().all(|s| s.depth <= 64));
    }
}
