//! The SQS adapters and the message format between `add-comments` and `push-to-db`.
//!
//! A message's body is the accepted [`Comment`] as JSON. The correlation id also
//! travels as the `correlation_id` message attribute, so the consumer can put it on its
//! log lines before (and even if) the body parses.
//!
//! A message `push-to-db` dead-letters itself keeps its body, its correlation attribute
//! and its `AWSTraceHeader`, and gains two String attributes: why
//! ([`FAILURE_REASON_ATTRIBUTE`]) and the id it had on the comments queue
//! ([`SOURCE_MESSAGE_ID_ATTRIBUTE`]). A message the redrive policy moved has neither:
//! its retries ran out.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, MessageAttributeValue,
    MessageSystemAttributeNameForSends, MessageSystemAttributeValue,
};
use ops_kit::CORRELATION_ATTRIBUTE;

use crate::comment::Comment;
use crate::ports::{
    BoxError, CommentQueue, DeadLetter, QueueError, Redelivery, SourceQueue, SourceQueueError,
};

/// The message attribute that says why `push-to-db` sent a message to the dead-letter
/// queue (a [`PoisonMessage`]'s text: it never quotes the body). One definition, in
/// [`ops_wire::queue`], for the consumer that writes it and `feedback-ops dlq` that
/// reads it.
pub const FAILURE_REASON_ATTRIBUTE: &str = ops_wire::queue::FAILURE_REASON_ATTRIBUTE;

/// The message attribute with the id a dead-lettered message had on the comments queue.
pub const SOURCE_MESSAGE_ID_ATTRIBUTE: &str = ops_wire::queue::SOURCE_MESSAGE_ID_ATTRIBUTE;

/// The most messages one `ChangeMessageVisibilityBatch` call takes (SQS's limit).
const VISIBILITY_BATCH: usize = 10;

/// The longest visibility timeout SQS accepts: 12 hours.
const MAX_VISIBILITY_SECS: u64 = 43_200;

/// Queues comments on an SQS queue.
#[derive(Clone, Debug)]
pub struct SqsCommentQueue {
    client: Client,
    queue_url: String,
}

impl SqsCommentQueue {
    /// An adapter for the queue at `queue_url`, through `client` (built once, at init).
    pub fn new(client: Client, queue_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
        }
    }
}

impl CommentQueue for SqsCommentQueue {
    #[tracing::instrument(name = "queue.enqueue", skip_all, fields(comment_id = %comment.id))]
    async fn enqueue(&self, comment: &Comment) -> Result<(), QueueError> {
        let body = encode_message(comment);
        let correlation = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(comment.correlation_id.as_str())
            .build()
            .map_err(|e| QueueError(Box::new(e)))?;
        let mut send = self
            .client
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .message_attributes(CORRELATION_ATTRIBUTE, correlation);
        // The trace continues on the other side of the queue: the consumer's work on
        // this message becomes a child of the current subsegment.
        if let Some(header) = ops_kit::xray::current_header().filter(|h| h.parent.is_some()) {
            let trace = MessageSystemAttributeValue::builder()
                .data_type("String")
                .string_value(header.to_string())
                .build()
                .map_err(|e| QueueError(Box::new(e)))?;
            send = send.message_system_attributes(
                MessageSystemAttributeNameForSends::AwsTraceHeader,
                trace,
            );
        }
        send.send().await.map_err(|e| QueueError(Box::new(e)))?;
        Ok(())
    }
}

/// Why a queued message can never be stored. Retrying will not help: `push-to-db`
/// sends the message to the dead-letter queue at once.
///
/// The `Display` text is generic, never the body or the parser's message (which may
/// quote the body): it is what [`FAILURE_REASON_ATTRIBUTE`] says.
#[derive(Debug, thiserror::Error)]
pub enum PoisonMessage {
    /// The record has no body.
    #[error("the message has no body")]
    NoBody,
    /// The body is not a valid comment.
    #[error("the message body is not a valid comment")]
    Invalid(#[source] serde_json::Error),
}

/// The consumed comments queue and its dead-letter queue, for `push-to-db`.
#[derive(Clone, Debug)]
pub struct SqsSourceQueue {
    client: Client,
    queue_url: String,
    dlq_url: String,
}

impl SqsSourceQueue {
    /// An adapter for the queue at `queue_url` and its dead-letter queue at `dlq_url`,
    /// through `client` (built once, at init).
    pub fn new(client: Client, queue_url: impl Into<String>, dlq_url: impl Into<String>) -> Self {
        Self {
            client,
            queue_url: queue_url.into(),
            dlq_url: dlq_url.into(),
        }
    }
}

/// The account and name a queue URL ends with (`…/123456789012/name`).
fn url_account_and_name(url: &str) -> Option<(&str, &str)> {
    let mut segments = url.trim_end_matches('/').rsplit('/');
    let name = segments.next()?;
    let account = segments.next()?;
    Some((account, name))
}

/// The account and name of a queue ARN (`arn:aws:sqs:eu-west-1:123456789012:name`).
fn arn_account_and_name(arn: &str) -> Option<(&str, &str)> {
    let parts: Vec<&str> = arn.split(':').collect();
    match parts.as_slice() {
        ["arn", _, "sqs", _, account, name] => Some((account, name)),
        _ => None,
    }
}

/// Whether the queue of ARN `arn` is the queue at `url`: same account, same name.
fn same_queue(arn: Option<&str>, url: &str) -> bool {
    match (
        arn.and_then(arn_account_and_name),
        url_account_and_name(url),
    ) {
        (Some(from), Some(mine)) => from == mine && !mine.1.is_empty(),
        _ => false,
    }
}

fn string_attribute(value: &str) -> Result<MessageAttributeValue, SourceQueueError> {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .map_err(|e| SourceQueueError::DeadLetter(Box::new(e)))
}

impl SourceQueue for SqsSourceQueue {
    fn is_source(&self, event_source_arn: Option<&str>) -> bool {
        same_queue(event_source_arn, &self.queue_url)
    }

    #[tracing::instrument(name = "queue.dead_letter", skip_all)]
    async fn dead_letter(&self, letter: &DeadLetter) -> Result<(), SourceQueueError> {
        let mut send = self
            .client
            .send_message()
            .queue_url(&self.dlq_url)
            .message_body(&letter.body)
            .message_attributes(FAILURE_REASON_ATTRIBUTE, string_attribute(&letter.reason)?);
        if let Some(id) = &letter.source_message_id {
            send = send.message_attributes(SOURCE_MESSAGE_ID_ATTRIBUTE, string_attribute(id)?);
        }
        if let Some(id) = &letter.correlation_id {
            send = send.message_attributes(CORRELATION_ATTRIBUTE, string_attribute(id.as_str())?);
        }
        if let Some(header) = &letter.trace_header {
            let trace = MessageSystemAttributeValue::builder()
                .data_type("String")
                .string_value(header)
                .build()
                .map_err(|e| SourceQueueError::DeadLetter(Box::new(e)))?;
            send = send.message_system_attributes(
                MessageSystemAttributeNameForSends::AwsTraceHeader,
                trace,
            );
        }
        send.send()
            .await
            .map_err(|e| SourceQueueError::DeadLetter(Box::new(e)))?;
        Ok(())
    }

    #[tracing::instrument(name = "queue.delay_redelivery", skip_all, fields(messages = redeliveries.len()))]
    async fn delay_redelivery(&self, redeliveries: &[Redelivery]) -> Result<(), SourceQueueError> {
        let mut not_delayed = 0;
        let mut problems: Vec<String> = Vec::new();
        for chunk in redeliveries.chunks(VISIBILITY_BATCH) {
            let entries = chunk
                .iter()
                .enumerate()
                .map(|(i, redelivery)| {
                    let secs = redelivery.delay.as_secs().min(MAX_VISIBILITY_SECS);
                    ChangeMessageVisibilityBatchRequestEntry::builder()
                        .id(i.to_string())
                        .receipt_handle(&redelivery.receipt_handle)
                        .visibility_timeout(i32::try_from(secs).unwrap_or(i32::MAX))
                        .build()
                        .map_err(|e| SourceQueueError::Visibility(Box::new(e)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            let answer = self
                .client
                .change_message_visibility_batch()
                .queue_url(&self.queue_url)
                .set_entries(Some(entries))
                .send()
                .await;
            match answer {
                // SQS answers per entry, with codes that never quote a message.
                Ok(output) => {
                    not_delayed += output.failed().len();
                    problems.extend(output.failed().iter().map(|f| f.code().to_owned()));
                }
                Err(error) => {
                    not_delayed += chunk.len();
                    problems.push(aws_sdk_sqs::error::DisplayErrorContext(error).to_string());
                }
            }
        }
        if not_delayed == 0 {
            return Ok(());
        }
        problems.dedup();
        let detail = format!(
            "{not_delayed} of {} not delayed: {}",
            redeliveries.len(),
            problems.join("; ")
        );
        Err(SourceQueueError::Visibility(BoxError::from(detail)))
    }
}

/// The body of the message for `comment`.
pub fn encode_message(comment: &Comment) -> String {
    // A Comment holds only strings, a small integer and a time: it always serialises.
    serde_json::to_string(comment).unwrap_or_default()
}

/// A message body back to a comment, re-checking every field.
///
/// # Errors
/// [`PoisonMessage`] when there is no body or it is not a valid comment.
pub fn decode_message(body: Option<&str>) -> Result<Comment, PoisonMessage> {
    let body = body.ok_or(PoisonMessage::NoBody)?;
    serde_json::from_str(body).map_err(PoisonMessage::Invalid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CommentText, NewComment};
    use ops_kit::CorrelationId;

    #[test]
    fn a_message_round_trips() {
        let comment = NewComment {
            author: None,
            text: CommentText::parse("hé 🎉").unwrap(),
            rating: None,
        }
        .accept(CorrelationId::generate());
        assert_eq!(
            decode_message(Some(&encode_message(&comment))).unwrap(),
            comment
        );
    }

    #[test]
    fn bodies_that_are_not_comments_are_poison() {
        assert!(matches!(decode_message(None), Err(PoisonMessage::NoBody)));
        for body in ["", "not json", "{}", r#"{"id":"x","text":"y"}"#] {
            assert!(
                matches!(decode_message(Some(body)), Err(PoisonMessage::Invalid(_))),
                "{body}"
            );
        }
    }

    #[test]
    fn a_record_is_the_queues_own_when_its_arn_names_the_same_account_and_queue() {
        let aws = "https://sqs.eu-west-1.amazonaws.com/123456789012/stack-CommentsQueue-AbC";
        let moto = "http://127.0.0.1:5000/123456789012/stack-CommentsQueue-AbC";
        let arn = "arn:aws:sqs:eu-west-1:123456789012:stack-CommentsQueue-AbC";
        assert!(same_queue(Some(arn), aws));
        assert!(same_queue(Some(arn), moto));
        for other in [
            None,
            Some(""),
            Some("arn:aws:sqs:eu-west-1:123456789012:stack-CommentsDlq-XyZ"),
            Some("arn:aws:sqs:eu-west-1:999999999999:stack-CommentsQueue-AbC"),
            Some("arn:aws:sns:eu-west-1:123456789012:stack-CommentsQueue-AbC"),
            Some("stack-CommentsQueue-AbC"),
        ] {
            assert!(!same_queue(other, aws), "{other:?}");
        }
        assert!(!same_queue(Some(arn), "not a url"));
    }

    #[test]
    fn the_reason_a_message_is_poison_never_quotes_it() {
        let body = r#"{"id": "SECRET-1", "text": "SECRET-2", "rating": "SECRET-3"}"#;
        let error = decode_message(Some(body)).unwrap_err();
        assert_eq!(error.to_string(), "the message body is not a valid comment");
        assert_eq!(PoisonMessage::NoBody.to_string(), "the message has no body");
    }
}
