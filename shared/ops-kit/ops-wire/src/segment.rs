//! X-Ray segment documents and the daemon's UDP datagram that carries them.
//!
//! A function sends each subsegment on its own, as one datagram to the daemon address
//! Lambda provides: a header line, a newline, one JSON document.
//!
//! ```text
//! {"format":"json","version":1}
//! {"trace_id":"1-5759e988-bd862e3fe1be46a994272793","id":"0123456789abcdef","parent_id":"53995c3f42cd8ad8","name":"DynamoDB","start_time":1.5,"end_time":2.5,"type":"subsegment","namespace":"aws"}
//! ```
//!
//! [`SegmentDocument`] types the fields of AWS's segment document schema (version 1.0.0)
//! that the ops kit writes or the local cloud reads. The rest (`subsegments`, `user`,
//! `service`, `sql`, `precursor_ids`…) is kept in [`SegmentDocument::other`], so a
//! document survives a round trip whole. `aws`, `http`, `metadata` and `cause` stay
//! JSON values: their members vary by origin and the schema leaves them open.

use std::collections::BTreeMap;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::trace::{SegmentId, TraceId};

/// The header line of every datagram, without its newline.
pub const DAEMON_HEADER: &str = r#"{"format":"json","version":1}"#;

/// The `type` of a subsegment sent on its own rather than inside its parent.
pub const SUBSEGMENT: &str = "subsegment";

/// How much of a wrong header line an error quotes.
const QUOTED_HEADER_CHARS: usize = 64;

/// One segment or independent subsegment document.
#[allow(
    clippy::struct_excessive_bools,
    reason = "the flags are the schema's own members, independent of each other"
)]
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SegmentDocument {
    /// The trace the document belongs to.
    pub trace_id: TraceId,
    /// The document's own id.
    pub id: SegmentId,
    /// The segment or subsegment this one is a child of; required for an independent
    /// subsegment, absent on a trace's root segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub parent_id: Option<SegmentId>,
    /// What it is: a service (`DynamoDB`), a function, or an activity (`enqueue`).
    pub name: String,
    /// Start, in seconds since the epoch (see [`epoch_seconds`]).
    pub start_time: f64,
    /// End, in seconds since the epoch; absent while [`Self::in_progress`].
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<f64>,
    /// Sent before the work ended; a later document with the same id completes it.
    #[serde(default, skip_serializing_if = "is_false")]
    pub in_progress: bool,
    /// [`SUBSEGMENT`] for a subsegment sent on its own; absent on a segment.
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// `aws` for a call to an AWS service, `remote` for another downstream call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The kind of resource that recorded a segment (`AWS::Lambda::Function`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
    /// A client error (4xx).
    #[serde(default, skip_serializing_if = "is_false")]
    pub error: bool,
    /// A server error (5xx) or no answer at all.
    #[serde(default, skip_serializing_if = "is_false")]
    pub fault: bool,
    /// Throttled (429 or a throttling error).
    #[serde(default, skip_serializing_if = "is_false")]
    pub throttle: bool,
    /// Indexed values to search traces by (`correlation_id`). X-Ray takes keys of
    /// letters, digits and `_`, and string, number or boolean values.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, Value>,
    /// AWS details: for a call, `operation`, `request_id`, `table_name` / `queue_url`,
    /// `retries`; for a function segment, `function`, `cold_start`…
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub aws: Option<Value>,
    /// HTTP details: `{"request": {…}, "response": {"status": 200}}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http: Option<Value>,
    /// Unindexed data, an object of objects by namespace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Value>,
    /// Why it failed: an exception object, or the 16-digit id of an exception recorded
    /// elsewhere.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cause: Option<Value>,
    /// Every other member, kept as read. Must not repeat a field above: it would be
    /// written twice.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

/// Why a datagram is not one segment document.
#[derive(Debug, thiserror::Error)]
pub enum DatagramError {
    /// The bytes are not UTF-8 text.
    #[error("the datagram is not UTF-8 text")]
    NotUtf8(#[source] std::str::Utf8Error),
    /// There is no newline: no header line before the document.
    #[error("the datagram has no header line; it must start with {DAEMON_HEADER} and a newline")]
    MissingHeader,
    /// The first line is not the daemon protocol's header.
    #[error("the datagram's header line is {found:?}, not {DAEMON_HEADER}")]
    WrongHeader {
        /// The start of the line found.
        found: String,
    },
    /// The document is not JSON or lacks a required field or has a malformed one.
    #[error("the datagram's document is not a segment")]
    NotASegment(#[source] serde_json::Error),
    /// The document parses but X-Ray would refuse it.
    #[error("the segment document is incomplete: {0}")]
    Incomplete(&'static str),
}

impl SegmentDocument {
    /// A document with the fields X-Ray requires and nothing else: set `end_time` (or
    /// `in_progress`) and, for an independent subsegment, `parent_id` and `kind` before
    /// sending it.
    pub fn new(trace_id: TraceId, id: SegmentId, name: impl Into<String>, start_time: f64) -> Self {
        Self {
            trace_id,
            id,
            parent_id: None,
            name: name.into(),
            start_time,
            end_time: None,
            in_progress: false,
            kind: None,
            namespace: None,
            origin: None,
            error: false,
            fault: false,
            throttle: false,
            annotations: BTreeMap::new(),
            aws: None,
            http: None,
            metadata: None,
            cause: None,
            other: Map::new(),
        }
    }

    /// Whether this is a subsegment sent on its own.
    pub fn is_subsegment(&self) -> bool {
        self.kind.as_deref() == Some(SUBSEGMENT)
    }
}

/// A datagram for the daemon: [`DAEMON_HEADER`], a newline, the document.
pub fn encode_datagram(document: &SegmentDocument) -> String {
    // Serialising string-keyed maps and plain values cannot fail; were it to, the empty
    // object is a datagram the daemon drops, which is what a failed send does anyway.
    let json = serde_json::to_string(document).unwrap_or_else(|_| "{}".to_owned());
    format!("{DAEMON_HEADER}\n{json}")
}

/// Reads one datagram as the daemon does.
///
/// The header line is compared as JSON (`format` is `"json"`, `version` is `1`), so
/// spacing and member order do not matter. The document must have X-Ray's required
/// fields, well-formed ids, and either an `end_time` or `in_progress`; an independent
/// subsegment must name its parent.
///
/// # Errors
/// [`DatagramError`] says what is wrong with the datagram.
pub fn decode_datagram(datagram: &[u8]) -> Result<SegmentDocument, DatagramError> {
    let text = std::str::from_utf8(datagram).map_err(DatagramError::NotUtf8)?;
    let (header, document) = text.split_once('\n').ok_or(DatagramError::MissingHeader)?;
    let header_ok = serde_json::from_str::<Value>(header)
        .is_ok_and(|h| h["format"] == "json" && h["version"] == 1);
    if !header_ok {
        return Err(DatagramError::WrongHeader {
            found: header.chars().take(QUOTED_HEADER_CHARS).collect(),
        });
    }
    let document: SegmentDocument =
        serde_json::from_str(document).map_err(DatagramError::NotASegment)?;
    if document.name.is_empty() {
        return Err(DatagramError::Incomplete("name is empty"));
    }
    if document.end_time.is_none() && !document.in_progress {
        return Err(DatagramError::Incomplete(
            "it has neither end_time nor in_progress",
        ));
    }
    if document.is_subsegment() && document.parent_id.is_none() {
        return Err(DatagramError::Incomplete(
            "an independent subsegment needs a parent_id",
        ));
    }
    Ok(document)
}

/// Seconds since the epoch with microsecond precision, as segment documents carry time.
pub fn epoch_seconds(time: SystemTime) -> f64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    // Whole microseconds keep the value exact in an f64 until 2^53 µs, 285 years after
    // 1970.
    let micros = since.as_secs() * 1_000_000 + u64::from(since.subsec_micros());
    #[allow(
        clippy::cast_precision_loss,
        reason = "exact below 2^53 microseconds, see above"
    )]
    let seconds = micros as f64 / 1_000_000.0;
    seconds
}

#[allow(
    clippy::trivially_copy_pass_by_ref,
    reason = "serde's skip_serializing_if passes a reference"
)]
fn is_false(value: &bool) -> bool {
    !*value
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use serde_json::json;

    use super::*;

    const ROOT: &str = "1-5759e988-bd862e3fe1be46a994272793";

    fn subsegment() -> SegmentDocument {
        let mut document = SegmentDocument::new(
            TraceId::parse(ROOT).unwrap(),
            SegmentId::parse("0123456789abcdef").unwrap(),
            "DynamoDB",
            1.5,
        );
        document.parent_id = Some(SegmentId::parse("53995c3f42cd8ad8").unwrap());
        document.end_time = Some(2.5);
        document.kind = Some(SUBSEGMENT.to_owned());
        document.namespace = Some("aws".to_owned());
        document.fault = true;
        document
    }

    fn datagram(document: &Value) -> Vec<u8> {
        format!("{DAEMON_HEADER}\n{document}").into_bytes()
    }

    #[test]
    fn a_datagram_is_the_header_line_and_one_document() {
        let encoded = encode_datagram(&subsegment());
        let (header, document) = encoded.split_once('\n').unwrap();
        assert_eq!(header, DAEMON_HEADER);
        let document: Value = serde_json::from_str(document).unwrap();
        assert_eq!(
            document,
            json!({
                "trace_id": ROOT, "id": "0123456789abcdef", "parent_id": "53995c3f42cd8ad8",
                "name": "DynamoDB", "start_time": 1.5, "end_time": 2.5,
                "type": "subsegment", "namespace": "aws", "fault": true,
            }),
            "false flags, empty annotations and absent values are left out"
        );
    }

    #[test]
    fn encode_then_decode_is_the_same_document() {
        let mut document = subsegment();
        document
            .annotations
            .insert("correlation_id".into(), json!("c-1"));
        document.aws = Some(json!({"operation": "PutItem", "table_name": "comments"}));
        document.http = Some(json!({"response": {"status": 500}}));
        let decoded = decode_datagram(encode_datagram(&document).as_bytes()).unwrap();
        assert_eq!(decoded, document);
    }

    #[test]
    fn unknown_members_survive_a_round_trip() {
        let original = json!({
            "trace_id": ROOT, "id": "53995c3f42cd8ad8", "name": "api", "start_time": 1.0,
            "end_time": 2.0, "origin": "AWS::ApiGateway::Stage", "user": "alice",
            "service": {"version": "3"},
            "subsegments": [{"id": "0123456789abcdef", "name": "x", "start_time": 1.1, "end_time": 1.2}],
            "metadata": {"debug": {"attempt": 2}},
            "cause": "0123456789abcdef",
        });
        let document = decode_datagram(&datagram(&original)).unwrap();
        assert_eq!(document.other.len(), 3, "{:?}", document.other.keys());
        assert_eq!(serde_json::to_value(&document).unwrap(), original);
    }

    #[test]
    fn an_in_progress_segment_needs_no_end_time() {
        let document = decode_datagram(&datagram(&json!({
            "trace_id": ROOT, "id": "53995c3f42cd8ad8", "name": "f", "start_time": 1.0,
            "in_progress": true,
        })))
        .unwrap();
        assert!(document.in_progress);
        assert_eq!(document.end_time, None);
    }

    #[test]
    fn a_reordered_or_spaced_header_is_still_the_header() {
        let document = serde_json::to_string(&subsegment()).unwrap();
        let datagram = format!("{{ \"version\": 1, \"format\": \"json\" }}\r\n{document}");
        assert!(decode_datagram(datagram.as_bytes()).is_ok());
    }

    #[test]
    fn datagrams_that_are_not_one_segment_are_rejected_with_the_reason() {
        let good = serde_json::to_string(&subsegment()).unwrap();
        let cases: Vec<(Vec<u8>, &str)> = vec![
            (b"\xff\xfe{}".to_vec(), "NotUtf8"),
            (DAEMON_HEADER.as_bytes().to_vec(), "MissingHeader"),
            (good.clone().into_bytes(), "MissingHeader"),
            (
                format!("{{\"format\":\"json\",\"version\":2}}\n{good}").into_bytes(),
                "WrongHeader",
            ),
            (
                format!("{{\"format\":\"text\",\"version\":1}}\n{good}").into_bytes(),
                "WrongHeader",
            ),
            (format!("\n{good}").into_bytes(), "WrongHeader"),
            (format!("{DAEMON_HEADER}\n").into_bytes(), "NotASegment"),
            (
                format!("{DAEMON_HEADER}\nnot json").into_bytes(),
                "NotASegment",
            ),
            (
                format!("{DAEMON_HEADER}\n{good}\n{good}").into_bytes(),
                "NotASegment",
            ),
            (
                format!("{DAEMON_HEADER}\n[1,2]").into_bytes(),
                "NotASegment",
            ),
            (
                datagram(
                    &json!({"id": "53995c3f42cd8ad8", "name": "x", "start_time": 1.0, "end_time": 2.0}),
                ),
                "NotASegment",
            ),
            (
                datagram(
                    &json!({"trace_id": "1-bad", "id": "53995c3f42cd8ad8", "name": "x", "start_time": 1.0, "end_time": 2.0}),
                ),
                "NotASegment",
            ),
            (
                datagram(
                    &json!({"trace_id": ROOT, "id": "short", "name": "x", "start_time": 1.0, "end_time": 2.0}),
                ),
                "NotASegment",
            ),
            (
                datagram(
                    &json!({"trace_id": ROOT, "id": "53995c3f42cd8ad8", "name": "x", "start_time": "1", "end_time": 2.0}),
                ),
                "NotASegment",
            ),
            (
                datagram(
                    &json!({"trace_id": ROOT, "id": "53995c3f42cd8ad8", "name": "x", "start_time": 1.0, "end_time": 2.0, "fault": "yes"}),
                ),
                "NotASegment",
            ),
            (
                datagram(
                    &json!({"trace_id": ROOT, "id": "53995c3f42cd8ad8", "name": "", "start_time": 1.0, "end_time": 2.0}),
                ),
                "Incomplete",
            ),
            (
                datagram(
                    &json!({"trace_id": ROOT, "id": "53995c3f42cd8ad8", "name": "x", "start_time": 1.0}),
                ),
                "Incomplete",
            ),
            (
                datagram(
                    &json!({"trace_id": ROOT, "id": "53995c3f42cd8ad8", "name": "x", "start_time": 1.0, "end_time": 2.0, "type": "subsegment"}),
                ),
                "Incomplete",
            ),
        ];
        for (bytes, expected) in cases {
            let error = decode_datagram(&bytes).unwrap_err();
            assert!(
                format!("{error:?}").starts_with(expected),
                "{:?}: {error:?}",
                String::from_utf8_lossy(&bytes)
            );
            assert!(!error.to_string().is_empty());
        }
    }

    #[test]
    fn a_wrong_header_is_quoted_but_not_at_any_length() {
        let header = "x".repeat(10_000);
        let error = decode_datagram(format!("{header}\n{{}}").as_bytes()).unwrap_err();
        assert!(error.to_string().len() < 200, "{error}");
    }

    #[test]
    fn a_non_finite_time_never_makes_a_datagram_the_reader_accepts() {
        let mut document = subsegment();
        document.start_time = f64::NAN;
        assert!(decode_datagram(encode_datagram(&document).as_bytes()).is_err());
    }

    #[test]
    fn epoch_seconds_keeps_microseconds() {
        let time = UNIX_EPOCH + Duration::new(1_700_000_000, 123_456_789);
        assert!((epoch_seconds(time) - 1_700_000_000.123_456).abs() < 1e-6);
        assert!(epoch_seconds(UNIX_EPOCH - Duration::from_secs(1)).abs() < f64::EPSILON);
    }
}
