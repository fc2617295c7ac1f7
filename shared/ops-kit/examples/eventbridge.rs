//! An EventBridge target with the ops kit.
//!
//! `CorrelationId::from_eventbridge` reads the `correlation_id` member of the event's
//! `detail`, else the event's id; a producer puts it there with
//! `CorrelationId::eventbridge_detail`. EventBridge invokes a function asynchronously,
//! so a failure is returned as an invocation error: Lambda retries the event, then sends
//! it to the function's on-failure destination or dead-letter queue. Sample event:
//! `tests/events/eventbridge.json`.
//!
//! Run it under any Lambda Runtime API, with what Lambda sets and the kit's one
//! required variable (add `AWS_XRAY_DAEMON_ADDRESS` to send subsegments):
//!
//! ```text
//! AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 AWS_LAMBDA_FUNCTION_NAME=orders-eventbridge \
//! AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_LAMBDA_FUNCTION_VERSION='$LATEST' \
//! METRICS_NAMESPACE=Examples cargo run -p ops-kit --example eventbridge
//! ```

use lambda_runtime::tower::Layer as _;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use ops_kit::CorrelationId;
use ops_kit::aws_lambda_events::eventbridge::EventBridgeEvent;
use ops_kit::xray::{AwsCallInterceptor, in_subsegment};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ops = ops_kit::init("orders-eventbridge")?;
    let aws = aws_config::load_from_env().await;
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws)
            .interceptor(AwsCallInterceptor)
            .build(),
    );
    let handler = service_fn(move |event: LambdaEvent<EventBridgeEvent>| {
        let dynamodb = dynamodb.clone();
        async move { schedule_shipping(&event.payload, &dynamodb).await }
    });
    lambda_runtime::run(ops.layer().layer(handler)).await
}

/// Schedules the shipping of a placed order. The detail stays untyped here
/// (`serde_json::Value`); a typed one works the same when its struct has a
/// `correlation_id` field.
async fn schedule_shipping(
    event: &EventBridgeEvent,
    dynamodb: &aws_sdk_dynamodb::Client,
) -> Result<(), Error> {
    ops_kit::correlate(&CorrelationId::from_eventbridge(event));
    in_subsegment("schedule-shipping", dynamodb.list_tables().send()).await?;
    metrics::counter!("ShippingScheduled").increment(1);
    tracing::info!(key_activity = "schedule-shipping", "shipping scheduled");
    Ok(())
}
