//! The HTTP contract of the API: response bodies, and the one mapping from every
//! error a request can meet to its RFC 9457 problem response.
//!
//! Clients see the problem; the logs see the error with its whole `source()` chain
//! (logged once, by [`ApiError::into_response`], at the edge).

use http::{HeaderValue, StatusCode, header};
use ops_kit::{CORRELATION_HEADER, CorrelationId, FieldError, Problem};
use serde::Serialize;
use time::OffsetDateTime;

use crate::comment::{AuthorName, Comment, CommentId, CommentText, FieldProblem, Rating};
use crate::input::{InputError, MAX_BODY_BYTES};
use crate::ports::Page;
use crate::ports::{QueueError, StoreError};

/// Where each problem `type` is documented: `docs/problems.md`, one anchor per type.
pub const PROBLEM_TYPE_BASE: &str =
    "https://github.com/online-feedback/online-feedback/blob/main/docs/problems.md#";

/// Everything that can end a request early.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The body is not a valid comment.
    #[error("invalid comment")]
    InvalidComment(#[source] InputError),
    /// The body is not JSON (by its `Content-Type`).
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// The body is larger than [`MAX_BODY_BYTES`].
    #[error("body too large")]
    BodyTooLarge,
    /// A query parameter, path parameter or header is invalid.
    #[error("invalid parameter {name}")]
    InvalidParameter {
        /// The parameter, as the client named it (`limit`, `cursor`, `Idempotency-Key`).
        name: &'static str,
        /// What is wrong with it.
        #[source]
        problem: FieldProblem,
    },
    /// The `Idempotency-Key` was used before for a different comment.
    #[error("idempotency key reused for a different comment")]
    IdempotencyKeyReused,
    /// No comment with this id is stored (yet).
    #[error("comment not found")]
    CommentNotFound(CommentId),
    /// The queue did not accept the comment.
    #[error(transparent)]
    Queue(#[from] QueueError),
    /// The table failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl ApiError {
    /// The problem response for this error.
    pub fn to_problem(&self, correlation_id: &CorrelationId) -> Problem {
        let problem = |status, slug: &str, title: &str, detail: String| {
            Problem::new(
                status,
                format!("{PROBLEM_TYPE_BASE}{slug}"),
                title,
                detail,
                correlation_id,
            )
        };
        match self {
            Self::InvalidComment(InputError::Fields(fields)) => problem(
                StatusCode::BAD_REQUEST,
                "invalid-comment",
                "Invalid comment",
                format!("{} field(s) of the comment need changing; see errors.", fields.len()),
            )
            .with_errors(fields.iter().map(|(field, p)| FieldError {
                field: (*field).to_owned(),
                message: p.message().to_owned(),
            })),
            Self::InvalidComment(error) => problem(
                StatusCode::BAD_REQUEST,
                "malformed-body",
                "Malformed request body",
                error.to_string(),
            ),
            Self::UnsupportedMediaType => problem(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported-media-type",
                "Unsupported media type",
                "Send the comment as JSON with Content-Type: application/json.".into(),
            ),
            Self::BodyTooLarge => problem(
                StatusCode::PAYLOAD_TOO_LARGE,
                "body-too-large",
                "Request body too large",
                format!("The body may be at most {MAX_BODY_BYTES} bytes."),
            ),
            Self::InvalidParameter { name, problem: p } => problem(
                StatusCode::BAD_REQUEST,
                "invalid-parameter",
                "Invalid parameter",
                p.message().to_owned(),
            )
            .with_errors([FieldError { field: (*name).to_owned(), message: p.message().into() }]),
            Self::IdempotencyKeyReused => problem(
                StatusCode::UNPROCESSABLE_ENTITY,
                "idempotency-key-reused",
                "Idempotency key reused",
                "This Idempotency-Key was used in the last 24 hours for a different comment; use a new key for a new comment.".into(),
            ),
            Self::CommentNotFound(id) => problem(
                StatusCode::NOT_FOUND,
                "comment-not-found",
                "Comment not found",
                format!("No comment {id} is stored. A comment just posted may still be on its way: try again in a moment."),
            ),
            Self::Queue(_) | Self::Store(StoreError::Request(_)) => problem(
                StatusCode::SERVICE_UNAVAILABLE,
                "service-unavailable",
                "Service unavailable",
                "A service this request needs did not answer, so the request was not completed. Try again shortly; a post retried with the same Idempotency-Key is never stored twice.".into(),
            )
            .with_retry_after(1),
            Self::Store(StoreError::Corrupt(_)) => problem(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal-error",
                "Internal error",
                "Something went wrong on our side. Quote the correlation_id if you report it.".into(),
            ),
        }
    }

    /// Logs the error once, with its `source()` chain: client errors at INFO (they are
    /// expected traffic), server errors at ERROR (they are what the alarms count).
    fn log(&self, status: StatusCode) {
        if status.is_server_error() {
            tracing::error!(
                error = self as &dyn std::error::Error,
                status = status.as_u16(),
                key_activity = "respond",
                "request failed"
            );
        } else {
            if status != StatusCode::NOT_FOUND {
                metrics::counter!(crate::metric::VALIDATION_REJECTED).increment(1);
            }
            tracing::info!(
                error = self as &dyn std::error::Error,
                status = status.as_u16(),
                key_activity = "respond",
                "request rejected"
            );
        }
    }

    /// Logs the error and answers with its problem response.
    pub fn into_response(self, correlation_id: &CorrelationId) -> http::Response<String> {
        let problem = self.to_problem(correlation_id);
        self.log(problem.status());
        problem.into_response()
    }
}

/// A JSON response with the correlation id header.
pub fn json_response(
    status: StatusCode,
    body: &impl Serialize,
    correlation_id: &CorrelationId,
) -> http::Response<String> {
    let body = serde_json::to_string(body).unwrap_or_else(|_| "{}".into());
    let mut response = http::Response::new(body);
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    if let Ok(value) = HeaderValue::from_str(correlation_id.as_str()) {
        headers.insert(CORRELATION_HEADER, value);
    }
    response
}

/// The body of `202 Accepted` from `POST /comments`.
#[derive(Debug, Serialize)]
pub struct AcceptedBody<'a> {
    /// The new comment's id.
    pub id: CommentId,
    /// Always `"accepted"`: queued, not stored yet.
    pub status: &'static str,
    /// When it was accepted.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The request's correlation id (the first request's, for a retry).
    pub correlation_id: &'a CorrelationId,
}

impl<'a> AcceptedBody<'a> {
    /// The answer for an accepted comment.
    pub fn of(comment: &'a Comment) -> Self {
        Self {
            id: comment.id,
            status: "accepted",
            created_at: comment.created_at,
            correlation_id: &comment.correlation_id,
        }
    }
}

/// A comment as the public API shows it: no correlation id.
#[derive(Debug, Serialize)]
pub struct CommentView<'a> {
    /// Its id.
    pub id: CommentId,
    /// Its author, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub author: Option<&'a AuthorName>,
    /// Its text, exactly as posted.
    pub text: &'a CommentText,
    /// Its rating, if given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    /// When it was accepted.
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
}

impl<'a> From<&'a Comment> for CommentView<'a> {
    fn from(comment: &'a Comment) -> Self {
        Self {
            id: comment.id,
            author: comment.author.as_ref(),
            text: &comment.text,
            rating: comment.rating,
            created_at: comment.created_at,
        }
    }
}

/// The body of `GET /comments`.
#[derive(Debug, Serialize)]
pub struct PageBody<'a> {
    /// The comments, newest first.
    pub items: Vec<CommentView<'a>>,
    /// Pass back as `cursor` for the next page; `null` on the last page.
    pub next_cursor: Option<String>,
}

impl<'a> From<&'a Page> for PageBody<'a> {
    fn from(page: &'a Page) -> Self {
        Self {
            items: page.items.iter().map(CommentView::from).collect(),
            next_cursor: page.next.map(|cursor| cursor.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_errors_name_no_internals() {
        let id = CorrelationId::generate();
        let error = ApiError::Queue(QueueError("connection refused to 10.0.0.1:443".into()));
        let response = error.to_problem(&id).into_response();
        assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
        assert!(!response.body().contains("10.0.0.1"), "{}", response.body());
        assert_eq!(response.headers()[header::RETRY_AFTER], "1");
    }

    #[test]
    fn field_errors_become_problem_errors() {
        let id = CorrelationId::generate();
        let error = ApiError::InvalidComment(InputError::Fields(vec![(
            "/text",
            FieldProblem::new("text is required"),
        )]));
        let problem = error.to_problem(&id);
        assert_eq!(problem.status(), StatusCode::BAD_REQUEST);
        assert_eq!(problem.errors()[0].field, "/text");
        assert!(problem.type_uri().ends_with("#invalid-comment"));
    }
}
