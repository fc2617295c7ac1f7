//! `feedback-ops release rollback`: `live` back to the version before it (or a given
//! one that still exists), with any canary weight removed — through any Lambda API.
//! A CodeDeploy deployment of the function still in progress is stopped first (with
//! its automatic rollback), so it cannot move `live` again afterwards; without `--to`,
//! `live` then goes back to the version that deployment started from.

use std::time::Duration;

use aws_sdk_lambda::types::AliasRoutingConfiguration;
use serde::Serialize;

use super::codedeploy::{self, InProgress};
use crate::aws::sdk_error;

/// How long a stopped deployment may take to end before the rollback gives up.
const STOP_PATIENCE: Duration = Duration::from_mins(2);

/// What a rollback did.
#[derive(Clone, Debug, Serialize)]
pub struct Rolledback {
    /// The version `live` was on.
    pub from: String,
    /// The version `live` is on now.
    pub to: String,
    /// The deployment in progress that was stopped first, and its final status.
    pub stopped: Option<(String, String)>,
    /// Why CodeDeploy could not be read, when it could not: no deployment was stopped.
    pub codedeploy_error: Option<String>,
}

/// Why a rollback could not be made.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RollbackError(pub String);

/// Stops `function`'s deployment in progress, if `codedeploy` (where it can be read)
/// has one — after the alias and any `to` were checked, so a refused rollback changes
/// nothing — then points its `live` alias at `to`, or else at the version that
/// deployment started from, or else at the newest version older than live's primary.
///
/// # Errors
/// [`RollbackError`] when the alias or the version does not exist, no older version is
/// left, a deployment in progress could not be stopped, or the API cannot be reached.
pub async fn rollback(
    lambda: &aws_sdk_lambda::Client,
    codedeploy: &aws_sdk_codedeploy::Client,
    function: &str,
    to: Option<&str>,
) -> Result<Rolledback, RollbackError> {
    let live = lambda
        .get_alias()
        .function_name(function)
        .name("live")
        .send()
        .await
        .map_err(|e| {
            RollbackError(format!(
                "{function}: cannot read its live alias: {}",
                sdk_error(&e)
            ))
        })?;
    let from = live.function_version().unwrap_or_default().to_owned();
    // Everything is checked before anything changes: a refused version stops nothing.
    let to = match to {
        Some(version) => {
            lambda
                .get_function_configuration()
                .function_name(function)
                .qualifier(version)
                .send()
                .await
                .map_err(|e| {
                    RollbackError(format!(
                        "{function}: version {version} cannot be rolled back to: {}",
                        sdk_error(&e)
                    ))
                })?;
            Some(version.to_owned())
        }
        None => None,
    };
    let (in_progress, codedeploy_error) = match codedeploy::in_progress(codedeploy).await {
        Ok(all) => (all, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let deployment: Option<&InProgress> = in_progress.iter().find(|d| d.is_of(function));
    let stopped = match deployment {
        Some(deployment) => {
            let status = codedeploy::stop(codedeploy, &deployment.id, STOP_PATIENCE)
                .await
                .map_err(|e| RollbackError(format!("{function}: {e}")))?;
            Some((deployment.id.clone(), status))
        }
        None => None,
    };
    let target = match (to, deployment) {
        (Some(version), _) => version,
        (None, Some(deployment)) => deployment.current_version.clone(),
        (None, None) => previous(lambda, function, &from).await?,
    };
    lambda
        .update_alias()
        .function_name(function)
        .name("live")
        .function_version(&target)
        .routing_config(AliasRoutingConfiguration::builder().build())
        .send()
        .await
        .map_err(|e| RollbackError(format!("{function}: cannot update live: {}", sdk_error(&e))))?;
    Ok(Rolledback {
        from,
        to: target,
        stopped,
        codedeploy_error,
    })
}

/// The newest published version older than `live`.
async fn previous(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
    live: &str,
) -> Result<String, RollbackError> {
    let live: u64 = live.parse().map_err(|_| {
        RollbackError(format!(
            "{function}: live points to {live:?}, not a published version"
        ))
    })?;
    let older: Vec<u64> = super::prune::versions(lambda, function)
        .await
        .map_err(|e| RollbackError(e.0))?
        .into_iter()
        .filter(|v| *v < live)
        .collect();
    older
        .into_iter()
        .max()
        .map(|v| v.to_string())
        .ok_or_else(|| {
            RollbackError(format!(
                "{function}: no version older than {live} is left to roll back to"
            ))
        })
}
