//! `feedback-ops release`: the talk's OC3 tooling.
//!
//! | file | command |
//! |---|---|
//! | `deploy.rs` | `release deploy`: a release of a running local stack, through its ops API |
//! | `prune.rs` | `release prune`: keep n-3 (and whatever an alias or a deployment needs), delete the rest, on any Lambda API |
//! | `rollback.rs` | `release rollback`: `live` back to the previous (or a given) version, on any Lambda API |
//! | `classify.rs` | `release classify`: which functions a diff releases, with which risk and rollout |

pub mod classify;
pub mod deploy;
pub mod prune;
pub mod rollback;

pub use deploy::{ReleaseError, ReleaseRequest, deploy};

/// A Lambda client for AWS (the default credential chain and region) or, with
/// `endpoint`, any Lambda-compatible API (moto, the local stack).
pub async fn lambda_client(endpoint: Option<&str>, region: Option<&str>) -> aws_sdk_lambda::Client {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_owned()));
    }
    aws_sdk_lambda::Client::new(&loader.load().await)
}

/// What an SDK error says, in one line, with its cause (an unreachable endpoint, missing
/// credentials, the service's own message).
pub fn sdk_error<E: std::error::Error + 'static>(
    error: &aws_sdk_lambda::error::SdkError<E>,
) -> String {
    aws_sdk_lambda::error::DisplayErrorContext(error).to_string()
}
