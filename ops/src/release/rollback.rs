//! `feedback-ops release rollback`: `live` back to the version before it (or a given
//! one that still exists), with any canary weight removed — through any Lambda API.

use aws_sdk_lambda::types::AliasRoutingConfiguration;

use super::sdk_error;

/// Why a rollback could not be made.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct RollbackError(pub String);

/// Points `function`'s `live` alias at `to`, or else at the newest version older than
/// its primary; answers `(from, to)`.
///
/// # Errors
/// [`RollbackError`] when the alias or the version does not exist, no older version is
/// left, or the API cannot be reached.
pub async fn rollback(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
    to: Option<&str>,
) -> Result<(String, String), RollbackError> {
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
    let target = match to {
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
            version.to_owned()
        }
        None => previous(lambda, function, &from).await?,
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
    Ok((from, target))
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
