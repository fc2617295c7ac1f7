//! The `get-all-comments` Lambda function: wiring only; the handler is in the library.

use feedback::DynamoCommentStore;
use get_all_comments::{Config, SERVICE, handle};
use lambda_http::{Error, Request, RequestExt, service_fn};
use ops_kit::{LogConfig, init_logging, invocation_span};
use tracing::{Instrument as _, Span};

#[tokio::main]
async fn main() -> Result<(), Error> {
    init_logging(&LogConfig::from_env(SERVICE))?;
    let config = Config::from_env()?;
    let aws = aws_config::load_from_env().await;
    let store = DynamoCommentStore::new(aws_sdk_dynamodb::Client::new(&aws), config.table_name);

    lambda_http::run(service_fn(|request: Request| {
        let span = request
            .lambda_context_ref()
            .map_or_else(Span::none, invocation_span);
        let store = &store;
        async move { Ok::<_, Error>(handle(request, store).await) }.instrument(span)
    }))
    .await
}
