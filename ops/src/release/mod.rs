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

use crate::aws::sdk_config;

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
