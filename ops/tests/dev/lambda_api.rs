//! The local stack's Lambda API, driven by real AWS SDK clients (Rust and boto3)
//! pointed at the stack's URL, as a deployer's tools drive AWS: versions, the `live`
//! alias and its weights, qualified invocations, and AWS's errors.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::{AliasRoutingConfiguration, Environment};
use serde_json::Value;

use super::{Stack, wait_for};

fn client(stack: &Stack) -> aws_sdk_lambda::Client {
    let config = aws_sdk_lambda::Config::builder()
        .behavior_version(aws_sdk_lambda::config::BehaviorVersion::latest())
        .region(aws_sdk_lambda::config::Region::new("eu-west-1"))
        .endpoint_url(&stack.url)
        .credentials_provider(aws_sdk_lambda::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .build();
    aws_sdk_lambda::Client::from_conf(config)
}

fn error_code<E, R>(result: Result<R, aws_sdk_lambda::error::SdkError<E>>) -> String
where
    E: aws_sdk_lambda::error::ProvideErrorMetadata + std::fmt::Debug,
    R: std::fmt::Debug,
{
    match result {
        Ok(answer) => panic!("expected an error, got {answer:?}"),
        Err(error) => error
            .as_service_error()
            .and_then(|e| e.code().map(str::to_owned))
            .unwrap_or_else(|| panic!("not a service error: {error:?}")),
    }
}

/// The versions `ListVersionsByFunction` answers, in its order.
async fn version_numbers(lambda: &aws_sdk_lambda::Client, name: &str) -> Vec<String> {
    lambda
        .list_versions_by_function()
        .function_name(name)
        .send()
        .await
        .unwrap()
        .versions()
        .iter()
        .filter_map(|v| v.version().map(str::to_owned))
        .collect()
}

/// The status function's event, for invoking it directly.
fn status_event() -> Vec<u8> {
    std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../events/status/get-status.json"
    ))
    .unwrap()
}

#[test]
#[allow(clippy::too_many_lines)] // one story, step by step: deploy, shift, invoke, retire
fn the_rust_sdk_publishes_shifts_the_alias_invokes_versions_and_gets_awss_errors() {
    let stack = Stack::start(&[]);
    let name = stack.function("status")["function_name"]
        .as_str()
        .unwrap()
        .to_owned();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let lambda = client(&stack);
    runtime.block_on(async {
        // The stack starts as a first deploy leaves it: version 1, `live` on it.
        let listed = lambda.list_functions().send().await.unwrap();
        let mut names: Vec<&str> = listed
            .functions()
            .iter()
            .filter_map(|f| f.function_name())
            .collect();
        names.sort_unstable();
        assert_eq!(names.len(), 4, "{names:?}");
        assert!(names.contains(&name.as_str()));
        let live = lambda
            .get_alias()
            .function_name(&name)
            .name("live")
            .send()
            .await
            .unwrap();
        assert_eq!(live.function_version(), Some("1"));
        let one = lambda
            .get_function_configuration()
            .function_name(&name)
            .qualifier("1")
            .send()
            .await
            .unwrap();
        let latest = lambda
            .get_function()
            .function_name(&name)
            .send()
            .await
            .unwrap();
        let latest = latest.configuration().unwrap();
        assert_eq!(latest.version(), Some("$LATEST"));
        assert_eq!(latest.code_sha256(), one.code_sha256());
        assert_eq!(one.code_sha256().unwrap().len(), 44, "base64 of a SHA-256");

        // Nothing changed: publishing answers version 1 again.
        let again = lambda
            .publish_version()
            .function_name(&name)
            .send()
            .await
            .unwrap();
        assert_eq!(again.version(), Some("1"));

        // A configuration change, published: version 2, the same code.
        let mut variables: BTreeMap<String, String> = one
            .environment()
            .and_then(|e| e.variables())
            .map(|v| v.clone().into_iter().collect())
            .unwrap();
        variables.insert("RELEASE_MARK".into(), "two".into());
        lambda
            .update_function_configuration()
            .function_name(&name)
            .environment(
                Environment::builder()
                    .set_variables(Some(variables.into_iter().collect()))
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let two = lambda
            .publish_version()
            .function_name(&name)
            .description("release mark")
            .send()
            .await
            .unwrap();
        assert_eq!(two.version(), Some("2"));
        assert_eq!(two.code_sha256(), one.code_sha256());
        assert_eq!(
            two.environment().unwrap().variables().unwrap()["RELEASE_MARK"],
            "two"
        );
        let numbers = version_numbers(&lambda, &name).await;
        assert_eq!(numbers, ["$LATEST", "1", "2"]);

        // Half of `live` on version 2: invocations through the alias run both.
        let shifted = lambda
            .update_alias()
            .function_name(&name)
            .name("live")
            .routing_config(
                AliasRoutingConfiguration::builder()
                    .additional_version_weights("2", 0.5)
                    .build(),
            )
            .send()
            .await
            .unwrap();
        let weight = shifted
            .routing_config()
            .unwrap()
            .additional_version_weights()
            .unwrap()["2"];
        assert!((weight - 0.5).abs() < f64::EPSILON, "{weight}");
        let mut executed = std::collections::BTreeSet::new();
        for _ in 0..24 {
            let answer = lambda
                .invoke()
                .function_name(&name)
                .qualifier("live")
                .payload(Blob::new(status_event()))
                .send()
                .await
                .unwrap();
            assert_eq!(answer.function_error(), None);
            let payload: Value =
                serde_json::from_slice(answer.payload().unwrap().as_ref()).unwrap();
            assert_eq!(payload["statusCode"], 200, "{payload}");
            executed.insert(answer.executed_version().unwrap().to_owned());
        }
        assert_eq!(executed, ["1".to_owned(), "2".to_owned()].into());

        // A qualified invocation runs that version; a function error says so.
        let on_two = lambda
            .invoke()
            .function_name(&name)
            .qualifier("2")
            .payload(Blob::new(status_event()))
            .send()
            .await
            .unwrap();
        assert_eq!(on_two.executed_version(), Some("2"));
        let failed = lambda
            .invoke()
            .function_name(&name)
            .qualifier("2")
            .payload(Blob::new(br#"{"not": "an API Gateway event"}"#.to_vec()))
            .send()
            .await
            .unwrap();
        assert_eq!(failed.function_error(), Some("Unhandled"));

        // AWS's errors.
        assert_eq!(
            error_code(
                lambda
                    .delete_function()
                    .function_name(&name)
                    .qualifier("2")
                    .send()
                    .await
            ),
            "ResourceConflictException"
        );
        assert_eq!(
            error_code(
                lambda
                    .get_alias()
                    .function_name(&name)
                    .name("nope")
                    .send()
                    .await
            ),
            "ResourceNotFoundException"
        );
        assert_eq!(
            error_code(
                lambda
                    .get_function()
                    .function_name("no-such-function")
                    .send()
                    .await
            ),
            "ResourceNotFoundException"
        );
        assert_eq!(
            error_code(
                lambda
                    .invoke()
                    .function_name(&name)
                    .qualifier("9")
                    .send()
                    .await
            ),
            "ResourceNotFoundException"
        );
        assert_eq!(
            error_code(
                lambda
                    .update_alias()
                    .function_name(&name)
                    .name("live")
                    .function_version("9")
                    .send()
                    .await
            ),
            "ResourceNotFoundException"
        );
        assert_eq!(
            error_code(
                lambda
                    .invoke()
                    .function_name(&name)
                    .payload(Blob::new(b"not json".to_vec()))
                    .send()
                    .await
            ),
            "InvalidRequestContentException"
        );

        // All of `live` on 2: version 1 can go, and its number is not reused.
        lambda
            .update_alias()
            .function_name(&name)
            .name("live")
            .function_version("2")
            .routing_config(AliasRoutingConfiguration::builder().build())
            .send()
            .await
            .unwrap();
        lambda
            .delete_function()
            .function_name(&name)
            .qualifier("1")
            .send()
            .await
            .unwrap();
        let numbers = version_numbers(&lambda, &name).await;
        assert_eq!(numbers, ["$LATEST", "2"]);

        let arn = latest.function_arn().unwrap();
        let tags = lambda.list_tags().resource(arn).send().await.unwrap();
        let tags = tags.tags().unwrap();
        assert_eq!(tags["Upstream"], "API:feedback-api");
        assert!(tags["aws:cloudformation:stack-name"].starts_with("e2e-"));
    });

    // The version that ran is in the logs, the REPORT lines and the environments.
    let streams = wait_for("version 2's log stream", Duration::from_secs(10), || {
        let logs = stack.logs("function=status");
        let streams: Vec<String> = logs
            .iter()
            .filter(|e| {
                e["version"] == "2" && e["message"].as_str().unwrap_or("").starts_with("REPORT")
            })
            .map(|e| e["log_stream"].as_str().unwrap().to_owned())
            .collect();
        (!streams.is_empty()).then_some(streams)
    });
    assert!(streams.iter().all(|s| s.contains("/[2]")), "{streams:?}");
    let environments = stack.function("status")["environments"].clone();
    assert!(
        environments
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["version"] != "1"),
        "version 1's environments stop when it is deleted: {environments}"
    );
}

#[test]
fn api_gateway_routes_through_the_alias_weights_and_boto3_drives_the_same_api() {
    let stack = Stack::start(&[]);
    let name = stack.function("status")["function_name"]
        .as_str()
        .unwrap()
        .to_owned();
    let python = concat!(env!("CARGO_MANIFEST_DIR"), "/../.venv/bin/python");
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/dev/lambda_api_boto3.py");
    let output = std::process::Command::new(python)
        .args([script, &stack.url, &name])
        .output()
        .expect("run the boto3 client (make test installs it in .venv)");
    assert!(
        output.status.success(),
        "boto3 against the Lambda API:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    // The script left `live` on 1 with 50 % on 2: requests through API Gateway run
    // both versions, and the REPORT lines say which.
    for _ in 0..24 {
        stack.get("/status");
    }
    let versions = wait_for(
        "REPORT lines of both versions",
        Duration::from_secs(10),
        || {
            let versions: std::collections::BTreeSet<String> = stack
                .logs("function=status")
                .iter()
                .filter(|e| e["message"].as_str().unwrap_or("").starts_with("REPORT"))
                .map(|e| e["version"].as_str().unwrap().to_owned())
                .collect();
            (versions.len() == 2).then_some(versions)
        },
    );
    assert_eq!(versions, ["1".to_owned(), "2".to_owned()].into());
    let weights = &stack.function("status")["aliases"][0]["weights"];
    assert_eq!(weights["1"], 0.5, "{weights}");
    assert_eq!(weights["2"], 0.5, "{weights}");
}
