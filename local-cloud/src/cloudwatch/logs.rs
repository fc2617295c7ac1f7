//! CloudWatch Logs: log groups and streams. Every line a function or the platform writes
//! is kept as an event of its group and stream; a JSON line is read for the fields the
//! ops kit writes (level, correlation id, request id), so the console can filter on them.
//! Bounded: the oldest lines go first, so a demo can run all day.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use ops_wire::log_fields;
use serde::Serialize;
use serde_json::Value;

/// How many lines the store keeps.
const MAX_LOGS: usize = 50_000;

/// Who wrote a line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogSource {
    /// The function's own stdout or stderr.
    Function,
    /// Lambda's platform: `START`, `END`, `REPORT`, and the local cloud's notices.
    Platform,
}

/// One log line as CloudWatch Logs would keep it.
#[derive(Clone, Debug, Serialize)]
pub struct LogEntry {
    /// Increasing per store: `?after=` tails from here.
    pub seq: u64,
    /// Milliseconds since the epoch, when the line was read.
    pub timestamp_ms: u64,
    /// The log group.
    pub log_group: String,
    /// The log stream (one per execution environment, as in Lambda).
    pub log_stream: String,
    /// The function's name (`add-comments`).
    pub function: String,
    /// The version that wrote it.
    pub version: String,
    /// Who wrote it.
    pub source: LogSource,
    /// The level, from the JSON line (`INFO`, `ERROR`…) or the platform.
    pub level: Option<String>,
    /// The correlation id, from the JSON line.
    pub correlation_id: Option<String>,
    /// The Lambda request id the line belongs to.
    pub request_id: Option<String>,
    /// The line as written.
    pub message: String,
    /// The line parsed, when it is a JSON object.
    pub json: Option<Value>,
}

impl LogEntry {
    /// A line of `function`'s log group, stamped now; the store numbers it.
    pub fn new(
        function: &str,
        version: &str,
        log_group: &str,
        log_stream: &str,
        source: LogSource,
        message: String,
    ) -> Self {
        Self {
            seq: 0,
            timestamp_ms: crate::clock::now_ms(),
            log_group: log_group.to_owned(),
            log_stream: log_stream.to_owned(),
            function: function.to_owned(),
            version: version.to_owned(),
            source,
            level: None,
            correlation_id: None,
            request_id: None,
            message,
            json: None,
        }
    }

    /// Reads a JSON line for the fields the ops kit writes (and the request id of
    /// Lambda's own JSON lines); other lines stay as they are.
    pub(crate) fn parse_json(&mut self) {
        let Ok(json) = serde_json::from_str::<Value>(&self.message) else {
            return;
        };
        if !json.is_object() {
            return;
        }
        let text = |key: &str| json.get(key).and_then(Value::as_str).map(str::to_owned);
        self.level = self.level.take().or_else(|| text(log_fields::LEVEL));
        self.correlation_id = self
            .correlation_id
            .take()
            .or_else(|| text(log_fields::CORRELATION_ID));
        self.request_id = text(log_fields::LAMBDA_JSON_REQUEST_ID)
            .or_else(|| text(log_fields::LAMBDA_REQUEST_ID))
            .or(self.request_id.take());
        self.json = Some(json);
    }
}

/// Filters for [`LogStore::query`].
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

impl LogFilter {
    fn matches(&self, entry: &LogEntry, level: Option<&str>) -> bool {
        let equal = |wanted: &Option<String>, have: Option<&String>| {
            wanted.as_ref().is_none_or(|w| have == Some(w))
        };
        self.after.is_none_or(|after| entry.seq > after)
            && self
                .since_ms
                .is_none_or(|since| entry.timestamp_ms >= since)
            && equal(&self.function, Some(&entry.function))
            && equal(&self.version, Some(&entry.version))
            && level.is_none_or(|l| {
                entry
                    .level
                    .as_deref()
                    .is_some_and(|have| have.eq_ignore_ascii_case(l))
            })
            && equal(&self.correlation_id, entry.correlation_id.as_ref())
            && equal(&self.request_id, entry.request_id.as_ref())
            && self
                .text
                .as_ref()
                .is_none_or(|t| entry.message.contains(t.as_str()))
    }
}

/// Called with every line as it is stored, as `aws logs tail --follow` would show it.
pub type Tail = Arc<dyn Fn(&LogEntry) + Send + Sync>;

#[derive(Default)]
struct Inner {
    next_seq: u64,
    entries: VecDeque<LogEntry>,
    tail: Option<Tail>,
}

/// Every log group's lines, in the order they were written.
#[derive(Clone, Default)]
pub struct LogStore {
    inner: Arc<Mutex<Inner>>,
}

impl LogStore {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Calls `tail` with every line stored from now on.
    pub fn follow(&self, tail: Tail) {
        self.lock().tail = Some(tail);
    }

    /// Numbers and keeps `entry`; returns it as kept.
    pub fn put(&self, mut entry: LogEntry) -> LogEntry {
        let mut inner = self.lock();
        entry.seq = inner.next_seq;
        inner.next_seq += 1;
        if inner.entries.len() == MAX_LOGS {
            inner.entries.pop_front();
        }
        inner.entries.push_back(entry.clone());
        let tail = inner.tail.clone();
        drop(inner);
        if let Some(tail) = tail {
            tail(&entry);
        }
        entry
    }

    /// Lines matching `filter`, oldest first.
    pub fn query(&self, filter: &LogFilter) -> Vec<LogEntry> {
        let inner = self.lock();
        let matching: Vec<&LogEntry> = inner
            .entries
            .iter()
            .filter(|e| filter.matches(e, filter.level.as_deref()))
            .collect();
        let limit = filter.limit.unwrap_or(500);
        let skip = matching.len().saturating_sub(limit);
        matching.into_iter().skip(skip).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn line(function: &str, message: String) -> LogEntry {
        let mut entry = LogEntry::new(function, "1", "g", "s", LogSource::Function, message);
        entry.parse_json();
        entry
    }

    #[test]
    fn filters_match_levels_ids_and_text_and_tails_follow_the_sequence() {
        let store = LogStore::default();
        for (i, level) in ["INFO", "ERROR", "INFO"].into_iter().enumerate() {
            let function = if i == 2 { "b" } else { "a" };
            store.put(line(
                function,
                json!({"level": level, "correlation_id": format!("c{i}"), "lambda_request_id": "r"})
                    .to_string(),
            ));
        }
        store.put(line("a", "plain text line".into()));
        let errors = store.query(&LogFilter {
            level: Some("error".into()),
            ..LogFilter::default()
        });
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].correlation_id.as_deref(), Some("c1"));
        assert_eq!(errors[0].request_id.as_deref(), Some("r"));
        let tail = store.query(&LogFilter {
            after: Some(errors[0].seq),
            ..LogFilter::default()
        });
        assert_eq!(tail.len(), 2);
        assert_eq!(tail[0].function, "b");
        let text = store.query(&LogFilter {
            text: Some("plain".into()),
            ..LogFilter::default()
        });
        assert!(text[0].json.is_none() && text[0].level.is_none());
        let newest = store.query(&LogFilter {
            limit: Some(1),
            ..LogFilter::default()
        });
        assert_eq!(newest[0].message, "plain text line");
    }

    #[test]
    fn a_follower_sees_every_line_and_the_store_stays_bounded() {
        let store = LogStore::default();
        let seen = Arc::new(Mutex::new(0_usize));
        let counter = Arc::clone(&seen);
        store.follow(Arc::new(move |_| *counter.lock().unwrap() += 1));
        for i in 0..MAX_LOGS + 5 {
            store.put(line("a", format!("line {i}")));
        }
        assert_eq!(*seen.lock().unwrap(), MAX_LOGS + 5);
        let all = store.query(&LogFilter {
            limit: Some(usize::MAX),
            ..LogFilter::default()
        });
        assert_eq!(all.len(), MAX_LOGS);
        assert_eq!(all[0].message, "line 5");
    }
}
