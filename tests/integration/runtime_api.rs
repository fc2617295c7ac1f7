//! The function binaries are standard Lambda custom-runtime binaries: each runs under a
//! Runtime API with the sample events and answers as its handler does in-process.

use feedback_tests::{Answer, FUNCTIONS, FunctionProcess, TestApp, json_body, moto};
use serde_json::Value;

use crate::events::{EVENTS, Expect, read};

async fn start(function: &str, app: &TestApp) -> FunctionProcess {
    app.start_function(function, &[]).await
}

#[tokio::test]
async fn every_function_binary_answers_its_sample_events_through_the_runtime_api() {
    let app = TestApp::spawn().await;
    let mut processes = std::collections::HashMap::new();
    for function in FUNCTIONS {
        processes.insert(function, start(function, &app).await);
    }
    // In the table's order, as the in-process test runs them: which comment is stored
    // when the status events run depends on it.
    for (name, expect) in EVENTS {
        let function = name.split('/').next().unwrap();
        let process = &processes[function];
        let event: Value = serde_json::from_str(&read(name)).unwrap();
        let (_, answer) = process.invoke(event).await;
        let Answer::Response(response) = answer else {
            panic!("{name}: the function reported an error: {answer:?}");
        };
        match expect {
            Expect::Http(status) => {
                assert_eq!(
                    response["statusCode"],
                    status.as_u16(),
                    "{name}: {response}"
                );
                // Every answer, errors included, is readable by the page's origin.
                let headers = &response["multiValueHeaders"];
                assert_eq!(headers["access-control-allow-origin"][0], "*", "{name}");
                assert!(
                    headers["access-control-expose-headers"][0]
                        .as_str()
                        .is_some_and(|h| h.contains("Location")),
                    "{name}: {response}"
                );
            }
            Expect::BatchFailures(failed) => {
                let reported: Vec<&str> = response["batchItemFailures"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|f| f["itemIdentifier"].as_str().unwrap())
                    .collect();
                assert_eq!(reported, *failed, "{name}");
            }
        }
    }
}

#[tokio::test]
async fn log_lines_of_a_real_invocation_carry_the_talks_fields_and_no_user_content() {
    let app = TestApp::spawn().await;
    let process = start("add-comments", &app).await;
    let event: Value = serde_json::from_str(&read("add-comments/post-comment.json")).unwrap();

    let (first_id, _) = process.invoke(event.clone()).await;
    let (second_id, _) = process.invoke(event).await;

    let accepted = |request_id: String| {
        move |line: &Value| {
            line["message"] == "comment accepted"
                && line["lambda_request_id"] == request_id.as_str()
        }
    };
    let first = process.wait_for_log(accepted(first_id.clone())).await;
    let second = process.wait_for_log(accepted(second_id)).await;

    let timestamp = first["timestamp"].as_str().unwrap();
    assert!(
        time::OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339)
            .is_ok()
    );
    assert_eq!(first["level"], "INFO");
    assert_eq!(first["service"], "add-comments");
    assert_eq!(first["lambda_function_arn"], process.invoked_arn());
    assert_eq!(
        first["correlation_id"], "demo-7f3a2c",
        "from the event's X-Correlation-Id"
    );
    assert_eq!(first["lambda_request_id"], first_id.as_str());
    assert_eq!(first["key_activity"], "enqueue");
    assert_eq!(first["function_version"], "1");
    let trace_id = first["xray_trace_id"].as_str().unwrap();
    assert!(
        trace_id.starts_with("1-") && !trace_id.contains(';'),
        "the trace id alone, as Powertools logs it: {trace_id}"
    );
    assert!(first["comment_id"].is_string());
    assert_eq!(first["cold_start"], true);
    assert_eq!(second["cold_start"], false);

    // The posted text and author never reach the logs at INFO or above.
    for line in process.stdout() {
        assert!(
            !line.contains("Great talk") && !line.contains("Ada"),
            "user content logged: {line}"
        );
    }
}

#[tokio::test]
async fn a_function_without_its_configuration_stops_and_names_the_missing_variable() {
    let cases: [(&[(&str, &str)], &str); 4] = [
        (&[], "METRICS_NAMESPACE"),
        (&[("METRICS_NAMESPACE", "OnlineFeedback")], "TABLE_NAME"),
        (
            &[("METRICS_NAMESPACE", "OnlineFeedback"), ("TABLE_NAME", "t")],
            "QUEUE_URL",
        ),
        (
            &[
                ("METRICS_NAMESPACE", "OnlineFeedback"),
                ("TABLE_NAME", "t"),
                ("QUEUE_URL", "http://q"),
            ],
            "DLQ_URL",
        ),
    ];
    for (env, missing) in cases {
        let process = FunctionProcess::start("push-to-db", &moto().endpoint, env).await;
        let (status, stderr) = process.exit().await;
        assert!(!status.success());
        assert!(stderr.contains(missing), "{missing}: {stderr}");
    }
}

#[tokio::test]
async fn the_pre_traffic_hooks_smoke_tests_pass_against_the_real_functions() {
    let app = TestApp::spawn().await;
    for test in pre_traffic_hook::SMOKE_TESTS {
        let process = start(test.function, &app).await;
        let (_, answer) = process.invoke(test.request()).await;
        let Answer::Response(response) = answer else {
            panic!(
                "{}: the function reported an error: {answer:?}",
                test.function
            );
        };
        test.check(&response)
            .unwrap_or_else(|why| panic!("{}: {why}", test.function));
    }
    // The smoke-test comments reached the table (push-to-db's) and the queue
    // (add-comments', marked), but nobody sees them: not listed, and they expire.
    assert_eq!(
        pre_traffic_hook::SMOKE_TEST_STAGE,
        feedback::SMOKE_TEST_STAGE
    );
    let queued = app.receive(0).await;
    assert_eq!(queued.records.len(), 1);
    let message: Value = serde_json::from_str(queued.records[0].body.as_deref().unwrap()).unwrap();
    assert_eq!(message["smoke_test"], true, "{message}");
    let stored = app.stored_comments().await;
    assert_eq!(stored.len(), 1, "push-to-db's smoke-test comment is stored");
    assert!(
        stored.iter().all(|item| item.contains_key("expires_at")
            && !item.contains_key("feed")
            && item["smoke_test"] == aws_sdk_dynamodb::types::AttributeValue::Bool(true)),
        "{stored:?}"
    );
    let listed = json_body(&app.list(&[]).await);
    assert_eq!(
        listed["items"],
        serde_json::json!([]),
        "a smoke test is never listed"
    );
    assert_eq!(
        app.depth(&app.dlq_url).await,
        0,
        "the smoke test's poison record is not from the queue: never dead-lettered"
    );
}
