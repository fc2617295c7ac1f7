//! The dependency an AWS SDK call names, read from the operation's typed input: no
//! request body is parsed.
//!
//! One small function per service, each behind the cargo feature of the same name,
//! which brings that service's SDK crate in without its HTTP or TLS stack. A call to
//! a service without its feature, or an operation not listed here, names no resource:
//! the interceptor then uses the service's name (`DynamoDB`, `SQS`, …).
//!
//! | feature | operations | `aws` members | `dependency` |
//! |---|---|---|---|
//! | `dynamodb` | `GetItem`, `PutItem`, `UpdateItem`, `DeleteItem`, `Query`, `Scan`, `DescribeTable` | `table_name` | the table |
//! | `dynamodb` | `BatchGetItem`, `BatchWriteItem`, `TransactGetItems`, `TransactWriteItems` | `table_names` (sorted) | the tables, sorted, joined by `,` (see [`joined`]) |
//! | `sqs` | `SendMessage(Batch)`, `ReceiveMessage`, `DeleteMessage(Batch)`, `ChangeMessageVisibility(Batch)`, `Get`/`SetQueueAttributes`, `PurgeQueue`, `DeleteQueue` | `queue_url` | the queue's name |
//! | `sns` | `Publish`, `PublishBatch` | `topic_arn` (or `target_arn`) | the topic's name (a push endpoint: its platform application) |
//! | `s3` | `GetObject`, `PutObject`, `HeadObject`, `DeleteObject(s)`, `ListObjects(V2)`, `CopyObject`, multipart uploads, … | `bucket_name` | the bucket (`CopyObject`: the destination) |
//! | `eventbridge` | `PutEvents` | `event_bus_name` (several: `event_bus_names`) | the bus (`default` when an entry names none) |
//! | `lambda` | `Invoke`, `InvokeWithResponseStream` | `function_name` | the function's name, without ARN or qualifier |
//!
//! The member names are the X-Ray SDKs' (their AWS parameter whitelists, with the
//! segment schema's `table_name` and `queue_url`); EventBridge has none there, so it
//! follows the same pattern. Values the whitelists leave out stay out: object keys,
//! message bodies, phone numbers.

use aws_smithy_runtime_api::client::interceptors::context::Input;
use serde_json::Value;

/// What an SDK call names as its dependency.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Resource {
    /// Members of the subsegment's `aws` object (`table_name`, `queue_url`, …).
    pub(super) fields: Vec<(&'static str, Value)>,
    /// The `dependency` dimension of `DependencyLatency`: a short name.
    pub(super) dependency: String,
}

impl Resource {
    /// One resource: `field` is `value` as the call gave it, the dependency its `short`
    /// name.
    #[cfg(any(
        feature = "dynamodb",
        feature = "sqs",
        feature = "sns",
        feature = "s3",
        feature = "eventbridge",
        feature = "lambda"
    ))]
    fn one(field: &'static str, value: &str, short: &str) -> Self {
        Self {
            fields: vec![(field, Value::from(value))],
            dependency: short.to_owned(),
        }
    }

    /// Several resources of one kind (a batch across tables): `field` lists them,
    /// sorted and without repeats; `None` when there are none.
    #[cfg(any(feature = "dynamodb", feature = "eventbridge"))]
    fn many<'a>(
        field: &'static str,
        values: impl IntoIterator<Item = &'a str>,
        short: fn(&str) -> &str,
    ) -> Option<Self> {
        let mut values: Vec<&str> = values.into_iter().collect();
        values.sort_unstable();
        values.dedup();
        let mut names: Vec<&str> = values.iter().map(|v| short(v)).collect();
        names.sort_unstable();
        names.dedup();
        let dependency = joined(&names)?;
        Some(Self {
            fields: vec![(field, Value::from(values))],
            dependency,
        })
    }
}

/// The longest `dependency` [`joined`] writes out in full.
#[cfg(any(feature = "dynamodb", feature = "eventbridge", test))]
const JOINED_MAX: usize = 255;

/// The dependency of a call to several resources: their sorted names joined by `,`
/// (each combination is a series of its own: a batch across two tables is neither
/// table's latency), or, past [`JOINED_MAX`] characters, the first name and how many
/// more (`comments+3`), so a dimension value stays short.
#[cfg(any(feature = "dynamodb", feature = "eventbridge", test))]
fn joined(names: &[&str]) -> Option<String> {
    let (first, rest) = names.split_first()?;
    let all = names.join(",");
    Some(if all.len() <= JOINED_MAX {
        all
    } else {
        format!("{first}+{}", rest.len())
    })
}

/// The resource `input` names, if its service's feature is on and the operation is
/// one this module knows.
pub(super) fn of(input: &Input) -> Option<Resource> {
    let readers: &[fn(&Input) -> Option<Resource>] = &[
        #[cfg(feature = "dynamodb")]
        dynamodb,
        #[cfg(feature = "sqs")]
        sqs,
        #[cfg(feature = "sns")]
        sns,
        #[cfg(feature = "s3")]
        s3,
        #[cfg(feature = "eventbridge")]
        eventbridge,
        #[cfg(feature = "lambda")]
        lambda,
    ];
    readers.iter().find_map(|read| read(input))
}

/// `input.member()` for the first of the input types `input` is, if it is one of them.
#[cfg(any(
    feature = "dynamodb",
    feature = "sqs",
    feature = "s3",
    feature = "lambda"
))]
macro_rules! member_of {
    ($input:expr, $member:ident, [$($input_type:ty),+ $(,)?]) => {
        None$(.or_else(|| $input.downcast_ref::<$input_type>().and_then(|i| i.$member())))+
    };
}

/// The last segment of a path-like name (`…/123456789012/comments` → `comments`).
#[cfg(any(feature = "sqs", feature = "s3", test))]
fn last_segment(value: &str) -> &str {
    let value = value.trim_end_matches('/');
    value.rsplit('/').next().unwrap_or(value)
}

/// The resource part of an ARN (`arn:aws:sns:eu-west-1:123456789012:alerts` →
/// `alerts`), or `value` itself when it is not an ARN.
#[cfg(any(feature = "dynamodb", feature = "sns", feature = "eventbridge", test))]
fn arn_resource(value: &str) -> &str {
    if value.starts_with("arn:") {
        value.splitn(6, ':').nth(5).unwrap_or(value)
    } else {
        value
    }
}

/// A table's name from its name or ARN (`…:table/comments` → `comments`).
#[cfg(any(feature = "dynamodb", test))]
fn table(value: &str) -> &str {
    let resource = arn_resource(value);
    resource
        .strip_prefix("table/")
        .map_or(resource, |rest| rest.split('/').next().unwrap_or(rest))
}

/// DynamoDB: the table, or the tables of a batch or transaction.
#[cfg(feature = "dynamodb")]
fn dynamodb(input: &Input) -> Option<Resource> {
    use aws_sdk_dynamodb::operation::{
        batch_get_item::BatchGetItemInput, batch_write_item::BatchWriteItemInput,
        delete_item::DeleteItemInput, describe_table::DescribeTableInput, get_item::GetItemInput,
        put_item::PutItemInput, query::QueryInput, scan::ScanInput,
        transact_get_items::TransactGetItemsInput, transact_write_items::TransactWriteItemsInput,
        update_item::UpdateItemInput,
    };
    use aws_sdk_dynamodb::types::{ConditionCheck, Delete, Get, Put, Update};

    let single = member_of!(
        input,
        table_name,
        [
            GetItemInput,
            PutItemInput,
            UpdateItemInput,
            DeleteItemInput,
            QueryInput,
            ScanInput,
            DescribeTableInput,
        ]
    );
    if let Some(name) = single {
        return Some(Resource::one("table_name", name, table(name)));
    }
    let tables: Vec<&str> = if let Some(batch) = input.downcast_ref::<BatchWriteItemInput>() {
        batch
            .request_items()
            .into_iter()
            .flat_map(|items| items.keys().map(String::as_str))
            .collect()
    } else if let Some(batch) = input.downcast_ref::<BatchGetItemInput>() {
        batch
            .request_items()
            .into_iter()
            .flat_map(|items| items.keys().map(String::as_str))
            .collect()
    } else if let Some(transaction) = input.downcast_ref::<TransactWriteItemsInput>() {
        transaction
            .transact_items()
            .iter()
            .filter_map(|item| {
                item.put()
                    .map(Put::table_name)
                    .or_else(|| item.update().map(Update::table_name))
                    .or_else(|| item.delete().map(Delete::table_name))
                    .or_else(|| item.condition_check().map(ConditionCheck::table_name))
            })
            .collect()
    } else if let Some(transaction) = input.downcast_ref::<TransactGetItemsInput>() {
        transaction
            .transact_items()
            .iter()
            .filter_map(|item| item.get().map(Get::table_name))
            .collect()
    } else {
        return None;
    };
    Resource::many("table_names", tables, table)
}

/// SQS: the queue's URL; its name is the URL's last segment.
#[cfg(feature = "sqs")]
fn sqs(input: &Input) -> Option<Resource> {
    use aws_sdk_sqs::operation::{
        change_message_visibility::ChangeMessageVisibilityInput,
        change_message_visibility_batch::ChangeMessageVisibilityBatchInput,
        delete_message::DeleteMessageInput, delete_message_batch::DeleteMessageBatchInput,
        delete_queue::DeleteQueueInput, get_queue_attributes::GetQueueAttributesInput,
        purge_queue::PurgeQueueInput, receive_message::ReceiveMessageInput,
        send_message::SendMessageInput, send_message_batch::SendMessageBatchInput,
        set_queue_attributes::SetQueueAttributesInput,
    };

    let url = member_of!(
        input,
        queue_url,
        [
            SendMessageInput,
            SendMessageBatchInput,
            ReceiveMessageInput,
            DeleteMessageInput,
            DeleteMessageBatchInput,
            ChangeMessageVisibilityInput,
            ChangeMessageVisibilityBatchInput,
            GetQueueAttributesInput,
            SetQueueAttributesInput,
            PurgeQueueInput,
            DeleteQueueInput,
        ]
    )?;
    Some(Resource::one("queue_url", url, last_segment(url)))
}

/// A topic's name from its ARN; for a mobile push endpoint
/// (`…:endpoint/GCM/app/5e3e…`), its platform application: one series per
/// application, not one per device.
#[cfg(any(feature = "sns", test))]
fn sns_target(arn: &str) -> &str {
    let resource = arn_resource(arn);
    match resource.strip_prefix("endpoint/") {
        Some(endpoint) => endpoint.split('/').nth(1).unwrap_or(resource),
        None => resource,
    }
}

/// SNS: the topic `Publish` or `PublishBatch` sends to, or `Publish`'s target. A
/// message to a phone number names nothing (and the number stays out of the trace).
#[cfg(feature = "sns")]
fn sns(input: &Input) -> Option<Resource> {
    use aws_sdk_sns::operation::{publish::PublishInput, publish_batch::PublishBatchInput};

    if let Some(publish) = input.downcast_ref::<PublishInput>() {
        if let Some(topic) = publish.topic_arn() {
            return Some(Resource::one("topic_arn", topic, sns_target(topic)));
        }
        let target = publish.target_arn()?;
        return Some(Resource::one("target_arn", target, sns_target(target)));
    }
    let topic = input.downcast_ref::<PublishBatchInput>()?.topic_arn()?;
    Some(Resource::one("topic_arn", topic, sns_target(topic)))
}

/// S3: the bucket (`CopyObject`, `UploadPartCopy`: the destination). An access point
/// ARN's dependency is the access point's name.
#[cfg(feature = "s3")]
fn s3(input: &Input) -> Option<Resource> {
    use aws_sdk_s3::operation::{
        abort_multipart_upload::AbortMultipartUploadInput,
        complete_multipart_upload::CompleteMultipartUploadInput, copy_object::CopyObjectInput,
        create_bucket::CreateBucketInput, create_multipart_upload::CreateMultipartUploadInput,
        delete_bucket::DeleteBucketInput, delete_object::DeleteObjectInput,
        delete_objects::DeleteObjectsInput, get_object::GetObjectInput,
        get_object_attributes::GetObjectAttributesInput, get_object_tagging::GetObjectTaggingInput,
        head_bucket::HeadBucketInput, head_object::HeadObjectInput,
        list_object_versions::ListObjectVersionsInput, list_objects::ListObjectsInput,
        list_objects_v2::ListObjectsV2Input, list_parts::ListPartsInput,
        put_object::PutObjectInput, put_object_tagging::PutObjectTaggingInput,
        restore_object::RestoreObjectInput, upload_part::UploadPartInput,
        upload_part_copy::UploadPartCopyInput,
    };

    let bucket = member_of!(
        input,
        bucket,
        [
            GetObjectInput,
            PutObjectInput,
            HeadObjectInput,
            DeleteObjectInput,
            DeleteObjectsInput,
            ListObjectsV2Input,
            ListObjectsInput,
            ListObjectVersionsInput,
            CopyObjectInput,
            GetObjectAttributesInput,
            GetObjectTaggingInput,
            PutObjectTaggingInput,
            RestoreObjectInput,
            CreateMultipartUploadInput,
            UploadPartInput,
            UploadPartCopyInput,
            CompleteMultipartUploadInput,
            AbortMultipartUploadInput,
            ListPartsInput,
            HeadBucketInput,
            CreateBucketInput,
            DeleteBucketInput,
        ]
    )?;
    let short = if bucket.starts_with("arn:") {
        last_segment(bucket)
    } else {
        bucket
    };
    Some(Resource::one("bucket_name", bucket, short))
}

/// An event bus's name from its name or ARN (`…:event-bus/orders` → `orders`).
#[cfg(any(feature = "eventbridge", test))]
fn event_bus(value: &str) -> &str {
    let resource = arn_resource(value);
    resource.strip_prefix("event-bus/").unwrap_or(resource)
}

/// EventBridge: the bus `PutEvents` sends to (`default` for an entry that names none),
/// or, when its entries go to several, all of them.
#[cfg(feature = "eventbridge")]
fn eventbridge(input: &Input) -> Option<Resource> {
    use aws_sdk_eventbridge::operation::put_events::PutEventsInput;

    let mut buses: Vec<&str> = input
        .downcast_ref::<PutEventsInput>()?
        .entries()
        .iter()
        .map(|entry| entry.event_bus_name().unwrap_or("default"))
        .collect();
    buses.sort_unstable();
    buses.dedup();
    match buses.as_slice() {
        [bus] => Some(Resource::one("event_bus_name", bus, event_bus(bus))),
        _ => Resource::many("event_bus_names", buses, event_bus),
    }
}

/// A function's name from its name, partial or full ARN, with or without a version or
/// alias (`123456789012:function:comments:live` → `comments`).
#[cfg(any(feature = "lambda", test))]
fn function(value: &str) -> &str {
    let name = value
        .split_once(":function:")
        .map_or(value, |(_, rest)| rest);
    name.split(':').next().unwrap_or(name)
}

/// Lambda: the function `Invoke` or `InvokeWithResponseStream` calls, as given.
#[cfg(feature = "lambda")]
fn lambda(input: &Input) -> Option<Resource> {
    use aws_sdk_lambda::operation::{
        invoke::InvokeInput, invoke_with_response_stream::InvokeWithResponseStreamInput,
    };

    let name = member_of!(
        input,
        function_name,
        [InvokeInput, InvokeWithResponseStreamInput]
    )?;
    Some(Resource::one("function_name", name, function(name)))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `input` names one resource: `field` is `value`, the dependency `dependency`.
    #[cfg(any(
        feature = "dynamodb",
        feature = "sqs",
        feature = "sns",
        feature = "s3",
        feature = "eventbridge",
        feature = "lambda"
    ))]
    fn assert_names(input: &Input, field: &'static str, value: &str, dependency: &str) {
        assert_eq!(
            of(input),
            Some(Resource::one(field, value, dependency)),
            "{input:?}"
        );
    }

    /// Each of `inputs` names the same resource.
    #[cfg(any(
        feature = "dynamodb",
        feature = "sqs",
        feature = "sns",
        feature = "s3",
        feature = "eventbridge",
        feature = "lambda"
    ))]
    fn assert_each_names(inputs: &[Input], field: &'static str, value: &str, dependency: &str) {
        for input in inputs {
            assert_names(input, field, value, dependency);
        }
    }

    #[test]
    fn names_are_shortened_from_urls_and_arns() {
        assert_eq!(
            last_segment("https://sqs.eu-west-1.amazonaws.com/123456789012/comments"),
            "comments"
        );
        assert_eq!(last_segment("http://127.0.0.1:5000/1/q/"), "q");
        assert_eq!(
            table("arn:aws:dynamodb:eu-west-1:123456789012:table/comments"),
            "comments"
        );
        assert_eq!(
            table("arn:aws:dynamodb:eu-west-1:123456789012:table/comments/index/by-date"),
            "comments"
        );
        assert_eq!(table("comments"), "comments");
        assert_eq!(
            sns_target("arn:aws:sns:eu-west-1:123456789012:alerts.fifo"),
            "alerts.fifo"
        );
        assert_eq!(
            sns_target("arn:aws:sns:eu-west-1:123456789012:endpoint/GCM/app/5e3e9847-3183"),
            "app"
        );
        assert_eq!(
            event_bus("arn:aws:events:eu-west-1:123456789012:event-bus/orders"),
            "orders"
        );
        assert_eq!(event_bus("default"), "default");
        for name in [
            "comments",
            "comments:live",
            "123456789012:function:comments",
            "arn:aws:lambda:eu-west-1:123456789012:function:comments",
            "arn:aws:lambda:eu-west-1:123456789012:function:comments:7",
        ] {
            assert_eq!(function(name), "comments", "{name}");
        }
    }

    #[test]
    fn several_names_are_joined_until_they_get_long() {
        assert_eq!(joined(&[]), None);
        assert_eq!(joined(&["a"]).as_deref(), Some("a"));
        assert_eq!(joined(&["a", "b"]).as_deref(), Some("a,b"));
        let long = "t".repeat(200);
        assert_eq!(
            joined(&[&long, "u", &long]),
            Some(format!("{long}+2")),
            "past {JOINED_MAX} characters"
        );
    }

    #[cfg(not(any(
        feature = "dynamodb",
        feature = "sqs",
        feature = "sns",
        feature = "s3",
        feature = "eventbridge",
        feature = "lambda"
    )))]
    #[test]
    fn without_a_feature_nothing_is_named() {
        assert_eq!(of(&Input::erase("PutItem".to_owned())), None);
    }

    #[cfg(feature = "dynamodb")]
    #[test]
    fn dynamodb_calls_name_their_table() {
        use aws_sdk_dynamodb::operation::{
            delete_item::DeleteItemInput, describe_table::DescribeTableInput,
            get_item::GetItemInput, list_tables::ListTablesInput, put_item::PutItemInput,
            query::QueryInput, scan::ScanInput, update_item::UpdateItemInput,
        };

        let inputs = [
            Input::erase(PutItemInput::builder().table_name("t").build().unwrap()),
            Input::erase(GetItemInput::builder().table_name("t").build().unwrap()),
            Input::erase(UpdateItemInput::builder().table_name("t").build().unwrap()),
            Input::erase(DeleteItemInput::builder().table_name("t").build().unwrap()),
            Input::erase(QueryInput::builder().table_name("t").build().unwrap()),
            Input::erase(ScanInput::builder().table_name("t").build().unwrap()),
            Input::erase(
                DescribeTableInput::builder()
                    .table_name("t")
                    .build()
                    .unwrap(),
            ),
        ];
        assert_each_names(&inputs, "table_name", "t", "t");
        let arn = "arn:aws:dynamodb:eu-west-1:123456789012:table/comments";
        let by_arn = PutItemInput::builder().table_name(arn).build().unwrap();
        assert_names(&Input::erase(by_arn), "table_name", arn, "comments");
        // Not listed: the interceptor falls back to the service's name.
        let list = ListTablesInput::builder().build().unwrap();
        assert_eq!(of(&Input::erase(list)), None);
    }

    #[cfg(feature = "dynamodb")]
    #[test]
    fn dynamodb_batches_and_transactions_name_every_table_once() {
        use std::collections::HashMap;

        use aws_sdk_dynamodb::operation::{
            batch_get_item::BatchGetItemInput, batch_write_item::BatchWriteItemInput,
            transact_get_items::TransactGetItemsInput,
            transact_write_items::TransactWriteItemsInput,
        };
        use aws_sdk_dynamodb::types::builders::TransactWriteItemBuilder;
        use aws_sdk_dynamodb::types::{
            ConditionCheck, Delete, Get, KeysAndAttributes, Put, PutRequest, TransactGetItem,
            TransactWriteItem, Update, WriteRequest,
        };

        let both = Some(Resource {
            fields: vec![("table_names", serde_json::json!(["a", "b"]))],
            dependency: "a,b".to_owned(),
        });
        let put = || {
            let request = PutRequest::builder().set_item(Some(HashMap::new()));
            WriteRequest::builder()
                .put_request(request.build().unwrap())
                .build()
        };
        let batch_write = BatchWriteItemInput::builder()
            .request_items("b", vec![put()])
            .request_items("a", vec![put(), put()])
            .build()
            .unwrap();
        assert_eq!(of(&Input::erase(batch_write)), both);

        let keys = KeysAndAttributes::builder()
            .set_keys(Some(Vec::new()))
            .build()
            .unwrap();
        let batch_get = BatchGetItemInput::builder()
            .request_items("a", keys.clone())
            .request_items("b", keys)
            .build()
            .unwrap();
        assert_eq!(of(&Input::erase(batch_get)), both);

        let key = || Some(HashMap::new());
        let writes = [
            TransactWriteItem::builder().put(
                Put::builder()
                    .table_name("b")
                    .set_item(key())
                    .build()
                    .unwrap(),
            ),
            TransactWriteItem::builder().update(
                Update::builder()
                    .table_name("a")
                    .set_key(key())
                    .update_expression("SET x = :x")
                    .build()
                    .unwrap(),
            ),
            TransactWriteItem::builder().delete(
                Delete::builder()
                    .table_name("b")
                    .set_key(key())
                    .build()
                    .unwrap(),
            ),
            TransactWriteItem::builder().condition_check(
                ConditionCheck::builder()
                    .table_name("a")
                    .set_key(key())
                    .condition_expression("attribute_exists(id)")
                    .build()
                    .unwrap(),
            ),
        ];
        let transact_write = TransactWriteItemsInput::builder()
            .set_transact_items(Some(writes.map(TransactWriteItemBuilder::build).to_vec()))
            .build()
            .unwrap();
        assert_eq!(of(&Input::erase(transact_write)), both);

        let get = Get::builder()
            .table_name("a")
            .set_key(key())
            .build()
            .unwrap();
        let transact_get = TransactGetItemsInput::builder()
            .transact_items(TransactGetItem::builder().get(get).build())
            .build()
            .unwrap();
        assert_eq!(
            of(&Input::erase(transact_get)),
            Some(Resource {
                fields: vec![("table_names", serde_json::json!(["a"]))],
                dependency: "a".to_owned(),
            })
        );
    }

    #[cfg(feature = "sqs")]
    #[test]
    fn sqs_calls_name_their_queue() {
        use aws_sdk_sqs::operation::{
            change_message_visibility::ChangeMessageVisibilityInput,
            change_message_visibility_batch::ChangeMessageVisibilityBatchInput,
            delete_message::DeleteMessageInput, delete_message_batch::DeleteMessageBatchInput,
            get_queue_attributes::GetQueueAttributesInput, list_queues::ListQueuesInput,
            purge_queue::PurgeQueueInput, receive_message::ReceiveMessageInput,
            send_message::SendMessageInput, send_message_batch::SendMessageBatchInput,
        };

        let url = "https://sqs.eu-west-1.amazonaws.com/123456789012/comments";
        let inputs = [
            Input::erase(SendMessageInput::builder().queue_url(url).build().unwrap()),
            Input::erase(
                SendMessageBatchInput::builder()
                    .queue_url(url)
                    .build()
                    .unwrap(),
            ),
            Input::erase(
                ReceiveMessageInput::builder()
                    .queue_url(url)
                    .build()
                    .unwrap(),
            ),
            Input::erase(
                DeleteMessageInput::builder()
                    .queue_url(url)
                    .build()
                    .unwrap(),
            ),
            Input::erase(
                DeleteMessageBatchInput::builder()
                    .queue_url(url)
                    .build()
                    .unwrap(),
            ),
            Input::erase(
                ChangeMessageVisibilityInput::builder()
                    .queue_url(url)
                    .build()
                    .unwrap(),
            ),
            Input::erase(
                ChangeMessageVisibilityBatchInput::builder()
                    .queue_url(url)
                    .build()
                    .unwrap(),
            ),
            Input::erase(
                GetQueueAttributesInput::builder()
                    .queue_url(url)
                    .build()
                    .unwrap(),
            ),
            Input::erase(PurgeQueueInput::builder().queue_url(url).build().unwrap()),
        ];
        for input in &inputs {
            assert_eq!(
                of(input),
                Some(Resource {
                    fields: vec![("queue_url", Value::from(url))],
                    dependency: "comments".to_owned(),
                }),
                "{input:?}"
            );
        }
        assert_eq!(
            of(&Input::erase(ListQueuesInput::builder().build().unwrap())),
            None
        );
    }

    #[cfg(feature = "sns")]
    #[test]
    fn sns_calls_name_their_topic_or_target() {
        use aws_sdk_sns::operation::{
            create_topic::CreateTopicInput, publish::PublishInput, publish_batch::PublishBatchInput,
        };

        let topic = "arn:aws:sns:eu-west-1:123456789012:alerts";
        let expected = Some(Resource {
            fields: vec![("topic_arn", Value::from(topic))],
            dependency: "alerts".to_owned(),
        });
        let publish = PublishInput::builder()
            .topic_arn(topic)
            .message("m")
            .build()
            .unwrap();
        assert_eq!(of(&Input::erase(publish)), expected);
        let batch = PublishBatchInput::builder()
            .topic_arn(topic)
            .build()
            .unwrap();
        assert_eq!(of(&Input::erase(batch)), expected);

        let endpoint = "arn:aws:sns:eu-west-1:123456789012:endpoint/APNS/app/5e3e9847";
        let direct = PublishInput::builder()
            .target_arn(endpoint)
            .message("m")
            .build()
            .unwrap();
        assert_names(&Input::erase(direct), "target_arn", endpoint, "app");
        let sms = PublishInput::builder()
            .phone_number("+15555550100")
            .message("m")
            .build()
            .unwrap();
        assert_eq!(of(&Input::erase(sms)), None, "no phone number in a trace");
        let create = CreateTopicInput::builder().name("alerts").build().unwrap();
        assert_eq!(of(&Input::erase(create)), None);
    }

    #[cfg(feature = "s3")]
    #[test]
    fn s3_calls_name_their_bucket() {
        use aws_sdk_s3::operation::{
            copy_object::CopyObjectInput, delete_object::DeleteObjectInput,
            get_object::GetObjectInput, head_object::HeadObjectInput,
            list_buckets::ListBucketsInput, list_objects_v2::ListObjectsV2Input,
            put_object::PutObjectInput,
        };

        let inputs = [
            Input::erase(
                GetObjectInput::builder()
                    .bucket("b")
                    .key("k")
                    .build()
                    .unwrap(),
            ),
            Input::erase(
                PutObjectInput::builder()
                    .bucket("b")
                    .key("k")
                    .build()
                    .unwrap(),
            ),
            Input::erase(
                HeadObjectInput::builder()
                    .bucket("b")
                    .key("k")
                    .build()
                    .unwrap(),
            ),
            Input::erase(
                DeleteObjectInput::builder()
                    .bucket("b")
                    .key("k")
                    .build()
                    .unwrap(),
            ),
            Input::erase(ListObjectsV2Input::builder().bucket("b").build().unwrap()),
            Input::erase(
                CopyObjectInput::builder()
                    .bucket("b")
                    .key("k")
                    .copy_source("source/k")
                    .build()
                    .unwrap(),
            ),
        ];
        assert_each_names(&inputs, "bucket_name", "b", "b");
        let access_point = "arn:aws:s3:eu-west-1:123456789012:accesspoint/uploads";
        let through = GetObjectInput::builder()
            .bucket(access_point)
            .key("k")
            .build()
            .unwrap();
        assert_eq!(of(&Input::erase(through)).unwrap().dependency, "uploads");
        assert_eq!(
            of(&Input::erase(ListBucketsInput::builder().build().unwrap())),
            None
        );
    }

    #[cfg(feature = "eventbridge")]
    #[test]
    fn eventbridge_calls_name_their_buses() {
        use aws_sdk_eventbridge::operation::{
            list_rules::ListRulesInput, put_events::PutEventsInput,
        };
        use aws_sdk_eventbridge::types::PutEventsRequestEntry;

        let entry = |bus: Option<&str>| {
            PutEventsRequestEntry::builder()
                .set_event_bus_name(bus.map(str::to_owned))
                .detail_type("t")
                .build()
        };
        let default = PutEventsInput::builder()
            .entries(entry(None))
            .build()
            .unwrap();
        assert_names(
            &Input::erase(default),
            "event_bus_name",
            "default",
            "default",
        );
        let orders = "arn:aws:events:eu-west-1:123456789012:event-bus/orders";
        let one = PutEventsInput::builder()
            .entries(entry(Some(orders)))
            .entries(entry(Some(orders)))
            .build()
            .unwrap();
        assert_names(&Input::erase(one), "event_bus_name", orders, "orders");
        let two = PutEventsInput::builder()
            .entries(entry(Some(orders)))
            .entries(entry(None))
            .build()
            .unwrap();
        assert_eq!(
            of(&Input::erase(two)),
            Some(Resource {
                fields: vec![("event_bus_names", serde_json::json!([orders, "default"]))],
                dependency: "default,orders".to_owned(),
            })
        );
        assert_eq!(
            of(&Input::erase(ListRulesInput::builder().build().unwrap())),
            None
        );
    }

    #[cfg(feature = "lambda")]
    #[test]
    fn lambda_calls_name_their_function() {
        use aws_sdk_lambda::operation::{
            invoke::InvokeInput, invoke_with_response_stream::InvokeWithResponseStreamInput,
            list_functions::ListFunctionsInput,
        };

        let arn = "arn:aws:lambda:eu-west-1:123456789012:function:comments:live";
        let expected = Some(Resource {
            fields: vec![("function_name", Value::from(arn))],
            dependency: "comments".to_owned(),
        });
        let invoke = InvokeInput::builder().function_name(arn).build().unwrap();
        assert_eq!(of(&Input::erase(invoke)), expected);
        let stream = InvokeWithResponseStreamInput::builder()
            .function_name(arn)
            .build()
            .unwrap();
        assert_eq!(of(&Input::erase(stream)), expected);
        assert_eq!(
            of(&Input::erase(
                ListFunctionsInput::builder().build().unwrap()
            )),
            None
        );
    }
}
