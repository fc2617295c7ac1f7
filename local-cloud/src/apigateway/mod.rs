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

mod event;
mod response;
mod routes;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode};
use axum::response::Response;
use serde_json::json;

pub use event::{ProxyRequest, proxy_event};
pub use response::{bad_gateway, gateway_error, proxy_response};
pub use routes::{matches, percent_decode};

use crate::clock::{now_ms, now_secs};
use crate::cloudformation::{ApiSpec, Route};
use crate::cloudwatch::{DataPoint, MetricStore};
use crate::lambda::{Function, Functions, Outcome, TraceContext};
use crate::xray::{SegmentSource, TraceStore};

/// API Gateway's payload limit.
pub const MAX_BODY: usize = 10 * 1024 * 1024;

/// The namespace of API Gateway's metrics.
pub const NAMESPACE: &str = "AWS/ApiGateway";

/// What the stage's segment of one request records.
struct StageRecord<'a> {
    trace_root: &'a str,
    stage_segment: &'a str,
    request_id: &'a str,
    method: &'a str,
    url: &'a str,
    client: SocketAddr,
    resource: &'a str,
    started: f64,
    status: u16,
    correlation: &'a str,
}

/// The REST API of one stack.
pub struct Gateway {
    api: ApiSpec,
    routes: Vec<(Route, Arc<Function>)>,
    traces: TraceStore,
    metrics: MetricStore,
}

impl Gateway {
    /// The API `api` with every route of `functions`, recording its segments in `traces`
    /// and its `AWS/ApiGateway` metrics in `metrics`.
    pub fn new(
        api: ApiSpec,
        functions: &Functions,
        traces: TraceStore,
        metrics: MetricStore,
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
            metrics,
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
        let mut response = match invocation {
            Ok(invocation) => match invocation.outcome {
                Outcome::Response(value) => proxy_response(&value, &request_id),
                Outcome::Error(_) => bad_gateway(&request_id),
            },
            Err(reason) => gateway_error(
                StatusCode::SERVICE_UNAVAILABLE,
                &reason.to_string(),
                &request_id,
            ),
        };
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
        self.record_metrics(
            &route.path,
            parts.method.as_str(),
            status,
            started,
            integration,
        );
        self.record_segment(&StageRecord {
            trace_root: &trace_root,
            stage_segment: &stage_segment,
            request_id: &request_id,
            method: parts.method.as_str(),
            url: &parts.uri.to_string(),
            client,
            resource: &route.path,
            started,
            status,
            correlation: &correlation,
        });
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
            "annotations": {"correlation_id": record.correlation},
            "aws": {"api_gateway": {"request_id": record.request_id, "rest_api_id": "local", "stage": stage, "resource_path": record.resource}},
        });
        if let Ok(document) = serde_json::from_value(segment) {
            self.traces.put(SegmentSource::Service, document);
        }
    }

    /// `Count`, `4XXError`, `5XXError`, `Latency` and `IntegrationLatency` of one
    /// request, by `ApiName`, `Stage`, `Resource` and `Method` (the template enables
    /// detailed metrics).
    fn record_metrics(
        &self,
        resource: &str,
        method: &str,
        status: u16,
        started: f64,
        integration: f64,
    ) {
        let dimensions: std::collections::BTreeMap<String, String> = [
            ("ApiName".to_owned(), self.api.rest_api_name.clone()),
            ("Stage".to_owned(), self.api.stage.clone()),
            ("Resource".to_owned(), resource.to_owned()),
            ("Method".to_owned(), method.to_owned()),
        ]
        .into();
        let flag = |yes: bool| if yes { 1.0 } else { 0.0 };
        let timestamp_ms = now_ms();
        for (name, unit, value) in [
            ("Count", "Count", 1.0),
            ("4XXError", "Count", flag((400..500).contains(&status))),
            ("5XXError", "Count", flag(status >= 500)),
            ("Latency", "Milliseconds", (now_secs() - started) * 1000.0),
            ("IntegrationLatency", "Milliseconds", integration * 1000.0),
        ] {
            self.metrics.put(DataPoint {
                timestamp_ms,
                namespace: NAMESPACE.to_owned(),
                name: name.to_owned(),
                unit: unit.to_owned(),
                dimensions: dimensions.clone(),
                values: vec![value],
                correlation_ids: Vec::new(),
            });
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
