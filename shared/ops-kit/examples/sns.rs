//! An SNS subscriber with the ops kit.
//!
//! `CorrelationId::from_sns_record` reads the `correlation_id` message attribute (of
//! type `String`), else the SNS message id. SNS invokes a function asynchronously, so a
//! failure is returned as an invocation error: Lambda retries the event, then sends it
//! to the function's on-failure destination or dead-letter queue. Sample event:
//! `tests/events/sns.json`.
//!
//! Run it under any Lambda Runtime API, with what Lambda sets and the kit's one
//! required variable (add `AWS_XRAY_DAEMON_ADDRESS` to send subsegments):
//!
//! ```text
//! AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 AWS_LAMBDA_FUNCTION_NAME=orders-sns \
//! AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_LAMBDA_FUNCTION_VERSION='$LATEST' \
//! METRICS_NAMESPACE=Examples cargo run -p ops-kit --example sns
//! ```

use lambda_runtime::tower::Layer as _;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use ops_kit::CorrelationId;
use ops_kit::aws_lambda_events::sns::{SnsEvent, SnsRecord};
use ops_kit::xray::{AwsCallInterceptor, in_subsegment};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ops = ops_kit::init("orders-sns")?;
    let aws = aws_config::load_from_env().await;
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws)
            .interceptor(AwsCallInterceptor)
            .build(),
    );
    let handler = service_fn(move |event: LambdaEvent<SnsEvent>| {
        let dynamodb = dynamodb.clone();
        async move {
            // SNS delivers one record per invocation.
            for record in &event.payload.records {
                notify_warehouse(record, &dynamodb).await?;
            }
            Ok::<_, Error>(())
        }
    });
    lambda_runtime::run(ops.layer().layer(handler)).await
}

/// Tells the warehouse about one order notification.
async fn notify_warehouse(
    record: &SnsRecord,
    dynamodb: &aws_sdk_dynamodb::Client,
) -> Result<(), Error> {
    ops_kit::correlate(&CorrelationId::from_sns_record(record));
    in_subsegment("notify-warehouse", dynamodb.list_tables().send()).await?;
    metrics::counter!("WarehouseNotified").increment(1);
    tracing::info!(key_activity = "notify-warehouse", "warehouse notified");
    Ok(())
}
