//! The REST API (v1) proxy event a route's function receives, built with
//! `aws_lambda_events`' own type so it has exactly the fields Lambda's runtime reads.

use std::collections::HashMap;
use std::net::SocketAddr;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyRequestContext};
use aws_lambda_events::query_map::QueryMap;
use axum::http::{HeaderMap, HeaderValue, Method, Uri};
use base64::Engine as _;

/// What one request brings to its event.
#[derive(Clone, Debug)]
pub struct ProxyRequest<'a> {
    /// The method.
    pub method: &'a Method,
    /// The URI as requested.
    pub uri: &'a Uri,
    /// The path without the stage prefix.
    pub path: &'a str,
    /// The headers.
    pub headers: &'a HeaderMap,
    /// The body.
    pub body: &'a [u8],
    /// The route's resource path (`/status/{id}`).
    pub resource: &'a str,
    /// The path parameters, decoded.
    pub path_parameters: HashMap<String, String>,
    /// The stage.
    pub stage: &'a str,
    /// API Gateway's request id.
    pub request_id: &'a str,
    /// The client.
    pub client: SocketAddr,
    /// The trace's root id, passed on in `X-Amzn-Trace-Id`.
    pub trace_root: &'a str,
    /// Milliseconds since the epoch.
    pub now_ms: u64,
}

/// The event. A body that is not UTF-8 is passed base64-encoded, as API Gateway does for
/// binary media.
pub fn proxy_event(request: &ProxyRequest<'_>) -> ApiGatewayProxyRequest {
    let mut headers = request.headers.clone();
    if let Ok(trace) = HeaderValue::from_str(&format!("Root={}", request.trace_root)) {
        headers.insert("x-amzn-trace-id", trace);
    }
    let mut query: HashMap<String, Vec<String>> = HashMap::new();
    for (name, value) in request.uri.query().map(form_pairs).unwrap_or_default() {
        query.entry(name).or_default().push(value);
    }
    let (body, is_base64) = if request.body.is_empty() {
        (None, false)
    } else {
        match std::str::from_utf8(request.body) {
            Ok(text) => (Some(text.to_owned()), false),
            Err(_) => (
                Some(base64::engine::general_purpose::STANDARD.encode(request.body)),
                true,
            ),
        }
    };
    let header = |name: &str| {
        request
            .headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned)
    };
    let mut context = ApiGatewayProxyRequestContext::default();
    context.account_id = Some(crate::cloudformation::ACCOUNT.to_owned());
    context.apiid = Some("local".to_owned());
    context.resource_id = Some("local".to_owned());
    context.stage = Some(request.stage.to_owned());
    context.request_id = Some(request.request_id.to_owned());
    context.request_time = Some(request_time(request.now_ms));
    context.request_time_epoch = i64::try_from(request.now_ms).unwrap_or_default();
    context.path = Some(format!("/{}{}", request.stage, request.path));
    context.protocol = Some("HTTP/1.1".to_owned());
    context.identity.source_ip = Some(request.client.ip().to_string());
    context.identity.user_agent = header("user-agent");
    context.resource_path = Some(request.resource.to_owned());
    context.http_method = request.method.clone();
    context.domain_name = header("host");

    let mut event = ApiGatewayProxyRequest::default();
    event.resource = Some(request.resource.to_owned());
    event.path = Some(request.path.to_owned());
    event.http_method = request.method.clone();
    event.multi_value_headers = headers.clone();
    event.headers = headers;
    event.query_string_parameters = QueryMap::from(query.clone());
    event.multi_value_query_string_parameters = QueryMap::from(query);
    event.path_parameters.clone_from(&request.path_parameters);
    event.request_context = context;
    event.body = body;
    event.is_base64_encoded = is_base64;
    event
}

/// `application/x-www-form-urlencoded` pairs, `+` as a space, escapes decoded.
fn form_pairs(query: &str) -> Vec<(String, String)> {
    query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
            let decode = |s: &str| super::routes::percent_decode(&s.replace('+', " "));
            (decode(name), decode(value))
        })
        .collect()
}

/// `requestTime` as API Gateway writes it (in events and access logs):
/// `02/Dec/2026:01:02:03 +0000`.
pub fn request_time(now_ms: u64) -> String {
    time::OffsetDateTime::from_unix_timestamp(i64::try_from(now_ms / 1000).unwrap_or_default())
        .ok()
        .and_then(|t| {
            t.format(time::macros::format_description!(
                "[day]/[month repr:short]/[year]:[hour]:[minute]:[second] +0000"
            ))
            .ok()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_event_carries_what_the_function_reads() {
        let uri: Uri = "/dev/status/a%20b?limit=5&cursor=x+y&limit=6"
            .parse()
            .unwrap();
        let mut headers = HeaderMap::new();
        headers.insert("x-correlation-id", HeaderValue::from_static("c-1"));
        headers.insert("host", HeaderValue::from_static("127.0.0.1:3000"));
        let event = proxy_event(&ProxyRequest {
            method: &Method::GET,
            uri: &uri,
            path: "/status/a%20b",
            headers: &headers,
            body: &[0xff, 0x00],
            resource: "/status/{id}",
            path_parameters: [("id".to_owned(), "a b".to_owned())].into(),
            stage: "dev",
            request_id: "req",
            client: "127.0.0.1:5555".parse().unwrap(),
            trace_root: "1-5e1b4151-5ac6c58f5b5dbd0e1ddc2a2b",
            now_ms: 1_764_637_323_000,
        });
        let json = serde_json::to_value(&event).unwrap();
        assert_eq!(json["resource"], "/status/{id}");
        assert_eq!(json["pathParameters"]["id"], "a b");
        assert_eq!(json["headers"]["x-correlation-id"], "c-1");
        assert_eq!(
            json["headers"]["x-amzn-trace-id"],
            "Root=1-5e1b4151-5ac6c58f5b5dbd0e1ddc2a2b"
        );
        assert_eq!(
            json["multiValueQueryStringParameters"]["limit"],
            serde_json::json!(["5", "6"])
        );
        assert_eq!(
            json["multiValueQueryStringParameters"]["cursor"],
            serde_json::json!(["x y"])
        );
        assert_eq!(json["requestContext"]["path"], "/dev/status/a%20b");
        assert_eq!(json["requestContext"]["stage"], "dev");
        assert_eq!(json["requestContext"]["identity"]["sourceIp"], "127.0.0.1");
        assert_eq!(
            json["requestContext"]["requestTime"],
            "02/Dec/2025:01:02:03 +0000"
        );
        assert_eq!(json["isBase64Encoded"], true);
        assert_eq!(json["body"], "/wA=");
        // What lambda_http makes of it is what the handlers see.
        let request = lambda_http::request::from_str(&json.to_string()).unwrap();
        assert_eq!(request.uri().path(), "/dev/status/a%20b");
    }
}
