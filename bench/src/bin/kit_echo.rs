//! The same echo with the ops kit around it: what the kit alone adds to init.

use lambda_runtime::tower::Layer as _;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ops = ops_kit::init("kit-echo")?;
    let handler =
        service_fn(|event: LambdaEvent<Value>| async move { Ok::<_, Error>(event.payload) });
    lambda_runtime::run(ops.layer().layer(handler)).await
}
