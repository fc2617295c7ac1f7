//! Ports: what the functions need from the outside world, named after the need.
//!
//! The AWS adapters ([`crate::SqsCommentQueue`], [`crate::DynamoCommentStore`])
//! implement them; the handlers take them as arguments, so a test can hand in the real
//! adapter pointed at moto, or anything else that behaves like one.

use std::future::Future;

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
