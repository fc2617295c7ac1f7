//! The X-Ray daemon: a UDP socket that receives segment documents in the daemon's
//! datagram format (a header line, then the document) and hands each to a sink.

use ops_wire::segment::SegmentDocument;
use tokio::net::UdpSocket;

/// A daemon listening on a free loopback port.
pub struct XrayDaemon {
    socket: UdpSocket,
    address: String,
}

/// What arrived in one datagram.
#[derive(Debug)]
pub enum Received {
    /// A segment document in the daemon's format.
    Segment(Box<SegmentDocument>),
    /// Anything else: not UTF-8, no header line, a wrong header, not a segment.
    Rejected(ops_wire::segment::DatagramError),
}

impl XrayDaemon {
    /// Binds a free loopback UDP port.
    ///
    /// # Errors
    /// When no port can be bound.
    pub async fn bind() -> std::io::Result<Self> {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        let address = socket.local_addr()?.to_string();
        Ok(Self { socket, address })
    }

    /// `127.0.0.1:PORT`: the value of `AWS_XRAY_DAEMON_ADDRESS`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// The next datagram.
    ///
    /// # Errors
    /// When the socket fails.
    pub async fn receive(&self) -> std::io::Result<Received> {
        let mut buffer = vec![0_u8; 65_536];
        let length = self.socket.recv(&mut buffer).await?;
        Ok(
            match ops_wire::segment::decode_datagram(&buffer[..length]) {
                Ok(document) => Received::Segment(Box::new(document)),
                Err(error) => Received::Rejected(error),
            },
        )
    }

    /// Receives until the socket fails, keeping every document in `store` as sent by
    /// `source`.
    pub async fn run(self, source: super::SegmentSource, store: super::TraceStore) {
        while let Ok(received) = self.receive().await {
            match received {
                Received::Segment(document) => store.put(source.clone(), *document),
                Received::Rejected(_) => store.reject_datagram(),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn segments_in_the_daemon_format_are_kept_and_anything_else_is_counted() {
        let daemon = XrayDaemon::bind().await.unwrap();
        let address = daemon.address().to_owned();
        let store = super::super::TraceStore::default();
        tokio::spawn(daemon.run(
            super::super::SegmentSource::Function("f".into()),
            store.clone(),
        ));
        let sender = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let document = r#"{"trace_id":"1-5e1b4151-5ac6c58f5b5dbd0e1ddc2a2b","id":"aaaaaaaaaaaaaaaa","name":"f","start_time":1.0,"end_time":2.0}"#;
        for datagram in [
            format!("{}\n{document}", ops_wire::segment::DAEMON_HEADER),
            format!("{{\"format\":\"json\",\"version\":2}}\n{document}"),
            document.to_owned(),
            format!("{}\nnot json", ops_wire::segment::DAEMON_HEADER),
        ] {
            sender.send_to(datagram.as_bytes(), &address).await.unwrap();
        }
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while store.rejected_datagrams() < 3 && std::time::Instant::now() < deadline {
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(store.rejected_datagrams(), 3);
        let trace = store.trace("1-5e1b4151-5ac6c58f5b5dbd0e1ddc2a2b").unwrap();
        assert_eq!(trace.len(), 1);
        assert_eq!(trace[0].source.label(), "f");
    }
}
