//! The CodeDeploy API as a hook uses it: `PutLifecycleEventHookExecutionStatus`, in
//! CodeDeploy's JSON 1.1 protocol (`POST /` with `X-Amz-Target:
//! CodeDeploy_20141006.PutLifecycleEventHookExecutionStatus`), so the hook's AWS SDK
//! client reaches the local stack through `AWS_ENDPOINT_URL_CODEDEPLOY`.

use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;

use super::Deployments;

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
struct PutStatus {
    deployment_id: String,
    lifecycle_event_hook_execution_id: String,
    status: String,
}

fn error(status: StatusCode, error_type: &str, message: &str) -> Response {
    let mut response = (
        status,
        [("content-type", "application/x-amz-json-1.1")],
        json!({"__type": error_type, "message": message}).to_string(),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(error_type) {
        response.headers_mut().insert("x-amzn-errortype", value);
    }
    response
}

/// Answers one CodeDeploy call.
pub fn answer(deployments: &Deployments, headers: &HeaderMap, body: &[u8]) -> Response {
    let target = headers
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let Some("PutLifecycleEventHookExecutionStatus") = target.strip_prefix(TARGET_PREFIX) else {
        return error(
            StatusCode::BAD_REQUEST,
            "UnknownOperationException",
            &format!("{target}: the local stack answers PutLifecycleEventHookExecutionStatus only"),
        );
    };
    let request: PutStatus = match serde_json::from_slice(body) {
        Ok(request) => request,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "InvalidLifecycleEventHookExecutionIdException",
                &format!("the request is not a PutLifecycleEventHookExecutionStatus: {e}"),
            );
        }
    };
    match deployments.report_hook(
        &request.deployment_id,
        &request.lifecycle_event_hook_execution_id,
        &request.status,
    ) {
        Ok(()) => (
            StatusCode::OK,
            [("content-type", "application/x-amz-json-1.1")],
            json!({"lifecycleEventHookExecutionId": request.lifecycle_event_hook_execution_id})
                .to_string(),
        )
            .into_response(),
        Err(super::HookReportError::InvalidStatus(status)) => error(
            StatusCode::BAD_REQUEST,
            "InvalidLifecycleEventHookExecutionStatusException",
            &format!("{status:?} is not Succeeded or Failed"),
        ),
        Err(e @ super::HookReportError::NotWaiting(..)) => error(
            StatusCode::BAD_REQUEST,
            "LifecycleEventAlreadyCompletedException",
            &e.to_string(),
        ),
    }
}
