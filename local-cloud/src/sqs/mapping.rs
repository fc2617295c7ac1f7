//! The SQS event source mapping: pollers that receive batches from the queue, invoke
//! the function, delete what succeeded and leave the reported failures to come back
//! after the visibility timeout (and, past `maxReceiveCount`, to move to the DLQ) —
//! what Lambda's own pollers do.

use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio_util::sync::CancellationToken;

use aws_sdk_sqs::types::{DeleteMessageBatchRequestEntry, Message, MessageSystemAttributeName};
use serde_json::json;

use super::event::{event, failures, message_ids};
use crate::clock::now_secs;
use crate::cloudformation::SqsSource;
use crate::lambda::{Function, Observers, Outcome, TraceContext};
use crate::xray::{SegmentSource, TraceStore};

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

/// Polls until `stopping` is cancelled.
pub async fn poll(
    sqs: aws_sdk_sqs::Client,
    mapping: Mapping,
    function: Arc<Function>,
    observers: Observers,
    stopping: CancellationToken,
) {
    tokio::select! {
        () = poll_forever(&sqs, &mapping, &function, &observers) => {}
        () = stopping.cancelled() => {}
    }
}

async fn poll_forever(
    sqs: &aws_sdk_sqs::Client,
    mapping: &Mapping,
    function: &Function,
    observers: &Observers,
) {
    let mut backoff = Duration::from_millis(500);
    loop {
        let batch = match receive_batch(sqs, mapping).await {
            Ok(batch) => {
                backoff = Duration::from_millis(500);
                batch
            }
            Err(error) => {
                function.platform(
                    EVENT_SOURCE_STREAM,
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
        super::metrics::record_oldest_age(
            &observers.cloudwatch.metrics,
            &mapping.queue_name,
            &batch,
        );
        let event = serde_json::to_value(event(&batch, &mapping.queue_arn, &mapping.region))
            .unwrap_or_default();
        let contexts = traces_for(&batch, mapping, &observers.traces);
        let failed: Vec<String> = match function
            .invoke(function.spec.alias.as_deref(), event, contexts)
            .await
        {
            Ok(invocation) => match invocation.outcome {
                Outcome::Response(response) => failures(
                    &response,
                    &message_ids(&batch),
                    mapping.source.report_batch_item_failures,
                ),
                Outcome::Error(_) => message_ids(&batch),
            },
            Err(error) => {
                // Nothing ran: the batch comes back after the visibility timeout. (A
                // stack that is stopping cancels this poller meanwhile.)
                function.platform(
                    EVENT_SOURCE_STREAM,
                    "ERROR",
                    format!(
                        "event source: cannot invoke {}: {error}",
                        function.spec.function_name
                    ),
                );
                tokio::time::sleep(backoff).await;
                continue;
            }
        };
        let done: Vec<&str> = batch
            .iter()
            .filter(|m| {
                m.message_id()
                    .is_some_and(|id| !failed.iter().any(|f| f == id))
            })
            .filter_map(Message::receipt_handle)
            .collect();
        if let Err(error) = delete(sqs, &mapping.queue_url, &done).await {
            function.platform(
                EVENT_SOURCE_STREAM,
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
/// a window of 0, once anything arrived), long-polling as Lambda's pollers do.
///
/// # Errors
/// What SQS said, when a receive fails.
pub async fn receive_batch(
    sqs: &aws_sdk_sqs::Client,
    mapping: &Mapping,
) -> Result<Vec<Message>, String> {
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

/// The traces the invocation belongs to: each record's (its `AWSTraceHeader`, through a
/// segment for the time the message spent in the queue), once per trace, the first
/// record's first; a new trace when no record has a header. A record whose header says
/// `Sampled=0` adds none.
fn traces_for(batch: &[Message], mapping: &Mapping, store: &TraceStore) -> Vec<TraceContext> {
    let mut traces: Vec<TraceContext> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    let mut any_header = false;
    for message in batch {
        let Some(header) = trace_header(message) else {
            continue;
        };
        any_header = true;
        if header.sampled != Some(false) && seen.insert(header.root.to_string()) {
            traces.push(queue_segment(message, &header, mapping, store));
        }
    }
    if !any_header {
        traces.push(TraceContext {
            root: ops_wire::trace::TraceId::generate().to_string(),
            parent: None,
        });
    }
    traces
}

/// The `AWSTraceHeader` the sender attached, if it is one.
fn trace_header(message: &Message) -> Option<ops_wire::trace::TraceHeader> {
    message
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::AwsTraceHeader))
        .and_then(|header| ops_wire::trace::TraceHeader::parse(header).ok())
}

/// Records the time `first` spent in the queue as an `AWS::SQS::Queue` segment under the
/// sender's; the invocation continues from it.
fn queue_segment(
    first: &Message,
    header: &ops_wire::trace::TraceHeader,
    mapping: &Mapping,
    store: &TraceStore,
) -> TraceContext {
    let root = header.root.to_string();
    let sent = first
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::SentTimestamp))
        .and_then(|t| t.parse::<f64>().ok())
        .map_or_else(now_secs, |ms| ms / 1000.0);
    let queue_segment = ops_wire::trace::SegmentId::generate().to_string();
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
    if let Some(parent) = &header.parent {
        segment["parent_id"] = json!(parent.to_string());
    }
    if let Ok(document) = serde_json::from_value(segment) {
        store.put(SegmentSource::Service, document);
    }
    TraceContext {
        root,
        parent: Some(queue_segment),
    }
}

/// Deletes the messages with these receipt handles, ten at a time, as the pollers do
/// with what succeeded.
///
/// # Errors
/// What SQS said, when a call fails or any entry of a batch was not deleted.
pub async fn delete(
    sqs: &aws_sdk_sqs::Client,
    queue_url: &str,
    receipt_handles: &[&str],
) -> Result<(), String> {
    for chunk in receipt_handles.chunks(10) {
        let entries = chunk
            .iter()
            .enumerate()
            .filter_map(|(i, handle)| {
                DeleteMessageBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(*handle)
                    .build()
                    .ok()
            })
            .collect::<Vec<_>>();
        let output = sqs
            .delete_message_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await
            .map_err(|e| aws_sdk_sqs::error::DisplayErrorContext(e).to_string())?;
        // A batch call can succeed while some of its entries fail: those messages are
        // not deleted and will be delivered again, so say so.
        if !output.failed().is_empty() {
            let failed: Vec<String> = output
                .failed()
                .iter()
                .map(|entry| {
                    format!(
                        "{}: {}",
                        entry.code(),
                        entry.message().unwrap_or("no message")
                    )
                })
                .collect();
            return Err(format!(
                "{} of {} deletes failed ({})",
                failed.len(),
                chunk.len(),
                failed.join("; ")
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mapping() -> Mapping {
        Mapping {
            queue_url: "http://q/1/q".into(),
            queue_arn: "arn:aws:sqs:r:1:q".into(),
            queue_name: "q".into(),
            region: "r".into(),
            source: SqsSource {
                queue: "Q".into(),
                batch_size: 10,
                batching_window_secs: 0,
                report_batch_item_failures: true,
            },
        }
    }

    fn message(id: &str, header: Option<&str>) -> Message {
        let mut message = Message::builder()
            .message_id(id)
            .attributes(MessageSystemAttributeName::SentTimestamp, "1000");
        if let Some(header) = header {
            message = message.attributes(MessageSystemAttributeName::AwsTraceHeader, header);
        }
        message.build()
    }

    const ROOT_A: &str = "1-5e1b4151-5ac6c58f5b5dbd0e1ddc2a2b";
    const ROOT_B: &str = "1-5e1b4151-000000000000000000000001";

    #[test]
    fn a_batch_continues_each_senders_trace_once_through_a_queue_segment() {
        let store = TraceStore::default();
        let batch = [
            message(
                "1",
                Some(&format!("Root={ROOT_A};Parent=aaaaaaaaaaaaaaaa;Sampled=1")),
            ),
            message(
                "2",
                Some(&format!("Root={ROOT_A};Parent=bbbbbbbbbbbbbbbb;Sampled=1")),
            ),
            message("3", Some(&format!("Root={ROOT_B};Sampled=0"))),
            message("4", None),
        ];
        let traces = traces_for(&batch, &mapping(), &store);
        assert_eq!(traces.len(), 1);
        assert_eq!(traces[0].root, ROOT_A);
        let queue = store.trace(ROOT_A).unwrap();
        assert_eq!(queue.len(), 1);
        assert_eq!(queue[0].document.origin.as_deref(), Some("AWS::SQS::Queue"));
        assert_eq!(
            queue[0]
                .document
                .parent_id
                .as_ref()
                .map(ToString::to_string)
                .as_deref(),
            Some("aaaaaaaaaaaaaaaa")
        );
        assert_eq!(traces[0].parent, Some(queue[0].document.id.to_string()));
        assert!(store.trace(ROOT_B).is_none());
    }

    #[test]
    fn a_batch_without_trace_headers_starts_a_new_trace() {
        let store = TraceStore::default();
        let traces = traces_for(&[message("1", None)], &mapping(), &store);
        assert_eq!(traces.len(), 1);
        assert!(traces[0].parent.is_none());
        assert!(ops_wire::trace::TraceId::parse(&traces[0].root).is_ok());
    }
}
