//! The `status` Lambda function: wiring only; the handler is in the library.

use std::sync::Arc;

use feedback::{Cors, DynamoCommentStore, dynamodb_client, sqs_client};
use lambda_http::{Adapter, Error, Request, service_fn};
use lambda_runtime::tower::Layer as _;
use ops_kit::required_env;
use status::{Config, Dependencies, SERVICE, handle};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ops = ops_kit::init(SERVICE)?;
    let config = Config::from_env()?;
    let cors = Cors::new(&required_env("CORS_ALLOW_ORIGIN")?)?;
    let aws = aws_config::load_from_env().await;
    let (dynamodb, sqs) = (dynamodb_client(&aws), sqs_client(&aws));
    let store = DynamoCommentStore::new(dynamodb.clone(), config.table_name.clone());
    let dependencies = Arc::new(Dependencies {
        dynamodb,
        sqs,
        config,
    });

    let handler = service_fn(move |request: Request| {
        let (dependencies, store, cors) = (Arc::clone(&dependencies), store.clone(), cors.clone());
        async move { Ok::<_, Error>(cors.apply(handle(request, &dependencies, &store).await)) }
    });
    lambda_runtime::run(ops.layer().layer(Adapter::from(handler))).await
}
