//! The SDK clients the adapters use: built once at init from the shared AWS config,
//! with the ops kit's interceptor, so every call is an X-Ray subsegment and a
//! `DependencyLatency` data point.

use aws_config::SdkConfig;
use ops_kit::xray::AwsCallInterceptor;

/// A DynamoDB client for [`crate::DynamoCommentStore`].
pub fn dynamodb_client(aws: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(aws)
        .interceptor(AwsCallInterceptor)
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// An SQS client for [`crate::SqsCommentQueue`].
pub fn sqs_client(aws: &SdkConfig) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::config::Builder::from(aws)
        .interceptor(AwsCallInterceptor)
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}
