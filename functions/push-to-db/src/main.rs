//! The `push-to-db` Lambda function: wiring only; the handler is in the library.

use feedback::{DynamoCommentStore, SqsSourceQueue, dynamodb_client, sqs_client};
use lambda_runtime::tower::Layer as _;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use push_to_db::{Config, SERVICE, handle};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ops = ops_kit::init(SERVICE)?;
    let config = Config::from_env()?;
    let aws = aws_config::load_from_env().await;
    let store = DynamoCommentStore::new(dynamodb_client(&aws), config.table_name);
    let queue = SqsSourceQueue::new(sqs_client(&aws), config.queue_url, config.dlq_url);

    let handler = service_fn(move |event: LambdaEvent<_>| {
        let (store, queue) = (store.clone(), queue.clone());
        async move { Ok::<_, Error>(handle(event, &store, &queue).await) }
    });
    lambda_runtime::run(ops.layer().layer(handler)).await
}
