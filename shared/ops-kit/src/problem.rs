//! RFC 9457 problem details: the one shape every error response takes.
//!
//! A [`Problem`] is built from what the caller can act on (the status, a stable `type`,
//! a human `title` and `detail`, field-level errors) and never from an internal error's
//! text: the full error chain is for the logs, the problem is for the client.

use http::{HeaderValue, StatusCode, header};
use serde::Serialize;

use crate::correlation::{CORRELATION_HEADER, CorrelationId};

/// The media type of a problem document.
pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem document, with this project's two extension members:
/// `correlation_id` (always) and `errors` (one entry per invalid field).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    #[serde(rename = "type")]
    type_uri: String,
    title: String,
    status: u16,
    detail: String,
    correlation_id: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    errors: Vec<FieldError>,
    #[serde(skip)]
    retry_after_secs: Option<u32>,
}

/// One invalid input field: where it is (a JSON pointer, or a query parameter or header
/// name) and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The field: `/text` for a body member, `limit` for a query parameter.
    pub field: String,
    /// What is wrong, in words a person can act on.
    pub message: String,
}

impl Problem {
    /// A problem of the given kind. `type_uri` identifies the kind for programs and
    /// should point at its documentation; `title` is its short, fixed summary.
    pub fn new(
        status: StatusCode,
        type_uri: impl Into<String>,
        title: impl Into<String>,
        detail: impl Into<String>,
        correlation_id: &CorrelationId,
    ) -> Self {
        Self {
            type_uri: type_uri.into(),
            title: title.into(),
            status: status.as_u16(),
            detail: detail.into(),
            correlation_id: correlation_id.to_string(),
            errors: Vec::new(),
            retry_after_secs: None,
        }
    }

    /// Adds field-level errors, for a client to show next to each field.
    #[must_use]
    pub fn with_errors(mut self, errors: impl IntoIterator<Item = FieldError>) -> Self {
        self.errors.extend(errors);
        self
    }

    /// Tells the client when a retry may succeed (`Retry-After`, in seconds).
    #[must_use]
    pub fn with_retry_after(mut self, seconds: u32) -> Self {
        self.retry_after_secs = Some(seconds);
        self
    }

    /// The HTTP status.
    pub fn status(&self) -> StatusCode {
        StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR)
    }

    /// The problem's `type` URI.
    pub fn type_uri(&self) -> &str {
        &self.type_uri
    }

    /// The field-level errors.
    pub fn errors(&self) -> &[FieldError] {
        &self.errors
    }

    /// The problem as an HTTP response: `application/problem+json`, the correlation id
    /// in `X-Correlation-Id`, and `Retry-After` when set.
    pub fn into_response(self) -> http::Response<String> {
        let status = self.status();
        // Serialising plain strings and integers cannot fail; the fallback keeps the
        // response well formed even so.
        let body = serde_json::to_string(&self)
            .unwrap_or_else(|_| format!(r#"{{"title":"Error","status":{}}}"#, status.as_u16()));
        let mut response = http::Response::new(body);
        *response.status_mut() = status;
        let headers = response.headers_mut();
        headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON));
        if let Ok(value) = HeaderValue::from_str(&self.correlation_id) {
            headers.insert(CORRELATION_HEADER, value);
        }
        if let Some(seconds) = self.retry_after_secs {
            headers.insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_response_carries_the_rfc_9457_members_and_the_correlation_id() {
        let id = CorrelationId::parse("corr-1").unwrap();
        let response = Problem::new(
            StatusCode::BAD_REQUEST,
            "https://example.com/problems/invalid",
            "Invalid comment",
            "The comment has 1 invalid field.",
            &id,
        )
        .with_errors([FieldError {
            field: "/text".into(),
            message: "required".into(),
        }])
        .into_response();

        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
        assert_eq!(response.headers()[CORRELATION_HEADER], "corr-1");
        let body: serde_json::Value = serde_json::from_str(response.body()).unwrap();
        assert_eq!(
            body,
            serde_json::json!({
                "type": "https://example.com/problems/invalid",
                "title": "Invalid comment",
                "status": 400,
                "detail": "The comment has 1 invalid field.",
                "correlation_id": "corr-1",
                "errors": [{"field": "/text", "message": "required"}],
            })
        );
    }

    #[test]
    fn retry_after_is_sent_only_when_set() {
        let id = CorrelationId::generate();
        let plain = Problem::new(StatusCode::SERVICE_UNAVAILABLE, "t", "T", "d", &id);
        assert!(
            !plain
                .clone()
                .into_response()
                .headers()
                .contains_key(header::RETRY_AFTER)
        );
        let retry = plain.with_retry_after(2).into_response();
        assert_eq!(retry.headers()[header::RETRY_AFTER], "2");
    }
}
