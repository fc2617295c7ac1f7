//! # status
//!
//! `GET /status`: is the service healthy right now? Each dependency is checked live —
//! the table (`DescribeTable`), the queue and the dead-letter queue
//! (`GetQueueAttributes`) — concurrently, each within [`CHECK_TIMEOUT`], with its
//! latency. The answer also names the version and alias that served it, which is how
//! a canary's two versions are told apart.
//!
//! `GET /status/{id}`: is comment `id` stored yet? The `Location` that `add-comments`
//! answers with points here.
//!
//! | overall | when | HTTP |
//! |---|---|---|
//! | `ok` | every check passed, the dead-letter queue is empty | 200 |
//! | `degraded` | every dependency answered, but messages wait in the dead-letter queue | 200 |
//! | `unavailable` | a dependency failed or timed out | 503 |

use std::future::Future;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::TableStatus;
use aws_sdk_sqs::types::QueueAttributeName;
use feedback::api::{ApiError, CommentView, json_response};
use feedback::{CommentId, CommentStore};
use http::StatusCode;
use lambda_http::{Request, RequestExt};
use ops_kit::{ConfigError, CorrelationId, required_env};
use serde::Serialize;
use time::OffsetDateTime;

/// The service name on every log line.
pub const SERVICE: &str = "status";

/// How long one dependency check may take before it counts as failed. API Gateway
/// gives up after 29 s; a health check should answer long before that.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(2);

/// What the function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TABLE_NAME`: the comments table.
    pub table_name: String,
    /// `QUEUE_URL`: the comments queue.
    pub queue_url: String,
    /// `DLQ_URL`: the dead-letter queue behind it.
    pub dlq_url: String,
}

impl Config {
    /// Reads the configuration.
    ///
    /// # Errors
    /// [`ConfigError`] naming the first missing variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required_env("TABLE_NAME")?,
            queue_url: required_env("QUEUE_URL")?,
            dlq_url: required_env("DLQ_URL")?,
        })
    }
}

/// The clients and names the checks use.
#[derive(Debug, Clone)]
pub struct Dependencies {
    /// DynamoDB, for the table check.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// SQS, for the queue checks.
    pub sqs: aws_sdk_sqs::Client,
    /// The names to check.
    pub config: Config,
}

/// Handles `GET /status` and `GET /status/{id}`.
pub async fn handle<S: CommentStore>(
    request: Request,
    dependencies: &Dependencies,
    store: &S,
) -> http::Response<String> {
    let correlation_id = CorrelationId::from_request(&request);
    ops_kit::correlate(&correlation_id);
    let id = request
        .path_parameters_ref()
        .and_then(|p| p.first("id"))
        .map(str::to_owned);
    let result = match id {
        Some(id) => comment_status(&id, &correlation_id, store).await,
        // Three SDK calls in flight make a large future: keep it on the heap.
        None => Ok(Box::pin(service_status(&request, dependencies, &correlation_id)).await),
    };
    result.unwrap_or_else(|error| error.into_response(&correlation_id))
}

async fn comment_status<S: CommentStore>(
    raw_id: &str,
    correlation_id: &CorrelationId,
    store: &S,
) -> Result<http::Response<String>, ApiError> {
    let id = CommentId::parse(raw_id).map_err(|problem| ApiError::InvalidParameter {
        name: "id",
        problem,
    })?;
    let stored = store.get(id).await?.ok_or(ApiError::CommentNotFound(id))?;
    let body = CommentStatus {
        state: "stored",
        stored_at: stored.stored_at,
        comment: (&stored.comment).into(),
    };
    Ok(json_response(StatusCode::OK, &body, correlation_id))
}

/// The body of `GET /status/{id}` for a stored comment.
#[derive(Serialize)]
struct CommentStatus<'a> {
    state: &'static str,
    #[serde(with = "time::serde::rfc3339")]
    stored_at: OffsetDateTime,
    comment: CommentView<'a>,
}

/// One dependency's check.
#[derive(Debug, Serialize)]
pub struct Check {
    /// The resource's name (table name, queue name).
    pub name: String,
    /// Its kind, in the dependency tags' grammar: `DDB` or `SQS`.
    pub kind: &'static str,
    /// `ok`, `attention` (answered, but needs a look) or `failed`.
    pub state: &'static str,
    /// How long the check took.
    pub latency_ms: u64,
    /// For queues: the approximate number of visible messages.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<u64>,
    /// Why the state is not `ok`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
}

#[derive(Debug, Serialize)]
struct ServiceStatus<'a> {
    status: &'static str,
    function: FunctionInfo,
    #[serde(with = "time::serde::rfc3339")]
    checked_at: OffsetDateTime,
    correlation_id: &'a CorrelationId,
    dependencies: Vec<Check>,
}

#[derive(Debug, Serialize)]
struct FunctionInfo {
    name: String,
    version: String,
    alias: Option<String>,
}

async fn service_status(
    request: &Request,
    dependencies: &Dependencies,
    correlation_id: &CorrelationId,
) -> http::Response<String> {
    let config = &dependencies.config;
    let (table, queue, dlq) = tokio::join!(
        check_table(&dependencies.dynamodb, &config.table_name),
        check_queue(&dependencies.sqs, &config.queue_url, false),
        check_queue(&dependencies.sqs, &config.dlq_url, true),
    );
    let checks = vec![table, queue, dlq];
    let status = if checks.iter().any(|c| c.state == "failed") {
        "unavailable"
    } else if checks.iter().any(|c| c.state == "attention") {
        "degraded"
    } else {
        "ok"
    };
    for check in checks.iter().filter(|c| c.state != "ok") {
        tracing::warn!(
            dependency = %check.name,
            state = check.state,
            detail = check.detail.as_deref(),
            key_activity = "health-check",
            "dependency not ok"
        );
    }
    let body = ServiceStatus {
        status,
        function: function_info(request),
        checked_at: OffsetDateTime::now_utc(),
        correlation_id,
        dependencies: checks,
    };
    let http_status = if status == "unavailable" {
        StatusCode::SERVICE_UNAVAILABLE
    } else {
        StatusCode::OK
    };
    json_response(http_status, &body, correlation_id)
}

/// The function's name and version, and the alias it was invoked through (the last
/// part of the invoked ARN when it has eight parts: `…:function:name:alias`).
fn function_info(request: &Request) -> FunctionInfo {
    let context = request.lambda_context_ref();
    let alias = context.and_then(|c| {
        let parts: Vec<&str> = c.invoked_function_arn.split(':').collect();
        (parts.len() == 8).then(|| parts[7].to_owned())
    });
    FunctionInfo {
        name: context
            .map(|c| c.env_config.function_name.clone())
            .unwrap_or_default(),
        version: context
            .map(|c| c.env_config.version.clone())
            .unwrap_or_default(),
        alias,
    }
}

/// Runs one check with the timeout, timing it.
async fn timed<T, E, F>(check: F) -> (Result<T, String>, u64)
where
    F: Future<Output = Result<T, E>>,
    E: std::error::Error,
{
    let started = Instant::now();
    let result = match tokio::time::timeout(CHECK_TIMEOUT, check).await {
        Ok(Ok(value)) => Ok(value),
        // The detail is for operators reading /status; it names the error kind
        // (`service error`, `dispatch failure`), not endpoints or credentials.
        Ok(Err(error)) => Err(error.to_string()),
        Err(_) => Err(format!("no answer within {} ms", CHECK_TIMEOUT.as_millis())),
    };
    let latency = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    (result, latency)
}

async fn check_table(client: &aws_sdk_dynamodb::Client, table: &str) -> Check {
    let (result, latency_ms) = timed(client.describe_table().table_name(table).send()).await;
    let (state, detail) = match result {
        Ok(output) => match output.table.and_then(|t| t.table_status) {
            Some(TableStatus::Active) => ("ok", None),
            other => ("failed", Some(format!("table status {other:?}"))),
        },
        Err(error) => ("failed", Some(error)),
    };
    Check {
        name: table.to_owned(),
        kind: "DDB",
        state,
        latency_ms,
        messages: None,
        detail,
    }
}

async fn check_queue(client: &aws_sdk_sqs::Client, queue_url: &str, dead_letter: bool) -> Check {
    let name = queue_url.rsplit('/').next().unwrap_or(queue_url).to_owned();
    let (result, latency_ms) = timed(
        client
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .send(),
    )
    .await;
    let mut check = Check {
        name,
        kind: "SQS",
        state: "ok",
        latency_ms,
        messages: None,
        detail: None,
    };
    match result {
        Ok(output) => {
            check.messages = output
                .attributes
                .and_then(|a| {
                    a.get(&QueueAttributeName::ApproximateNumberOfMessages)
                        .cloned()
                })
                .and_then(|n| n.parse().ok());
            if dead_letter && check.messages.unwrap_or(0) > 0 {
                check.state = "attention";
                check.detail = Some("messages are waiting in the dead-letter queue".into());
            }
        }
        Err(error) => {
            check.state = "failed";
            check.detail = Some(error);
        }
    }
    check
}
