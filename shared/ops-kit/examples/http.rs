//! An HTTP function with the ops kit, whichever service invokes it: an API Gateway REST
//! API, an HTTP API, a Lambda function URL or an Application Load Balancer.
//!
//! `lambda_http` reads the four payloads into one `Request`, and
//! `CorrelationId::from_request` reads each one's id: the caller's `X-Correlation-Id`,
//! else the source's own (the request id, or an ALB's trace root). The function answers
//! with the id in `X-Correlation-Id`, and a dependency failure as a problem document that
//! carries the id and no internals. Sample events: `tests/events/apigw-rest.json`,
//! `apigw-http-v2.json`, `function-url.json` and `alb.json`.
//!
//! Run it under any Lambda Runtime API, with what Lambda sets and the kit's one
//! required variable (add `AWS_XRAY_DAEMON_ADDRESS` to send subsegments):
//!
//! ```text
//! AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 AWS_LAMBDA_FUNCTION_NAME=orders-http \
//! AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_LAMBDA_FUNCTION_VERSION='$LATEST' \
//! METRICS_NAMESPACE=Examples cargo run -p ops-kit --example http
//! ```

use lambda_http::http::StatusCode;
use lambda_http::{Adapter, Error, Request, Response, service_fn};
use lambda_runtime::tower::Layer as _;
use ops_kit::xray::{AwsCallInterceptor, in_subsegment};
use ops_kit::{CORRELATION_HEADER, CorrelationId, Problem};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ops = ops_kit::init("orders-http")?;
    let aws = aws_config::load_from_env().await;
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws)
            .interceptor(AwsCallInterceptor)
            .build(),
    );
    let handler = service_fn(move |request: Request| {
        let dynamodb = dynamodb.clone();
        async move { receive_order(&request, &dynamodb).await }
    });
    // `Adapter` turns the HTTP service into the `LambdaEvent` service the layer wraps.
    lambda_runtime::run(ops.layer().layer(Adapter::from(handler))).await
}

/// Takes an order: the key activity is a subsegment, and the DynamoDB call inside it
/// is its child.
async fn receive_order(
    request: &Request,
    dynamodb: &aws_sdk_dynamodb::Client,
) -> Result<Response<String>, Error> {
    let id = CorrelationId::from_request(request);
    ops_kit::correlate(&id);
    let checked = in_subsegment("receive-order", dynamodb.list_tables().send()).await;
    if let Err(error) = checked {
        tracing::error!(
            error = &error as &dyn std::error::Error,
            key_activity = "receive-order",
            "order not received"
        );
        let problem = Problem::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "https://example.com/problems/dependency-unavailable",
            "Service unavailable",
            "The order was not received. Try again in a few seconds.",
            &id,
        );
        return Ok(problem.with_retry_after(5).into_response());
    }
    metrics::counter!("OrdersReceived").increment(1);
    tracing::info!(key_activity = "receive-order", "order received");
    Ok(Response::builder()
        .status(StatusCode::ACCEPTED)
        .header(CORRELATION_HEADER, id.as_str())
        .header("content-type", "application/json")
        .body(serde_json::json!({ "correlation_id": id }).to_string())?)
}
