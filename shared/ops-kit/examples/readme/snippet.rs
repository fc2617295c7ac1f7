use lambda_runtime::{service_fn, tower::Layer as _, Error, LambdaEvent};
use ops_kit::xray::AwsCallInterceptor;

#[tokio::main]
async fn main() -> Result<(), Error> {
    // Logs, metrics, traces and fault injection, configured from the environment.
    let ops = ops_kit::init("orders")?;
    // Every AWS call becomes a subsegment and a DependencyLatency data point.
    let aws = aws_config::load_from_env().await;
    let dynamodb = aws_sdk_dynamodb::Client::from_conf(
        aws_sdk_dynamodb::config::Builder::from(&aws).interceptor(AwsCallInterceptor).build(),
    );
    let handler = service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let dynamodb = dynamodb.clone();
        async move {
            let id = ops_kit::CorrelationId::generate();  // or from the request / record
            ops_kit::correlate(&id);                         // logs, trace and metrics
            ops_kit::metrics::counter!("OrdersPlaced").increment(1); // EMF, flushed by the layer
            dynamodb.list_tables().send().await?;           // a subsegment, when sampled
            tracing::info!(key_activity = "place-order", "order placed");
            Ok::<_, Error>(event.payload)
        }
    });
    lambda_runtime::run(ops.layer().layer(handler)).await
}
