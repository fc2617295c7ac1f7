//! The SQS message attributes that travel with a comment across its queues: the
//! correlation id on every message, and on a message a consumer dead-lettered itself,
//! why and which message it was. Producers, the consumer and `feedback-ops dlq` name
//! them from here.

/// The correlation id of the request that queued the message.
pub const CORRELATION_ATTRIBUTE: &str = "correlation_id";

/// Why a consumer moved the message to the dead-letter queue itself: a reason in words
/// that never quotes the message's content.
pub const FAILURE_REASON_ATTRIBUTE: &str = "failure_reason";

/// The id the message had on the queue it was dead-lettered from.
pub const SOURCE_MESSAGE_ID_ATTRIBUTE: &str = "source_message_id";
