//! The SQS event source mapping: pollers that receive batches from the queue, invoke
//! the function, delete what succeeded and leave the reported failures to come back
//! after the visibility timeout (and, past `maxReceiveCount`, to move to the DLQ) —
//! what Lambda's own pollers do.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use serde_json::{Value, json};

use super::host::{FunctionHost, Outcome, TraceContext, new_segment_id};
use super::model::SqsSource;
use super::telemetry::{Telemetry, now_secs};

/// The log stream the event source's own errors go to, in the function's log group.
const EVENT_SOURCE_STREAM: &str = "event-source-mapping";

/// One poller's configuration.
#[derive(Clone)]
pub struct Mapping {
    /// The queue's URL.
    pub queue_url: String,
    /// The queue's ARN (the records' `eventSourceARN`).
    pub queue_arn: String,
    /// The queue's name, for its trace segment.
    pub queue_name: String,
    /// The region.
    pub region: String,
    /// Batch size, window and response types.
    pub source: SqsSource,
}

/// Polls until the task is dropped.
pub async fn poll(
    sqs: aws_sdk_sqs::Client,
    mapping: Mapping,
    function: Arc<FunctionHost>,
    telemetry: Telemetry,
) {
    let mut backoff = Duration::from_millis(500);
    loop {
        let batch = match gather(&sqs, &mapping).await {
            Ok(batch) => {
                backoff = Duration::from_millis(500);
                batch
            }
            Err(error) => {
                function.platform(
                    EVENT_SOURCE_STREAM,
                    None,
                    "ERROR",
                    format!(
                        "event source: cannot receive from {}: {error}",
                        mapping.queue_name
                    ),
                );
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(Duration::from_secs(10));
                continue;
            }
        };
        if batch.is_empty() {
            continue;
        }
        let event = json!({
            "Records": batch.iter().map(|m| record(m, &mapping)).collect::<Vec<_>>()
        });
        let traces = traces_for(&batch, &mapping, &telemetry);
        let failed: Vec<String> = match function.invoke(event, traces).await {
            Ok(invocation) => match invocation.outcome {
                Outcome::Response(response) => failures(&response, &batch, &mapping),
                Outcome::Error(_) => ids(&batch),
            },
            Err(_) => return,
        };
        let done: Vec<&Message> = batch
            .iter()
            .filter(|m| {
                m.message_id()
                    .is_some_and(|id| !failed.iter().any(|f| f == id))
            })
            .collect();
        if let Err(error) = delete(&sqs, &mapping.queue_url, &done).await {
            function.platform(
                EVENT_SOURCE_STREAM,
                None,
                "ERROR",
                format!(
                    "event source: cannot delete from {}: {error}",
                    mapping.queue_name
                ),
            );
        }
    }
}

/// Receives until the batch is full or the batching window has passed (at once, with
/// a window of 0, once anything arrived).
async fn gather(sqs: &aws_sdk_sqs::Client, mapping: &Mapping) -> Result<Vec<Message>, String> {
    let batch_size = usize::try_from(mapping.source.batch_size)
        .unwrap_or(10)
        .max(1);
    let window = Duration::from_secs(u64::from(mapping.source.batching_window_secs));
    let mut batch: Vec<Message> = Vec::new();
    let mut window_end = None;
    loop {
        let remaining = window_end.map_or(Duration::from_secs(1), |end: Instant| {
            end.saturating_duration_since(Instant::now())
        });
        let wanted = i32::try_from((batch_size - batch.len()).min(10)).unwrap_or(10);
        let received = sqs
            .receive_message()
            .queue_url(&mapping.queue_url)
            .max_number_of_messages(wanted)
            .wait_time_seconds(i32::try_from(remaining.as_secs()).unwrap_or(1).min(20))
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
        let messages = received.messages.unwrap_or_default();
        if !messages.is_empty() && window_end.is_none() {
            window_end = Some(Instant::now() + window);
        }
        batch.extend(messages);
        let window_over = window_end.is_some_and(|end| Instant::now() >= end);
        if batch.len() >= batch_size || (!batch.is_empty() && window_over) || window_end.is_none() {
            return Ok(batch);
        }
    }
}

/// A message as an SQS event record.
fn record(message: &Message, mapping: &Mapping) -> Value {
    let attributes: serde_json::Map<String, Value> = message
        .attributes()
        .into_iter()
        .flatten()
        .map(|(name, value)| (name.as_str().to_owned(), json!(value)))
        .collect();
    let message_attributes: serde_json::Map<String, Value> = message
        .message_attributes()
        .into_iter()
        .flatten()
        .map(|(name, value)| {
            (
                name.clone(),
                json!({
                    "stringValue": value.string_value(),
                    "binaryValue": value.binary_value().map(|b| base64::Engine::encode(&base64::engine::general_purpose::STANDARD, b.as_ref())),
                    "stringListValues": [],
                    "binaryListValues": [],
                    "dataType": value.data_type(),
                }),
            )
        })
        .collect();
    json!({
        "messageId": message.message_id(),
        "receiptHandle": message.receipt_handle(),
        "body": message.body(),
        "attributes": attributes,
        "messageAttributes": message_attributes,
        "md5OfBody": message.md5_of_body(),
        "eventSource": "aws:sqs",
        "eventSourceARN": mapping.queue_arn,
        "awsRegion": mapping.region,
    })
}

/// The traces the invocation belongs to: each record's (its `AWSTraceHeader`, through a
/// segment for the time the message spent in the queue), once per trace, the first
/// record's first; a new trace when no record has a header.
fn traces_for(batch: &[Message], mapping: &Mapping, telemetry: &Telemetry) -> Vec<TraceContext> {
    let mut traces: Vec<TraceContext> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for message in batch {
        let Some(header) = trace_header(message) else {
            continue;
        };
        let root = header
            .split(';')
            .find_map(|part| part.trim().strip_prefix("Root="));
        if root.is_some_and(|root| seen.insert(root.to_owned())) {
            traces.extend(trace_for(message, header, mapping, telemetry));
        }
    }
    if traces.is_empty() && batch.iter().all(|m| trace_header(m).is_none()) {
        traces.push(TraceContext {
            root: super::host::new_trace_id(),
            parent: None,
        });
    }
    traces
}

/// The `AWSTraceHeader` the sender attached, if any.
fn trace_header(message: &Message) -> Option<&String> {
    message
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::AwsTraceHeader))
}

fn trace_for(
    first: &Message,
    header: &str,
    mapping: &Mapping,
    telemetry: &Telemetry,
) -> Option<TraceContext> {
    let field = |name: &str| {
        header
            .split(';')
            .find_map(|part| part.trim().strip_prefix(name)?.strip_prefix('='))
            .map(str::to_owned)
    };
    if field("Sampled").as_deref() == Some("0") {
        return None;
    }
    let root = field("Root")?;
    let sent = first
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
        .and_then(|t| t.parse::<f64>().ok())
        .map_or_else(now_secs, |ms| ms / 1000.0);
    let queue_segment = new_segment_id();
    let mut segment = json!({
        "trace_id": root,
        "id": queue_segment,
        "name": mapping.queue_name,
        "origin": "AWS::SQS::Queue",
        "start_time": sent,
        "end_time": now_secs(),
        "aws": {
            "queue_url": mapping.queue_url,
            "message_id": first.message_id(),
            "receive_count": first
                .attributes()
                .and_then(|a| a.get(&MessageSystemAttributeName::ApproximateReceiveCount)),
        },
    });
    if let Some(parent) = field("Parent") {
        segment["parent_id"] = json!(parent);
    }
    telemetry.record_segment("host", segment);
    Some(TraceContext {
        root,
        parent: Some(queue_segment),
    })
}

fn ids(batch: &[Message]) -> Vec<String> {
    batch
        .iter()
        .filter_map(|m| m.message_id().map(str::to_owned))
        .collect()
}

/// The reported failures. As in Lambda: no response, an empty one or an empty list is
/// complete success; a response that is not JSON, or names a record not in the batch,
/// or has no usable identifier, fails the whole batch.
fn failures(response: &Value, batch: &[Message], mapping: &Mapping) -> Vec<String> {
    if !mapping.source.report_batch_item_failures {
        return Vec::new();
    }
    let items = match response {
        Value::Null => return Vec::new(),
        Value::Object(object) => match object.get("batchItemFailures") {
            None | Some(Value::Null) => return Vec::new(),
            Some(Value::Array(items)) => items,
            Some(_) => return ids(batch),
        },
        // The Runtime API hands back a body that is not JSON as a string.
        _ => return ids(batch),
    };
    let all = ids(batch);
    let mut failed = Vec::new();
    for item in items {
        match item["itemIdentifier"].as_str() {
            Some(id) if all.iter().any(|a| a == id) => failed.push(id.to_owned()),
            _ => return all,
        }
    }
    failed
}

async fn delete(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    done: &[&Message],
) -> Result<(), String> {
    for chunk in done.chunks(10) {
        let entries = chunk
            .iter()
            .enumerate()
            .filter_map(|(i, m)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(m.receipt_handle()?)
                    .build()
                    .ok()
            })
            .collect::<Vec<_>>();
        if entries.is_empty() {
            continue;
        }
        sqs.delete_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping_with(report: bool) -> Mapping {
        Mapping {
            queue_url: "http://q/1/q".into(),
            queue_arn: "arn:aws:sqs:r:1:q".into(),
            queue_name: "q".into(),
            region: "r".into(),
            source: SqsSource {
                queue: "Q".into(),
                batch_size: 10,
                batching_window_secs: 0,
                report_batch_item_failures: report,
            },
        }
    }

    fn batch() -> Vec<Message> {
        ["a", "b"]
            .into_iter()
            .map(|id| Message::builder().message_id(id).receipt_handle(id).build())
            .collect()
    }

    #[test]
    fn partial_batch_responses_are_read_as_lambda_reads_them() {
        let (batch, mapping) = (batch(), mapping_with(true));
        let failed = |response: Value| failures(&response, &batch, &mapping);
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
                &mapping_with(false)
            )
            .is_empty()
        );
    }
}
