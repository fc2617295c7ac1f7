//! The Lambda deployments CodeDeploy has not finished, read from their `AppSpec`s, and
//! stopping one: what `release prune` must not delete and what `release rollback` must
//! stop before it moves `live`. Works against AWS, and against the local stack's
//! CodeDeploy endpoint with `--endpoint`.

use std::time::{Duration, Instant};

use aws_sdk_codedeploy::types::{DeploymentStatus, RevisionLocation};
use serde::{Deserialize, Serialize};

use crate::aws::sdk_error;

/// A deployment's statuses before it ends.
const UNFINISHED: [DeploymentStatus; 4] = [
    DeploymentStatus::Created,
    DeploymentStatus::Queued,
    DeploymentStatus::InProgress,
    DeploymentStatus::Ready,
];

/// `BatchGetDeployments` takes at most this many ids.
const BATCH: usize = 25;

/// One function's deployment that has not ended.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InProgress {
    /// The deployment id (`d-…`).
    pub id: String,
    /// The function, as the `AppSpec` names it (a name or an ARN).
    pub function: String,
    /// The alias it shifts.
    pub alias: String,
    /// The version the alias was on when it began (a rollback goes back to it).
    pub current_version: String,
    /// The version it deploys.
    pub target_version: String,
}

impl InProgress {
    /// Whether this deployment is of `function` (a name or an ARN, either side).
    pub fn is_of(&self, function: &str) -> bool {
        bare_name(&self.function) == bare_name(function)
    }
}

/// A function name from a name, a partial or full ARN, with any qualifier dropped.
fn bare_name(function: &str) -> &str {
    match function.split_once("function:") {
        Some((_, rest)) => rest.split(':').next().unwrap_or(rest),
        None => function.split(':').next().unwrap_or(function),
    }
}

#[derive(Deserialize)]
struct AppSpec {
    #[serde(rename = "Resources", default)]
    resources: Vec<std::collections::BTreeMap<String, AppSpecResource>>,
}

#[derive(Deserialize)]
struct AppSpecResource {
    #[serde(rename = "Type", default)]
    kind: String,
    #[serde(rename = "Properties")]
    properties: AppSpecLambda,
}

#[derive(Deserialize)]
struct AppSpecLambda {
    #[serde(rename = "Name")]
    name: String,
    #[serde(rename = "Alias")]
    alias: String,
    #[serde(rename = "CurrentVersion")]
    current_version: String,
    #[serde(rename = "TargetVersion")]
    target_version: String,
}

/// The Lambda functions an `AppSpec` (JSON or YAML) deploys; none for a revision that is
/// not a Lambda `AppSpec`.
fn lambda_targets(id: &str, content: &str) -> Vec<InProgress> {
    let Ok(spec) = serde_norway::from_str::<AppSpec>(content) else {
        return Vec::new();
    };
    spec.resources
        .into_iter()
        .flat_map(std::collections::BTreeMap::into_values)
        .filter(|r| r.kind == "AWS::Lambda::Function")
        .map(|r| InProgress {
            id: id.to_owned(),
            function: r.properties.name,
            alias: r.properties.alias,
            current_version: r.properties.current_version,
            target_version: r.properties.target_version,
        })
        .collect()
}

fn content(revision: &RevisionLocation) -> Option<&str> {
    revision
        .app_spec_content()
        .and_then(|c| c.content())
        .or_else(|| revision.string().and_then(|s| s.content()))
}

/// Every Lambda deployment that has not ended, in the account and region.
///
/// # Errors
/// The one-line reason CodeDeploy could not be read (unreachable, no permission, not
/// offered by the endpoint).
pub async fn in_progress(
    codedeploy: &aws_sdk_codedeploy::Client,
) -> Result<Vec<InProgress>, String> {
    let mut ids = Vec::new();
    let mut pages = codedeploy
        .list_deployments()
        .set_include_only_statuses(Some(UNFINISHED.to_vec()))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| format!("cannot list deployments: {}", sdk_error(&e)))?;
        ids.extend(page.deployments().iter().cloned());
    }
    let mut found = Vec::new();
    for chunk in ids.chunks(BATCH) {
        let answer = codedeploy
            .batch_get_deployments()
            .set_deployment_ids(Some(chunk.to_vec()))
            .send()
            .await
            .map_err(|e| format!("cannot read deployments: {}", sdk_error(&e)))?;
        for info in answer.deployments_info() {
            let (Some(id), Some(content)) =
                (info.deployment_id(), info.revision().and_then(content))
            else {
                continue;
            };
            found.extend(lambda_targets(id, content));
        }
    }
    Ok(found)
}

/// Stops deployment `id` with automatic rollback and waits (up to `patience`) until
/// CodeDeploy says it has ended; answers its final status.
///
/// # Errors
/// The one-line reason it could not be stopped, or that it had not ended in time.
pub async fn stop(
    codedeploy: &aws_sdk_codedeploy::Client,
    id: &str,
    patience: Duration,
) -> Result<String, String> {
    codedeploy
        .stop_deployment()
        .deployment_id(id)
        .auto_rollback_enabled(true)
        .send()
        .await
        .map_err(|e| format!("cannot stop deployment {id}: {}", sdk_error(&e)))?;
    let started = Instant::now();
    loop {
        let status = codedeploy
            .get_deployment()
            .deployment_id(id)
            .send()
            .await
            .map_err(|e| format!("cannot read deployment {id}: {}", sdk_error(&e)))?
            .deployment_info()
            .and_then(|i| i.status().cloned());
        if let Some(status) = status.filter(|s| !UNFINISHED.contains(s)) {
            return Ok(status.as_str().to_owned());
        }
        if started.elapsed() > patience {
            return Err(format!(
                "deployment {id} was asked to stop but has not ended after {} s",
                patience.as_secs()
            ));
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_lambda_app_spec_in_json_or_yaml_names_the_function_and_both_versions() {
        let json = r#"{"version":0.0,"Resources":[{"Fn":{"Type":"AWS::Lambda::Function","Properties":{"Name":"s-AddComments","Alias":"live","CurrentVersion":"4","TargetVersion":"5"}}}]}"#;
        let yaml = "version: 0.0\nResources:\n  - Fn:\n      Type: AWS::Lambda::Function\n      Properties:\n        Name: s-AddComments\n        Alias: live\n        CurrentVersion: '4'\n        TargetVersion: '5'\n";
        for content in [json, yaml] {
            let found = lambda_targets("d-1", content);
            assert_eq!(
                found,
                [InProgress {
                    id: "d-1".into(),
                    function: "s-AddComments".into(),
                    alias: "live".into(),
                    current_version: "4".into(),
                    target_version: "5".into(),
                }]
            );
        }
        assert!(lambda_targets("d-2", "not an app spec: [").is_empty());
        assert!(
            lambda_targets(
                "d-3",
                r#"{"Resources":[{"Svc":{"Type":"AWS::ECS::Service","Properties":{}}}]}"#
            )
            .is_empty()
        );
    }

    #[test]
    fn a_deployment_matches_its_function_by_name_or_arn() {
        let deployment = InProgress {
            id: "d-1".into(),
            function: "arn:aws:lambda:eu-west-1:123456789012:function:s-AddComments".into(),
            alias: "live".into(),
            current_version: "1".into(),
            target_version: "2".into(),
        };
        assert!(deployment.is_of("s-AddComments"));
        assert!(
            deployment.is_of("arn:aws:lambda:eu-west-1:123456789012:function:s-AddComments:live")
        );
        assert!(!deployment.is_of("s-AddCommentsOld"));
    }
}
