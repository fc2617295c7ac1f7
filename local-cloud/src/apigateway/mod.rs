//! API Gateway: the template's REST API on loopback. A request that matches a route
//! becomes a REST v1 proxy event for that route's function (through its alias); the
//! function's proxy answer becomes the HTTP answer. What API Gateway answers itself is
//! answered here too: `403 Missing Authentication Token` for a path no route has, `413`
//! over the 10 MB payload limit, `502` when the function fails or answers malformed. The
//! stage's segment is recorded with a `correlation_id` annotation.
//!
//! | file | owns |
//! |---|---|
//! | `routes.rs` | route matching, path parameters |
//! | `event.rs` | the proxy event |
//! | `response.rs` | the answer translation and API Gateway's own answers |
//! | `access_log.rs` | the stage's access log lines, in the template's format |
//!
//! With a stage canary (`CanarySetting.PercentTraffic`, `StageCanaryPercent` in the
//! template), that share of requests is served by the canary deployment: its access log
//! line says `"canary":"true"`, its stage segment has a `canary` annotation, and its
//! `AWS/ApiGateway` metrics carry the stage as `dev/Canary`.

mod access_log;
mod event;
mod response;
mod routes;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::Response;
use serde_json::json;

pub use access_log::access_log_line;
pub use event::{ProxyRequest, proxy_event, request_time};
pub use response::{bad_gateway, gateway_error, proxy_response};
pub use routes::{matches, percent_decode};

use crate::clock::{now_ms, now_secs};
use crate::cloudformation::{ApiSpec, Route};
use crate::cloudwatch::{CloudWatch, DataPoint, LogEntry, LogSource};
use crate::lambda::{Function, Functions, Outcome, TraceContext};
use crate::xray::{SegmentSource, TraceStore};

/// API Gateway's payload limit.
pub const MAX_BODY: usize = 10 * 1024 * 1024;

/// The namespace of API Gateway's metrics.
pub const NAMESPACE: &str = "AWS/ApiGateway";

/// One request as the stage records it: its segment, metrics and access log line.
struct StageRecord<'a> {
    trace_root: &'a str,
    stage_segment: &'a str,
    request_id: &'a str,
    method: &'a str,
    url: &'a str,
    client: SocketAddr,
    resource: &'a str,
    /// Seconds since the epoch.
    started: f64,
    /// Seconds the function took.
    integration: f64,
    /// The invocation's status, when the function was invoked.
    integration_status: Option<u16>,
    status: u16,
    response_length: Option<String>,
    /// API Gateway's own error, if it answered one.
    error_message: Option<String>,
    correlation: &'a str,
    /// Served by the stage's canary deployment.
    canary: bool,
}

/// The REST API of one stack.
pub struct Gateway {
    api: ApiSpec,
    routes: Vec<(Route, Arc<Function>)>,
    traces: TraceStore,
    cloudwatch: CloudWatch,
}

impl Gateway {
    /// The API `api` with every route of `functions`, recording its segments in `traces`
    /// and its access log and `AWS/ApiGateway` metrics in `cloudwatch`.
    pub fn new(
        api: ApiSpec,
        functions: &Functions,
        traces: TraceStore,
        cloudwatch: CloudWatch,
    ) -> Self {
        let routes = functions
            .values()
            .flat_map(|function| {
                function
                    .spec
                    .routes
                    .iter()
                    .map(|route| (route.clone(), Arc::clone(function)))
            })
            .collect();
        Self {
            api,
            routes,
            traces,
            cloudwatch,
        }
    }

    /// The stage, as the API's URL has it (`/dev/comments`).
    pub fn stage(&self) -> &str {
        &self.api.stage
    }

    /// Answers one request from `client`. `/<stage>/comments` and `/comments` both reach
    /// the route, as the stage URL and a custom domain would.
    pub async fn handle(&self, client: SocketAddr, request: Request<Body>) -> Response {
        let started = now_secs();
        let request_id = uuid::Uuid::new_v4().to_string();
        let (parts, body) = request.into_parts();
        let stage = self.api.stage.as_str();
        let path = parts
            .uri
            .path()
            .strip_prefix(&format!("/{stage}"))
            .filter(|rest| rest.starts_with('/'))
            .unwrap_or(parts.uri.path())
            .to_owned();
        let Some((route, function, path_parameters)) = self.route(parts.method.as_str(), &path)
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
        let trace_root = incoming_trace_root(&parts.headers);
        let stage_segment = ops_wire::trace::SegmentId::generate().to_string();
        let event = proxy_event(&ProxyRequest {
            method: &parts.method,
            uri: &parts.uri,
            path: &path,
            headers: &parts.headers,
            body: &body,
            resource: &route.path,
            path_parameters,
            stage,
            request_id: &request_id,
            client,
            trace_root: &trace_root,
            now_ms: now_ms(),
        });
        // The stage's canary deployment serves its share of requests; both deployments
        // integrate with the same alias here, as they do when only the API is unchanged.
        let canary =
            self.api.canary_percent > 0.0 && fastrand::f64() * 100.0 < self.api.canary_percent;
        // Through the function's alias, as the template's integration does.
        let integration_started = now_secs();
        let invocation = function
            .invoke(
                function.spec.alias.as_deref(),
                serde_json::to_value(&event).unwrap_or_default(),
                vec![TraceContext {
                    root: trace_root.clone(),
                    parent: Some(stage_segment.clone()),
                }],
            )
            .await;
        let integration = now_secs() - integration_started;
        let (mut response, error_message) = answer(invocation.as_ref(), &request_id);
        if let Ok(value) = HeaderValue::from_str(&format!("Root={trace_root}")) {
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
        let record = StageRecord {
            trace_root: &trace_root,
            stage_segment: &stage_segment,
            request_id: &request_id,
            method: parts.method.as_str(),
            url: &parts.uri.to_string(),
            client,
            resource: &route.path,
            started,
            integration,
            integration_status: invocation.is_ok().then_some(200),
            status,
            response_length: response
                .headers()
                .get("content-length")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned),
            error_message,
            correlation: &correlation,
            canary,
        };
        self.record_metrics(&record);
        self.record_segment(&record);
        self.record_access_log(&record);
        response
    }

    /// The stage's segment of one request, with a `correlation_id` annotation.
    fn record_segment(&self, record: &StageRecord<'_>) {
        let stage = self.api.stage.as_str();
        let status = record.status;
        let segment = json!({
            "trace_id": record.trace_root,
            "id": record.stage_segment,
            "name": format!("{}/{stage}", self.api.name),
            "origin": "AWS::ApiGateway::Stage",
            "start_time": record.started,
            "end_time": now_secs(),
            "error": (400..500).contains(&status),
            "fault": status >= 500,
            "http": {
                "request": {"method": record.method, "url": record.url, "client_ip": record.client.ip().to_string()},
                "response": {"status": status},
            },
            "annotations": {"correlation_id": record.correlation, "canary": record.canary},
            "aws": {"api_gateway": {"request_id": record.request_id, "rest_api_id": "local", "stage": stage, "resource_path": record.resource}},
        });
        if let Ok(document) = serde_json::from_value(segment) {
            self.traces.put(SegmentSource::Service, document);
        }
    }

    /// The access log line, in the template's format, to the template's log group.
    fn record_access_log(&self, record: &StageRecord<'_>) {
        let Some((group, format)) = &self.api.access_log else {
            return;
        };
        let now = now_ms();
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)] // ms of one request
        let (started_ms, latency_ms, integration_ms) = (
            (record.started * 1000.0) as u64,
            ((now_secs() - record.started) * 1000.0).round() as u64,
            (record.integration * 1000.0).round() as u64,
        );
        let mut values: std::collections::BTreeMap<&str, String> = [
            ("requestId", record.request_id.to_owned()),
            ("extendedRequestId", record.request_id.to_owned()),
            ("xrayTraceId", format!("Root={}", record.trace_root)),
            ("identity.sourceIp", record.client.ip().to_string()),
            ("requestTime", request_time(started_ms)),
            ("requestTimeEpoch", started_ms.to_string()),
            ("httpMethod", record.method.to_owned()),
            ("resourcePath", record.resource.to_owned()),
            ("status", record.status.to_string()),
            ("responseLatency", latency_ms.to_string()),
            ("integrationLatency", integration_ms.to_string()),
            ("stage", self.api.stage.clone()),
            ("isCanaryRequest", record.canary.to_string()),
        ]
        .into();
        if let Some(status) = record.integration_status {
            values.insert("integrationStatus", status.to_string());
        }
        if let Some(length) = &record.response_length {
            values.insert("responseLength", length.clone());
        }
        if let Some(message) = &record.error_message {
            values.insert("error.message", message.clone());
        }
        let mut entry = LogEntry::new(
            &self.api.name,
            "",
            group,
            &format!(
                "{}_{}",
                self.api.stage,
                if record.canary { "canary" } else { "stage" }
            ),
            LogSource::Platform,
            access_log_line(format, &values),
        );
        entry.timestamp_ms = now;
        entry.correlation_id = Some(record.correlation.to_owned());
        self.cloudwatch.put_log(entry);
    }

    /// `Count`, `4XXError`, `5XXError`, `Latency` and `IntegrationLatency` of one
    /// request, by `ApiName`, `Stage`, `Resource` and `Method` (the template enables
    /// detailed metrics).
    fn record_metrics(&self, record: &StageRecord<'_>) {
        let stage = if record.canary {
            format!("{}/Canary", self.api.stage)
        } else {
            self.api.stage.clone()
        };
        let dimensions: std::collections::BTreeMap<String, String> = [
            ("ApiName".to_owned(), self.api.rest_api_name.clone()),
            ("Stage".to_owned(), stage),
            ("Resource".to_owned(), record.resource.to_owned()),
            ("Method".to_owned(), record.method.to_owned()),
        ]
        .into();
        let (status, started, integration) = (record.status, record.started, record.integration);
        let flag = |yes: bool| if yes { 1.0 } else { 0.0 };
        for (name, unit, value) in [
            ("Count", "Count", 1.0),
            ("4XXError", "Count", flag((400..500).contains(&status))),
            ("5XXError", "Count", flag(status >= 500)),
            ("Latency", "Milliseconds", (now_secs() - started) * 1000.0),
            ("IntegrationLatency", "Milliseconds", integration * 1000.0),
        ] {
            self.cloudwatch.metrics.put(DataPoint::now(
                NAMESPACE,
                name,
                unit,
                dimensions.clone(),
                value,
            ));
        }
    }

    fn route(
        &self,
        method: &str,
        path: &str,
    ) -> Option<(
        &Route,
        &Arc<Function>,
        std::collections::HashMap<String, String>,
    )> {
        self.routes.iter().find_map(|(route, function)| {
            matches(route, method, path).map(|parameters| (route, function, parameters))
        })
    }
}

/// The HTTP answer to an invocation, and API Gateway's own error message if it
/// answered in the function's stead.
fn answer(
    invocation: Result<&crate::lambda::Invocation, &crate::lambda::LambdaError>,
    request_id: &str,
) -> (Response, Option<String>) {
    match invocation {
        Ok(invocation) => match &invocation.outcome {
            Outcome::Response(value) => (proxy_response(value, request_id), None),
            Outcome::Error(_) => (
                bad_gateway(request_id),
                Some("Internal server error".to_owned()),
            ),
        },
        Err(reason) => (
            gateway_error(
                StatusCode::SERVICE_UNAVAILABLE,
                &reason.to_string(),
                request_id,
            ),
            Some(reason.to_string()),
        ),
    }
}

/// The root of the caller's trace, when it sent a valid `X-Amzn-Trace-Id`; else a new
/// trace, as API Gateway starts one.
fn incoming_trace_root(headers: &HeaderMap) -> String {
    headers
        .get("x-amzn-trace-id")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| ops_wire::trace::TraceHeader::parse(v).ok())
        .map_or_else(
            || ops_wire::trace::TraceId::generate().to_string(),
            |header| header.root.to_string(),
        )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_valid_incoming_trace_is_continued_and_anything_else_starts_a_new_one() {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amzn-trace-id",
            HeaderValue::from_static("Root=1-5e1b4151-5ac6c58f5b5dbd0e1ddc2a2b;Sampled=1"),
        );
        assert_eq!(
            incoming_trace_root(&headers),
            "1-5e1b4151-5ac6c58f5b5dbd0e1ddc2a2b"
        );
        headers.insert("x-amzn-trace-id", HeaderValue::from_static("Root=garbage"));
        let fresh = incoming_trace_root(&headers);
        assert_ne!(fresh, "garbage");
        assert!(ops_wire::trace::TraceId::parse(&fresh).is_ok(), "{fresh}");
    }
}
