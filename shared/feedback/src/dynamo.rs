//! The DynamoDB adapter: comments and idempotency keys in one table.
//!
//! | item | `pk` | other keys | notes |
//! |---|---|---|---|
//! | comment | `COMMENT#<id>` | `feed` = `comments`, `id` | `feed`/`id` key the `feed` index |
//! | idempotency key | `IDEMPOTENCY#<sha-256 of the key>` | — | `expires_at` is the table's TTL attribute |
//! | a deployment's smoke-test comment | `COMMENT#<id>` | — (never listed) | `expires_at` an hour on |
//!
//! "Newest first" is a `Query` on the `feed` index (partition `feed`, sort `id`,
//! descending): ids are UUIDv7, so their text sorts by time. Only comments carry
//! `feed`, so the index is sparse. One `feed` partition takes about 1000 writes a
//! second, far above a feedback form's load; a busier service would shard `feed`
//! (`comments#0` … `comments#n`) and merge the pages.

use std::collections::HashMap;

use aws_sdk_dynamodb::Client;
use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::AttributeValue;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::comment::{Comment, CommentId};
use crate::idempotency::{Fingerprint, IDEMPOTENCY_TTL_SECS, IdempotencyKey};
use crate::page::{PageCursor, PageLimit};
use crate::ports::{
    BoxError, Claim, CommentStore, IdempotencyStore, Inserted, Page, StoreError, StoredComment,
};

/// The name of the index that serves "newest first".
pub const FEED_INDEX: &str = "feed";
const FEED: &str = "comments";
/// How long a deployment's smoke-test comment stays (the table's TTL deletes it).
const SMOKE_TEST_TTL_SECS: i64 = 3600;

type Item = HashMap<String, AttributeValue>;

/// Comments and idempotency keys in a DynamoDB table.
#[derive(Clone, Debug)]
pub struct DynamoCommentStore {
    client: Client,
    table: String,
}

impl DynamoCommentStore {
    /// An adapter for `table`, through `client` (built once, at init).
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        Self {
            client,
            table: table.into(),
        }
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }
}

fn comment_key(id: CommentId) -> AttributeValue {
    AttributeValue::S(format!("COMMENT#{id}"))
}

fn idempotency_key(key: &IdempotencyKey) -> AttributeValue {
    AttributeValue::S(format!("IDEMPOTENCY#{}", key.digest()))
}

fn request_error<E, R>(error: SdkError<E, R>) -> StoreError
where
    E: std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug + Send + Sync + 'static,
{
    StoreError::Request(Box::new(error))
}

fn corrupt(error: impl Into<BoxError>) -> StoreError {
    StoreError::Corrupt(error.into())
}

/// A comment as a table item, with its keys and the time it was stored.
fn to_item(comment: &Comment, stored_at: OffsetDateTime) -> Result<Item, StoreError> {
    let mut item: Item = serde_dynamo::to_item(comment).map_err(corrupt)?;
    item.insert("pk".into(), comment_key(comment.id));
    if comment.smoke_test {
        // Outside the sparse `feed` index, so never listed; gone within the hour.
        let expires = stored_at.unix_timestamp() + SMOKE_TEST_TTL_SECS;
        item.insert("expires_at".into(), AttributeValue::N(expires.to_string()));
    } else {
        item.insert("feed".into(), AttributeValue::S(FEED.into()));
    }
    item.insert(
        "stored_at".into(),
        AttributeValue::S(stored_at.format(&Rfc3339).map_err(corrupt)?),
    );
    Ok(item)
}

/// The attributes a comment item carries besides its keys: what [`from_item`] reads.
const COMMENT_ATTRIBUTES: [&str; 7] = [
    "smoke_test",
    "id",
    "author",
    "text",
    "rating",
    "created_at",
    "correlation_id",
];

/// A table item back to a comment, re-validating every field it reads. Attributes it
/// does not know are left alone, not refused: one added to an item by a later version
/// or by hand must not turn every page that lists it into a 500.
fn from_item(mut item: Item) -> Result<StoredComment, StoreError> {
    let stored_at = match item.remove("stored_at") {
        Some(AttributeValue::S(at)) => OffsetDateTime::parse(&at, &Rfc3339).map_err(corrupt)?,
        _ => return Err(corrupt("stored_at is missing")),
    };
    item.retain(|name, _| COMMENT_ATTRIBUTES.contains(&name.as_str()));
    let comment = serde_dynamo::from_item(item).map_err(corrupt)?;
    Ok(StoredComment { comment, stored_at })
}

impl CommentStore for DynamoCommentStore {
    #[tracing::instrument(name = "store.insert", skip_all, fields(comment_id = %comment.id))]
    async fn insert(&self, comment: &Comment) -> Result<Inserted, StoreError> {
        let item = to_item(comment, OffsetDateTime::now_utc())?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match result {
            Ok(_) => Ok(Inserted::Stored),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {
                Ok(Inserted::Duplicate)
            }
            Err(e) => Err(request_error(e)),
        }
    }

    #[tracing::instrument(name = "store.newest", skip_all, fields(limit = limit.get()))]
    async fn newest(
        &self,
        limit: PageLimit,
        after: Option<PageCursor>,
    ) -> Result<Page, StoreError> {
        // Ask for one more than the page: if it comes, there is a next page, and the
        // client never gets an empty last page.
        let wanted = usize::from(limit.get()) + 1;
        let mut items = Vec::with_capacity(wanted);
        let mut start_key = None;
        loop {
            let mut query = self
                .client
                .query()
                .table_name(&self.table)
                .index_name(FEED_INDEX)
                .scan_index_forward(false)
                .limit(i32::try_from(wanted - items.len()).unwrap_or(i32::MAX))
                .set_exclusive_start_key(start_key.take())
                .expression_attribute_values(":feed", AttributeValue::S(FEED.into()));
            query = match after {
                Some(cursor) => query
                    .key_condition_expression("feed = :feed AND id < :after")
                    .expression_attribute_values(
                        ":after",
                        AttributeValue::S(cursor.last_seen().to_string()),
                    ),
                None => query.key_condition_expression("feed = :feed"),
            };
            let output = query.send().await.map_err(request_error)?;
            for item in output.items.unwrap_or_default() {
                items.push(from_item(item)?.comment);
            }
            // A query page stops at 1 MB as well as at `limit`: go on until we have
            // enough or the index has no more.
            start_key = output.last_evaluated_key;
            if items.len() >= wanted || start_key.is_none() {
                break;
            }
        }
        let next = if items.len() == wanted {
            items.pop();
            items.last().map(|last| PageCursor::after(last.id))
        } else {
            None
        };
        Ok(Page { items, next })
    }

    #[tracing::instrument(name = "store.get", skip_all, fields(comment_id = %id))]
    async fn get(&self, id: CommentId) -> Result<Option<StoredComment>, StoreError> {
        let output = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", comment_key(id))
            .consistent_read(true)
            .send()
            .await
            .map_err(request_error)?;
        output.item.map(from_item).transpose()
    }
}

impl IdempotencyStore for DynamoCommentStore {
    #[tracing::instrument(name = "idempotency.claim", skip_all)]
    async fn claim(
        &self,
        key: &IdempotencyKey,
        fingerprint: &Fingerprint,
        candidate: &Comment,
    ) -> Result<Claim, StoreError> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let comment = serde_json::to_string(candidate).map_err(corrupt)?;
        let result = self
            .client
            .put_item()
            .table_name(&self.table)
            .item("pk", idempotency_key(key))
            .item(
                "fingerprint",
                AttributeValue::S(fingerprint.as_str().into()),
            )
            .item("comment", AttributeValue::S(comment))
            .item("enqueued", AttributeValue::Bool(false))
            .item(
                "expires_at",
                AttributeValue::N((now + IDEMPOTENCY_TTL_SECS).to_string()),
            )
            // TTL deletes lazily (within days), so an expired key is overwritten here
            // rather than trusted to be gone.
            .condition_expression("attribute_not_exists(pk) OR expires_at < :now")
            .expression_attribute_values(":now", AttributeValue::N(now.to_string()))
            .send()
            .await;
        match result {
            Ok(_) => return Ok(Claim::New),
            Err(SdkError::ServiceError(e)) if e.err().is_conditional_check_failed_exception() => {}
            Err(e) => return Err(request_error(e)),
        }

        let existing = self
            .client
            .get_item()
            .table_name(&self.table)
            .key("pk", idempotency_key(key))
            .consistent_read(true)
            .send()
            .await
            .map_err(request_error)?
            .item
            .ok_or_else(|| corrupt("idempotency record vanished between put and get"))?;
        let stored_fingerprint = match existing.get("fingerprint") {
            Some(AttributeValue::S(f)) => Fingerprint::from_stored(f.clone()),
            _ => return Err(corrupt("idempotency record has no fingerprint")),
        };
        if &stored_fingerprint != fingerprint {
            return Ok(Claim::Conflict);
        }
        let comment = match existing.get("comment") {
            Some(AttributeValue::S(json)) => serde_json::from_str(json).map_err(corrupt)?,
            _ => return Err(corrupt("idempotency record has no comment")),
        };
        let enqueued = matches!(existing.get("enqueued"), Some(AttributeValue::Bool(true)));
        Ok(Claim::Retry { comment, enqueued })
    }

    #[tracing::instrument(name = "idempotency.mark_enqueued", skip_all)]
    async fn mark_enqueued(&self, key: &IdempotencyKey) -> Result<(), StoreError> {
        self.client
            .update_item()
            .table_name(&self.table)
            .key("pk", idempotency_key(key))
            .update_expression("SET enqueued = :true")
            .expression_attribute_values(":true", AttributeValue::Bool(true))
            .send()
            .await
            .map_err(request_error)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CommentText, NewComment};
    use ops_kit::CorrelationId;

    #[test]
    fn a_smoke_test_comment_is_stored_outside_the_feed_and_expires() {
        let mut comment = NewComment {
            author: None,
            text: CommentText::parse("smoke").unwrap(),
            rating: None,
        }
        .accept(CorrelationId::generate());
        comment.smoke_test = true;
        let item = to_item(&comment, OffsetDateTime::UNIX_EPOCH).unwrap();
        assert!(!item.contains_key("feed"), "never listed");
        assert_eq!(item["expires_at"], AttributeValue::N("3600".into()));
        assert_eq!(item["smoke_test"], AttributeValue::Bool(true));
        assert_eq!(from_item(item).unwrap().comment, comment);
    }

    #[test]
    fn an_item_round_trips_and_carries_its_keys() {
        let comment = NewComment {
            author: None,
            text: CommentText::parse("x").unwrap(),
            rating: None,
        }
        .accept(CorrelationId::generate());
        let item = to_item(&comment, OffsetDateTime::UNIX_EPOCH).unwrap();
        assert_eq!(
            item["pk"],
            AttributeValue::S(format!("COMMENT#{}", comment.id))
        );
        assert_eq!(item["feed"], AttributeValue::S("comments".into()));
        assert_eq!(item["id"], AttributeValue::S(comment.id.to_string()));
        assert!(!item.contains_key("author"));
        let back = from_item(item).unwrap();
        assert_eq!(back.comment, comment);
        assert_eq!(back.stored_at, OffsetDateTime::UNIX_EPOCH);
    }

    /// An anonymous comment without a rating, and its item.
    fn plain_item() -> (Comment, Item) {
        let comment = NewComment {
            author: None,
            text: CommentText::parse("x").unwrap(),
            rating: None,
        }
        .accept(CorrelationId::generate());
        let item = to_item(&comment, OffsetDateTime::UNIX_EPOCH).unwrap();
        (comment, item)
    }

    #[test]
    fn an_item_with_an_invalid_field_is_reported_as_corrupt() {
        let (_, mut item) = plain_item();
        item.insert("rating".into(), AttributeValue::N("9".into()));
        assert!(matches!(from_item(item), Err(StoreError::Corrupt(_))));
    }

    #[test]
    fn an_attribute_the_code_does_not_know_is_ignored_on_read() {
        let (comment, mut item) = plain_item();
        item.insert("moderated".into(), AttributeValue::Bool(true));
        item.insert("expires_at".into(), AttributeValue::N("1".into()));
        assert_eq!(from_item(item).unwrap().comment, comment);
    }
}
