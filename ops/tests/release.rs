//! `feedback-ops release prune` and `release rollback` against moto's Lambda API, with
//! functions created, versioned, aliased (a canary's additional version included) and
//! tagged there as CloudFormation and CodeDeploy leave them.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use aws_sdk_lambda::primitives::Blob;
use aws_sdk_lambda::types::AliasRoutingConfiguration;
use feedback_tests::{moto, sdk_config};
use serde_json::Value;

/// A function of stack `stack` with versions 1 to `versions` published and `live` on
/// `live`, with `canary` (a version and its weight) as its additional version.
async fn function(
    lambda: &aws_sdk_lambda::Client,
    stack: &str,
    versions: u32,
    live: &str,
    canary: Option<(&str, f64)>,
) -> String {
    let name = format!("{stack}-StatusFunction");
    let role = common::role(stack).await;
    common::create_function(
        lambda,
        &name,
        &role,
        &[
            ("aws:cloudformation:stack-name", stack),
            ("aws:cloudformation:logical-id", "StatusFunction"),
        ],
    )
    .await;
    for n in 1..=versions {
        lambda
            .update_function_code()
            .function_name(&name)
            .zip_file(Blob::new(format!("build {n}").into_bytes()))
            .send()
            .await
            .unwrap();
        let published = lambda
            .publish_version()
            .function_name(&name)
            .send()
            .await
            .unwrap();
        assert_eq!(published.version(), Some(n.to_string().as_str()));
    }
    let mut alias = lambda
        .create_alias()
        .function_name(&name)
        .name("live")
        .function_version(live);
    if let Some((version, weight)) = canary {
        alias = alias.routing_config(
            AliasRoutingConfiguration::builder()
                .additional_version_weights(version, weight)
                .build(),
        );
    }
    alias.send().await.unwrap();
    name
}

async fn remaining(lambda: &aws_sdk_lambda::Client, name: &str) -> Vec<String> {
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

fn release(args: &[&str]) -> (i32, String, String) {
    common::feedback_ops("release", args)
}

fn unique_stack() -> String {
    format!("prune-{}", &uuid::Uuid::new_v4().simple().to_string()[..10])
}

#[tokio::test]
async fn prune_keeps_the_canary_the_rollback_targets_and_the_newest_and_only_in_its_stack() {
    let lambda = aws_sdk_lambda::Client::new(&sdk_config(&moto().endpoint).await);
    let (stack, other_stack) = (unique_stack(), unique_stack());
    let name = function(&lambda, &stack, 9, "6", Some(("7", 0.1))).await;
    let other = function(&lambda, &other_stack, 9, "9", None).await;
    let endpoint = moto().endpoint.clone();

    // The plan first: nothing deleted.
    let (code, out, err) = release(&[
        "prune",
        "--stack",
        &stack,
        "--dry-run",
        "--json",
        "--endpoint",
        &endpoint,
    ]);
    assert_eq!(code, 0, "{err}");
    let plan: Value = serde_json::from_str(&out).unwrap();
    let deleted: Vec<&str> = plan["functions"][0]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["keep"] == false)
        .map(|d| d["version"].as_str().unwrap())
        .collect();
    assert_eq!(deleted, ["1", "2", "8"], "{plan:#}");
    assert_eq!(
        remaining(&lambda, &name).await.len(),
        10,
        "a dry run deletes nothing"
    );

    let (code, out, err) = release(&["prune", "--stack", &stack, "--endpoint", &endpoint]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("deleted") && out.contains("routes part of its traffic"),
        "{out}"
    );
    assert_eq!(
        remaining(&lambda, &name).await,
        ["$LATEST", "3", "4", "5", "6", "7", "9"]
    );
    assert_eq!(
        remaining(&lambda, &other).await.len(),
        10,
        "another stack's functions are untouched"
    );

    // Idempotent.
    let (code, out, _) = release(&["prune", "--function", &name, "--endpoint", &endpoint]);
    assert_eq!(code, 0);
    assert!(!out.contains("deleted"), "{out}");

    // Rollback: live back one version, the canary weight gone; --to a retained
    // version; a deleted version refused.
    let (code, out, err) = release(&["rollback", &name, "--endpoint", &endpoint]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("live 6 → 5"), "{out}");
    let live = lambda
        .get_alias()
        .function_name(&name)
        .name("live")
        .send()
        .await
        .unwrap();
    assert_eq!(live.function_version(), Some("5"));
    assert!(
        live.routing_config()
            .and_then(|r| r.additional_version_weights())
            .is_none_or(std::collections::HashMap::is_empty)
    );
    let (code, _, _) = release(&["rollback", &name, "--to", "9", "--endpoint", &endpoint]);
    assert_eq!(code, 0);
    let (code, _, err) = release(&["rollback", &name, "--to", "2", "--endpoint", &endpoint]);
    assert_eq!(code, 2);
    assert!(err.contains("version 2 cannot be rolled back to"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
}

#[test]
fn an_unreachable_endpoint_or_an_unknown_stack_is_one_line_and_a_failure() {
    for args in [
        vec![
            "prune",
            "--function",
            "f",
            "--endpoint",
            "http://127.0.0.1:9",
        ],
        vec!["rollback", "f", "--endpoint", "http://127.0.0.1:9"],
    ] {
        let (code, _, err) = release(&args);
        assert_eq!(code, 2, "{args:?}: {err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        assert!(err.contains("f:"), "{err}");
    }
    let (code, _, err) = release(&[
        "prune",
        "--stack",
        "no-such-stack",
        "--endpoint",
        &moto().endpoint,
    ]);
    assert_eq!(code, 2);
    assert!(err.contains("no function carries the tag"), "{err}");
    let (code, _, _) = release(&["prune"]);
    assert_eq!(code, 2, "--stack or --function is required");

    let no_credentials = without_credentials(&["prune", "--function", "f"])
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&no_credentials.stderr);
    assert_eq!(no_credentials.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no AWS credentials") && err.trim().lines().count() == 1,
        "{err}"
    );

    // Outside EC2 an instance metadata service may still answer, with a refusal (a
    // proxy, a container runtime): the credential chain then fails with that
    // provider's error instead of "no credentials", and it must still be one line.
    let imds_refused = without_credentials(&["prune", "--stack", "s"])
        .env_remove("AWS_EC2_METADATA_DISABLED")
        .env("AWS_EC2_METADATA_SERVICE_ENDPOINT", refusing_server())
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&imds_refused.stderr);
    assert_eq!(imds_refused.status.code(), Some(2), "{err}");
    assert!(
        err.contains("no usable AWS credentials (")
            && err.contains("set AWS_PROFILE")
            && err.trim().lines().count() == 1
            && err.len() < 500,
        "{err}"
    );
}

/// `feedback-ops release ARGS… --region eu-west-1` with no credentials in the
/// environment or in profile files.
fn without_credentials(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_feedback-ops"));
    command
        .arg("release")
        .args(args)
        .args(["--region", "eu-west-1"])
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_PROFILE")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent");
    command
}

/// `http://127.0.0.1:PORT` of a server that answers every request `403 Forbidden`.
fn refusing_server() -> String {
    use std::io::{Read as _, Write as _};
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let address = listener.local_addr().unwrap();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut request = [0_u8; 4096];
            let _ = stream.read(&mut request);
            let _ = stream.write_all(
                b"HTTP/1.1 403 Forbidden\r\ncontent-length: 6\r\nconnection: close\r\n\r\ndenied",
            );
        }
    });
    format!("http://{address}")
}

/// A CodeDeploy deployment in progress, as CloudFormation starts one for a SAM
/// `DeploymentPreference`: its `AppSpec` names the function and both versions.
async fn deployment_in_progress(
    stack: &str,
    function: &str,
    current: &str,
    target: &str,
) -> String {
    use aws_sdk_codedeploy::types::{
        AppSpecContent, ComputePlatform, RevisionLocation, RevisionLocationType,
    };
    let codedeploy = aws_sdk_codedeploy::Client::new(&sdk_config(&moto().endpoint).await);
    let application = format!("{stack}-ServerlessDeploymentApplication");
    codedeploy
        .create_application()
        .application_name(&application)
        .compute_platform(ComputePlatform::Lambda)
        .send()
        .await
        .unwrap();
    codedeploy
        .create_deployment_group()
        .application_name(&application)
        .deployment_group_name("StatusFunctionDeploymentGroup")
        .service_role_arn(common::role(&format!("{stack}-codedeploy")).await)
        .send()
        .await
        .unwrap();
    let app_spec = serde_json::json!({
        "version": 0.0,
        "Resources": [{"StatusFunction": {"Type": "AWS::Lambda::Function", "Properties": {
            "Name": function, "Alias": "live", "CurrentVersion": current, "TargetVersion": target,
        }}}],
    });
    codedeploy
        .create_deployment()
        .application_name(&application)
        .deployment_group_name("StatusFunctionDeploymentGroup")
        .revision(
            RevisionLocation::builder()
                .revision_type(RevisionLocationType::AppSpecContent)
                .app_spec_content(
                    AppSpecContent::builder()
                        .content(app_spec.to_string())
                        .build(),
                )
                .build(),
        )
        .send()
        .await
        .unwrap()
        .deployment_id()
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn prune_keeps_both_versions_of_a_codedeploy_deployment_in_progress() {
    let lambda = aws_sdk_lambda::Client::new(&sdk_config(&moto().endpoint).await);
    let stack = unique_stack();
    let name = function(&lambda, &stack, 9, "6", Some(("7", 0.1))).await;
    // Its hook is still running: version 8 is neither aliased nor the newest.
    let id = deployment_in_progress(&stack, &name, "6", "8").await;

    let (code, out, err) = release(&[
        "prune",
        "--function",
        &name,
        "--json",
        "--endpoint",
        &moto().endpoint,
    ]);
    assert_eq!(code, 0, "{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let mine: Vec<&Value> = report["deployments_in_progress"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["id"] == id.as_str())
        .collect();
    assert_eq!(mine.len(), 1, "{report:#}");
    assert_eq!(mine[0]["target_version"], "8");
    let eight = report["functions"][0]["versions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["version"] == "8")
        .unwrap();
    assert_eq!(eight["keep"], true, "{report:#}");
    assert!(
        eight["why"]
            .as_str()
            .unwrap()
            .contains("deployment in progress"),
        "{eight}"
    );
    assert_eq!(
        remaining(&lambda, &name).await,
        ["$LATEST", "3", "4", "5", "6", "7", "8", "9"]
    );
}
