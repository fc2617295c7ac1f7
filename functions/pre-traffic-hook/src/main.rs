//! The `pre-traffic-hook` Lambda function: wiring only; the handler is in the library.

use lambda_runtime::tower::Layer as _;
use lambda_runtime::{Error, LambdaEvent, service_fn};
use ops_kit::xray::AwsCallInterceptor;
use pre_traffic_hook::{HookEvent, SERVICE, Targets, handle};

#[tokio::main]
async fn main() -> Result<(), Error> {
    let ops = ops_kit::init(SERVICE)?;
    let targets = Targets::from_env()?;
    let aws = aws_config::load_from_env().await;
    let lambda = aws_sdk_lambda::Client::from_conf(
        aws_sdk_lambda::config::Builder::from(&aws)
            .interceptor(AwsCallInterceptor)
            .build(),
    );
    let codedeploy = aws_sdk_codedeploy::Client::from_conf(
        aws_sdk_codedeploy::config::Builder::from(&aws)
            .interceptor(AwsCallInterceptor)
            .build(),
    );

    let handler = service_fn(move |event: LambdaEvent<HookEvent>| {
        let (targets, lambda, codedeploy) = (targets.clone(), lambda.clone(), codedeploy.clone());
        async move {
            let status = handle(event.payload, &targets, &lambda, &codedeploy).await?;
            Ok::<_, Error>(status.as_str().to_owned())
        }
    });
    lambda_runtime::run(ops.layer().layer(handler)).await
}
