//! The SDK clients the adapters use: built once at init from the shared AWS config,
//! with the ops kit's interceptor, so every call is an X-Ray subsegment and a
//! `DependencyLatency` data point, and with timeouts, so a stalled call fails in time
//! for the function to answer (or report its batch) itself.
//!
//! Without them the SDK waits as long as the socket does: one stalled `PutItem` ran
//! into the function's 10 s timeout, the whole batch counted as failed (records already
//! stored included) and partial-batch reporting was lost.

use std::time::Duration;

use aws_config::SdkConfig;
use aws_config::timeout::TimeoutConfig;
use ops_kit::xray::AwsCallInterceptor;

/// Connecting to the endpoint.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);
/// One attempt of a call, retries not included.
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(2);
/// A call, retries included: well inside the functions' 10 s timeout.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

fn timeouts() -> TimeoutConfig {
    TimeoutConfig::builder()
        .connect_timeout(CONNECT_TIMEOUT)
        .operation_attempt_timeout(ATTEMPT_TIMEOUT)
        .operation_timeout(OPERATION_TIMEOUT)
        .build()
}

/// A DynamoDB client for [`crate::DynamoCommentStore`].
pub fn dynamodb_client(aws: &SdkConfig) -> aws_sdk_dynamodb::Client {
    let config = aws_sdk_dynamodb::config::Builder::from(aws)
        .interceptor(AwsCallInterceptor)
        .timeout_config(timeouts())
        .build();
    aws_sdk_dynamodb::Client::from_conf(config)
}

/// An SQS client for [`crate::SqsCommentQueue`] and [`crate::SqsSourceQueue`].
pub fn sqs_client(aws: &SdkConfig) -> aws_sdk_sqs::Client {
    let config = aws_sdk_sqs::config::Builder::from(aws)
        .interceptor(AwsCallInterceptor)
        .timeout_config(timeouts())
        .build();
    aws_sdk_sqs::Client::from_conf(config)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// An endpoint that accepts connections and never answers.
    async fn stalled_endpoint() -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let address = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((socket, _)) = listener.accept().await {
                held.push(socket);
            }
        });
        format!("http://{address}")
    }

    #[tokio::test]
    async fn a_stalled_call_fails_within_the_operation_timeout() {
        let aws = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .endpoint_url(stalled_endpoint().await)
            .region(aws_config::Region::new("eu-west-1"))
            .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .load()
            .await;
        let started = Instant::now();
        let result = dynamodb_client(&aws)
            .put_item()
            .table_name("t")
            .item("pk", aws_sdk_dynamodb::types::AttributeValue::S("x".into()))
            .send()
            .await;
        let waited = started.elapsed();
        let error = result.unwrap_err();
        assert!(
            matches!(
                error,
                aws_sdk_dynamodb::error::SdkError::TimeoutError(_)
                    | aws_sdk_dynamodb::error::SdkError::DispatchFailure(_)
            ),
            "{error:?}"
        );
        // Within the operation timeout (and some slack for a busy machine), far below
        // the functions' 10 s: the caller still has time to answer.
        assert!(
            waited < OPERATION_TIMEOUT + Duration::from_secs(2),
            "{waited:?}"
        );
        assert!(
            waited >= ATTEMPT_TIMEOUT,
            "it did wait for an answer: {waited:?}"
        );
    }
}
