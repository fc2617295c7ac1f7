//! A stand-in X-Ray daemon: a UDP socket that keeps every datagram it receives.

use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::net::UdpSocket;

/// Receives segment documents the way the X-Ray daemon does.
pub struct XrayDaemon {
    socket: UdpSocket,
}

/// One datagram: the protocol header line and the document after it.
#[derive(Debug, Clone)]
pub struct Datagram {
    /// The first line, which must be `{"format":"json","version":1}`.
    pub header: String,
    /// The segment document.
    pub document: Value,
}

impl XrayDaemon {
    /// Binds a free loopback port.
    ///
    /// # Panics
    /// When no port can be bound.
    pub async fn start() -> Self {
        Self {
            socket: UdpSocket::bind("127.0.0.1:0")
                .await
                .expect("bind a UDP port"),
        }
    }

    /// The value for `AWS_XRAY_DAEMON_ADDRESS`.
    ///
    /// # Panics
    /// Never, once bound.
    pub fn address(&self) -> String {
        self.socket.local_addr().expect("bound socket").to_string()
    }

    /// Every datagram that arrives until `quiet` passes without one.
    ///
    /// # Panics
    /// When a datagram is not UTF-8, has no header line, or its document is not JSON.
    pub async fn collect(&self, quiet: Duration) -> Vec<Datagram> {
        let mut datagrams = Vec::new();
        let mut buffer = vec![0_u8; 65_536];
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let Ok(received) = tokio::time::timeout(quiet, self.socket.recv(&mut buffer)).await
            else {
                break;
            };
            let length = received.expect("receive a datagram");
            let text = std::str::from_utf8(&buffer[..length]).expect("a UTF-8 datagram");
            let (header, document) = text.split_once('\n').expect("a header line and a document");
            datagrams.push(Datagram {
                header: header.to_owned(),
                document: serde_json::from_str(document).expect("a JSON segment document"),
            });
        }
        datagrams
    }
}
