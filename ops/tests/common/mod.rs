//! What the tests that drive moto's Lambda API share: a function created there as
//! CloudFormation would create it (a role, placeholder code, the stack's tags), and
//! the CLI run against it.

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{FunctionCode, Runtime};
use feedback_tests::{moto, sdk_config};

const TRUST: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"lambda.amazonaws.com"},"Action":"sts:AssumeRole"}]}"#;

/// A role functions of stack `stack` can run as.
pub(crate) async fn role(stack: &str) -> String {
    aws_sdk_iam::Client::new(&sdk_config(&moto().endpoint).await)
        .create_role()
        .role_name(format!("{stack}-role"))
        .assume_role_policy_document(TRUST)
        .send()
        .await
        .unwrap()
        .role
        .unwrap()
        .arn
}

/// Creates `name` with `role`, placeholder code (moto stores it without running it) and
/// `tags`.
pub(crate) async fn create_function(
    lambda: &aws_sdk_lambda::Client,
    name: &str,
    role: &str,
    tags: &[(&str, &str)],
) {
    let mut create = lambda
        .create_function()
        .function_name(name)
        .runtime(Runtime::Providedal2023)
        .role(role)
        .handler("bootstrap")
        .code(
            FunctionCode::builder()
                .zip_file(Blob::new(b"placeholder code".to_vec()))
                .build(),
        );
    for (key, value) in tags {
        create = create.tags(*key, *value);
    }
    create.send().await.unwrap();
}

/// Runs `feedback-ops COMMAND ARGS…` with test credentials and a region; answers its
/// exit status, stdout and stderr.
#[allow(dead_code)] // not every test binary that shares this module runs the CLI
pub(crate) fn feedback_ops(command: &str, args: &[&str]) -> (i32, String, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_feedback-ops"))
        .arg(command)
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "eu-west-1")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}
