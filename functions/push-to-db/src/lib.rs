//! # push-to-db
//!
//! The talk's *pushtoDB*: takes batches from the comments queue and stores each
//! comment in the table.
//!
//! - **Idempotent.** SQS delivers at least once. Each write is conditional on the id
//!   being new, so a redelivered message is counted as a duplicate and never makes a
//!   second item.
//! - **Partial batch failures.** Records are written concurrently; only the ones that
//!   failed are returned in `batchItemFailures` (the event source mapping has
//!   `ReportBatchItemFailures`), so SQS redelivers those and deletes the rest.
//! - **Poison messages.** A record that can never be stored (no body, not a valid
//!   comment) is logged with the reason and reported as failed every time, so after
//!   `maxReceiveCount` receives SQS moves it to the dead-letter queue, where it waits
//!   for a person instead of blocking the queue or vanishing.

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use feedback::metric::{BATCH_ITEM_FAILURES, COMMENTS_STORED, DUPLICATES_SKIPPED};
use feedback::{CommentStore, Inserted, decode_message};
use futures::StreamExt as _;
use lambda_runtime::LambdaEvent;
use ops_kit::xray::{TraceHeader, TraceScope, in_scope, in_subsegment};
use ops_kit::{CORRELATION_ATTRIBUTE, ConfigError, CorrelationId, correlate, required_env};
use tracing::Instrument as _;

/// The service name on every log line.
pub const SERVICE: &str = "push-to-db";

/// How many records of one batch are written at once.
pub const CONCURRENT_WRITES: usize = 16;

/// What the function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TABLE_NAME`: the comments table.
    pub table_name: String,
}

impl Config {
    /// Reads the configuration.
    ///
    /// # Errors
    /// [`ConfigError`] naming the missing variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required_env("TABLE_NAME")?,
        })
    }
}

/// What became of one record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Written now.
    Stored,
    /// Already stored by an earlier delivery.
    Duplicate,
    /// Not stored: SQS should deliver it again.
    Failed,
}

/// Handles one SQS batch. Never fails as a whole: each record's failure is reported
/// on its own, so one bad record cannot make SQS redeliver the good ones.
pub async fn handle<S: CommentStore>(event: LambdaEvent<SqsEvent>, store: &S) -> SqsBatchResponse {
    let records = event.payload.records;
    let outcomes: Vec<(Option<String>, Outcome)> = futures::stream::iter(records)
        .map(|record| async move {
            // Each record continues the trace of the request that queued it (or, when
            // the message carries none, the invocation's).
            let trace = record
                .attributes
                .get("AWSTraceHeader")
                .and_then(|h| TraceHeader::parse(h).ok())
                .or_else(ops_kit::xray::current_header);
            let outcome = in_scope(TraceScope::new(trace), store_record(&record, store))
                .instrument(record_span(&record))
                .await;
            (record.message_id, outcome)
        })
        .buffer_unordered(CONCURRENT_WRITES)
        .collect()
        .await;

    let count = |wanted| outcomes.iter().filter(|(_, o)| *o == wanted).count();
    let failed = count(Outcome::Failed);
    if failed > 0 {
        metrics::counter!(BATCH_ITEM_FAILURES).increment(failed as u64);
    }
    let mut response = SqsBatchResponse::default();
    for (message_id, outcome) in &outcomes {
        if *outcome == Outcome::Failed {
            // A record without a message id cannot be reported alone; SQS treats an
            // empty identifier as a failure of the whole batch, which is the safe side.
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    tracing::info!(
        records = outcomes.len(),
        stored = count(Outcome::Stored),
        duplicates = count(Outcome::Duplicate),
        failed,
        key_activity = "batch",
        "batch processed"
    );
    response
}

/// One record's span: its own correlation id (a batch mixes requests), message id and
/// receive count, so every line about it can be found from the request that sent it.
fn record_span(record: &SqsMessage) -> tracing::Span {
    tracing::info_span!(
        "record",
        correlation_id = tracing::field::Empty,
        comment_id = tracing::field::Empty,
        message_id = record.message_id.as_deref(),
        receive_count = record
            .attributes
            .get("ApproximateReceiveCount")
            .map(String::as_str),
    )
}

async fn store_record<S: CommentStore>(record: &SqsMessage, store: &S) -> Outcome {
    // The attribute first: it is there even when the body is poison.
    let attribute = record
        .message_attributes
        .get(CORRELATION_ATTRIBUTE)
        .and_then(|a| a.string_value.as_deref())
        .and_then(|id| CorrelationId::parse(id).ok());
    if let Some(id) = &attribute {
        correlate(id);
    }
    let comment = match decode_message(record.body.as_deref()) {
        Ok(comment) => comment,
        Err(error) => {
            // A warning, not an error: the input is at fault, not this function. The
            // deployment alarms count ERROR lines, and the DLQ alarm counts poison.
            tracing::warn!(
                error = &error as &dyn std::error::Error,
                key_activity = "poison-message",
                "message can never be stored; it will reach the dead-letter queue after maxReceiveCount receives"
            );
            return Outcome::Failed;
        }
    };
    if attribute.is_none() {
        correlate(&comment.correlation_id);
    }
    tracing::Span::current().record("comment_id", comment.id.to_string());
    ops_kit::xray::annotate("comment_id", comment.id.to_string());
    match in_subsegment("store", store.insert(&comment)).await {
        Ok(Inserted::Stored) => {
            // A deployment's smoke test is stored (never listed), not counted.
            if !comment.smoke_test {
                metrics::counter!(COMMENTS_STORED).increment(1);
            }
            tracing::info!(comment_id = %comment.id, key_activity = "store", "comment stored");
            Outcome::Stored
        }
        Ok(Inserted::Duplicate) => {
            metrics::counter!(DUPLICATES_SKIPPED).increment(1);
            tracing::info!(
                comment_id = %comment.id,
                key_activity = "store",
                "comment already stored; redelivery skipped"
            );
            Outcome::Duplicate
        }
        Err(error) => {
            tracing::error!(
                comment_id = %comment.id,
                error = &error as &dyn std::error::Error,
                key_activity = "store",
                "comment not stored; SQS will redeliver it"
            );
            Outcome::Failed
        }
    }
}
