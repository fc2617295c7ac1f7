//! The `add-comments` Lambda function: wiring only; the handler is in the library.

use add_comments::{Config, SERVICE, handle};
use feedback::{Cors, DynamoCommentStore, SqsCommentQueue, dynamodb_client, sqs_client};
use lambda_http::{Adapter, Error, Request, service_fn};
use lambda_runtime::tower::Layer as _;
use ops_kit::required_env;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ops = ops_kit::init(SERVICE)?;
    let config = Config::from_env()?;
    let cors = Cors::new(&required_env("CORS_ALLOW_ORIGIN")?)?;
    let aws = aws_config::load_from_env().await;
    let queue = SqsCommentQueue::new(sqs_client(&aws), config.queue_url);
    let keys = DynamoCommentStore::new(dynamodb_client(&aws), config.table_name);

    // The adapters hold SDK clients, which are cheap handles onto shared state.
    let handler = service_fn(move |request: Request| {
        let (queue, keys, cors) = (queue.clone(), keys.clone(), cors.clone());
        async move { Ok::<_, Error>(cors.apply(handle(request, &queue, &keys).await)) }
    });
    lambda_runtime::run(ops.layer().layer(Adapter::from(handler))).await
}
