//! `feedback-ops dlq`: what waits in the dead-letter queue, and moving it back.
//!
//! `list` peeks: it receives every message with a short visibility timeout and makes
//! each visible again at once, and shows ids, correlation ids, receive counts and the
//! reason `push-to-db` gave when it dead-lettered a message itself — never the comment
//! text. `redrive` moves the messages back to the comments queue, with SQS's own
//! `StartMessageMoveTask` where the endpoint offers it, and otherwise by receive → send
//! → delete, deleting a message only after its copy was sent. The local stack's ops API
//! and the CLI (for AWS or moto) share this code; `cli.rs` is the command.

pub mod cli;

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use aws_sdk_sqs::Client;
use aws_sdk_sqs::types::{
    ChangeMessageVisibilityBatchRequestEntry, MessageAttributeValue, MessageSystemAttributeName,
    MessageSystemAttributeNameForSends, MessageSystemAttributeValue, QueueAttributeName,
};
use ops_wire::queue::{
    CORRELATION_ATTRIBUTE, FAILURE_REASON_ATTRIBUTE, SOURCE_MESSAGE_ID_ATTRIBUTE,
};
use serde::{Deserialize, Serialize};

use crate::aws::sdk_error;

/// How long a listed message stays hidden if the listing dies before it releases it.
const PEEK_VISIBILITY_SECS: i32 = 30;
/// How long a message being moved stays hidden if the move dies half-way.
const MOVE_VISIBILITY_SECS: i32 = 60;
/// How long a `StartMessageMoveTask` may run before `redrive` stops waiting.
const MOVE_TASK_PATIENCE: Duration = Duration::from_mins(10);

/// The comments queue and its dead-letter queue.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Queues {
    /// The queue redriven messages go back to.
    pub queue_url: String,
    /// The dead-letter queue.
    pub dlq_url: String,
}

/// A failed DLQ operation, in one line.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct DlqError(pub String);

/// One dead-lettered message, without its body.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeadLetter {
    /// Its id on the dead-letter queue.
    pub message_id: String,
    /// The request that queued it.
    pub correlation_id: Option<String>,
    /// How many times it was received (on both queues, this listing included).
    pub receive_count: Option<u32>,
    /// When it was first sent, ms since the epoch.
    pub sent_ms: Option<u64>,
    /// Why `push-to-db` dead-lettered it, when it did so itself (a poison message);
    /// `None` for a message SQS moved after `maxReceiveCount` receives.
    pub failure_reason: Option<String>,
    /// Its id on the comments queue, when `push-to-db` dead-lettered it.
    pub source_message_id: Option<String>,
    /// The first warning or error `push-to-db` logged about it, where the logs are at
    /// hand (the local stack).
    pub logged_failure: Option<String>,
}

/// What a listing found.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Listing {
    /// `ApproximateNumberOfMessages` + `…NotVisible` before the listing.
    pub depth: u64,
    /// The messages seen, oldest first.
    pub messages: Vec<DeadLetter>,
}

/// What a redrive did.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
pub struct Redrive {
    /// `StartMessageMoveTask`, or `receive-send-delete`.
    pub method: String,
    /// Messages moved back.
    pub moved: u64,
    /// Messages that could not be moved, with why (each still in the DLQ, or — when
    /// only its delete failed — in both queues, which `push-to-db` stores once).
    pub failed: Vec<(String, String)>,
    /// Why SQS's own move task was not used, when it was not.
    pub note: Option<String>,
}

/// The comments queue and its DLQ of `stack`: from the environment (`QUEUE_URL`,
/// `DLQ_URL`) of the first of its functions that has both.
///
/// # Errors
/// [`DlqError`] when the functions cannot be read or none names both queues.
pub async fn stack_queues(
    lambda: &aws_sdk_lambda::Client,
    stack: &str,
) -> Result<Queues, DlqError> {
    let functions = crate::deps::live::stack_functions(lambda, stack)
        .await
        .map_err(|e| DlqError(e.to_string()))?;
    for function in functions.values() {
        let configuration = lambda
            .get_function_configuration()
            .function_name(&function.function_name)
            .send()
            .await
            .map_err(|e| {
                DlqError(format!(
                    "{}: cannot read its configuration: {}",
                    function.function_name,
                    sdk_error(&e)
                ))
            })?;
        let variables = configuration.environment().and_then(|e| e.variables());
        let variable = |name: &str| variables.and_then(|v| v.get(name)).cloned();
        if let (Some(queue_url), Some(dlq_url)) = (variable("QUEUE_URL"), variable("DLQ_URL")) {
            return Ok(Queues { queue_url, dlq_url });
        }
    }
    Err(DlqError(if functions.is_empty() {
        format!(
            "no function carries the tag aws:cloudformation:stack-name = {stack}: is the stack deployed in this region?"
        )
    } else {
        format!("no function of stack {stack} has both QUEUE_URL and DLQ_URL in its environment")
    }))
}

fn string_attribute(
    attributes: Option<&std::collections::HashMap<String, MessageAttributeValue>>,
    name: &str,
) -> Option<String> {
    attributes?.get(name)?.string_value().map(str::to_owned)
}

/// The queue's depth: visible plus in flight.
///
/// # Errors
/// [`DlqError`] when the queue cannot be read.
pub async fn depth(sqs: &Client, queue_url: &str) -> Result<u64, DlqError> {
    let answer = sqs
        .get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
        .send()
        .await
        .map_err(|e| DlqError(format!("{queue_url}: cannot read it: {}", sdk_error(&e))))?;
    let count = |name| {
        answer
            .attributes()
            .and_then(|a| a.get(&name))
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(0)
    };
    Ok(count(QueueAttributeName::ApproximateNumberOfMessages)
        + count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible))
}

/// Up to `limit` messages of the dead-letter queue, each made visible again afterwards.
///
/// # Errors
/// [`DlqError`] when the queue cannot be read.
pub async fn list(sqs: &Client, dlq_url: &str, limit: usize) -> Result<Listing, DlqError> {
    let depth = depth(sqs, dlq_url).await?;
    let mut seen = HashSet::new();
    let mut messages = Vec::new();
    let mut handles = Vec::new();
    while messages.len() < limit {
        let batch = sqs
            .receive_message()
            .queue_url(dlq_url)
            .max_number_of_messages(10)
            .visibility_timeout(PEEK_VISIBILITY_SECS)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| DlqError(format!("{dlq_url}: cannot receive: {}", sdk_error(&e))))?;
        let received = batch.messages();
        if received.is_empty() {
            break;
        }
        let mut new = 0;
        for message in received {
            let Some(id) = message.message_id() else {
                continue;
            };
            if let Some(handle) = message.receipt_handle() {
                handles.push(handle.to_owned());
            }
            if !seen.insert(id.to_owned()) || messages.len() >= limit {
                continue;
            }
            new += 1;
            let system = |name: MessageSystemAttributeName| {
                message.attributes().and_then(|a| a.get(&name)).cloned()
            };
            messages.push(DeadLetter {
                message_id: id.to_owned(),
                correlation_id: string_attribute(
                    message.message_attributes(),
                    CORRELATION_ATTRIBUTE,
                ),
                receive_count: system(MessageSystemAttributeName::ApproximateReceiveCount)
                    .and_then(|v| v.parse().ok()),
                sent_ms: system(MessageSystemAttributeName::SentTimestamp)
                    .and_then(|v| v.parse().ok()),
                failure_reason: string_attribute(
                    message.message_attributes(),
                    FAILURE_REASON_ATTRIBUTE,
                ),
                source_message_id: string_attribute(
                    message.message_attributes(),
                    SOURCE_MESSAGE_ID_ATTRIBUTE,
                ),
                logged_failure: None,
            });
        }
        if new == 0 {
            break;
        }
    }
    release(sqs, dlq_url, &handles).await;
    messages.sort_by_key(|m| m.sent_ms);
    Ok(Listing { depth, messages })
}

/// Makes received messages visible again, ten to a call (best effort: otherwise they
/// return after the peek's visibility timeout anyway).
async fn release(sqs: &Client, queue_url: &str, handles: &[String]) {
    for chunk in handles.chunks(10) {
        let entries = chunk
            .iter()
            .enumerate()
            .filter_map(|(i, handle)| {
                ChangeMessageVisibilityBatchRequestEntry::builder()
                    .id(i.to_string())
                    .receipt_handle(handle)
                    .visibility_timeout(0)
                    .build()
                    .ok()
            })
            .collect();
        let _ = sqs
            .change_message_visibility_batch()
            .queue_url(queue_url)
            .set_entries(Some(entries))
            .send()
            .await;
    }
}

async fn queue_arn(sqs: &Client, queue_url: &str) -> Result<String, DlqError> {
    sqs.get_queue_attributes()
        .queue_url(queue_url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .map_err(|e| DlqError(format!("{queue_url}: cannot read it: {}", sdk_error(&e))))?
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::QueueArn))
        .cloned()
        .ok_or_else(|| DlqError(format!("{queue_url}: SQS gave no QueueArn")))
}

/// Moves every message of the dead-letter queue back to the comments queue.
///
/// # Errors
/// [`DlqError`] when a queue cannot be read at all; a message that cannot be moved is
/// reported in [`Redrive::failed`] instead.
pub async fn redrive(sqs: &Client, queues: &Queues) -> Result<Redrive, DlqError> {
    let source = queue_arn(sqs, &queues.dlq_url).await?;
    let destination = queue_arn(sqs, &queues.queue_url).await?;
    match sqs
        .start_message_move_task()
        .source_arn(&source)
        .destination_arn(&destination)
        .send()
        .await
    {
        Ok(started) => {
            let handle = started.task_handle().unwrap_or_default().to_owned();
            wait_for_move_task(sqs, &source, &handle).await
        }
        Err(e) => {
            let mut moved = move_one_by_one(sqs, queues).await?;
            moved.note = Some(format!(
                "StartMessageMoveTask was refused ({}); moved one by one",
                refusal(&e)
            ));
            Ok(moved)
        }
    }
}

/// Why an endpoint refused a call, short: the service's error code, else the HTTP
/// status (moto answers an operation it lacks with a bare `500` page), else the error.
fn refusal<E>(error: &aws_sdk_sqs::error::SdkError<E>) -> String
where
    E: aws_sdk_sqs::error::ProvideErrorMetadata + std::error::Error + 'static,
{
    use aws_sdk_sqs::error::SdkError;
    match error {
        SdkError::ServiceError(service) => service.err().code().map_or_else(
            || format!("HTTP {}", service.raw().status().as_u16()),
            ToOwned::to_owned,
        ),
        other => sdk_error(other),
    }
}

async fn wait_for_move_task(
    sqs: &Client,
    source_arn: &str,
    handle: &str,
) -> Result<Redrive, DlqError> {
    let started = Instant::now();
    loop {
        let tasks = sqs
            .list_message_move_tasks()
            .source_arn(source_arn)
            .send()
            .await
            .map_err(|e| DlqError(format!("cannot follow the move task: {}", sdk_error(&e))))?;
        let task = tasks
            .results()
            .iter()
            .find(|t| t.task_handle() == Some(handle) || handle.is_empty());
        if let Some(task) = task {
            let status = task.status().unwrap_or_default();
            let moved = u64::try_from(task.approximate_number_of_messages_moved()).unwrap_or(0);
            let mut report = Redrive {
                method: "StartMessageMoveTask".into(),
                moved,
                ..Redrive::default()
            };
            match status {
                "COMPLETED" => return Ok(report),
                "FAILED" | "CANCELLED" => {
                    report.failed.push((
                        "(move task)".into(),
                        task.failure_reason().unwrap_or(status).to_owned(),
                    ));
                    return Ok(report);
                }
                _ => {}
            }
        }
        if started.elapsed() > MOVE_TASK_PATIENCE {
            return Err(DlqError(format!(
                "the move task has not completed after {} s; it goes on: see the SQS console",
                MOVE_TASK_PATIENCE.as_secs()
            )));
        }
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// Receive → send → delete, a batch at a time. A message whose copy comes back to the
/// DLQ during the redrive (a poison message `push-to-db` dead-letters again at once) is
/// left there, so the loop ends.
async fn move_one_by_one(sqs: &Client, queues: &Queues) -> Result<Redrive, DlqError> {
    let mut report = Redrive {
        method: "receive-send-delete".into(),
        ..Redrive::default()
    };
    let mut sent_ids = HashSet::new();
    loop {
        let batch = sqs
            .receive_message()
            .queue_url(&queues.dlq_url)
            .max_number_of_messages(10)
            .visibility_timeout(MOVE_VISIBILITY_SECS)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .map_err(|e| {
                DlqError(format!(
                    "{}: cannot receive: {}",
                    queues.dlq_url,
                    sdk_error(&e)
                ))
            })?;
        let mut returned = Vec::new();
        let mut progress = false;
        for message in batch.messages() {
            let id = message.message_id().unwrap_or_default().to_owned();
            let handle = message.receipt_handle().unwrap_or_default().to_owned();
            let came_back =
                string_attribute(message.message_attributes(), SOURCE_MESSAGE_ID_ATTRIBUTE)
                    .is_some_and(|source| sent_ids.contains(&source));
            if came_back {
                returned.push(handle);
                continue;
            }
            progress = true;
            match send_copy(sqs, &queues.queue_url, message).await {
                Ok(new_id) => {
                    sent_ids.insert(new_id);
                    match sqs
                        .delete_message()
                        .queue_url(&queues.dlq_url)
                        .receipt_handle(&handle)
                        .send()
                        .await
                    {
                        Ok(_) => report.moved += 1,
                        Err(e) => report.failed.push((
                            id,
                            format!("sent, but not deleted from the DLQ: {}", sdk_error(&e)),
                        )),
                    }
                }
                Err(reason) => {
                    returned.push(handle);
                    report.failed.push((id, reason));
                }
            }
        }
        release(sqs, &queues.dlq_url, &returned).await;
        if !progress {
            return Ok(report);
        }
    }
}

/// Sends a copy of a dead-lettered message to `queue_url`: its body, its correlation id
/// and its trace header; answers the copy's message id.
async fn send_copy(
    sqs: &Client,
    queue_url: &str,
    message: &aws_sdk_sqs::types::Message,
) -> Result<String, String> {
    let mut attributes = BTreeMap::new();
    if let Some(correlation) = string_attribute(message.message_attributes(), CORRELATION_ATTRIBUTE)
    {
        let value = MessageAttributeValue::builder()
            .data_type("String")
            .string_value(correlation)
            .build()
            .map_err(|e| e.to_string())?;
        attributes.insert(CORRELATION_ATTRIBUTE.to_owned(), value);
    }
    let mut send = sqs
        .send_message()
        .queue_url(queue_url)
        .message_body(message.body().unwrap_or_default())
        .set_message_attributes((!attributes.is_empty()).then(|| attributes.into_iter().collect()));
    if let Some(trace) = message
        .attributes()
        .and_then(|a| a.get(&MessageSystemAttributeName::AwsTraceHeader))
    {
        let value = MessageSystemAttributeValue::builder()
            .data_type("String")
            .string_value(trace)
            .build()
            .map_err(|e| e.to_string())?;
        send = send
            .message_system_attributes(MessageSystemAttributeNameForSends::AwsTraceHeader, value);
    }
    send.send()
        .await
        .map(|sent| sent.message_id().unwrap_or_default().to_owned())
        .map_err(|e| format!("not sent back: {}", sdk_error(&e)))
}
