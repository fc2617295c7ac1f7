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
//! - **Transient failures back off.** A record whose write failed (the table refused,
//!   timed out, was unreachable) is reported as failed and hidden for
//!   [`retry_delay`] of its `ApproximateReceiveCount`: 5 s after the first receive,
//!   doubling, at most 300 s (one `ChangeMessageVisibilityBatch` per ten such records;
//!   a poison record whose send to the dead-letter queue failed backs off the same way).
//!   With the queue's `maxReceiveCount` of 10 a message is retried for about 20 minutes
//!   before the redrive policy moves it to the dead-letter queue, so an outage of a few
//!   minutes dead-letters nothing. If the delay cannot be set, the queue's own
//!   visibility timeout applies.
//! - **Poison messages go to the dead-letter queue at once.** A record that can never
//!   be stored (no valid comment in its body) is sent to the dead-letter queue by this
//!   function, body unchanged, with its correlation id and trace header, and the
//!   `failure_reason` and `source_message_id` attributes
//!   ([`feedback::FAILURE_REASON_ATTRIBUTE`], [`feedback::SOURCE_MESSAGE_ID_ATTRIBUTE`]),
//!   then reported as handled, so SQS deletes it: it waits there for a person instead of
//!   using up retries. The reason is generic and never quotes the body. If that send
//!   fails, the record is reported as failed, so nothing is lost and the redrive policy
//!   still backs it up. A record from anywhere but the comments queue (a direct
//!   invocation, such as the pre-traffic hook's smoke test) is reported as failed and
//!   left to its sender.
//!
//! So a message in the dead-letter queue means a person must look: it is poison (it has
//! `failure_reason`) or it used up its retries (it has not).

use std::time::Duration;

use aws_lambda_events::event::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent, SqsMessage};
use feedback::metric::{BATCH_ITEM_FAILURES, COMMENTS_STORED, DUPLICATES_SKIPPED, POISON_MESSAGES};
use feedback::{
    CommentStore, DeadLetter, Inserted, PoisonMessage, Redelivery, SourceQueue, decode_message,
};
use futures::StreamExt as _;
use lambda_runtime::LambdaEvent;
use ops_kit::xray::{TraceHeader, TraceScope, in_scope, in_subsegment};
use ops_kit::{CORRELATION_ATTRIBUTE, ConfigError, CorrelationId, correlate, required_env};
use tracing::Instrument as _;

/// The service name on every log line.
pub const SERVICE: &str = "push-to-db";

/// How many records of one batch are written at once.
pub const CONCURRENT_WRITES: usize = 16;

/// The delay before a record that failed is delivered again after its first receive.
pub const RETRY_BASE: Duration = Duration::from_secs(5);

/// The longest delay before a record that failed is delivered again.
pub const RETRY_CAP: Duration = Duration::from_mins(5);

/// How long a record that failed on its `receive_count`th receive stays hidden:
/// [`RETRY_BASE`] doubled per receive after the first, at most [`RETRY_CAP`] — 5, 10,
/// 20, 40, 80, 160, then 300 s. With `maxReceiveCount: 10` the first nine delays add up
/// to 1,215 s: a message is retried for about 20 minutes before it can reach the
/// dead-letter queue (`template.yaml` gives the same arithmetic).
pub fn retry_delay(receive_count: u32) -> Duration {
    let doublings = receive_count.saturating_sub(1).min(16);
    (RETRY_BASE * 2_u32.pow(doublings)).min(RETRY_CAP)
}

/// What the function reads from its environment.
#[derive(Debug, Clone)]
pub struct Config {
    /// `TABLE_NAME`: the comments table.
    pub table_name: String,
    /// `QUEUE_URL`: the comments queue it consumes, whose failed records it delays.
    pub queue_url: String,
    /// `DLQ_URL`: the dead-letter queue it sends poison messages to.
    pub dlq_url: String,
}

impl Config {
    /// Reads the configuration.
    ///
    /// # Errors
    /// [`ConfigError`] naming the missing variable.
    pub fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required_env("TABLE_NAME")?,
            queue_url: required_env("QUEUE_URL")?,
            dlq_url: required_env("DLQ_URL")?,
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
    /// Poison: sent to the dead-letter queue, so SQS may delete it.
    DeadLettered,
    /// Not stored: SQS should deliver it again.
    Failed,
}

/// Handles one SQS batch. Never fails as a whole: each record's failure is reported
/// on its own, so one bad record cannot make SQS redeliver the good ones.
pub async fn handle<S: CommentStore, Q: SourceQueue>(
    event: LambdaEvent<SqsEvent>,
    store: &S,
    queue: &Q,
) -> SqsBatchResponse {
    let records = event.payload.records;
    let outcomes: Vec<(SqsMessage, Outcome)> = futures::stream::iter(records)
        .map(|record| async move {
            // Each record continues the trace of the request that queued it (or, when
            // the message carries none, the invocation's).
            let trace = record
                .attributes
                .get("AWSTraceHeader")
                .and_then(|h| TraceHeader::parse(h).ok())
                .or_else(ops_kit::xray::current_header);
            let outcome = in_scope(TraceScope::new(trace), store_record(&record, store, queue))
                .instrument(record_span(&record))
                .await;
            (record, outcome)
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
    for (record, outcome) in &outcomes {
        if *outcome == Outcome::Failed {
            // A record without a message id cannot be reported alone; SQS treats an
            // empty identifier as a failure of the whole batch, which is the safe side.
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id.clone().unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    delay_redelivery(&outcomes, queue).await;
    tracing::info!(
        records = outcomes.len(),
        stored = count(Outcome::Stored),
        duplicates = count(Outcome::Duplicate),
        dead_lettered = count(Outcome::DeadLettered),
        failed,
        key_activity = "batch",
        "batch processed"
    );
    response
}

/// The record's `ApproximateReceiveCount` (1 when it has none: a direct invocation).
fn receive_count(record: &SqsMessage) -> u32 {
    record
        .attributes
        .get("ApproximateReceiveCount")
        .and_then(|count| count.parse().ok())
        .unwrap_or(1)
}

/// Hides the queue's failed records for their [`retry_delay`], so a dependency that is
/// down gets time to come back before the retries run out. Best effort: if SQS refuses,
/// the queue's own visibility timeout applies, and the batch's answer is the same.
async fn delay_redelivery<Q: SourceQueue>(outcomes: &[(SqsMessage, Outcome)], queue: &Q) {
    let redeliveries: Vec<Redelivery> = outcomes
        .iter()
        .filter(|(record, outcome)| {
            *outcome == Outcome::Failed && queue.is_source(record.event_source_arn.as_deref())
        })
        .filter_map(|(record, _)| {
            Some(Redelivery {
                receipt_handle: record.receipt_handle.clone()?,
                delay: retry_delay(receive_count(record)),
            })
        })
        .collect();
    if redeliveries.is_empty() {
        return;
    }
    match queue.delay_redelivery(&redeliveries).await {
        Ok(()) => tracing::info!(
            records = redeliveries.len(),
            key_activity = "retry",
            "failed records delayed before their redelivery"
        ),
        Err(error) => tracing::warn!(
            records = redeliveries.len(),
            error = &error as &dyn std::error::Error,
            key_activity = "retry",
            "could not delay the failed records; they come back after the queue's visibility timeout"
        ),
    }
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

async fn store_record<S: CommentStore, Q: SourceQueue>(
    record: &SqsMessage,
    store: &S,
    queue: &Q,
) -> Outcome {
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
        Err(error) => return dead_letter(record, &error, attribute, queue).await,
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

/// Sends a poison record to the dead-letter queue now, instead of letting it use up its
/// receives. Poison is logged as a warning, not an error: the input is at fault, not
/// this function (the deployment alarms count ERROR lines; the DLQ alarm counts
/// poison). Only a failed send, this function's own failure, is an ERROR line.
async fn dead_letter<Q: SourceQueue>(
    record: &SqsMessage,
    error: &PoisonMessage,
    correlation_id: Option<CorrelationId>,
    queue: &Q,
) -> Outcome {
    if !queue.is_source(record.event_source_arn.as_deref()) {
        tracing::warn!(
            // Display only: the parser's source message may quote the body.
            error = %error,
            key_activity = "poison-message",
            "message can never be stored; not from the comments queue, so reported failed to its sender"
        );
        return Outcome::Failed;
    }
    // SQS never delivers an empty body: this is a record that cannot be sent on as is.
    let Some(body) = record.body.clone().filter(|b| !b.is_empty()) else {
        tracing::warn!(
            // Display only: the parser's source message may quote the body.
            error = %error,
            key_activity = "poison-message",
            "message can never be stored and has no body to dead-letter; reported failed for the redrive policy"
        );
        return Outcome::Failed;
    };
    let letter = DeadLetter {
        body,
        source_message_id: record.message_id.clone(),
        correlation_id,
        trace_header: record.attributes.get("AWSTraceHeader").cloned(),
        // The generic text, never the parser's message, which may quote the body.
        reason: error.to_string(),
    };
    match in_subsegment("dead-letter", queue.dead_letter(&letter)).await {
        Ok(()) => {
            metrics::counter!(POISON_MESSAGES).increment(1);
            tracing::warn!(
                // Display only: the parser's source message may quote the body.
                error = %error,
                key_activity = "poison-message",
                "message can never be stored; sent to the dead-letter queue now"
            );
            Outcome::DeadLettered
        }
        Err(send_error) => {
            // This function's own failure: an ERROR line, and the record comes back.
            tracing::error!(
                error = &send_error as &dyn std::error::Error,
                reason = %error,
                key_activity = "poison-message",
                "message can never be stored and could not be sent to the dead-letter queue; reported failed, so SQS delivers it again"
            );
            Outcome::Failed
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_retry_delay_doubles_from_five_seconds_up_to_five_minutes() {
        let delays: Vec<u64> = (1..=10).map(|n| retry_delay(n).as_secs()).collect();
        assert_eq!(delays, [5, 10, 20, 40, 80, 160, 300, 300, 300, 300]);
        assert_eq!(retry_delay(0), RETRY_BASE, "no count: a first receive");
        assert_eq!(retry_delay(u32::MAX), RETRY_CAP);
    }
}
