//! `feedback-ops deps --from-stack` against moto, with the stack's functions created,
//! versioned, aliased and tagged there as CloudFormation would.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::Path;
use std::process::Command;

use aws_sdk_lambda::primitives::Blob;
use feedback_tests::{moto, sdk_config};
use local_cloud::cloudformation::{Template, talk_name};

/// Creates the template's functions in moto under stack `stack`, with the template's
/// tags; `add-comments` gets two versions and `live` on the second.
async fn deploy(stack: &str) -> aws_sdk_lambda::Client {
    let config = sdk_config(&moto().endpoint).await;
    let lambda = aws_sdk_lambda::Client::new(&config);
    let role = common::role(stack).await;
    let template =
        Template::load(&Path::new(env!("CARGO_MANIFEST_DIR")).join("../template.yaml")).unwrap();
    for (id, resource) in template.resources() {
        if resource["Type"] != "AWS::Serverless::Function" {
            continue;
        }
        let function_name = format!("{stack}-{id}-x1y2");
        let tags = &resource["Properties"]["Tags"];
        common::create_function(
            &lambda,
            &function_name,
            &role,
            &[
                ("aws:cloudformation:stack-name", stack),
                ("aws:cloudformation:logical-id", id),
                ("Upstream", tags["Upstream"].as_str().unwrap()),
                ("Downstream", tags["Downstream"].as_str().unwrap()),
            ],
        )
        .await;
        // add-comments has two versions, so its live alias must resolve to the second.
        let versions = if talk_name(id) == "add-comments" {
            2
        } else {
            1
        };
        let mut version = String::new();
        for n in 0..versions {
            if n > 0 {
                let code = Blob::new(zip());
                lambda
                    .update_function_code()
                    .function_name(&function_name)
                    .zip_file(code)
                    .send()
                    .await
                    .unwrap();
            }
            let published = lambda
                .publish_version()
                .function_name(&function_name)
                .send()
                .await
                .unwrap();
            version = published.version.unwrap();
        }
        lambda
            .create_alias()
            .function_name(&function_name)
            .name("live")
            .function_version(version)
            .send()
            .await
            .unwrap();
    }
    lambda
}

/// The functions' code: moto stores it without unpacking or running it.
fn zip() -> Vec<u8> {
    b"placeholder code".to_vec()
}

fn from_stack(stack: &str) -> (i32, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_feedback-ops"))
        .current_dir(Path::new(env!("CARGO_MANIFEST_DIR")).join(".."))
        .args([
            "deps",
            "--json",
            "--from-stack",
            stack,
            "--endpoint",
            &moto().endpoint,
            "--region",
            "eu-west-1",
        ])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    )
}

#[tokio::test]
async fn live_mode_resolves_each_live_alias_and_matches_the_template() {
    deploy("live-ok").await;
    let (code, out, err) = from_stack("live-ok");
    assert_eq!(code, 0, "{out}{err}");
    let report: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["functions"]["add-comments"]["live_version"], "2");
    assert_eq!(report["functions"]["push-to-db"]["live_version"], "1");
    assert_eq!(report["functions"].as_object().unwrap().len(), 5);
    assert_eq!(report["mismatches"], serde_json::json!([]));
}

#[tokio::test]
async fn live_mode_reports_a_deployed_tag_that_differs_from_the_template() {
    let lambda = deploy("live-drift").await;
    let arn = lambda
        .get_function()
        .function_name("live-drift-StatusFunction-x1y2")
        .send()
        .await
        .unwrap()
        .configuration
        .unwrap()
        .function_arn
        .unwrap();
    lambda
        .tag_resource()
        .resource(arn)
        .tags("Downstream", "DDB:comments-table")
        .send()
        .await
        .unwrap();
    let (code, out, _) = from_stack("live-drift");
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("status: deployed Downstream"), "{out}");
}

#[tokio::test]
async fn an_unknown_stack_is_a_clear_error() {
    let (code, _, err) = from_stack("no-such-stack");
    assert_eq!(code, 2);
    assert!(
        err.contains("aws:cloudformation:stack-name = no-such-stack"),
        "{err}"
    );
}
