//! The SQS adapter and the message format between `add-comments` and `push-to-db`.
//!
//! A message's body is the accepted [`Comment`] as JSON. The correlation id also
//! travels as the `correlation_id` message attribute, so the consumer can put it on its
//! log lines before (and even if) the body parses.

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    MessageAttributeValue, MessageSystemAttributeNameForSends, MessageSystemAttributeValue,
};
use ops_kit::CORRELATION_ATTRIBUTE;

use crate::comment::Comment;
use crate::ports::{CommentQueue, QueueError};

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

/// Why a queued message can never be stored. Retrying will not help: the message is
/// reported as failed until SQS moves it to the dead-letter queue.
#[derive(Debug, thiserror::Error)]
pub enum PoisonMessage {
    /// The record has no body.
    #[error("the message has no body")]
    NoBody,
    /// The body is not a valid comment.
    #[error("the message body is not a valid comment")]
    Invalid(#[source] serde_json::Error),
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
}
