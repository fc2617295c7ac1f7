//! The `AWS/SQS` metrics CloudWatch has for a queue, by `QueueName`: how many messages
//! wait (`ApproximateNumberOfMessagesVisible`, `…NotVisible`), sampled from the queue's
//! attributes, and `ApproximateAgeOfOldestMessage`: the age of the oldest message each
//! receive saw (moto has no such attribute, and peeking would count as a receive), and
//! 0 while the queue is empty.

use std::time::Duration;

use aws_sdk_sqs::types::{Message, MessageSystemAttributeName, QueueAttributeName};
use tokio_util::sync::CancellationToken;

use crate::cloudwatch::{DataPoint, MetricStore};

/// The namespace.
pub const NAMESPACE: &str = "AWS/SQS";

fn put(metrics: &MetricStore, queue_name: &str, name: &str, unit: &str, value: f64) {
    metrics.put(DataPoint::now(
        NAMESPACE,
        name,
        unit,
        [("QueueName".to_owned(), queue_name.to_owned())].into(),
        value,
    ));
}

/// Records the age of the oldest message of a received batch, seconds.
pub fn record_oldest_age(metrics: &MetricStore, queue_name: &str, batch: &[Message]) {
    let now = crate::clock::now_ms();
    let oldest = batch
        .iter()
        .filter_map(|m| {
            m.attributes()?
                .get(&MessageSystemAttributeName::SentTimestamp)?
                .parse::<u64>()
                .ok()
        })
        .min();
    if let Some(sent) = oldest {
        #[allow(clippy::cast_precision_loss)] // seconds of a message's age
        let age = now.saturating_sub(sent) as f64 / 1000.0;
        put(
            metrics,
            queue_name,
            "ApproximateAgeOfOldestMessage",
            "Seconds",
            age.floor(),
        );
    }
}

/// Samples each `(name, url)` queue's depth every `every` until `stopping` is cancelled.
pub async fn sample(
    sqs: aws_sdk_sqs::Client,
    queues: Vec<(String, String)>,
    metrics: MetricStore,
    every: Duration,
    stopping: CancellationToken,
) {
    loop {
        for (name, url) in &queues {
            let Ok(answer) = sqs
                .get_queue_attributes()
                .queue_url(url)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                .send()
                .await
            else {
                // No point for this period: the alarm treats it as missing data.
                continue;
            };
            let count = |attribute: QueueAttributeName| {
                answer
                    .attributes()
                    .and_then(|a| a.get(&attribute))
                    .and_then(|v| v.parse::<f64>().ok())
                    .unwrap_or(0.0)
            };
            let visible = count(QueueAttributeName::ApproximateNumberOfMessages);
            let in_flight = count(QueueAttributeName::ApproximateNumberOfMessagesNotVisible);
            put(
                &metrics,
                name,
                "ApproximateNumberOfMessagesVisible",
                "Count",
                visible,
            );
            put(
                &metrics,
                name,
                "ApproximateNumberOfMessagesNotVisible",
                "Count",
                in_flight,
            );
            if visible + in_flight == 0.0 {
                put(
                    &metrics,
                    name,
                    "ApproximateAgeOfOldestMessage",
                    "Seconds",
                    0.0,
                );
            }
        }
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = stopping.cancelled() => return,
        }
    }
}
