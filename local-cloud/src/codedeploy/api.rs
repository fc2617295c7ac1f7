//! The CodeDeploy API as a hook and the release tools use it, in CodeDeploy's JSON 1.1
//! protocol (`POST /` with `X-Amz-Target: CodeDeploy_20141006.<Operation>`), so an AWS
//! SDK client reaches the local stack through `AWS_ENDPOINT_URL_CODEDEPLOY` (the hook)
//! or `--endpoint` (`feedback-ops release`):
//!
//! - `PutLifecycleEventHookExecutionStatus`: the hook's verdict;
//! - `ListDeployments` (with `includeOnlyStatuses`), `GetDeployment`,
//!   `BatchGetDeployments`: each deployment with its Lambda `AppSpec` (function, alias,
//!   `CurrentVersion`, `TargetVersion`), as CloudFormation's deployments carry it;
//! - `StopDeployment`: stops one in progress; the local stack always rolls the alias
//!   back, as `autoRollbackEnabled: true` does.
//!
//! The local stack has one application and a deployment group per function; the
//! application and group filters of `ListDeployments` are accepted and not applied.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use super::{Deployment, Deployments};

/// The target prefix of CodeDeploy's operations.
pub const TARGET_PREFIX: &str = "CodeDeploy_20141006.";

/// Whether a request is a CodeDeploy API call (by its `X-Amz-Target`).
pub fn is_codedeploy(headers: &HeaderMap) -> bool {
    headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.starts_with(TARGET_PREFIX))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ListRequest {
    #[serde(default)]
    include_only_statuses: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GetRequest {
    deployment_id: String,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct BatchGetRequest {
    deployment_ids: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PutStatus {
    deployment_id: String,
    lifecycle_event_hook_execution_id: String,
    status: String,
}

/// A refused call: its status, CodeDeploy's error type and a message.
struct Failure(StatusCode, &'static str, String);

fn error(status: StatusCode, error_type: &'static str, message: &str) -> Failure {
    Failure(status, error_type, message.to_owned())
}

impl IntoResponse for Failure {
    fn into_response(self) -> Response {
        let Self(status, error_type, message) = self;
        let mut response = (
            status,
            [("content-type", "application/x-amz-json-1.1")],
            json!({"__type": error_type, "message": message}).to_string(),
        )
            .into_response();
        response
            .headers_mut()
            .insert("x-amzn-errortype", HeaderValue::from_static(error_type));
        response
    }
}

/// Answers one CodeDeploy call.
pub fn answer(deployments: &Deployments, headers: &HeaderMap, body: &[u8]) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let operation = target.strip_prefix(TARGET_PREFIX).unwrap_or_default();
    let result = match operation {
        "PutLifecycleEventHookExecutionStatus" => {
            parse(body).and_then(|request| put_hook_status(deployments, &request))
        }
        "ListDeployments" => parse(body).map(|request| list(deployments, &request)),
        "GetDeployment" => parse::<GetRequest>(body).and_then(|request| {
            Ok(json!({"deploymentInfo": info(&find(deployments, &request.deployment_id)?)}))
        }),
        "BatchGetDeployments" => parse(body).map(|request| batch_get(deployments, &request)),
        "StopDeployment" => parse(body).and_then(|request| stop(deployments, &request)),
        _ => Err(error(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            &format!(
                "{target}: the local stack answers PutLifecycleEventHookExecutionStatus, ListDeployments, GetDeployment, BatchGetDeployments and StopDeployment"
            ),
        )),
    };
    match result {
        Ok(answer) => (
            StatusCode::OK,
            [("content-type", "application/x-amz-json-1.1")],
            answer.to_string(),
        )
            .into_response(),
        Err(failure) => failure.into_response(),
    }
}

fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, Failure> {
    serde_json::from_slice(body).map_err(|e| {
        error(
            StatusCode::BAD_REQUEST,
            "InvalidInputException",
            &format!("the request does not fit the operation: {e}"),
        )
    })
}

fn find(deployments: &Deployments, id: &str) -> Result<Deployment, Failure> {
    deployments.get(id).ok_or_else(|| {
        error(
            StatusCode::BAD_REQUEST,
            "DeploymentDoesNotExistException",
            &format!("deployment {id} does not exist"),
        )
    })
}

fn put_hook_status(deployments: &Deployments, request: &PutStatus) -> Result<Value, Failure> {
    match deployments.report_hook(
        &request.deployment_id,
        &request.lifecycle_event_hook_execution_id,
        &request.status,
    ) {
        Ok(()) => {
            Ok(json!({"lifecycleEventHookExecutionId": request.lifecycle_event_hook_execution_id}))
        }
        Err(super::HookReportError::InvalidStatus(status)) => Err(error(
            StatusCode::BAD_REQUEST,
            "InvalidLifecycleEventHookExecutionStatusException",
            &format!("{status:?} is not Succeeded or Failed"),
        )),
        Err(e @ super::HookReportError::NotWaiting(..)) => Err(error(
            StatusCode::BAD_REQUEST,
            "LifecycleEventAlreadyCompletedException",
            &e.to_string(),
        )),
    }
}

/// A deployment's status by CodeDeploy's name for it.
fn status_name(deployment: &Deployment) -> String {
    serde_json::to_value(deployment.status)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}

fn list(deployments: &Deployments, request: &ListRequest) -> Value {
    let ids: Vec<String> = deployments
        .list()
        .into_iter()
        .filter(|d| {
            request.include_only_statuses.is_empty()
                || request.include_only_statuses.contains(&status_name(d))
        })
        .map(|d| d.id)
        .collect();
    json!({"deployments": ids})
}

fn batch_get(deployments: &Deployments, request: &BatchGetRequest) -> Value {
    let found: Vec<Value> = request
        .deployment_ids
        .iter()
        .filter_map(|id| deployments.get(id))
        .map(|d| info(&d))
        .collect();
    json!({"deploymentsInfo": found})
}

fn stop(deployments: &Deployments, request: &GetRequest) -> Result<Value, Failure> {
    let deployment = find(deployments, &request.deployment_id)?;
    if deployments.stop(&deployment.id) {
        Ok(json!({
            "status": "Pending",
            "statusMessage": format!("stopping {}; its alias goes back to version {}", deployment.id, deployment.from_version),
        }))
    } else {
        Err(error(
            StatusCode::BAD_REQUEST,
            "DeploymentAlreadyCompletedException",
            &format!(
                "deployment {} has already ended ({})",
                deployment.id,
                status_name(&deployment)
            ),
        ))
    }
}

/// The Lambda `AppSpec` a deployment of `deployment` carries: which function, alias and
/// versions (as CloudFormation writes it for a SAM `DeploymentPreference`).
pub fn app_spec(deployment: &Deployment) -> Value {
    json!({
        "version": 0.0,
        "Resources": [{
            deployment.logical_id.clone(): {
                "Type": "AWS::Lambda::Function",
                "Properties": {
                    "Name": deployment.function_name,
                    "Alias": deployment.alias,
                    "CurrentVersion": deployment.from_version,
                    "TargetVersion": deployment.to_version,
                }
            }
        }],
    })
}

/// A deployment as `GetDeployment` describes it (`deploymentInfo`).
fn info(deployment: &Deployment) -> Value {
    let content = app_spec(deployment).to_string();
    let sha256 =
        Sha256::digest(content.as_bytes())
            .iter()
            .fold(String::with_capacity(64), |mut hex, b| {
                use std::fmt::Write as _;
                let _ = write!(hex, "{b:02x}");
                hex
            });
    #[allow(clippy::cast_precision_loss)] // ms since the epoch fit an f64 exactly
    let seconds = |ms: u64| ms as f64 / 1000.0;
    let mut info = json!({
        "deploymentId": deployment.id,
        "applicationName": "ServerlessDeploymentApplication",
        "deploymentGroupName": format!("{}DeploymentGroup", deployment.logical_id),
        "deploymentConfigName": format!("CodeDeployDefault.Lambda{}", deployment.config),
        "computePlatform": "Lambda",
        "status": status_name(deployment),
        "createTime": seconds(deployment.created_ms),
        "creator": "user",
        "revision": {
            "revisionType": "AppSpecContent",
            "appSpecContent": {"content": content, "sha256": sha256},
        },
    });
    if let Some(last) = deployment.events.last().filter(|_| deployment.is_done()) {
        info["completeTime"] = json!(seconds(last.at_ms));
    }
    info
}
