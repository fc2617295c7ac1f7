//! The backend: moto (or any AWS-compatible endpoint given with `--endpoint`) as DynamoDB
//! and SQS, and the template's tables and queues provisioned in it.
//!
//! | file | owns |
//! |---|---|
//! | `moto.rs` | starting moto and making sure it stops |
//! | `provision.rs` | creating the stack's tables (keys, indexes, TTL) and queues (redrive) |
//! | `fault_proxy.rs` | the proxy between the functions and moto that throttles, fails and slows their calls on demand |

pub mod fault_proxy;
mod moto;
mod provision;

use std::path::PathBuf;

pub use fault_proxy::{BackendFaults, CallStats, FaultProxy, ProxyCounts};
pub use moto::{MOTO_VERSION, Moto, moto_path};
pub use provision::provision;

/// Why the backend is not there.
#[derive(Debug, thiserror::Error)]
pub enum BackendError {
    /// moto is not installed where it was looked for.
    #[error(
        "moto is not installed at {0}: run `make demo` or `make test` (they install moto {MOTO_VERSION} into .venv), or pass --endpoint URL"
    )]
    MotoMissing(PathBuf),
    /// moto did not start, or no port was free.
    #[error("{0}")]
    Start(String),
    /// The endpoint refused to create a resource.
    #[error("{resource}: {detail}")]
    Provision {
        /// The table or queue.
        resource: String,
        /// What the endpoint said.
        detail: String,
    },
}

/// A free loopback TCP port (bound, read, released).
///
/// # Errors
/// When no port can be bound.
pub fn free_port() -> Result<u16, BackendError> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .map_err(|e| BackendError::Start(format!("no free loopback port: {e}")))
}

/// The SDK configuration for a local endpoint: test credentials, one region.
pub async fn sdk_config(endpoint: &str, region: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(region.to_owned()))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "local",
        ))
        .load()
        .await
}

/// What a function process needs to reach the backend: the region, test credentials
/// and the endpoint, as Lambda and the SDK read them.
pub fn function_env(endpoint: &str, region: &str) -> Vec<(String, String)> {
    [
        ("AWS_REGION", region),
        ("AWS_DEFAULT_REGION", region),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_SESSION_TOKEN", "testing"),
        ("AWS_ENDPOINT_URL", endpoint),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}
