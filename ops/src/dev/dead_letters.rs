//! The dead-letter queue in the ops API: `GET /ops/api/dlq` (the queues, the depth and,
//! unless `peek=false`, the messages without their bodies, each with the first failure
//! the logs recorded for it) and `POST /ops/api/dlq/redrive`, on the same code as
//! `feedback-ops dlq` (`crate::dlq`).

use std::sync::Arc;

use axum::Json;
use axum::extract::State;
use local_cloud::cloudwatch::{LogFilter, LogStore};
use serde::Serialize;

use super::Shared;
use super::api::{ApiError, FilterQuery};

/// What `GET /ops/api/dlq` answers: the queues, the DLQ's depth and its messages
/// (without their bodies).
#[derive(Serialize)]
pub(super) struct DlqAnswer {
    #[serde(flatten)]
    queues: crate::dlq::Queues,
    #[serde(flatten)]
    listing: crate::dlq::Listing,
}

/// How many dead letters one listing shows at most.
const DLQ_LIST_LIMIT: usize = 100;

fn dlq_queues(shared: &Shared) -> Result<crate::dlq::Queues, ApiError> {
    shared.dlq.clone().ok_or_else(|| {
        ApiError::NotFound("the template has no queue with a redrive policy".to_owned())
    })
}

/// `GET /ops/api/dlq`'s query: `peek=false` reads only the depth (no receive, so a
/// poll does not add to the messages' receive counts).
#[derive(serde::Deserialize)]
pub(super) struct DlqQuery {
    #[serde(default = "yes")]
    peek: bool,
}

const fn yes() -> bool {
    true
}

pub(super) async fn list(
    State(shared): State<Arc<Shared>>,
    FilterQuery(query): FilterQuery<DlqQuery>,
) -> Result<Json<DlqAnswer>, ApiError> {
    let queues = dlq_queues(&shared)?;
    if !query.peek {
        let depth = crate::dlq::depth(&shared.sqs, &queues.dlq_url)
            .await
            .map_err(|e| ApiError::Unavailable(e.0))?;
        return Ok(Json(DlqAnswer {
            queues,
            listing: crate::dlq::Listing {
                depth,
                messages: Vec::new(),
            },
        }));
    }
    let mut listing = crate::dlq::list(&shared.sqs, &queues.dlq_url, DLQ_LIST_LIMIT)
        .await
        .map_err(|e| ApiError::Unavailable(e.0))?;
    for message in &mut listing.messages {
        message.logged_failure = first_logged_failure(&shared.cloudwatch.logs, &message.message_id);
    }
    Ok(Json(DlqAnswer { queues, listing }))
}

/// The first warning or error a function logged about message `id` (SQS keeps a
/// message's id when its redrive policy moves it): its `error` field, else its message.
fn first_logged_failure(logs: &LogStore, id: &str) -> Option<String> {
    let lines = logs.query(&LogFilter {
        text: Some(id.to_owned()),
        ..LogFilter::default()
    });
    lines
        .iter()
        .filter(|line| matches!(line.level.as_deref(), Some("WARN" | "ERROR")))
        .find_map(|line| {
            let json = line.json.as_ref()?;
            json.get("error")
                .or_else(|| json.get("message"))
                .and_then(|v| v.as_str())
                .map(|why| {
                    format!(
                        "{} ({}): {why}",
                        line.function,
                        line.level.as_deref().unwrap_or_default()
                    )
                })
        })
}

pub(super) async fn redrive(
    State(shared): State<Arc<Shared>>,
) -> Result<Json<crate::dlq::Redrive>, ApiError> {
    let queues = dlq_queues(&shared)?;
    crate::dlq::redrive(&shared.sqs, &queues)
        .await
        .map(Json)
        .map_err(|e| ApiError::Unavailable(e.0))
}

#[cfg(test)]
mod tests {
    use local_cloud::cloudwatch::{CloudWatch, LogEntry, LogSource};

    use super::*;

    fn line(cloudwatch: &CloudWatch, json: &serde_json::Value) {
        cloudwatch.put_log(LogEntry::new(
            "push-to-db",
            "1",
            "/aws/lambda/push-to-db",
            "s",
            LogSource::Function,
            json.to_string(),
        ));
    }

    #[test]
    fn the_first_warning_or_error_about_a_message_is_its_logged_failure() {
        let cloudwatch = CloudWatch::default();
        line(
            &cloudwatch,
            &serde_json::json!({"level": "INFO", "message": "batch", "message_id": "m-1"}),
        );
        line(
            &cloudwatch,
            &serde_json::json!({"level": "ERROR", "message": "comment not stored", "error": "throttled", "message_id": "m-1"}),
        );
        line(
            &cloudwatch,
            &serde_json::json!({"level": "ERROR", "message": "later", "error": "timeout", "message_id": "m-1"}),
        );
        assert_eq!(
            first_logged_failure(&cloudwatch.logs, "m-1").as_deref(),
            Some("push-to-db (ERROR): throttled")
        );
        assert_eq!(first_logged_failure(&cloudwatch.logs, "m-2"), None);
    }
}
