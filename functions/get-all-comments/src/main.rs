//! The `get-all-comments` Lambda function: wiring only; the handler is in the library.

use feedback::{Cors, DynamoCommentStore, dynamodb_client};
use get_all_comments::{Config, SERVICE, handle};
use lambda_http::{Adapter, Error, Request, service_fn};
use lambda_runtime::tower::Layer as _;
use ops_kit::required_env;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ops = ops_kit::init(SERVICE)?;
    let config = Config::from_env()?;
    let cors = Cors::new(&required_env("CORS_ALLOW_ORIGIN")?)?;
    let aws = aws_config::load_from_env().await;
    let store = DynamoCommentStore::new(dynamodb_client(&aws), config.table_name);

    let handler = service_fn(move |request: Request| {
        let (store, cors) = (store.clone(), cors.clone());
        async move { Ok::<_, Error>(cors.apply(handle(request, &store).await)) }
    });
    lambda_runtime::run(ops.layer().layer(Adapter::from(handler))).await
}
