//! The function's proxy answer translated to HTTP, and API Gateway's own answers when
//! there is none to translate (no route, too large, the function failed).

use aws_lambda_events::apigw::ApiGatewayProxyResponse;
use aws_lambda_events::encodings::Body as EventBody;
use axum::body::Body;
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use serde_json::{Value, json};

/// One of API Gateway's own answers: `{"message": …}` with its request id.
pub fn gateway_error(status: StatusCode, message: &str, request_id: &str) -> Response {
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

/// The `502` API Gateway answers when the function failed or answered malformed.
pub fn bad_gateway(request_id: &str) -> Response {
    gateway_error(StatusCode::BAD_GATEWAY, "Internal server error", request_id)
}

/// The function's proxy response as HTTP; a malformed one is a `502`, as API Gateway
/// answers it.
pub fn proxy_response(value: &Value, request_id: &str) -> Response {
    let Ok(answer) = serde_json::from_value::<ApiGatewayProxyResponse>(value.clone()) else {
        return bad_gateway(request_id);
    };
    let Some(status) = u16::try_from(answer.status_code)
        .ok()
        .and_then(|s| StatusCode::from_u16(s).ok())
    else {
        return bad_gateway(request_id);
    };
    let body = match answer.body {
        None | Some(EventBody::Empty) => Vec::new(),
        Some(EventBody::Text(text)) if answer.is_base64_encoded => {
            match base64::engine::general_purpose::STANDARD.decode(text) {
                Ok(bytes) => bytes,
                Err(_) => return bad_gateway(request_id),
            }
        }
        Some(EventBody::Text(text)) => text.into_bytes(),
        Some(EventBody::Binary(bytes)) => bytes,
        Some(_) => return bad_gateway(request_id),
    };
    let mut response = Response::new(Body::from(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    for (name, value) in &answer.multi_value_headers {
        headers.append(name, value.clone());
    }
    for (name, value) in &answer.headers {
        headers.insert(name, value.clone());
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
    fn a_proxy_response_becomes_http() {
        let response = proxy_response(
            &json!({"statusCode": 202, "headers": {"location": "/x"},
                "multiValueHeaders": {"set-cookie": ["a=1", "b=2"]},
                "body": "aGk=", "isBase64Encoded": true}),
            "r",
        );
        assert_eq!(response.status(), StatusCode::ACCEPTED);
        assert_eq!(response.headers()["location"], "/x");
        assert_eq!(response.headers()["x-amzn-requestid"], "r");
        assert_eq!(response.headers().get_all("set-cookie").iter().count(), 2);
    }

    #[test]
    fn a_malformed_proxy_response_is_a_502() {
        for malformed in [
            json!({"body": "x"}),
            json!({"statusCode": 1000}),
            json!({"statusCode": 200, "body": "%%%", "isBase64Encoded": true}),
            json!("a string"),
            json!({"statusCode": "200"}),
        ] {
            let response = proxy_response(&malformed, "r");
            assert_eq!(response.status(), StatusCode::BAD_GATEWAY, "{malformed}");
        }
    }
}
