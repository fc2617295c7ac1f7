//! Trace assembly: every segment document, from the daemon or from the services the local
//! cloud plays (API Gateway, Lambda, SQS), kept by trace id. Bounded twice: the oldest
//! trace goes first, and one trace keeps at most [`MAX_SEGMENTS_PER_TRACE`] documents,
//! so a client that sends one fixed trace header cannot grow a trace without limit.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, MutexGuard};

use ops_wire::segment::SegmentDocument;
use serde::Serialize;

/// How many traces the store keeps.
const MAX_TRACES: usize = 5_000;
/// How many documents one trace keeps; later ones are counted as dropped.
pub const MAX_SEGMENTS_PER_TRACE: usize = 2_000;

/// Who recorded a segment.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SegmentSource {
    /// A function's own process, through its daemon address (the function's name).
    Function(String),
    /// A service the local cloud plays: API Gateway's stage, Lambda's facade, SQS.
    Service,
}

impl SegmentSource {
    /// `host` for a service, else the function's name: what the ops API shows.
    pub fn label(&self) -> &str {
        match self {
            Self::Function(name) => name,
            Self::Service => "host",
        }
    }
}

/// A segment document and who recorded it.
#[derive(Clone, Debug, Serialize)]
pub struct Segment {
    /// The function whose daemon address received it, or `host`.
    pub source: SegmentSource,
    /// The document.
    pub document: SegmentDocument,
}

/// Written as its label: the ops API's `source`.
impl Serialize for SegmentSource {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.label())
    }
}

#[derive(Default)]
struct Inner {
    traces: HashMap<String, Vec<Segment>>,
    order: VecDeque<String>,
    rejected_datagrams: u64,
    dropped_segments: u64,
}

/// Every trace, by id.
#[derive(Clone, Default)]
pub struct TraceStore {
    inner: Arc<Mutex<Inner>>,
}

impl TraceStore {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Keeps a segment document in its trace.
    pub fn put(&self, source: SegmentSource, document: SegmentDocument) {
        let trace_id = document.trace_id.to_string();
        let mut inner = self.lock();
        if !inner.traces.contains_key(&trace_id) {
            if inner.order.len() == MAX_TRACES
                && let Some(oldest) = inner.order.pop_front()
            {
                inner.traces.remove(&oldest);
            }
            inner.order.push_back(trace_id.clone());
        }
        let segments = inner.traces.entry(trace_id).or_default();
        if segments.len() < MAX_SEGMENTS_PER_TRACE {
            segments.push(Segment { source, document });
        } else {
            inner.dropped_segments += 1;
        }
    }

    /// Counts a datagram that was not a segment document.
    pub fn reject_datagram(&self) {
        self.lock().rejected_datagrams += 1;
    }

    /// How many datagrams were not segment documents.
    pub fn rejected_datagrams(&self) -> u64 {
        self.lock().rejected_datagrams
    }

    /// How many documents were dropped because their trace was full.
    pub fn dropped_segments(&self) -> u64 {
        self.lock().dropped_segments
    }

    /// Every segment of one trace.
    pub fn trace(&self, trace_id: &str) -> Option<Vec<Segment>> {
        self.lock().traces.get(trace_id).cloned()
    }

    /// Applies `visit` to every trace, newest first, until it returns `false`, under
    /// the store's lock: nothing is cloned that the caller does not keep.
    pub fn scan(&self, mut visit: impl FnMut(&str, &[Segment]) -> bool) {
        let inner = self.lock();
        for id in inner.order.iter().rev() {
            if let Some(segments) = inner.traces.get(id)
                && !visit(id, segments)
            {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document(trace: &str, id: usize) -> SegmentDocument {
        serde_json::from_value(serde_json::json!({
            "trace_id": trace,
            "id": format!("{id:016x}"),
            "name": "n",
            "start_time": 1.0,
            "end_time": 2.0,
        }))
        .unwrap()
    }

    const TRACE: &str = "1-5e1b4151-5ac6c58f5b5dbd0e1ddc2a2b";

    #[test]
    fn one_trace_cannot_grow_without_limit() {
        let store = TraceStore::default();
        for id in 0..MAX_SEGMENTS_PER_TRACE + 10 {
            store.put(SegmentSource::Service, document(TRACE, id));
        }
        assert_eq!(store.trace(TRACE).unwrap().len(), MAX_SEGMENTS_PER_TRACE);
        assert_eq!(store.dropped_segments(), 10);
    }

    #[test]
    fn the_oldest_trace_goes_first_and_scans_run_newest_first() {
        let store = TraceStore::default();
        for n in 0..=MAX_TRACES {
            let trace = format!("1-5e1b4151-{n:024x}");
            store.put(SegmentSource::Function("f".into()), document(&trace, 1));
        }
        assert!(store.trace(&format!("1-5e1b4151-{:024x}", 0)).is_none());
        let mut seen = Vec::new();
        store.scan(|id, _| {
            seen.push(id.to_owned());
            seen.len() < 2
        });
        assert_eq!(seen[0], format!("1-5e1b4151-{MAX_TRACES:024x}"));
        assert_eq!(seen.len(), 2);
    }
}
