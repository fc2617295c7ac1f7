//! `feedback-ops release`: the talk's OC3 tooling.
//!
//! | file | command |
//! |---|---|
//! | `deploy.rs` | `release deploy`: a release of a running local stack, through its ops API |
//! | `prune.rs` | `release prune`: keep n-3 (and whatever an alias or a deployment needs), delete the rest, on any Lambda API |
//! | `rollback.rs` | `release rollback`: `live` back to the previous (or a given) version, on any Lambda API |
//! | `classify.rs` | `release classify`: which functions a diff releases, with which risk and rollout |
//! | `codedeploy.rs` | the Lambda deployments CodeDeploy has in progress, and stopping one |

pub mod classify;
pub mod codedeploy;
pub mod deploy;
pub mod prune;
pub mod rollback;

pub use deploy::{ReleaseError, ReleaseRequest, deploy};

/// A Lambda client for AWS (the default credential chain and region) or, with
/// `endpoint`, any Lambda-compatible API (moto, the local stack).
pub async fn lambda_client(endpoint: Option<&str>, region: Option<&str>) -> aws_sdk_lambda::Client {
    aws_sdk_lambda::Client::new(&sdk_config(endpoint, region).await)
}

/// A CodeDeploy client for the same place as [`lambda_client`]'s.
pub async fn codedeploy_client(
    endpoint: Option<&str>,
    region: Option<&str>,
) -> aws_sdk_codedeploy::Client {
    aws_sdk_codedeploy::Client::new(&sdk_config(endpoint, region).await)
}

/// The SDK configuration for AWS (the default credential chain and region) or, with
/// `endpoint`, an AWS-compatible endpoint.
pub async fn sdk_config(endpoint: Option<&str>, region: Option<&str>) -> aws_config::SdkConfig {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(endpoint) = endpoint {
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(region) = region {
        loader = loader.region(aws_config::Region::new(region.to_owned()));
    }
    loader.load().await
}

/// What an SDK error says, in one line, with its cause (an unreachable endpoint, missing
/// credentials, the service's own message).
pub fn sdk_error<E: std::error::Error + 'static, R: std::fmt::Debug>(
    error: &aws_sdk_lambda::error::SdkError<E, R>,
) -> String {
    one_line(&aws_sdk_lambda::error::DisplayErrorContext(error).to_string())
}

/// An SDK error's text as one line; the credential chain's long account of every
/// provider it tried becomes what to do.
pub fn one_line(message: &str) -> String {
    if message.contains("no credentials found in chain") {
        return "no AWS credentials: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or pass --endpoint for a local Lambda API)".to_owned();
    }
    message.split_whitespace().collect::<Vec<_>>().join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_sdk_error_is_one_line_and_missing_credentials_say_what_to_do() {
        let chain = "dispatch failure: other: the credential provider was not enabled: no credentials found in chain. Attempted:\n  Environment: not set\n  Profile: not enabled";
        assert!(one_line(chain).starts_with("no AWS credentials: set AWS_PROFILE"));
        assert_eq!(one_line("a\n  b\tc"), "a b c");
    }
}
