//! What a function process sends to X-Ray, collected on the local cloud's daemon.

use std::time::{Duration, Instant};

use local_cloud::xray::Received;
use serde_json::Value;

/// The local cloud's X-Ray daemon, keeping every document for the test to read.
pub struct XrayDaemon {
    daemon: local_cloud::xray::XrayDaemon,
}

impl XrayDaemon {
    /// Binds a free loopback port.
    ///
    /// # Panics
    /// When no port can be bound.
    pub async fn start() -> Self {
        Self {
            daemon: local_cloud::xray::XrayDaemon::bind()
                .await
                .expect("bind a UDP port"),
        }
    }

    /// The value for `AWS_XRAY_DAEMON_ADDRESS`.
    pub fn address(&self) -> String {
        self.daemon.address().to_owned()
    }

    /// Every document that arrives until `quiet` passes without one, as JSON.
    ///
    /// # Panics
    /// When a datagram is not in the daemon's format (a header line, then a segment
    /// document): the daemon would drop it.
    pub async fn collect(&self, quiet: Duration) -> Vec<Value> {
        let mut documents = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            let Ok(received) = tokio::time::timeout(quiet, self.daemon.receive()).await else {
                break;
            };
            match received.expect("receive a datagram") {
                Received::Segment(document) => {
                    documents.push(serde_json::to_value(*document).expect("a document as JSON"));
                }
                Received::Rejected(error) => {
                    panic!("a datagram the X-Ray daemon would drop: {error}")
                }
            }
        }
        documents
    }
}
