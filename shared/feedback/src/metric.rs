//! The business metrics the functions emit (namespace from `OPS_KIT_METRICS_NAMESPACE`,
//! dimensions `service` and `function_version`, added by the ops kit).

/// Comments `add-comments` put on the queue.
pub const COMMENTS_ACCEPTED: &str = "CommentsAccepted";
/// Comments `push-to-db` wrote.
pub const COMMENTS_STORED: &str = "CommentsStored";
/// Redelivered messages `push-to-db` found already stored.
pub const DUPLICATES_SKIPPED: &str = "DuplicatesSkipped";
/// Requests refused for bad input (4xx other than 404).
pub const VALIDATION_REJECTED: &str = "ValidationRejected";
/// Records `push-to-db` reported as failed, for SQS to redeliver.
pub const BATCH_ITEM_FAILURES: &str = "BatchItemFailures";
/// Records `push-to-db` found can never be stored and sent to the dead-letter queue
/// itself, at once (not reported as failed: nothing is retried).
pub const POISON_MESSAGES: &str = "PoisonMessages";
