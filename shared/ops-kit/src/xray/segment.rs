//! Where subsegment documents go.
//!
//! Lambda's service records the function's own segment; the function adds independent
//! subsegments (one per AWS call, one per key activity), sent as UDP datagrams to the
//! X-Ray daemon address Lambda provides. UDP costs no round trip on the request path,
//! and a lost datagram loses a subsegment, never a request. The document and the
//! datagram are [`ops_wire::segment`]'s, which the local cloud's X-Ray reads.

use std::net::{SocketAddr, ToSocketAddrs, UdpSocket};
use std::sync::{Arc, OnceLock};
use std::time::SystemTime;

use ops_wire::segment::{SUBSEGMENT, SegmentDocument, encode_datagram, epoch_seconds};
use ops_wire::trace::SegmentId;

use super::header::TraceHeader;

/// Where subsegments go. Implement it to send them elsewhere (an OpenTelemetry
/// exporter, a test buffer); [`UdpDaemonSink`] is the X-Ray daemon.
pub trait SegmentSink: Send + Sync + 'static {
    /// Sends one finished subsegment. Must not block or fail the caller.
    fn send(&self, subsegment: &SegmentDocument);
}

static SINK: OnceLock<Arc<dyn SegmentSink>> = OnceLock::new();

/// Installs the process's sink. Returns `false` if one was already installed.
pub fn install_sink(sink: Arc<dyn SegmentSink>) -> bool {
    SINK.set(sink).is_ok()
}

/// Sends a subsegment to the installed sink, if any.
pub(crate) fn emit(subsegment: &SegmentDocument) {
    if let Some(sink) = SINK.get() {
        sink.send(subsegment);
    }
}

/// An independent subsegment `id` of the work `trace` describes (its trace, its
/// parent), from `started` until now.
pub(crate) fn finished_subsegment(
    trace: TraceHeader,
    id: SegmentId,
    name: &str,
    started: SystemTime,
) -> SegmentDocument {
    let mut subsegment = SegmentDocument::new(trace.root, id, name, epoch_seconds(started));
    subsegment.parent_id = trace.parent;
    subsegment.kind = Some(SUBSEGMENT.to_owned());
    subsegment.end_time = Some(epoch_seconds(SystemTime::now()));
    subsegment
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
    fn send(&self, subsegment: &SegmentDocument) {
        let datagram = encode_datagram(subsegment);
        // Best effort by design: a full buffer or an absent daemon drops the datagram.
        let _ = self.socket.send_to(datagram.as_bytes(), self.daemon);
    }
}

#[cfg(test)]
mod tests {
    use ops_wire::segment::{SUBSEGMENT, decode_datagram};
    use ops_wire::trace::{SegmentId, TraceId};

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
    fn a_datagram_is_one_document_the_daemon_reads() {
        let receiver = UdpSocket::bind("127.0.0.1:0").unwrap();
        let sink = UdpDaemonSink::new(&receiver.local_addr().unwrap().to_string()).unwrap();
        let mut sent = SegmentDocument::new(
            TraceId::parse("1-5759e988-bd862e3fe1be46a994272793").unwrap(),
            SegmentId::parse("0123456789abcdef").unwrap(),
            "DynamoDB",
            1.5,
        );
        sent.parent_id = Some(SegmentId::parse("53995c3f42cd8ad8").unwrap());
        sent.kind = Some(SUBSEGMENT.to_owned());
        sent.end_time = Some(2.5);
        sent.namespace = Some("aws".to_owned());
        sent.fault = true;
        sink.send(&sent);

        let mut buffer = [0_u8; 2048];
        let length = receiver.recv(&mut buffer).unwrap();
        assert_eq!(decode_datagram(&buffer[..length]).unwrap(), sent);
        let document = std::str::from_utf8(&buffer[..length])
            .unwrap()
            .split_once('\n')
            .unwrap()
            .1;
        assert!(
            !document.contains("\"error\""),
            "false flags are left out: {document}"
        );
    }
}
