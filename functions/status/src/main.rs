//! The `status` Lambda function: wiring only; the handler is in the library.

use feedback::DynamoCommentStore;
use lambda_http::{Error, Request, RequestExt, service_fn};
use ops_kit::{LogConfig, init_logging, invocation_span};
use status::{Config, Dependencies, SERVICE, handle};
use tracing::{Instrument as _, Span};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging(&LogConfig::from_env(SERVICE))?;
    let config = Config::from_env()?;
    let aws = aws_config::load_from_env().await;
    let dynamodb = aws_sdk_dynamodb::Client::new(&aws);
    let store = DynamoCommentStore::new(dynamodb.clone(), config.table_name.clone());
    let dependencies = Dependencies {
        dynamodb,
        sqs: aws_sdk_sqs::Client::new(&aws),
        config,
    };

    lambda_http::run(service_fn(|request: Request| {
        let span = request
            .lambda_context_ref()
            .map_or_else(Span::none, invocation_span);
        let (dependencies, store) = (&dependencies, &store);
        async move { Ok::<_, Error>(handle(request, dependencies, store).await) }.instrument(span)
    }))
    .await
}
