//! The Lambda API, wire-compatible with AWS's (REST-JSON under `/2015-03-31/`, tags
//! under `/2017-03-31/`), so the AWS SDKs, the AWS CLI (`--endpoint-url`) and this
//! project's tools drive the local stack as they drive AWS:
//!
//! | operation | request |
//! |---|---|
//! | `ListFunctions` | `GET /2015-03-31/functions/` |
//! | `GetFunction` | `GET /2015-03-31/functions/{name}?Qualifier=` |
//! | `DeleteFunction` | `DELETE /2015-03-31/functions/{name}?Qualifier=` (a version only) |
//! | `GetFunctionConfiguration` | `GET /2015-03-31/functions/{name}/configuration?Qualifier=` |
//! | `UpdateFunctionConfiguration` | `PUT /2015-03-31/functions/{name}/configuration` |
//! | `PublishVersion` | `POST /2015-03-31/functions/{name}/versions` |
//! | `ListVersionsByFunction` | `GET /2015-03-31/functions/{name}/versions` |
//! | `ListAliases` | `GET /2015-03-31/functions/{name}/aliases` |
//! | `GetAlias`, `UpdateAlias` | `GET`, `PUT /2015-03-31/functions/{name}/aliases/{alias}` |
//! | `Invoke` | `POST /2015-03-31/functions/{name}/invocations?Qualifier=` |
//! | `ListTags` | `GET /2017-03-31/tags/{arn}` |
//!
//! A function is named by its physical name (`/ops/api/functions`' `function_name`),
//! its ARN or a partial ARN, optionally with `:qualifier`. Errors are AWS's: the type
//! in `x-amzn-ErrorType` and the body `{"Type": "User", "Message": …}`. Requests are
//! not authenticated: the server listens on loopback only.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::host::Outcome;
use super::versions::{
    Alias, AliasUpdate, ConfigurationUpdate, Function, Functions, LATEST, LambdaError, Version,
    find_function,
};
use crate::cloudformation::ACCOUNT;

/// `Invoke`'s request payload limit for a synchronous invocation.
pub const MAX_PAYLOAD: usize = 6 * 1024 * 1024;

/// The Lambda API's routes, for a server of any state.
pub fn router<S>(functions: Arc<Functions>) -> Router<S> {
    Router::new()
        .route("/2015-03-31/functions", get(list_functions))
        .route("/2015-03-31/functions/", get(list_functions))
        .route(
            "/2015-03-31/functions/{name}",
            get(get_function).delete(delete_function),
        )
        .route(
            "/2015-03-31/functions/{name}/configuration",
            get(get_configuration).put(update_configuration),
        )
        .route(
            "/2015-03-31/functions/{name}/versions",
            post(publish_version).get(list_versions),
        )
        .route("/2015-03-31/functions/{name}/aliases", get(list_aliases))
        .route(
            "/2015-03-31/functions/{name}/aliases/{alias}",
            get(get_alias).put(update_alias),
        )
        .route(
            "/2015-03-31/functions/{name}/invocations",
            post(invoke).layer(axum::extract::DefaultBodyLimit::max(MAX_PAYLOAD + 1)),
        )
        .route("/2017-03-31/tags/{arn}", get(list_tags))
        .with_state(functions)
}

/// An API error, answered as Lambda answers it.
struct ApiError(LambdaError);

impl From<LambdaError> for ApiError {
    fn from(error: LambdaError) -> Self {
        Self(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error_response(self.0.status(), self.0.error_type(), &self.0.to_string())
    }
}

fn error_response(status: u16, error_type: &str, message: &str) -> Response {
    let mut response = (
        StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        [("content-type", "application/json")],
        json!({"Type": "User", "Message": message}).to_string(),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(error_type) {
        response.headers_mut().insert("x-amzn-errortype", value);
    }
    response
}

/// The `?Qualifier=` of a request.
#[derive(Deserialize, Default)]
struct Qualified {
    #[serde(rename = "Qualifier")]
    qualifier: Option<String>,
}

type Shared = State<Arc<Functions>>;

/// The function a path names, and the qualifier: the query's, else the name's own
/// (`name:7`); both and different is an error, as in Lambda.
fn named(
    functions: &Functions,
    name: &str,
    query: Option<String>,
) -> Result<(Arc<Function>, Option<String>), ApiError> {
    let (function, in_name) = find_function(functions, name).ok_or_else(|| {
        let arn = match functions.values().next() {
            Some(any) if !name.starts_with("arn:") => super::invoked_arn(any.region(), name, None),
            _ => name.to_owned(),
        };
        LambdaError::NotFound(format!("Function not found: {arn}"))
    })?;
    let qualifier = match (in_name, query) {
        (Some(a), Some(b)) if a != b => {
            return Err(LambdaError::InvalidParameter(format!(
                "The derived qualifier from the function name ({a}) does not match the specified qualifier ({b})"
            ))
            .into());
        }
        (a, b) => a.or(b),
    };
    Ok((Arc::clone(function), qualifier))
}

/// `FunctionConfiguration`, as every operation that describes a version answers it.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FunctionConfiguration {
    function_name: String,
    function_arn: String,
    runtime: &'static str,
    role: String,
    handler: &'static str,
    code_size: u64,
    description: String,
    timeout: u32,
    memory_size: u32,
    last_modified: String,
    code_sha256: String,
    version: String,
    environment: EnvironmentResponse,
    tracing_config: TracingConfig,
    revision_id: String,
    state: &'static str,
    last_update_status: &'static str,
    package_type: &'static str,
    architectures: [&'static str; 1],
    logging_config: LoggingConfig,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct EnvironmentResponse {
    variables: BTreeMap<String, String>,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct TracingConfig {
    mode: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct LoggingConfig {
    log_format: String,
    log_group: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    application_log_level: Option<String>,
}

/// The architecture the local binaries run on, in Lambda's words.
fn architecture() -> &'static str {
    if cfg!(target_arch = "aarch64") {
        "arm64"
    } else {
        "x86_64"
    }
}

/// A version's configuration. `qualified_latest`: whether `$LATEST`'s ARN says
/// `:$LATEST` (as in `ListVersionsByFunction`) or is the bare function ARN.
fn configuration(
    function: &Function,
    version: Version,
    qualified_latest: bool,
) -> FunctionConfiguration {
    let spec = &function.spec;
    let function_arn = if version.version == LATEST && !qualified_latest {
        function.arn(None)
    } else {
        function.arn(Some(&version.version))
    };
    FunctionConfiguration {
        function_name: spec.function_name.clone(),
        function_arn,
        runtime: "provided.al2023",
        role: format!("arn:aws:iam::{ACCOUNT}:role/{}-role", spec.function_name),
        handler: "bootstrap",
        code_size: version.code.size,
        description: version.description,
        timeout: version.configuration.timeout_secs,
        memory_size: version.configuration.memory_mb,
        last_modified: version.last_modified,
        code_sha256: version.code.sha256(),
        version: version.version,
        environment: EnvironmentResponse {
            variables: version.configuration.environment,
        },
        tracing_config: TracingConfig { mode: "Active" },
        revision_id: version.revision_id,
        state: "Active",
        last_update_status: "Successful",
        package_type: "Zip",
        architectures: [architecture()],
        logging_config: LoggingConfig {
            log_format: spec.log_format.clone(),
            log_group: spec.log_group.clone(),
            application_log_level: spec.log_level.clone(),
        },
    }
}

/// The configuration `GetFunction` and `GetFunctionConfiguration` answer for a
/// qualifier (through an alias, the ARN is the alias's), and the version's code.
fn described(
    function: &Function,
    qualifier: Option<&str>,
) -> Result<(FunctionConfiguration, super::code::Code), LambdaError> {
    let version = function.version(qualifier)?;
    let code = version.code.clone();
    let mut described = configuration(function, version, qualifier.is_some());
    if let Some(alias) = qualifier.filter(|q| function.alias(q).is_ok()) {
        described.function_arn = function.arn(Some(alias));
    }
    Ok((described, code))
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct FunctionList {
    functions: Vec<FunctionConfiguration>,
    next_marker: Option<String>,
}

async fn list_functions(State(functions): Shared) -> Result<Response, ApiError> {
    let mut listed = Vec::new();
    for function in functions.values() {
        listed.push(configuration(function, function.latest()?, false));
    }
    Ok(axum::Json(FunctionList {
        functions: listed,
        next_marker: None,
    })
    .into_response())
}

async fn get_function(
    State(functions): Shared,
    Path(name): Path<String>,
    Query(query): Query<Qualified>,
) -> Result<Response, ApiError> {
    let (function, qualifier) = named(&functions, &name, query.qualifier)?;
    let (configuration, code) = described(&function, qualifier.as_deref())?;
    let location = format!("file://{}", code.binary.display());
    let tags = function.spec.tags.clone();
    Ok(axum::Json(json!({
        "Configuration": configuration,
        "Code": {"RepositoryType": "S3", "Location": location},
        "Tags": tags,
    }))
    .into_response())
}

async fn get_configuration(
    State(functions): Shared,
    Path(name): Path<String>,
    Query(query): Query<Qualified>,
) -> Result<Response, ApiError> {
    let (function, qualifier) = named(&functions, &name, query.qualifier)?;
    let (configuration, _) = described(&function, qualifier.as_deref())?;
    Ok(axum::Json(configuration).into_response())
}

/// A body that must be JSON of `T`; anything else is Lambda's 400.
fn body<T: serde::de::DeserializeOwned + Default>(bytes: &[u8]) -> Result<T, ApiError> {
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(bytes).map_err(|error| {
        ApiError(LambdaError::InvalidParameter(format!(
            "the request body is not what the operation takes: {error}"
        )))
    })
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct UpdateConfigurationRequest {
    environment: Option<EnvironmentRequest>,
    memory_size: Option<u32>,
    timeout: Option<u32>,
    description: Option<String>,
    revision_id: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct EnvironmentRequest {
    #[serde(default)]
    variables: BTreeMap<String, String>,
}

async fn update_configuration(
    State(functions): Shared,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let (function, qualifier) = named(&functions, &name, None)?;
    if qualifier.is_some() {
        return Err(LambdaError::InvalidParameter(
            "only $LATEST's configuration can change: published versions are immutable".to_owned(),
        )
        .into());
    }
    let request: UpdateConfigurationRequest = body(&bytes)?;
    let latest = function.update_configuration(ConfigurationUpdate {
        environment: request.environment.map(|e| e.variables),
        memory_mb: request.memory_size,
        timeout_secs: request.timeout,
        description: request.description,
        revision_id: request.revision_id,
    })?;
    Ok(axum::Json(configuration(&function, latest, false)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct PublishRequest {
    code_sha256: Option<String>,
    description: Option<String>,
    revision_id: Option<String>,
}

async fn publish_version(
    State(functions): Shared,
    Path(name): Path<String>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let (function, _) = named(&functions, &name, None)?;
    let request: PublishRequest = body(&bytes)?;
    let function_for_task = Arc::clone(&function);
    // Copying and hashing a binary is file work: off the server's threads.
    let version = tokio::task::spawn_blocking(move || {
        function_for_task.publish(
            request.description,
            request.code_sha256.as_deref(),
            request.revision_id.as_deref(),
        )
    })
    .await
    .map_err(|e| LambdaError::Service(e.to_string()))??;
    Ok((
        StatusCode::CREATED,
        axum::Json(configuration(&function, version, true)),
    )
        .into_response())
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct VersionList {
    versions: Vec<FunctionConfiguration>,
    next_marker: Option<String>,
}

async fn list_versions(
    State(functions): Shared,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let (function, _) = named(&functions, &name, None)?;
    let versions = function
        .versions()?
        .into_iter()
        .map(|version| configuration(&function, version, true))
        .collect();
    Ok(axum::Json(VersionList {
        versions,
        next_marker: None,
    })
    .into_response())
}

async fn delete_function(
    State(functions): Shared,
    Path(name): Path<String>,
    Query(query): Query<Qualified>,
) -> Result<Response, ApiError> {
    let (function, qualifier) = named(&functions, &name, query.qualifier)?;
    let Some(qualifier) = qualifier else {
        return Err(LambdaError::InvalidParameter(format!(
            "{}: the local stack's functions come from the template; delete a version with Qualifier",
            function.spec.function_name
        ))
        .into());
    };
    function.delete_version(&qualifier)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `AliasConfiguration`.
#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AliasConfiguration {
    alias_arn: String,
    name: String,
    function_version: String,
    description: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    routing_config: Option<RoutingConfig>,
    revision_id: String,
}

#[derive(Serialize, Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct RoutingConfig {
    #[serde(default)]
    additional_version_weights: BTreeMap<String, f64>,
}

fn alias_configuration(function: &Function, alias: Alias) -> AliasConfiguration {
    AliasConfiguration {
        alias_arn: function.arn(Some(&alias.name)),
        routing_config: (!alias.additional_weights.is_empty()).then(|| RoutingConfig {
            additional_version_weights: alias.additional_weights.clone(),
        }),
        name: alias.name,
        function_version: alias.function_version,
        description: alias.description,
        revision_id: alias.revision_id,
    }
}

#[derive(Serialize)]
#[serde(rename_all = "PascalCase")]
struct AliasList {
    aliases: Vec<AliasConfiguration>,
    next_marker: Option<String>,
}

async fn list_aliases(
    State(functions): Shared,
    Path(name): Path<String>,
) -> Result<Response, ApiError> {
    let (function, _) = named(&functions, &name, None)?;
    let aliases = function
        .aliases()
        .into_iter()
        .map(|alias| alias_configuration(&function, alias))
        .collect();
    Ok(axum::Json(AliasList {
        aliases,
        next_marker: None,
    })
    .into_response())
}

async fn get_alias(
    State(functions): Shared,
    Path((name, alias)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let (function, _) = named(&functions, &name, None)?;
    let alias = function.alias(&alias)?;
    Ok(axum::Json(alias_configuration(&function, alias)).into_response())
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "PascalCase")]
struct UpdateAliasRequest {
    function_version: Option<String>,
    description: Option<String>,
    routing_config: Option<RoutingConfig>,
    revision_id: Option<String>,
}

async fn update_alias(
    State(functions): Shared,
    Path((name, alias)): Path<(String, String)>,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let (function, _) = named(&functions, &name, None)?;
    let request: UpdateAliasRequest = body(&bytes)?;
    let alias = function.update_alias(
        &alias,
        AliasUpdate {
            function_version: request.function_version,
            description: request.description,
            additional_weights: request.routing_config.map(|r| r.additional_version_weights),
            revision_id: request.revision_id,
        },
    )?;
    Ok(axum::Json(alias_configuration(&function, alias)).into_response())
}

async fn invoke(
    State(functions): Shared,
    Path(name): Path<String>,
    Query(query): Query<Qualified>,
    headers: HeaderMap,
    bytes: Bytes,
) -> Result<Response, ApiError> {
    let (function, qualifier) = named(&functions, &name, query.qualifier)?;
    if bytes.len() > MAX_PAYLOAD {
        return Ok(error_response(
            413,
            "RequestTooLargeException",
            &format!(
                "Request must be smaller than {MAX_PAYLOAD} bytes for the InvokeFunction operation"
            ),
        ));
    }
    let event: Value = if bytes.is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(&bytes) {
            Ok(event) => event,
            Err(_) => {
                return Ok(error_response(
                    400,
                    "InvalidRequestContentException",
                    "Could not parse request body into json: the payload is not JSON",
                ));
            }
        }
    };
    let invocation_type = headers
        .get("x-amz-invocation-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("RequestResponse");
    match invocation_type {
        "RequestResponse" => {}
        "DryRun" => {
            function.resolve(qualifier.as_deref())?;
            return Ok(StatusCode::NO_CONTENT.into_response());
        }
        "Event" => {
            function.resolve(qualifier.as_deref())?;
            tokio::spawn(async move {
                let _ = function
                    .invoke(qualifier.as_deref(), event, Vec::new())
                    .await;
            });
            return Ok(StatusCode::ACCEPTED.into_response());
        }
        other => {
            return Err(LambdaError::InvalidParameter(format!(
                "X-Amz-Invocation-Type {other:?} is not RequestResponse, Event or DryRun"
            ))
            .into());
        }
    }
    let invocation = function
        .invoke(qualifier.as_deref(), event, Vec::new())
        .await?;
    let (payload, error) = match invocation.outcome {
        Outcome::Response(value) => (value, None),
        Outcome::Error(value) => (value, Some("Unhandled")),
    };
    let mut response = (
        StatusCode::OK,
        [("content-type", "application/json")],
        payload.to_string(),
    )
        .into_response();
    let headers = response.headers_mut();
    if let Ok(value) = HeaderValue::from_str(&invocation.executed_version) {
        headers.insert("x-amz-executed-version", value);
    }
    if let Ok(value) = HeaderValue::from_str(&invocation.request_id) {
        headers.insert("x-amzn-requestid", value);
    }
    if let Some(error) = error {
        headers.insert("x-amz-function-error", HeaderValue::from_static(error));
    }
    Ok(response)
}

async fn list_tags(
    State(functions): Shared,
    Path(arn): Path<String>,
) -> Result<Response, ApiError> {
    let (function, _) = named(&functions, &arn, None)?;
    let tags = &function.spec.tags;
    Ok(axum::Json(json!({ "Tags": tags })).into_response())
}
