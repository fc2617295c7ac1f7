//! The kit part by part: [`ops_kit::builder`] with the namespace set in code, the kit's
//! log layer added to the app's own `tracing` subscriber, and the metrics written by a
//! [`ops_kit::MetricsFlush`] guard instead of the tower layer, for a handler that is not
//! a tower service.
//!
//! Run it under any Lambda Runtime API, with what Lambda sets (no namespace needed: it
//! is set in code), and invoke it with `{"order_id": "o-1", "correlation_id": "…"}`:
//!
//! ```text
//! AWS_LAMBDA_RUNTIME_API=127.0.0.1:9001 AWS_LAMBDA_FUNCTION_NAME=orders \
//! AWS_LAMBDA_FUNCTION_MEMORY_SIZE=128 AWS_LAMBDA_FUNCTION_VERSION='$LATEST' \
//! cargo run -p ops-kit --example builder
//! ```
//!
//! `tests/integration/ops_kit_examples.rs` runs it so, and checks one EMF document per
//! invocation, also for an order refused by an early return.

use lambda_runtime::{Error, LambdaEvent, service_fn};
use ops_kit::CorrelationId;
use serde_json::{Value, json};
use tracing_subscriber::layer::SubscriberExt as _;
use tracing_subscriber::util::SubscriberInitExt as _;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ops = ops_kit::builder("orders")
        .metrics_namespace("Shop")
        .logs(false)
        .init()?;
    // The app's subscriber; the kit's layer is one of its layers.
    tracing_subscriber::registry()
        .with(ops_kit::log_layer(&ops_kit::LogConfig::from_env("orders")))
        .init();

    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        // Written once, when `flush` is called below or, on an early return, dropped.
        let flush = ops.metrics_flush(&event.context);
        let id = event
            .payload
            .get("correlation_id")
            .and_then(Value::as_str)
            .and_then(|raw| CorrelationId::parse(raw).ok())
            .unwrap_or_else(CorrelationId::generate);
        flush.correlate(&id);
        let Some(order) = event.payload.get("order_id").and_then(Value::as_str) else {
            ops_kit::metrics::counter!("OrdersRejected").increment(1);
            return Err(Error::from("no order_id"));
        };
        ops_kit::metrics::counter!("OrdersPlaced").increment(1);
        tracing::info!(
            key_activity = "place-order",
            correlation_id = id.as_str(),
            order_id = order,
            "order placed"
        );
        flush.flush();
        Ok::<_, Error>(json!({ "order_id": order, "correlation_id": id.as_str() }))
    }))
    .await
}
