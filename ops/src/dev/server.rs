//! The one port the stack serves: API Gateway (REST v1 proxy events for the template's
//! routes) and the ops API under `/ops/api/`.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path, Query, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use serde_json::{Value, json};

use super::host::{
    Faults, FunctionHost, Outcome, TraceContext, VERSION, new_segment_id, new_trace_id,
};
use super::model::{Route, StackModel};
use super::telemetry::{LogFilter, Telemetry, TraceFilter, now_ms, now_secs, spans, summarize};

/// API Gateway's payload limit.
const MAX_BODY: usize = 10 * 1024 * 1024;

/// What the server needs.
pub struct Shared {
    /// The stack.
    pub model: StackModel,
    /// The hosted functions, by name.
    pub functions: BTreeMap<String, Arc<FunctionHost>>,
    /// Logs, traces, metrics.
    pub telemetry: Telemetry,
    /// Facts for `/ops/api/stack`.
    pub stack: Value,
    /// The graph the dependency tags declare.
    pub declared: crate::deps::graph::Graph,
    /// The feedback page's and the console's files (`web/`), read on each request so an
    /// edit shows on reload.
    pub web_dir: std::path::PathBuf,
}

/// The files served besides the API: path, file in `web/`, content type.
const WEB_FILES: [(&str, &str, &str); 6] = [
    ("/", "index.html", "text/html; charset=utf-8"),
    ("/page.js", "page.js", "text/javascript; charset=utf-8"),
    ("/page.css", "page.css", "text/css; charset=utf-8"),
    ("/ops", "ops.html", "text/html; charset=utf-8"),
    (
        "/ops/console.js",
        "console.js",
        "text/javascript; charset=utf-8",
    ),
    ("/ops/console.css", "console.css", "text/css; charset=utf-8"),
];

/// The router.
pub fn router(shared: Arc<Shared>) -> Router {
    let mut router = Router::new();
    for (path, file, content_type) in WEB_FILES {
        router = router.route(
            path,
            get(move |State(shared): State<Arc<Shared>>| web_file(shared, file, content_type)),
        );
    }
    router
        .route("/ops/api/stack", get(stack))
        .route("/ops/api/functions", get(functions))
        .route("/ops/api/deployments", get(deployments))
        .route(
            "/ops/api/functions/{name}/faults",
            get(get_faults).put(put_faults).delete(delete_faults),
        )
        .route("/ops/api/logs", get(logs))
        .route("/ops/api/traces", get(traces))
        .route("/ops/api/traces/{id}", get(trace))
        .route("/ops/api/metrics", get(metrics))
        .route("/ops/api/graph", get(graph))
        .route("/ops/api/{*rest}", get(not_found))
        .fallback(gateway)
        .with_state(shared)
}

async fn web_file(shared: Arc<Shared>, file: &'static str, content_type: &'static str) -> Response {
    let path = shared.web_dir.join(file);
    match tokio::fs::read(&path).await {
        Ok(bytes) => (
            [
                ("content-type", content_type),
                ("cache-control", "no-store"),
                ("x-content-type-options", "nosniff"),
                // Only this origin's scripts, styles and API: text from the API can
                // never run as code, even if a renderer slipped.
                (
                    "content-security-policy",
                    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'",
                ),
            ],
            bytes,
        )
            .into_response(),
        Err(error) => problem(
            StatusCode::NOT_FOUND,
            &format!(
                "{} cannot be read ({error}): is --template in the project folder?",
                path.display()
            ),
        ),
    }
}

/// A query string for an ops API filter; one that does not parse is a `400` problem
/// that says which parameter is wrong.
struct FilterQuery<T>(T);

impl<T, S> axum::extract::FromRequestParts<S> for FilterQuery<T>
where
    T: serde::de::DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        state: &S,
    ) -> Result<Self, Response> {
        match Query::<T>::from_request_parts(parts, state).await {
            Ok(Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(problem(StatusCode::BAD_REQUEST, &rejection.body_text())),
        }
    }
}

fn problem(status: StatusCode, detail: &str) -> Response {
    (
        status,
        [("content-type", "application/problem+json")],
        json!({"title": status.canonical_reason(), "status": status.as_u16(), "detail": detail})
            .to_string(),
    )
        .into_response()
}

async fn not_found(Path(rest): Path<String>) -> Response {
    problem(
        StatusCode::NOT_FOUND,
        &format!("no ops API at /ops/api/{rest}: see /ops/api/stack for what exists"),
    )
}

async fn stack(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(shared.stack.clone()).into_response()
}

fn function_json(function: &FunctionHost) -> Value {
    let (invocations, errors, init_durations) = function.counters();
    let spec = &function.spec;
    json!({
        "name": spec.name,
        "function_name": spec.function_name,
        "binary": spec.binary,
        "memory_mb": spec.memory_mb,
        "timeout_secs": spec.timeout_secs,
        "log_group": spec.log_group,
        "versions": [{"version": VERSION, "description": "the running build"}],
        "aliases": spec.alias.as_ref().map(|alias| vec![json!({
            "name": alias,
            "arn": function.invoked_arn(),
            "weights": {VERSION: 1.0},
        })]).unwrap_or_default(),
        "routes": spec.routes.iter().map(|r| format!("{} {}", r.method, r.path)).collect::<Vec<_>>(),
        "event_sources": spec.sqs_sources.iter().map(|s| json!({
            "queue": s.queue, "batch_size": s.batch_size,
            "batching_window_secs": s.batching_window_secs,
            "report_batch_item_failures": s.report_batch_item_failures,
        })).collect::<Vec<_>>(),
        "environments": function.environments(),
        "invocations": invocations,
        "errors": errors,
        "init_durations_ms": init_durations,
        "faults": function.faults(),
    })
}

async fn functions(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(
        shared
            .functions
            .values()
            .map(|f| function_json(f))
            .collect::<Vec<_>>(),
    )
    .into_response()
}

async fn deployments(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(
        shared
            .functions
            .values()
            .map(|f| {
                json!({
                    "function": f.spec.name,
                    "alias": f.spec.alias,
                    "versions": {VERSION: 1.0},
                    "status": "stable",
                })
            })
            .collect::<Vec<_>>(),
    )
    .into_response()
}

fn function_or_404(shared: &Shared, name: &str) -> Result<Arc<FunctionHost>, Box<Response>> {
    shared.functions.get(name).cloned().ok_or_else(|| {
        Box::new(problem(
            StatusCode::NOT_FOUND,
            &format!(
                "no function {name:?}; the functions are {}",
                shared
                    .functions
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ))
    })
}

async fn get_faults(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    match function_or_404(&shared, &name) {
        Ok(function) => axum::Json(function.faults()).into_response(),
        Err(response) => *response,
    }
}

async fn put_faults(
    State(shared): State<Arc<Shared>>,
    Path(name): Path<String>,
    body: String,
) -> Response {
    let function = match function_or_404(&shared, &name) {
        Ok(function) => function,
        Err(response) => return *response,
    };
    let faults: Faults = match serde_json::from_str(&body) {
        Ok(faults) => faults,
        Err(error) => {
            return problem(
                StatusCode::BAD_REQUEST,
                &format!("expected {{\"error_rate\": 0..1, \"latency_ms\": n}}: {error}"),
            );
        }
    };
    if !(0.0..=1.0).contains(&faults.error_rate) || faults.latency_ms > 60_000 {
        return problem(
            StatusCode::BAD_REQUEST,
            "error_rate must be from 0 to 1 and latency_ms at most 60000",
        );
    }
    function.set_faults(faults);
    axum::Json(function.faults()).into_response()
}

async fn delete_faults(State(shared): State<Arc<Shared>>, Path(name): Path<String>) -> Response {
    match function_or_404(&shared, &name) {
        Ok(function) => {
            function.set_faults(Faults::default());
            axum::Json(function.faults()).into_response()
        }
        Err(response) => *response,
    }
}

async fn logs(
    State(shared): State<Arc<Shared>>,
    FilterQuery(filter): FilterQuery<LogFilter>,
) -> Response {
    let entries = shared.telemetry.logs(&filter);
    let last = entries.last().map(|e| e.seq);
    axum::Json(json!({"entries": entries, "last_seq": last})).into_response()
}

async fn traces(
    State(shared): State<Arc<Shared>>,
    FilterQuery(filter): FilterQuery<TraceFilter>,
) -> Response {
    let limit = filter.limit.unwrap_or(100);
    let summaries: Vec<Value> = shared
        .telemetry
        .traces()
        .iter()
        .map(|(id, segments)| summarize(id, segments))
        .filter(|s| {
            filter
                .status
                .as_ref()
                .is_none_or(|st| s["status"] == st.as_str())
        })
        .filter(|s| {
            filter.function.as_ref().is_none_or(|f| {
                s["functions"]
                    .as_array()
                    .is_some_and(|fs| fs.iter().any(|x| x == f.as_str()))
            })
        })
        .filter(|s| {
            filter.correlation_id.as_ref().is_none_or(|c| {
                s["correlation_ids"]
                    .as_array()
                    .is_some_and(|cs| cs.iter().any(|x| x == c.as_str()))
            })
        })
        .take(limit)
        .collect();
    axum::Json(summaries).into_response()
}

async fn trace(State(shared): State<Arc<Shared>>, Path(id): Path<String>) -> Response {
    match shared.telemetry.trace(&id) {
        Some(segments) => axum::Json(json!({
            "summary": summarize(&id, &segments),
            "spans": spans(&segments),
            "documents": segments,
        }))
        .into_response(),
        None => problem(StatusCode::NOT_FOUND, &format!("no trace {id}")),
    }
}

#[derive(serde::Deserialize)]
struct MetricQuery {
    namespace: Option<String>,
    name: Option<String>,
    correlation_id: Option<String>,
    since_ms: Option<u64>,
}

async fn metrics(
    State(shared): State<Arc<Shared>>,
    FilterQuery(query): FilterQuery<MetricQuery>,
) -> Response {
    axum::Json(json!({
        "series": shared.telemetry.metric_series(
            query.namespace.as_deref(),
            query.name.as_deref(),
            query.correlation_id.as_deref(),
            query.since_ms,
        )
    }))
    .into_response()
}

/// The graph observed in traces, beside the one the tags declare.
async fn graph(State(shared): State<Arc<Shared>>) -> Response {
    axum::Json(super::service_map::observed(&shared)).into_response()
}

/// API Gateway: a REST v1 proxy event for the matching route.
async fn gateway(
    State(shared): State<Arc<Shared>>,
    ConnectInfo(client): ConnectInfo<SocketAddr>,
    request: Request<Body>,
) -> Response {
    let started = now_secs();
    let request_id = uuid::Uuid::new_v4().to_string();
    let (parts, body) = request.into_parts();
    let stage = shared.model.api.stage.clone();
    // `/dev/comments` and `/comments` both reach the route, as the stage URL and a
    // custom domain would.
    let path = parts
        .uri
        .path()
        .strip_prefix(&format!("/{stage}"))
        .filter(|rest| rest.starts_with('/'))
        .unwrap_or(parts.uri.path())
        .to_owned();
    let Some((function, route, path_parameters)) = match_route(&shared, &parts.method, &path)
    else {
        return gateway_error(
            StatusCode::FORBIDDEN,
            "Missing Authentication Token",
            &request_id,
        );
    };
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return gateway_error(
            StatusCode::PAYLOAD_TOO_LARGE,
            "Request Too Long",
            &request_id,
        );
    };
    let trace = incoming_trace(&parts.headers);
    let api_segment = new_segment_id();
    let event = proxy_event(&ProxyRequest {
        method: &parts.method,
        uri: &parts.uri,
        path: &path,
        headers: &parts.headers,
        body: &body,
        route: &route,
        path_parameters: &path_parameters,
        stage: &stage,
        request_id: &request_id,
        client,
        trace_id: &trace,
    });
    let invocation = function
        .invoke(
            event,
            vec![TraceContext {
                root: trace.clone(),
                parent: Some(api_segment.clone()),
            }],
        )
        .await;
    let response = match invocation {
        Ok(invocation) => match invocation.outcome {
            Outcome::Response(value) => proxy_response(&value, &request_id),
            Outcome::Error(_) => gateway_error(
                StatusCode::BAD_GATEWAY,
                "Internal server error",
                &request_id,
            ),
        },
        Err(reason) => gateway_error(StatusCode::SERVICE_UNAVAILABLE, reason, &request_id),
    };
    let mut response = response;
    if let Ok(value) = HeaderValue::from_str(&format!("Root={trace}")) {
        response.headers_mut().insert("x-amzn-trace-id", value);
    }
    let correlation = response
        .headers()
        .get("x-correlation-id")
        .or_else(|| parts.headers.get("x-correlation-id"))
        .and_then(|v| v.to_str().ok())
        .unwrap_or(&request_id)
        .to_owned();
    let status = response.status().as_u16();
    shared.telemetry.record_segment(
        "host",
        json!({
            "trace_id": trace,
            "id": api_segment,
            "name": format!("{}/{stage}", shared.model.api.name),
            "origin": "AWS::ApiGateway::Stage",
            "start_time": started,
            "end_time": now_secs(),
            "error": (400..500).contains(&status),
            "fault": status >= 500,
            "http": {
                "request": {"method": parts.method.as_str(), "url": parts.uri.to_string(), "client_ip": client.ip().to_string()},
                "response": {"status": status},
            },
            "annotations": {"correlation_id": correlation},
            "aws": {"api_gateway": {"request_id": request_id, "rest_api_id": "local", "stage": stage, "resource_path": route.path}},
        }),
    );
    response
}

fn incoming_trace(headers: &HeaderMap) -> String {
    headers
        .get("x-amzn-trace-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| {
            v.split(';')
                .find_map(|p| p.trim().strip_prefix("Root="))
                .filter(|root| root.len() == 35 && root.starts_with("1-"))
                .map(str::to_owned)
        })
        .unwrap_or_else(new_trace_id)
}

fn gateway_error(status: StatusCode, message: &str, request_id: &str) -> Response {
    let mut response = (
        status,
        [("content-type", "application/json")],
        json!({ "message": message }).to_string(),
    )
        .into_response();
    if let Ok(value) = HeaderValue::from_str(request_id) {
        response.headers_mut().insert("x-amzn-requestid", value);
    }
    response
}

/// The route `path` matches, with its path parameters (decoded).
fn match_route(
    shared: &Shared,
    method: &Method,
    path: &str,
) -> Option<(Arc<FunctionHost>, Route, BTreeMap<String, String>)> {
    let segments: Vec<&str> = path.trim_end_matches('/').split('/').collect();
    for function in shared.functions.values() {
        for route in &function.spec.routes {
            if route.method != "ANY" && route.method != method.as_str() {
                continue;
            }
            let pattern: Vec<&str> = route.path.trim_end_matches('/').split('/').collect();
            if pattern.len() != segments.len() {
                continue;
            }
            let mut parameters = BTreeMap::new();
            let matched = pattern.iter().zip(&segments).all(|(p, s)| {
                match p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
                    Some(name) if !s.is_empty() => {
                        parameters.insert(name.to_owned(), percent_decode(s));
                        true
                    }
                    Some(_) => false,
                    None => p == s,
                }
            });
            if matched {
                return Some((Arc::clone(function), route.clone(), parameters));
            }
        }
    }
    None
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| char::from(b).to_digit(16);
        if bytes[i] == b'%'
            && i + 2 < bytes.len()
            && let (Some(high), Some(low)) = (hex(bytes[i + 1]), hex(bytes[i + 2]))
        {
            out.push(u8::try_from(high * 16 + low).unwrap_or_default());
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

struct ProxyRequest<'a> {
    method: &'a Method,
    uri: &'a Uri,
    path: &'a str,
    headers: &'a HeaderMap,
    body: &'a [u8],
    route: &'a Route,
    path_parameters: &'a BTreeMap<String, String>,
    stage: &'a str,
    request_id: &'a str,
    client: SocketAddr,
    trace_id: &'a str,
}

/// The REST v1 proxy event. A body that is not UTF-8 is passed base64-encoded.
fn proxy_event(request: &ProxyRequest<'_>) -> Value {
    let mut headers = serde_json::Map::new();
    let mut multi_headers: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in request.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.insert(name.as_str().to_owned(), json!(value));
        multi_headers
            .entry(name.as_str().to_owned())
            .or_default()
            .push(value);
    }
    let trace = format!("Root={}", request.trace_id);
    headers.insert("x-amzn-trace-id".into(), json!(trace));
    multi_headers.insert("x-amzn-trace-id".into(), vec![trace]);
    let pairs: Vec<(String, String)> = request
        .uri
        .query()
        .and_then(|q| {
            Query::<Vec<(String, String)>>::try_from_uri(&format!("/?{q}").parse().ok()?).ok()
        })
        .map(|Query(pairs)| pairs)
        .unwrap_or_default();
    let mut query: serde_json::Map<String, Value> = serde_json::Map::new();
    let mut multi_query: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (name, value) in pairs {
        query.insert(name.clone(), json!(value));
        multi_query.entry(name).or_default().push(value);
    }
    let (body, is_base64) = if request.body.is_empty() {
        (Value::Null, false)
    } else {
        match std::str::from_utf8(request.body) {
            Ok(text) => (json!(text), false),
            Err(_) => (
                json!(base64::engine::general_purpose::STANDARD.encode(request.body)),
                true,
            ),
        }
    };
    let or_null = |empty: bool, value: Value| if empty { Value::Null } else { value };
    let now = time::OffsetDateTime::now_utc();
    json!({
        "resource": request.route.path,
        "path": request.path,
        "httpMethod": request.method.as_str(),
        "headers": or_null(headers.is_empty(), Value::Object(headers)),
        "multiValueHeaders": or_null(multi_headers.is_empty(), json!(multi_headers)),
        "queryStringParameters": or_null(query.is_empty(), Value::Object(query)),
        "multiValueQueryStringParameters": or_null(multi_query.is_empty(), json!(multi_query)),
        "pathParameters": or_null(request.path_parameters.is_empty(), json!(request.path_parameters)),
        "stageVariables": null,
        "requestContext": {
            "accountId": super::model::ACCOUNT,
            "apiId": "local",
            "resourceId": "local",
            "stage": request.stage,
            "requestId": request.request_id,
            "extendedRequestId": request.request_id,
            "requestTime": now
                .format(time::macros::format_description!("[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"))
                .unwrap_or_default(),
            "requestTimeEpoch": now_ms(),
            "path": format!("/{}{}", request.stage, request.path),
            "protocol": "HTTP/1.1",
            "identity": {
                "sourceIp": request.client.ip().to_string(),
                "userAgent": request.headers.get("user-agent").and_then(|v| v.to_str().ok()),
            },
            "resourcePath": request.route.path,
            "httpMethod": request.method.as_str(),
            "domainName": request.headers.get("host").and_then(|v| v.to_str().ok()),
        },
        "body": body,
        "isBase64Encoded": is_base64,
    })
}

/// The function's proxy response as HTTP; a malformed one is a 502, as API Gateway
/// answers it.
fn proxy_response(value: &Value, request_id: &str) -> Response {
    let Some(status) = value["statusCode"]
        .as_u64()
        .and_then(|s| u16::try_from(s).ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
    else {
        return gateway_error(StatusCode::BAD_GATEWAY, "Internal server error", request_id);
    };
    let body = match (&value["body"], value["isBase64Encoded"] == true) {
        (Value::String(text), true) => {
            match base64::engine::general_purpose::STANDARD.decode(text) {
                Ok(bytes) => bytes,
                Err(_) => {
                    return gateway_error(
                        StatusCode::BAD_GATEWAY,
                        "Internal server error",
                        request_id,
                    );
                }
            }
        }
        (Value::String(text), false) => text.clone().into_bytes(),
        _ => Vec::new(),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    for (name, values) in value["multiValueHeaders"].as_object().into_iter().flatten() {
        for v in values
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            if let (Ok(n), Ok(v)) = (
                HeaderName::try_from(name.as_str()),
                HeaderValue::from_str(v),
            ) {
                headers.append(n, v);
            }
        }
    }
    for (name, v) in value["headers"].as_object().into_iter().flatten() {
        if let (Ok(n), Some(Ok(v))) = (
            HeaderName::try_from(name.as_str()),
            v.as_str().map(HeaderValue::from_str),
        ) {
            headers.insert(n, v);
        }
    }
    if let Ok(v) = HeaderValue::from_str(request_id) {
        headers.insert("x-amzn-requestid", v);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode("a%20b"), "a b");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%zz"), "%zz");
        assert_eq!(percent_decode("%E2%9C%93"), "\u{2713}");
    }

    #[test]
    fn a_proxy_response_becomes_http() {
        let response = proxy_response(
            &json!({"statusCode": 202, "headers": {"location": "/x"},
                "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]},
                "body": "aGk=", "isBase64Encoded": true}),
            "r",
        );
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        assert_eq!(response.headers()["location"], "/x");
        assert_eq!(response.headers().get_all("set-cookie").iter().count(), 2);
        let malformed = proxy_response(&json!({"body": "x"}), "r");
        assert_eq!(malformed.status(), StatusCode::BAD_GATEWAY);
    }
}
