//! The ops HTTP API under `/ops/api/`: what the console and scripts read about the local
//! cloud (stack, functions, deployments, logs, traces, metrics, the service map, the
//! dead-letter queue) and what they change (fault injection, deployments, a redrive).
//! Every answer is a typed `Serialize` value; every failure is one [`ApiError`], written
//! as a problem document (RFC 9457).

use std::sync::Arc;

use axum::Json;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use local_cloud::backend::{BackendFaults, CallStats, ProxyCounts};
use local_cloud::cloudwatch::{AlarmInfo, LogEntry, LogFilter, MetricQuery, Series};
use local_cloud::codedeploy::Deployment;
use local_cloud::lambda::{EnvironmentInfo, Function};
use local_cloud::xray::{Segment, Span, TraceFilter, TraceSummary, spans, summarize};
use ops_wire::faults::FaultInjection;
use serde::Serialize;

use super::Shared;
use super::service_map::{self, ServiceMap};

/// A failed ops API call.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No such path, function or trace.
    #[error("{0}")]
    NotFound(String),
    /// A query or body that does not parse or is out of range.
    #[error("{0}")]
    BadRequest(String),
    /// The local cloud cannot answer now (a function binary that cannot be read).
    #[error("{0}")]
    Unavailable(String),
    /// The request conflicts with the state (a deployment in progress, nothing new).
    #[error("{0}")]
    Conflict(String),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::Conflict(_) => StatusCode::CONFLICT,
        };
        problem(status, &self.to_string())
    }
}

/// A problem document (RFC 9457) with `status` and `detail`.
pub fn problem(status: StatusCode, detail: &str) -> Response {
    (
        status,
        [("content-type", "application/problem+json")],
        serde_json::json!({
            "title": status.canonical_reason(),
            "status": status.as_u16(),
            "detail": detail,
        })
        .to_string(),
    )
        .into_response()
}

/// The ops API's routes; anything else under `/ops/api/` is a `404` problem.
pub fn routes() -> Router<Arc<Shared>> {
    Router::new()
        .route("/ops/api/stack", get(stack))
        .route("/ops/api/functions", get(functions))
        .route(
            "/ops/api/deployments",
            get(deployments).post(create_deployment),
        )
        .route("/ops/api/deployments/{id}", get(deployment))
        .route(
            "/ops/api/deployments/{id}/stop",
            axum::routing::post(stop_deployment),
        )
        .route(
            "/ops/api/functions/{name}/faults",
            get(get_faults).put(put_faults).delete(delete_faults),
        )
        .route(
            "/ops/api/backend/faults",
            get(get_backend_faults)
                .put(put_backend_faults)
                .delete(delete_backend_faults),
        )
        .route("/ops/api/logs", get(logs))
        .route("/ops/api/traces", get(traces))
        .route("/ops/api/traces/{id}", get(trace))
        .route("/ops/api/metrics", get(metrics))
        .route("/ops/api/graph", get(graph))
        .route("/ops/api/alarms", get(alarms))
        .route("/ops/api/dlq", get(super::dead_letters::list))
        .route(
            "/ops/api/dlq/redrive",
            axum::routing::post(super::dead_letters::redrive),
        )
        .route("/ops/api/{*rest}", get(not_found))
}

/// A query string for a filter; one that does not parse is a `400` that says which
/// parameter is wrong.
pub(super) struct FilterQuery<T>(pub(super) T);

impl<T, S> axum::extract::FromRequestParts<S> for FilterQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, ApiError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(value)| Self(value))
            .map_err(|rejection| ApiError::BadRequest(rejection.body_text()))
    }
}

async fn not_found(Path(rest): Path<String>) -> ApiError {
    ApiError::NotFound(format!(
        "no ops API at /ops/api/{rest}: see /ops/api/stack for what exists"
    ))
}

async fn stack(State(shared): State<Arc<Shared>>) -> Json<super::StackInfo> {
    Json(shared.stack.clone())
}

/// A version of a function.
#[derive(Serialize)]
struct VersionInfo {
    version: String,
    description: String,
    code_sha256: String,
    last_modified: String,
}

/// An alias and its routing weights.
#[derive(Serialize)]
struct AliasInfo {
    name: String,
    arn: String,
    weights: std::collections::BTreeMap<String, f64>,
}

/// An SQS event source of a function.
#[derive(Serialize)]
struct EventSourceInfo {
    queue: String,
    batch_size: u32,
    batching_window_secs: u32,
    report_batch_item_failures: bool,
}

/// A function's `DeploymentPreference`.
#[derive(Serialize)]
struct PreferenceInfo {
    config: String,
    alarms: Vec<String>,
    pre_traffic: Option<String>,
}

/// One function, as the console's Functions view shows it.
#[derive(Serialize)]
struct FunctionInfo {
    name: String,
    function_name: String,
    binary: String,
    memory_mb: u32,
    timeout_secs: u32,
    log_group: String,
    versions: Vec<VersionInfo>,
    aliases: Vec<AliasInfo>,
    routes: Vec<String>,
    event_sources: Vec<EventSourceInfo>,
    environments: Vec<EnvironmentInfo>,
    /// How a deployment of it runs (`DeploymentPreference`), if the template says.
    deployment_preference: Option<PreferenceInfo>,
    invocations: u64,
    errors: u64,
    init_durations_ms: Vec<f64>,
    faults: FaultInjection,
}

fn function_info(function: &Function) -> Result<FunctionInfo, ApiError> {
    let counters = function.counters();
    let spec = &function.spec;
    let versions = function
        .versions()
        .map_err(|error| ApiError::Unavailable(error.to_string()))?;
    Ok(FunctionInfo {
        name: spec.name.clone(),
        function_name: spec.function_name.clone(),
        binary: spec.binary.clone(),
        memory_mb: spec.memory_mb,
        timeout_secs: spec.timeout_secs,
        log_group: spec.log_group.clone(),
        versions: versions
            .into_iter()
            .map(|v| VersionInfo {
                code_sha256: v.code.sha256(),
                version: v.version,
                description: v.description,
                last_modified: v.last_modified,
            })
            .collect(),
        aliases: function
            .aliases()
            .into_iter()
            .map(|alias| AliasInfo {
                arn: function.arn(Some(&alias.name)),
                weights: alias.weights(),
                name: alias.name,
            })
            .collect(),
        routes: spec
            .routes
            .iter()
            .map(|r| format!("{} {}", r.method, r.path))
            .collect(),
        event_sources: spec
            .sqs_sources
            .iter()
            .map(|s| EventSourceInfo {
                queue: s.queue.clone(),
                batch_size: s.batch_size,
                batching_window_secs: s.batching_window_secs,
                report_batch_item_failures: s.report_batch_item_failures,
            })
            .collect(),
        environments: function.environments(),
        deployment_preference: spec.deployment.as_ref().map(|p| PreferenceInfo {
            config: p.config.clone(),
            alarms: p.alarms.clone(),
            pre_traffic: p.pre_traffic.clone(),
        }),
        invocations: counters.invocations,
        errors: counters.errors,
        init_durations_ms: counters.init_durations_ms,
        faults: function.faults(),
    })
}

async fn functions(State(shared): State<Arc<Shared>>) -> Result<Json<Vec<FunctionInfo>>, ApiError> {
    shared
        .functions
        .values()
        .map(|f| function_info(f))
        .collect::<Result<_, _>>()
        .map(Json)
}

async fn deployments(State(shared): State<Arc<Shared>>) -> Json<Vec<Deployment>> {
    Json(shared.deployments.list())
}

async fn deployment(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<Deployment>, ApiError> {
    shared.deployments.get(&id).map(Json).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no deployment {id:?}: GET /ops/api/deployments lists them"
        ))
    })
}

async fn stop_deployment(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Deployment>), ApiError> {
    let deployment = shared.deployments.get(&id).ok_or_else(|| {
        ApiError::NotFound(format!(
            "no deployment {id:?}: GET /ops/api/deployments lists them"
        ))
    })?;
    if !shared.deployments.stop(&id) {
        return Err(ApiError::Conflict(format!(
            "deployment {id} has ended ({:?}): nothing to stop",
            deployment.status
        )));
    }
    Ok((StatusCode::ACCEPTED, Json(deployment)))
}

async fn create_deployment(
    State(shared): State<Arc<Shared>>,
    body: String,
) -> Result<(StatusCode, Json<serde_json::Value>), ApiError> {
    let request: super::deployments::DeployRequest = serde_json::from_str(&body).map_err(|error| {
        ApiError::BadRequest(format!(
            "expected {{\"function\": \"push-to-db\", \"config\": \"Canary10Percent5Minutes\", \"environment\": {{…}}, \"faults\": {{\"error_rate\": 0.3}}}} (all but function optional): {error}"
        ))
    })?;
    let id = super::deployments::start(&shared, request).await?;
    Ok((StatusCode::ACCEPTED, Json(serde_json::json!({ "id": id }))))
}

/// The function `name` (its console name), or a `404` that lists them.
pub(super) fn function(shared: &Shared, name: &str) -> Result<Arc<Function>, ApiError> {
    shared.functions.get(name).cloned().ok_or_else(|| {
        ApiError::NotFound(format!(
            "no function {name:?}; the functions are {}",
            shared
                .functions
                .keys()
                .cloned()
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

async fn get_faults(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Result<Json<FaultInjection>, ApiError> {
    Ok(Json(function(&shared, &name)?.faults()))
}

async fn put_faults(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    body: String,
) -> Result<Json<FaultInjection>, ApiError> {
    let function = function(&shared, &name)?;
    let faults: FaultInjection = serde_json::from_str(&body).map_err(|error| {
        ApiError::BadRequest(format!(
            "expected {{\"error_rate\": 0..1, \"latency_ms\": n}}: {error}"
        ))
    })?;
    faults
        .validate()
        .map_err(|error| ApiError::BadRequest(error.to_string()))?;
    function.set_faults(faults);
    Ok(Json(function.faults()))
}

async fn delete_faults(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
) -> Result<Json<FaultInjection>, ApiError> {
    let function = function(&shared, &name)?;
    function.set_faults(FaultInjection::default());
    Ok(Json(function.faults()))
}

/// The backend fault proxy's faults and what it has done (`/ops/api/backend/faults`).
#[derive(Serialize)]
struct BackendFaultsInfo {
    #[serde(flatten)]
    faults: BackendFaults,
    active: bool,
    #[serde(flatten)]
    counts: ProxyCounts,
    /// The calls that reached the backend, by operation, with their bytes.
    calls: std::collections::BTreeMap<String, CallStats>,
}

fn backend_faults_info(shared: &Shared) -> Json<BackendFaultsInfo> {
    let faults = shared.backend_faults.faults();
    Json(BackendFaultsInfo {
        faults,
        active: faults.active(),
        counts: shared.backend_faults.counts(),
        calls: shared.backend_faults.calls(),
    })
}

async fn get_backend_faults(State(shared): State<Arc<Shared>>) -> Json<BackendFaultsInfo> {
    backend_faults_info(&shared)
}

async fn put_backend_faults(
    State(shared): State<Arc<Shared>>,
    body: String,
) -> Result<Json<BackendFaultsInfo>, ApiError> {
    let faults: BackendFaults = serde_json::from_str(&body).map_err(|error| {
        ApiError::BadRequest(format!(
            "expected {{\"throttle_rate\": 0..1, \"error_rate\": 0..1, \"latency_ms\": n}}: {error}"
        ))
    })?;
    shared
        .backend_faults
        .set(faults)
        .map_err(ApiError::BadRequest)?;
    Ok(backend_faults_info(&shared))
}

async fn delete_backend_faults(State(shared): State<Arc<Shared>>) -> Json<BackendFaultsInfo> {
    let _ = shared.backend_faults.set(BackendFaults::default());
    backend_faults_info(&shared)
}

async fn alarms(State(shared): State<Arc<Shared>>) -> Json<Vec<AlarmInfo>> {
    Json(shared.alarms.list())
}

/// A page of log lines and where the tail stands.
#[derive(Serialize)]
struct Logs {
    entries: Vec<LogEntry>,
    last_seq: Option<u64>,
}

async fn logs(
    State(shared): State<Arc<Shared>>,
    FilterQuery(filter): FilterQuery<LogFilter>,
) -> Json<Logs> {
    let entries = shared.cloudwatch.logs.query(&filter);
    let last_seq = entries.last().map(|e| e.seq);
    Json(Logs { entries, last_seq })
}

async fn traces(
    State(shared): State<Arc<Shared>>,
    FilterQuery(filter): FilterQuery<TraceFilter>,
) -> Json<Vec<TraceSummary>> {
    let limit = filter.limit.unwrap_or(100);
    let mut summaries = Vec::new();
    shared.traces.scan(|id, segments| {
        let summary = summarize(id, segments);
        if filter.matches(&summary) {
            summaries.push(summary);
        }
        summaries.len() < limit
    });
    Json(summaries)
}

/// One trace: its summary, its waterfall and the documents as recorded.
#[derive(Serialize)]
struct Trace {
    summary: TraceSummary,
    spans: Vec<Span>,
    documents: Vec<Segment>,
}

async fn trace(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<Json<Trace>, ApiError> {
    let segments = shared
        .traces
        .trace(&id)
        .ok_or_else(|| ApiError::NotFound(format!("no trace {id}")))?;
    Ok(Json(Trace {
        summary: summarize(&id, &segments),
        spans: spans(&segments),
        documents: segments,
    }))
}

/// Metric series.
#[derive(Serialize)]
struct Metrics {
    series: Vec<Series>,
}

async fn metrics(
    State(shared): State<Arc<Shared>>,
    FilterQuery(query): FilterQuery<MetricQuery>,
) -> Json<Metrics> {
    Json(Metrics {
        series: shared.cloudwatch.metrics.series(&query),
    })
}

/// The graph observed in traces, beside the one the tags declare.
async fn graph(State(shared): State<Arc<Shared>>) -> Json<ServiceMap> {
    Json(service_map::observed(
        &shared.traces,
        &shared.model,
        &shared.declared,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn every_error_is_a_problem_document_with_its_status() {
        for (error, status) in [
            (
                ApiError::NotFound("no trace x".into()),
                StatusCode::NOT_FOUND,
            ),
            (
                ApiError::BadRequest("limit: invalid digit".into()),
                StatusCode::BAD_REQUEST,
            ),
        ] {
            let detail = error.to_string();
            let response = error.into_response();
            assert_eq!(response.status(), status);
            assert_eq!(
                response.headers()["content-type"],
                "application/problem+json"
            );
            let body = axum::body::to_bytes(response.into_body(), 4096)
                .await
                .unwrap();
            let problem: serde_json::Value = serde_json::from_slice(&body).unwrap();
            assert_eq!(problem["status"], status.as_u16());
            assert_eq!(problem["detail"], detail);
            assert_eq!(problem["title"], status.canonical_reason().unwrap());
        }
    }
}
