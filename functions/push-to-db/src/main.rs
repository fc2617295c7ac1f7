//! The `push-to-db` Lambda function: wiring only; the handler is in the library.

use feedback::DynamoCommentStore;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use ops_kit::{LogConfig, init_logging, invocation_span};
use push_to_db::{Config, SERVICE, handle};
use tracing::Instrument as _;

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging(&LogConfig::from_env(SERVICE))?;
    let config = Config::from_env()?;
    let aws = aws_config::load_from_env().await;
    let store = DynamoCommentStore::new(aws_sdk_dynamodb::Client::new(&aws), config.table_name);

    lambda_runtime::run(service_fn(|event: LambdaEvent<_>| {
        let span = invocation_span(&event.context);
        let store = &store;
        async move { Ok::<_, Error>(handle(event, store).await) }.instrument(span)
    }))
    .await
}
