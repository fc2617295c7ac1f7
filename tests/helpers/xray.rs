//! What a function process sends to X-Ray, collected on the local cloud's daemon.

use std::io::Write as _;
use std::process::{Command, Stdio};
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

/// AWS's X-Ray segment document schema, v1.0.0: a copy of the file AWS publishes.
pub const XRAY_SCHEMA: &str = "tests/schemas/xray-segmentdocument-schema-v1.0.0.json";

/// Checks `documents` (segments and subsegments, as the daemon receives them) against
/// [`XRAY_SCHEMA`] with `tools/xray-schema-check.py` and the `jsonschema` package moto
/// brings into the project's virtual environment.
///
/// # Panics
/// With every violation, one per line; or when the checker cannot run (the message
/// says what to install). An empty list is a failure too: there was nothing to check.
pub fn assert_xray_schema(documents: &[Value]) {
    assert!(!documents.is_empty(), "no X-Ray documents to check");
    let root = crate::workspace_root();
    let python = root.join(".venv/bin/python");
    let mut checker = Command::new(&python)
        .arg(root.join("tools/xray-schema-check.py"))
        .arg(root.join(XRAY_SCHEMA))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| {
            panic!(
                "cannot run {} ({e}): `make .venv` installs it",
                python.display()
            )
        });
    let input = serde_json::to_vec(documents).expect("documents as JSON");
    checker
        .stdin
        .take()
        .expect("the checker's stdin")
        .write_all(&input)
        .expect("write the documents to the checker");
    let output = checker.wait_with_output().expect("the checker ends");
    assert!(
        output.status.success(),
        "{} of {} X-Ray documents break AWS's segment document schema:\n{}{}",
        String::from_utf8_lossy(&output.stdout).lines().count(),
        documents.len(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violations(document: &Value) -> String {
        let documents = [document.clone()];
        let panic = std::panic::catch_unwind(|| assert_xray_schema(&documents))
            .expect_err("the document breaks the schema");
        panic.downcast_ref::<String>().cloned().unwrap_or_default()
    }

    #[test]
    fn a_valid_subsegment_passes_and_each_broken_rule_is_named() {
        let valid = serde_json::json!({
            "name": "DynamoDB",
            "id": "70de5b6f19ff9a0a",
            "trace_id": "1-581cf771-a006649127e371903a2de979",
            "parent_id": "70de5b6f19ff9a0b",
            "start_time": 1.7e9,
            "end_time": 1.7e9 + 0.01,
            "type": "subsegment",
            "namespace": "aws",
            "annotations": {"correlation_id": "demo-7f3a2c"},
        });
        assert_xray_schema(std::slice::from_ref(&valid));

        let mut short_id = valid.clone();
        short_id["id"] = "70de5b6f".into();
        assert!(violations(&short_id).contains("document 0 ('DynamoDB'): id:"));

        let mut bad_key = valid.clone();
        bad_key["annotations"] = serde_json::json!({"correlation-id": "x"});
        assert!(violations(&bad_key).contains("annotations"));

        // Only the subsegment definition knows `precursor_ids` must be an array.
        let mut bad_subsegment = valid;
        bad_subsegment["precursor_ids"] = "70de5b6f19ff9a0c".into();
        assert!(violations(&bad_subsegment).contains("precursor_ids"));
    }
}
