//! An SQS consumer with the ops kit: each record is handled with its own correlation
//! id, in its own log span and trace scope (`ops_kit::in_sqs_record`), and only the
//! records that failed are reported back, so SQS redelivers those and deletes the rest.
//!
//! The record's correlation id is its `correlation_id` message attribute, else its
//! message id. A record continues the trace of the request that sent it when the
//! message carries one (`AWSTraceHeader`), else the invocation's. The event source
//! mapping needs `FunctionResponseTypes: [ReportBatchItemFailures]` for the partial
//! batch response to count. Sample event: `tests/events/sqs.json`.
//!
//! Run it under any Lambda Runtime API, with what Lambda sets and the kit's one
//! required variable (add `AWS_XRAY_DAEMON_ADDRESS` to send subsegments):
//!
//! ```text
//! AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 AWS_LAMBDA_FUNCTION_NAME=orders-sqs \
//! AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_LAMBDA_FUNCTION_VERSION='$LATEST' \
//! METRICS_NAMESPACE=Examples cargo run -p ops-kit --example sqs
//! ```

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::list_tables::ListTablesError;
use lambda_runtime::tower::Layer as _;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use ops_kit::aws_lambda_events::sqs::{BatchItemFailure, SqsBatchResponse, SqsEvent};
use ops_kit::xray::{AwsCallInterceptor, in_subsegment};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ops = ops_kit::init("orders-sqs")?;
    let aws = aws_config::load_from_env().await;
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws)
            .interceptor(AwsCallInterceptor)
            .build(),
    );
    let handler = service_fn(move |event: LambdaEvent<SqsEvent>| {
        let dynamodb = dynamodb.clone();
        async move { Ok::<_, Error>(handle_batch(event.payload, &dynamodb).await) }
    });
    lambda_runtime::run(ops.layer().layer(handler)).await
}

/// Handles each record on its own; never fails as a whole, so one bad record cannot
/// make SQS redeliver the good ones.
async fn handle_batch(batch: SqsEvent, dynamodb: &aws_sdk_dynamodb::Client) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for record in batch.records {
        // Boxed: an SDK call's future is large, and would make every caller's as large.
        let reserved = Box::pin(ops_kit::in_sqs_record(&record, reserve_stock(dynamodb))).await;
        if reserved.is_err() {
            let mut failure = BatchItemFailure::default();
            failure.item_identifier = record.message_id.unwrap_or_default();
            response.batch_item_failures.push(failure);
        }
    }
    response
}

/// Reserves the stock for one queued order (a stand-in call: the example has no
/// order table).
async fn reserve_stock(
    dynamodb: &aws_sdk_dynamodb::Client,
) -> Result<(), SdkError<ListTablesError>> {
    match in_subsegment("reserve-stock", dynamodb.list_tables().send()).await {
        Ok(_) => {
            metrics::counter!("StockReserved").increment(1);
            tracing::info!(key_activity = "reserve-stock", "stock reserved");
            Ok(())
        }
        Err(error) => {
            tracing::warn!(
                error = &error as &dyn std::error::Error,
                key_activity = "reserve-stock",
                "stock not reserved; the record will be redelivered"
            );
            Err(error)
        }
    }
}
