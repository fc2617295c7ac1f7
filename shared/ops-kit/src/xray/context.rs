//! The trace context of the work in progress, carried in a task-local.
//!
//! A Lambda invocation starts in the trace Lambda gives it (`Context::xray_trace_id`);
//! a queue consumer starts each record in the trace its message carries. Work inside
//! [`in_subsegment`] is the child of that subsegment, so AWS calls nest under the key
//! activity that made them. Everything here is a no-op unless the trace is sampled
//! and a sink is installed.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use ops_wire::trace::SegmentId;
use serde_json::Value;

use super::header::TraceHeader;
use super::segment::{emit, enabled, finished_subsegment};

/// The trace context of one piece of work.
#[derive(Clone, Debug)]
pub struct TraceScope {
    header: Option<TraceHeader>,
    annotations: Arc<Mutex<BTreeMap<String, Value>>>,
}

tokio::task_local! {
    static SCOPE: TraceScope;
}

impl TraceScope {
    /// A scope in the trace `header` describes (`None`: untraced).
    pub fn new(header: Option<TraceHeader>) -> Self {
        Self {
            header,
            annotations: Arc::default(),
        }
    }

    /// The trace header for calls made from this scope.
    pub fn header(&self) -> Option<&TraceHeader> {
        self.header.as_ref()
    }

    /// Whether subsegments are recorded here.
    pub fn is_recording(&self) -> bool {
        enabled()
            && self
                .header
                .as_ref()
                .is_some_and(|h| h.is_sampled() && h.parent.is_some())
    }

    fn annotations(&self) -> BTreeMap<String, Value> {
        self.annotations
            .lock()
            .map(|a| a.clone())
            .unwrap_or_default()
    }
}

/// Runs `work` in `scope`.
pub async fn in_scope<F: Future>(scope: TraceScope, work: F) -> F::Output {
    SCOPE.scope(scope, work).await
}

/// The current scope, if the work runs in one.
pub fn current_scope() -> Option<TraceScope> {
    SCOPE.try_with(Clone::clone).ok()
}

/// The trace header for an outgoing call or message from the current work: its trace,
/// with the current subsegment as parent.
pub fn current_header() -> Option<TraceHeader> {
    current_scope().and_then(|scope| scope.header)
}

/// Adds an annotation to every subsegment recorded from now on in the current scope
/// (and the scopes inside it). Keys are letters, digits and `_` (X-Ray's rule).
pub fn annotate(key: &str, value: impl Into<Value>) {
    if !key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
        return;
    }
    if let Some(scope) = current_scope()
        && let Ok(mut annotations) = scope.annotations.lock()
    {
        annotations.insert(key.to_owned(), value.into());
    }
}

/// Runs `work` as a subsegment called `name` of the current work, so that the AWS
/// calls inside it become its children. Errors are the caller's to report: this only
/// times and links.
pub async fn in_subsegment<F: Future>(name: &str, work: F) -> F::Output {
    let Some(scope) = current_scope().filter(TraceScope::is_recording) else {
        return work.await;
    };
    let Some(parent) = scope.header.clone() else {
        return work.await;
    };
    let id = SegmentId::generate();
    let inner = TraceScope {
        header: Some(parent.with_parent(id.clone())),
        annotations: Arc::clone(&scope.annotations),
    };
    let start = SystemTime::now();
    let output = SCOPE.scope(inner.clone(), work).await;
    let mut subsegment = finished_subsegment(parent, id, name, start);
    subsegment.annotations = inner.annotations();
    emit(&subsegment);
    output
}

/// The annotations of the current scope, for documents built elsewhere.
pub(crate) fn current_annotations() -> BTreeMap<String, Value> {
    current_scope()
        .map(|scope| scope.annotations())
        .unwrap_or_default()
}
