//! Ports: what the functions need from the outside world, named after the need.
//!
//! The AWS adapters ([`crate::SqsCommentQueue`], [`crate::DynamoCommentStore`])
//! implement them; the handlers take them as arguments, so a test can hand in the real
//! adapter pointed at moto, or anything else that behaves like one.

use std::future::Future;
use std::time::Duration;

use ops_kit::CorrelationId;
use time::OffsetDateTime;

use crate::comment::{Comment, CommentId};
use crate::idempotency::{Fingerprint, IdempotencyKey};
use crate::page::{PageCursor, PageLimit};

/// A boxed error from an adapter's client, kept whole as a `source()`.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// The queue between accepting a comment and storing it.
pub trait CommentQueue: Send + Sync {
    /// Queues an accepted comment. When this returns `Ok`, the queue has it: only then
    /// may the client be told it was accepted.
    fn enqueue(&self, comment: &Comment) -> impl Future<Output = Result<(), QueueError>> + Send;
}

/// The queue `push-to-db` consumes, as its consumer needs it: a message that can never
/// be stored goes to the dead-letter queue at once, and a message that failed for a
/// reason that may pass stays hidden for a while before SQS delivers it again.
pub trait SourceQueue: Send + Sync {
    /// Whether a record with this `eventSourceARN` came from this queue. Only its own
    /// records are dead-lettered or delayed; a record from anywhere else (a direct
    /// invocation, such as the pre-traffic hook's smoke test) is its sender's to settle.
    fn is_source(&self, event_source_arn: Option<&str>) -> bool;

    /// Sends a message that can never be stored to the dead-letter queue. When this
    /// returns `Ok`, the dead-letter queue has it: only then may the record be reported
    /// as handled (and so be deleted from this queue).
    fn dead_letter(
        &self,
        letter: &DeadLetter,
    ) -> impl Future<Output = Result<(), SourceQueueError>> + Send;

    /// Hides each message for its delay before SQS delivers it again.
    ///
    /// An error means some message's visibility did not change: it comes back after the
    /// queue's own visibility timeout instead, which loses nothing.
    fn delay_redelivery(
        &self,
        redeliveries: &[Redelivery],
    ) -> impl Future<Output = Result<(), SourceQueueError>> + Send;
}

/// Where comments are kept.
pub trait CommentStore: Send + Sync {
    /// Stores a comment unless one with its id is already stored.
    fn insert(
        &self,
        comment: &Comment,
    ) -> impl Future<Output = Result<Inserted, StoreError>> + Send;

    /// A page of comments, newest first, starting after `after` when given.
    fn newest(
        &self,
        limit: PageLimit,
        after: Option<PageCursor>,
    ) -> impl Future<Output = Result<Page, StoreError>> + Send;

    /// One comment, if it is stored.
    fn get(
        &self,
        id: CommentId,
    ) -> impl Future<Output = Result<Option<StoredComment>, StoreError>> + Send;
}

/// Remembers idempotency keys and what they were first used for.
pub trait IdempotencyStore: Send + Sync {
    /// Claims `key` for `candidate` unless it is already claimed (and not expired).
    fn claim(
        &self,
        key: &IdempotencyKey,
        fingerprint: &Fingerprint,
        candidate: &Comment,
    ) -> impl Future<Output = Result<Claim, StoreError>> + Send;

    /// Records that the comment claimed under `key` is on the queue, so a retry need
    /// not send it again.
    fn mark_enqueued(
        &self,
        key: &IdempotencyKey,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What [`CommentStore::insert`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Inserted {
    /// The comment is stored now.
    Stored,
    /// A comment with this id was already stored (a redelivered message): nothing written.
    Duplicate,
}

/// What [`IdempotencyStore::claim`] found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Claim {
    /// The key is new: `candidate` is now the comment for it.
    New,
    /// The key was used before for the same content: this is a retry of `comment`.
    /// `enqueued` says whether that comment is known to be on the queue.
    Retry {
        /// The comment the first request accepted.
        comment: Comment,
        /// Whether it reached the queue.
        enqueued: bool,
    },
    /// The key was used before for different content.
    Conflict,
}

/// A message that can never be stored, as it goes to the dead-letter queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    /// The original body, unchanged.
    pub body: String,
    /// The original message's id.
    pub source_message_id: Option<String>,
    /// The original message's correlation id, when it carried a valid one.
    pub correlation_id: Option<CorrelationId>,
    /// The original message's `AWSTraceHeader`, so the trace continues into the DLQ.
    pub trace_header: Option<String>,
    /// Why it can never be stored: a generic text that never quotes the body (a
    /// listing of the dead-letter queue shows it).
    pub reason: String,
}

/// A message to deliver again, not before `delay`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Redelivery {
    /// The receipt handle of the delivery that failed.
    pub receipt_handle: String,
    /// How long the message stays hidden, from now.
    pub delay: Duration,
}

/// A stored comment, with when it was stored.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredComment {
    /// The comment.
    pub comment: Comment,
    /// When `push-to-db` wrote it.
    pub stored_at: OffsetDateTime,
}

/// One page of comments, newest first.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Page {
    /// The comments.
    pub items: Vec<Comment>,
    /// Where the next page starts; `None` on the last page.
    pub next: Option<PageCursor>,
}

/// The queue did not take a message.
#[derive(Debug, thiserror::Error)]
#[error("the comments queue did not accept the message")]
pub struct QueueError(#[source] pub BoxError);

/// The consumed queue or its dead-letter queue refused a request.
#[derive(Debug, thiserror::Error)]
pub enum SourceQueueError {
    /// The dead-letter queue did not take the message.
    #[error("the dead-letter queue did not accept the message")]
    DeadLetter(#[source] BoxError),
    /// The queue did not change the visibility of every message asked.
    #[error("the comments queue did not delay every redelivery")]
    Visibility(#[source] BoxError),
}

/// The store failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The request to the store failed (unreachable, throttled, refused).
    #[error("the comments table request failed")]
    Request(#[source] BoxError),
    /// An item in the table is not a valid comment.
    #[error("a stored item is not a valid comment")]
    Corrupt(#[source] BoxError),
}
