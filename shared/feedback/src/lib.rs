//! # feedback
//!
//! The online-feedback domain, with nothing of Lambda in it.
//!
//! | module | holds |
//! |---|---|
//! | [`Comment`] and its values | [`CommentId`] (UUIDv7), [`CommentText`], [`AuthorName`], [`Rating`], each with a `parse` constructor |
//! | [`parse_new_comment`] | the `POST /comments` body to a [`NewComment`], every invalid field reported |
//! | [`PageLimit`], [`PageCursor`] | pagination, with an opaque, checked cursor |
//! | [`IdempotencyKey`], [`Fingerprint`] | idempotent posting |
//! | ports | [`CommentQueue`], [`CommentStore`], [`IdempotencyStore`], [`SourceQueue`]: what the handlers need |
//! | adapters | [`SqsCommentQueue`], [`SqsSourceQueue`], [`DynamoCommentStore`]: the ports on AWS; [`dynamodb_client`], [`sqs_client`] build their clients |
//! | [`api`] | response bodies and the one error-to-problem mapping |
//! | [`metric`] | the business metrics' names |
//!
//! ```
//! use feedback::{parse_new_comment, Rating};
//!
//! let comment = parse_new_comment(br#"{"text": "Great talk", "rating": 5}"#)?;
//! assert_eq!(comment.rating, Some(Rating::parse(5)?));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod api;
mod clients;
mod comment;
mod cors;
mod dynamo;
mod idempotency;
mod input;
pub mod metric;
mod page;
mod ports;
mod sqs;

pub use clients::{dynamodb_client, sqs_client};
pub use comment::{
    AuthorName, Comment, CommentId, CommentText, FieldProblem, NewComment, Rating, SMOKE_TEST_STAGE,
};
pub use cors::{Cors, InvalidOrigin};
pub use dynamo::{DynamoCommentStore, FEED_INDEX};
pub use idempotency::{Fingerprint, IDEMPOTENCY_HEADER, IDEMPOTENCY_TTL_SECS, IdempotencyKey};
pub use input::{InputError, MAX_BODY_BYTES, parse_new_comment};
pub use page::{PageCursor, PageLimit};
pub use ports::{
    BoxError, Claim, CommentQueue, CommentStore, DeadLetter, IdempotencyStore, Inserted, Page,
    QueueError, Redelivery, SourceQueue, SourceQueueError, StoreError, StoredComment,
};
pub use sqs::{
    FAILURE_REASON_ATTRIBUTE, PoisonMessage, SOURCE_MESSAGE_ID_ATTRIBUTE, SqsCommentQueue,
    SqsSourceQueue, decode_message, encode_message,
};
