//! # add-comments
//!
//! `POST /comments`: checks a comment, gives it a time-ordered id, puts it on the
//! comments queue and answers `202 Accepted` with the id and a `Location` to poll
//! (`GET /status/{id}`). Storing it is `push-to-db`'s job, so a slow table never slows
//! a post, and the answer comes only after the queue has the comment: nothing
//! acknowledged is lost.
//!
//! With an `Idempotency-Key` header, a repeated post gets the same answer and makes no
//! second comment.

use feedback::api::{AcceptedBody, ApiError, json_response};
use feedback::{
    Claim, Comment, CommentQueue, Fingerprint, IDEMPOTENCY_HEADER, IdempotencyKey,
    IdempotencyStore, MAX_BODY_BYTES, parse_new_comment,
};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use lambda_http::{Request, RequestExt, request::RequestContext};
use ops_kit::{ConfigError, CorrelationId, required_env};

/// The service name on every log line.
pub const SERVICE: &str = "add-comments";

/// What the function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `QUEUE_URL`: the comments queue.
    pub queue_url: String,
    /// `TABLE_NAME`: the table that also holds idempotency keys.
    pub table_name: String,
}

impl Config {
    /// Reads the configuration.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            queue_url: required_env("QUEUE_URL")?,
            table_name: required_env("TABLE_NAME")?,
        })
    }
}

/// Handles `POST /comments`. Every outcome is a response: errors become problem
/// responses here, so the runtime only ever sees an answer.
pub async fn handle<Q, K>(request: Request, queue: &Q, keys: &K) -> http::Response<String>
where
    Q: CommentQueue,
    K: IdempotencyStore,
{
    let correlation_id = CorrelationId::from_request(&request);
    ops_kit::correlate(&correlation_id);
    match accept(&request, &correlation_id, queue, keys).await {
        Ok(response) => response,
        Err(error) => error.into_response(&correlation_id),
    }
}

async fn accept<Q, K>(
    request: &Request,
    correlation_id: &CorrelationId,
    queue: &Q,
    keys: &K,
) -> Result<http::Response<String>, ApiError>
where
    Q: CommentQueue,
    K: IdempotencyStore,
{
    if !is_json(request.headers()) {
        return Err(ApiError::UnsupportedMediaType);
    }
    let body = request.body().as_ref();
    if body.len() > MAX_BODY_BYTES {
        return Err(ApiError::BodyTooLarge);
    }
    let key = idempotency_key(request.headers())?;
    let new_comment = parse_new_comment(body).map_err(ApiError::InvalidComment)?;
    let fingerprint = Fingerprint::of(&new_comment);
    let mut candidate = new_comment.accept(correlation_id.clone());
    candidate.smoke_test = is_smoke_test(request);

    let Some(key) = key else {
        enqueue(queue, &candidate).await?;
        return Ok(accepted(request, &candidate, false));
    };

    match keys.claim(&key, &fingerprint, &candidate).await? {
        Claim::New => {
            enqueue(queue, &candidate).await?;
            mark_enqueued(keys, &key).await;
            Ok(accepted(request, &candidate, false))
        }
        Claim::Retry { comment, enqueued } => {
            // The first attempt may have stopped before the queue had the comment:
            // send it again. `push-to-db` stores it once either way.
            ops_kit::xray::annotate("comment_id", comment.id.to_string());
            if !enqueued {
                queue.enqueue(&comment).await?;
                mark_enqueued(keys, &key).await;
            }
            tracing::info!(
                comment_id = %comment.id,
                resent = !enqueued,
                key_activity = "idempotent-replay",
                "repeated request answered with the first comment"
            );
            Ok(accepted(request, &comment, true))
        }
        Claim::Conflict => Err(ApiError::IdempotencyKeyReused),
    }
}

/// Whether the request is a deployment's smoke test: a direct invocation naming the
/// stage [`feedback::SMOKE_TEST_STAGE`], which API Gateway never passes on.
fn is_smoke_test(request: &Request) -> bool {
    matches!(
        request.request_context_ref(),
        Some(RequestContext::ApiGatewayV1(context))
            if context.stage.as_deref() == Some(feedback::SMOKE_TEST_STAGE)
    )
}

/// Queues a new comment: the key activity, with its own subsegment and metric.
async fn enqueue<Q: CommentQueue>(queue: &Q, comment: &Comment) -> Result<(), ApiError> {
    ops_kit::xray::annotate("comment_id", comment.id.to_string());
    ops_kit::xray::in_subsegment("enqueue", queue.enqueue(comment)).await?;
    if !comment.smoke_test {
        metrics::counter!(feedback::metric::COMMENTS_ACCEPTED).increment(1);
    }
    tracing::info!(comment_id = %comment.id, key_activity = "enqueue", "comment accepted");
    Ok(())
}

/// The comment is on the queue; failing to note that only costs a resend on retry.
async fn mark_enqueued<K: IdempotencyStore>(keys: &K, key: &IdempotencyKey) {
    if let Err(error) = keys.mark_enqueued(key).await {
        tracing::warn!(
            error = &error as &dyn std::error::Error,
            key_activity = "idempotency",
            "could not mark the idempotency key as enqueued; a retry will resend"
        );
    }
}

/// `application/json` or any `application/*+json`, with or without parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn idempotency_key(headers: &HeaderMap) -> Result<Option<IdempotencyKey>, ApiError> {
    let mut values = headers.get_all(IDEMPOTENCY_HEADER).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let invalid = |problem| ApiError::InvalidParameter {
        name: "Idempotency-Key",
        problem,
    };
    if values.next().is_some() {
        return Err(invalid(feedback::FieldProblem::new(
            "send Idempotency-Key once",
        )));
    }
    IdempotencyKey::parse(value.as_bytes())
        .map(Some)
        .map_err(invalid)
}

fn accepted(request: &Request, comment: &Comment, replayed: bool) -> http::Response<String> {
    let mut response = json_response(
        StatusCode::ACCEPTED,
        &AcceptedBody::of(comment),
        &comment.correlation_id,
    );
    let location = format!("{}/status/{}", base_path(request), comment.id);
    let headers = response.headers_mut();
    if let Ok(location) = HeaderValue::from_str(&location) {
        headers.insert(header::LOCATION, location);
    }
    if replayed {
        headers.insert("idempotent-replayed", HeaderValue::from_static("true"));
    }
    response
}

/// The path the client called, less the route: `/dev` on an `execute-api` URL, the
/// base path on a custom domain, empty locally. API Gateway's `requestContext.path`
/// is what the client really used; the route (`/comments`) is the event's `path`.
fn base_path(request: &Request) -> String {
    let called = match request.request_context_ref() {
        Some(RequestContext::ApiGatewayV1(context)) => context.path.as_deref(),
        _ => None,
    };
    called
        .and_then(|called| called.strip_suffix(request.raw_http_path()))
        .filter(|prefix| prefix.starts_with('/') && !prefix.contains(['?', '#']))
        .unwrap_or_default()
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types_are_recognised() {
        let mut headers = HeaderMap::new();
        for (value, json) in [
            ("application/json", true),
            ("Application/JSON; charset=utf-8", true),
            ("application/merge-patch+json", true),
            ("text/plain", false),
            ("application/x-www-form-urlencoded", false),
            ("application/jsonp", false),
        ] {
            headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(value));
            assert_eq!(is_json(&headers), json, "{value}");
        }
        assert!(!is_json(&HeaderMap::new()));
    }

    #[test]
    fn a_repeated_idempotency_key_header_is_refused() {
        let mut headers = HeaderMap::new();
        headers.append(IDEMPOTENCY_HEADER, HeaderValue::from_static("a"));
        headers.append(IDEMPOTENCY_HEADER, HeaderValue::from_static("b"));
        assert!(idempotency_key(&headers).is_err());
    }
}
