//! The SQS event a consumer function receives, built with `aws_lambda_events`' own types
//! from the messages SQS returned, and the partial batch response it answers with, read
//! as Lambda reads it.

use aws_lambda_events::sqs::{SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_sqs::types::Message;
use serde_json::Value;

/// A received message as an event record from the queue `queue_arn` in `region`.
pub fn record(message: &Message, queue_arn: &str, region: &str) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id.clone_from(&message.message_id);
    record.receipt_handle.clone_from(&message.receipt_handle);
    record.body.clone_from(&message.body);
    record.md5_of_body.clone_from(&message.md5_of_body);
    record
        .md5_of_message_attributes
        .clone_from(&message.md5_of_message_attributes);
    record.attributes = message
        .attributes()
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.as_str().to_owned(), value.clone()))
        .collect();
    record.message_attributes = message
        .message_attributes()
        .into_iter()
        .flatten()
        .map(|(name, value)| {
            let mut attribute = SqsMessageAttribute::default();
            attribute.string_value.clone_from(&value.string_value);
            attribute.binary_value = value.binary_value.as_ref().map(|b| {
                // The type is non-exhaustive: filled in place, as Lambda sends it.
                let mut data = aws_lambda_events::encodings::Base64Data::default();
                data.extend_from_slice(b.as_ref());
                data
            });
            attribute.data_type = Some(value.data_type.clone());
            (name.clone(), attribute)
        })
        .collect();
    record.event_source = Some("aws:sqs".to_owned());
    record.event_source_arn = Some(queue_arn.to_owned());
    record.aws_region = Some(region.to_owned());
    record
}

/// The event for a batch.
pub fn event(batch: &[Message], queue_arn: &str, region: &str) -> SqsEvent {
    let mut event = SqsEvent::default();
    event.records = batch
        .iter()
        .map(|message| record(message, queue_arn, region))
        .collect();
    event
}

/// The message ids of a batch.
pub fn message_ids(batch: &[Message]) -> Vec<String> {
    batch
        .iter()
        .filter_map(|m| m.message_id().map(str::to_owned))
        .collect()
}

/// The reported failures, as Lambda reads a response with `ReportBatchItemFailures`:
/// no response, an empty one or an empty list is complete success; a response that is
/// not JSON, or names a record not in the batch, or has no usable identifier, fails the
/// whole batch. Without `ReportBatchItemFailures` any response is success.
pub fn failures(
    response: &Value,
    batch_ids: &[String],
    report_batch_item_failures: bool,
) -> Vec<String> {
    if !report_batch_item_failures {
        return Vec::new();
    }
    let items = match response {
        Value::Null => return Vec::new(),
        Value::Object(object) => match object.get("batchItemFailures") {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => return batch_ids.to_vec(),
        },
        // The Runtime API hands back a body that is not JSON as a string.
        _ => return batch_ids.to_vec(),
    };
    let mut failed = Vec::new();
    for item in items {
        match item["itemIdentifier"].as_str() {
            Some(id) if batch_ids.iter().any(|a| a == id) => failed.push(id.to_owned()),
            _ => return batch_ids.to_vec(),
        }
    }
    failed
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sqs::types::{MessageAttributeValue, MessageSystemAttributeName};
    use serde_json::json;

    #[test]
    fn partial_batch_responses_are_read_as_lambda_reads_them() {
        let batch = vec!["a".to_owned(), "b".to_owned()];
        let failed = |response: Value| failures(&response, &batch, true);
        assert!(failed(Value::Null).is_empty());
        assert!(failed(json!({})).is_empty());
        assert!(failed(json!({"batchItemFailures": []})).is_empty());
        assert!(failed(json!({"batchItemFailures": null})).is_empty());
        assert_eq!(
            failed(json!({"batchItemFailures": [{"itemIdentifier": "b"}]})),
            ["b"]
        );
        // Anything malformed fails the whole batch.
        for response in [
            json!("not json"),
            json!({"batchItemFailures": "b"}),
            json!({"batchItemFailures": [{"itemIdentifier": "nope"}]}),
            json!({"batchItemFailures": [{"itemIdentifier": ""}]}),
            json!({"batchItemFailures": [{"id": "a"}]}),
        ] {
            assert_eq!(failed(response.clone()), ["a", "b"], "{response}");
        }
        // Without ReportBatchItemFailures, a response is success.
        assert!(
            failures(
                &json!({"batchItemFailures": [{"itemIdentifier": "a"}]}),
                &batch,
                false
            )
            .is_empty()
        );
    }

    #[test]
    fn a_record_has_the_fields_lambda_gives_it() {
        let message = Message::builder()
            .message_id("m")
            .receipt_handle("h")
            .body("{}")
            .attributes(MessageSystemAttributeName::AwsTraceHeader, "Root=1-a-b")
            .message_attributes(
                "correlation_id",
                MessageAttributeValue::builder()
                    .data_type("String")
                    .string_value("c")
                    .build()
                    .unwrap(),
            )
            .build();
        let json = serde_json::to_value(event(&[message], "arn:aws:sqs:r:1:q", "r")).unwrap();
        let record = &json["Records"][0];
        assert_eq!(record["messageId"], "m");
        assert_eq!(record["eventSource"], "aws:sqs");
        assert_eq!(record["eventSourceARN"], "arn:aws:sqs:r:1:q");
        assert_eq!(record["attributes"]["AWSTraceHeader"], "Root=1-a-b");
        assert_eq!(
            record["messageAttributes"]["correlation_id"]["stringValue"],
            "c"
        );
        assert_eq!(
            record["messageAttributes"]["correlation_id"]["dataType"],
            "String"
        );
    }
}
