//! Subsegment documents and where they go.
//!
//! Lambda's service records the function's own segment; the function adds independent
//! subsegments (one per AWS call, one per key activity), sent as UDP datagrams to the
//! X-Ray daemon address Lambda provides. UDP costs no round trip on the request path,
//! and a lost datagram loses a subsegment, never a request.

use std::collections::BTreeMap;
use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::{Arc, OnceLock};

use serde::Serialize;
use serde_json::Value;

/// One independent subsegment, as the daemon protocol carries it.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Subsegment {
    /// What it is: the service (`DynamoDB`, `SQS`) or the activity (`enqueue`).
    pub name: String,
    /// Its id: 16 hex digits.
    pub id: String,
    /// The trace it belongs to.
    pub trace_id: String,
    /// The segment or subsegment it is a child of.
    pub parent_id: String,
    /// Always `subsegment`: it is sent on its own, not inside its parent.
    #[serde(rename = "type")]
    pub kind: &'static str,
    /// Start, in seconds since the epoch.
    pub start_time: f64,
    /// End, in seconds since the epoch.
    pub end_time: f64,
    /// `aws` for calls to AWS services; absent for local work.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<&'static str>,
    /// A 4xx answer.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub error: bool,
    /// A 429 or throttling error.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub throttle: bool,
    /// A 5xx answer or no answer at all.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub fault: bool,
    /// Indexed values to search traces by (`correlation_id`, `comment_id`).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, Value>,
    /// For AWS calls: `operation`, `table_name` / `queue_url`, `request_id`, `retries`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub aws: Option<Value>,
    /// For AWS calls: `{"response": {"status": 200}}`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub http: Option<Value>,
}

/// The daemon protocol's header line, before each document.
pub const DAEMON_HEADER: &str = "{\"format\":\"json\",\"version\":1}\n";

/// Where subsegments go. Implement it to send them elsewhere (an OpenTelemetry
/// exporter, a test buffer); [`UdpDaemonSink`] is the X-Ray daemon.
pub trait SegmentSink: Send + Sync + 'static {
    /// Sends one finished subsegment. Must not block or fail the caller.
    fn send(&self, subsegment: &Subsegment);
}

static SINK: OnceLock<Arc<dyn SegmentSink>> = OnceLock::new();

/// Installs the process's sink. Returns `false` if one was already installed.
pub fn install_sink(sink: Arc<dyn SegmentSink>) -> bool {
    SINK.set(sink).is_ok()
}

/// Sends a subsegment to the installed sink, if any.
pub(crate) fn emit(subsegment: &Subsegment) {
    if let Some(sink) = SINK.get() {
        sink.send(subsegment);
    }
}

/// Whether a sink is installed (tracing is on).
pub(crate) fn enabled() -> bool {
    SINK.get().is_some()
}

/// Sends subsegments to the X-Ray daemon over UDP.
#[derive(Debug)]
pub struct UdpDaemonSink {
    socket: UdpSocket,
    daemon: SocketAddr,
}

impl UdpDaemonSink {
    /// A sink for `AWS_XRAY_DAEMON_ADDRESS`, which Lambda sets when active tracing is
    /// on (`127.0.0.1:2000`, or `udp:host:port tcp:host:port`). `None` when it is not
    /// set or not usable: the function then runs untraced.
    pub fn from_env() -> Option<Self> {
        let raw = std::env::var("AWS_XRAY_DAEMON_ADDRESS").ok()?;
        Self::new(&raw)
    }

    /// A sink for a daemon address in either of the forms above.
    pub fn new(raw: &str) -> Option<Self> {
        let udp = raw
            .split_whitespace()
            .find_map(|part| part.strip_prefix("udp:"))
            .unwrap_or_else(|| raw.trim());
        let daemon = udp.to_socket_addrs().ok()?.next()?;
        let bind = if daemon.is_ipv4() {
            "0.0.0.0:0"
        } else {
            "[::]:0"
        };
        let socket = UdpSocket::bind(bind).ok()?;
        socket.set_nonblocking(true).ok()?;
        Some(Self { socket, daemon })
    }
}

impl SegmentSink for UdpDaemonSink {
    fn send(&self, subsegment: &Subsegment) {
        let Ok(document) = serde_json::to_string(subsegment) else {
            return;
        };
        let datagram = format!("{DAEMON_HEADER}{document}");
        // Best effort by design: a full buffer or an absent daemon drops the datagram.
        let _ = self.socket.send_to(datagram.as_bytes(), self.daemon);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_of_the_daemon_address_are_understood() {
        assert!(UdpDaemonSink::new("127.0.0.1:2000").is_some());
        assert_eq!(
            UdpDaemonSink::new("tcp:127.0.0.1:2000 udp:127.0.0.1:2001").map(|s| s.daemon.port()),
            Some(2001)
        );
        assert!(UdpDaemonSink::new("not an address").is_none());
    }

    #[test]
    fn a_datagram_is_the_header_line_and_one_document() {
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        let sink = UdpDaemonSink::new(&receiver.local_addr().unwrap().to_string()).unwrap();
        sink.send(&Subsegment {
            name: "DynamoDB".into(),
            id: "0123456789abcdef".into(),
            trace_id: "1-5759e988-bd862e3fe1be46a994272793".into(),
            parent_id: "53995c3f42cd8ad8".into(),
            kind: "subsegment",
            start_time: 1.5,
            end_time: 2.5,
            namespace: Some("aws"),
            error: false,
            throttle: false,
            fault: true,
            annotations: BTreeMap::new(),
            aws: None,
            http: None,
        });
        let mut buffer = [0_u8; 2048];
        let length = receiver.recv(&mut buffer).unwrap();
        let datagram = std::str::from_utf8(&buffer[..length]).unwrap();
        let (header, document) = datagram.split_once('\n').unwrap();
        assert_eq!(format!("{header}\n"), DAEMON_HEADER);
        let document: Value = serde_json::from_str(document).unwrap();
        assert_eq!(document["type"], "subsegment");
        assert_eq!(document["fault"], true);
        assert!(document.get("error").is_none(), "false flags are left out");
    }
}
