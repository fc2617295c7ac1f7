//! `feedback-ops release prune`: the talk's "support for n-3 versions" for deployed
//! stacks. SAM publishes a version on every change and keeps them all; this keeps what
//! a rollback or a deployment in progress needs and deletes the rest, by the one rule
//! the local stack's deployments use (`local_cloud::codedeploy::prune::plan`), through
//! any Lambda-compatible API. It protects aliased versions itself: not every
//! Lambda-compatible API refuses to delete them.

use local_cloud::codedeploy::prune::{AliasRef, Decision, plan};
use serde::Serialize;

use super::codedeploy::InProgress;
use crate::aws::sdk_error;

/// One function's plan, and what happened to it.
#[derive(Clone, Debug, Serialize)]
pub struct FunctionPrune {
    /// The function name.
    pub function: String,
    /// Each published version: kept or deleted, and why.
    pub versions: Vec<Decision>,
    /// Versions the API refused to delete, with its reason (reported, not fatal).
    pub refused: Vec<(String, String)>,
}

/// What can stop a prune: the API could not be read at all.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct PruneError(pub String);

/// Every published version of `function` (paged).
///
/// # Errors
/// [`PruneError`] when the API cannot list them.
pub async fn versions(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
) -> Result<Vec<u64>, PruneError> {
    let mut numbers = Vec::new();
    let mut pages = lambda
        .list_versions_by_function()
        .function_name(function)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            PruneError(format!(
                "{function}: cannot list its versions: {}",
                sdk_error(&e)
            ))
        })?;
        numbers.extend(
            page.versions()
                .iter()
                .filter_map(|v| v.version()?.parse::<u64>().ok()),
        );
    }
    Ok(numbers)
}

/// Every alias of `function` (paged).
async fn aliases(
    lambda: &aws_sdk_lambda::Client,
    function: &str,
) -> Result<Vec<AliasRef>, PruneError> {
    let mut found = Vec::new();
    let mut pages = lambda
        .list_aliases()
        .function_name(function)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            PruneError(format!(
                "{function}: cannot list its aliases: {}",
                sdk_error(&e)
            ))
        })?;
        found.extend(page.aliases().iter().filter_map(|alias| {
            Some(AliasRef {
                name: alias.name()?.to_owned(),
                primary: alias.function_version()?.to_owned(),
                additional: alias
                    .routing_config()
                    .and_then(|r| r.additional_version_weights())
                    .map(|w| w.keys().cloned().collect())
                    .unwrap_or_default(),
            })
        }));
    }
    Ok(found)
}

/// Plans (and unless `dry_run`, carries out) the prune of each of `functions`, keeping
/// both versions of every deployment in `in_progress` (what CodeDeploy has not
/// finished; empty where CodeDeploy cannot be read).
///
/// # Errors
/// [`PruneError`] when a function's versions or aliases cannot be read (an unreachable
/// endpoint, missing credentials, an unknown function): nothing of it is deleted.
pub async fn prune(
    lambda: &aws_sdk_lambda::Client,
    functions: &[String],
    in_progress: &[InProgress],
    keep: usize,
    dry_run: bool,
) -> Result<Vec<FunctionPrune>, PruneError> {
    let mut report = Vec::new();
    for function in functions {
        let versions = versions(lambda, function).await?;
        let aliases = aliases(lambda, function).await?;
        let deployed: Vec<String> = in_progress
            .iter()
            .filter(|d| d.is_of(function))
            .flat_map(|d| [d.current_version.clone(), d.target_version.clone()])
            .collect();
        let decisions = plan(&versions, &aliases, &deployed, keep);
        let mut refused = Vec::new();
        if !dry_run {
            for decision in decisions.iter().filter(|d| !d.keep) {
                if let Err(error) = lambda
                    .delete_function()
                    .function_name(function)
                    .qualifier(&decision.version)
                    .send()
                    .await
                {
                    refused.push((decision.version.clone(), sdk_error(&error)));
                }
            }
        }
        report.push(FunctionPrune {
            function: function.clone(),
            versions: decisions,
            refused,
        });
    }
    Ok(report)
}

/// The report as lines: each version kept or deleted, and why.
pub fn lines(report: &[FunctionPrune], dry_run: bool) -> Vec<String> {
    let mut lines = Vec::new();
    for function in report {
        lines.push(function.function.clone());
        for decision in &function.versions {
            let refused = function
                .refused
                .iter()
                .find(|(v, _)| *v == decision.version);
            let verb = match (decision.keep, refused, dry_run) {
                (true, _, _) => "keep",
                (false, Some(_), _) => "refused",
                (false, None, true) => "would delete",
                (false, None, false) => "deleted",
            };
            let why = refused.map_or_else(
                || decision.why.clone(),
                |(_, e)| format!("{} — the API said: {e}", decision.why),
            );
            lines.push(format!("  {:>6}  {verb:<12}  {why}", decision.version));
        }
    }
    lines
}
