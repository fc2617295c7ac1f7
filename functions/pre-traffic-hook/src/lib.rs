//! # pre-traffic-hook
//!
//! CodeDeploy runs this before it moves any traffic to a new version of a function
//! (`DeploymentPreference.Hooks.PreTraffic` in `template.yaml`). It invokes the new
//! version of each function directly with a request that changes nothing, checks the
//! answer, and reports `Succeeded` or `Failed`. A failure stops the deployment and
//! leaves the `live` alias where it was.
//!
//! Each request exercises the new version's real dependencies and changes nothing a
//! user sees: the smoke-test comments travel through the real queue and are stored in
//! the real table, but outside the list's index, and expire within the hour. Only a
//! direct invocation can mark a comment so: the API stage it names (`smoke-test`) is
//! one API Gateway never passes on.
//!
//! | function | smoke request | passes when |
//! |---|---|---|
//! | `add-comments` | `POST /comments` with a smoke-test comment | `202`: validated, its idempotency table and its queue answer |
//! | `get-all-comments` | `GET /comments?limit=1` | `200`: its table answers |
//! | `status` | `GET /status` | `200` (`ok` or `degraded`): its dependencies answer |
//! | `push-to-db` | a batch of a smoke-test comment and a poison record | exactly the poison record is reported failed: the comment was written |
//!
//! One hook serves all four functions: each deployment runs every check, which costs
//! four small invocations and catches a new version that breaks another's contract.
//!
//! The push-to-db batch names no queue (`eventSourceARN`): push-to-db dead-letters only
//! its own queue's poison, so it reports this one to the hook instead of putting it in
//! the real dead-letter queue, where it would raise the alarm on every deployment.

use std::collections::HashMap;

use aws_lambda_events::apigw::{ApiGatewayProxyRequest, ApiGatewayProxyRequestContext};
use aws_lambda_events::http::{HeaderMap, HeaderValue, Method};
use aws_lambda_events::query_map::QueryMap;
use aws_lambda_events::sqs::{SqsEvent, SqsMessage};
use aws_sdk_codedeploy::types::LifecycleEventStatus;
use aws_sdk_lambda::primitives::Blob;
use serde::Deserialize;
use serde_json::{Value, json};

/// The service name on every log line.
pub const SERVICE: &str = "pre-traffic-hook";

/// The event CodeDeploy sends a lifecycle hook.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HookEvent {
    /// The deployment being checked.
    pub deployment_id: String,
    /// The id to report the result against.
    pub lifecycle_event_hook_execution_id: String,
}

/// One smoke test: which function (by the variable that holds its new version's ARN),
/// what to send, and what the answer must be.
#[derive(Debug, Clone, Copy)]
pub struct SmokeTest {
    /// The function's name, for the logs.
    pub function: &'static str,
    /// The environment variable holding the new version's ARN.
    pub version_variable: &'static str,
    request: fn() -> Value,
    check: fn(&Value) -> Result<(), String>,
}

/// The API stage the smoke requests name. It must be `feedback::SMOKE_TEST_STAGE`
/// (this crate does not link `feedback`; the integration tests check the two agree).
pub const SMOKE_TEST_STAGE: &str = "smoke-test";

/// The message id of the poison record `push-to-db` must report.
const POISON_MESSAGE_ID: &str = "pre-traffic-hook-poison-record";

/// The four smoke tests.
pub const SMOKE_TESTS: [SmokeTest; 4] = [
    SmokeTest {
        function: "add-comments",
        version_variable: "ADD_COMMENTS_VERSION",
        request: || {
            api_request(
                Method::POST,
                "/comments",
                &[],
                Some(r#"{"text": "pre-traffic-hook smoke test: never listed"}"#),
            )
        },
        check: |answer| expect_status(answer, 202),
    },
    SmokeTest {
        function: "get-all-comments",
        version_variable: "GET_ALL_COMMENTS_VERSION",
        request: || api_request(Method::GET, "/comments", &[("limit", "1")], None),
        check: |answer| expect_status(answer, 200),
    },
    SmokeTest {
        function: "status",
        version_variable: "STATUS_VERSION",
        request: || api_request(Method::GET, "/status", &[], None),
        check: |answer| expect_status(answer, 200),
    },
    SmokeTest {
        function: "push-to-db",
        version_variable: "PUSH_TO_DB_VERSION",
        request: poison_batch,
        check: |answer| {
            let expected = json!({"batchItemFailures": [{"itemIdentifier": POISON_MESSAGE_ID}]});
            if answer == &expected {
                Ok(())
            } else {
                Err(format!(
                    "expected the poison record to be reported, got {answer}"
                ))
            }
        },
    },
];

impl SmokeTest {
    /// The request this test sends.
    pub fn request(&self) -> Value {
        (self.request)()
    }

    /// Checks an answer.
    ///
    /// # Errors
    /// What was wrong with it.
    pub fn check(&self, answer: &Value) -> Result<(), String> {
        (self.check)(answer)
    }
}

/// A REST (v1) proxy event, as API Gateway would send it to the stage `smoke-test`,
/// built with the event type the functions' runtime reads.
fn api_request(method: Method, path: &str, query: &[(&str, &str)], body: Option<&str>) -> Value {
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert(
        "x-correlation-id",
        HeaderValue::from_static("pre-traffic-hook"),
    );
    let query: HashMap<String, Vec<String>> = query
        .iter()
        .map(|(name, value)| ((*name).to_owned(), vec![(*value).to_owned()]))
        .collect();
    let mut context = ApiGatewayProxyRequestContext::default();
    context.stage = Some(SMOKE_TEST_STAGE.to_owned());
    context.request_id = Some("pre-traffic-hook".to_owned());
    context.path = Some(format!("/smoke-test{path}"));
    context.resource_path = Some(path.to_owned());
    context.http_method = method.clone();
    let mut event = ApiGatewayProxyRequest::default();
    event.resource = Some(path.to_owned());
    event.path = Some(path.to_owned());
    event.http_method = method;
    event.multi_value_headers = headers.clone();
    event.headers = headers;
    event.query_string_parameters = QueryMap::from(query.clone());
    event.multi_value_query_string_parameters = QueryMap::from(query);
    event.request_context = context;
    event.body = body.map(str::to_owned);
    serde_json::to_value(event).unwrap_or_default()
}

/// An SQS batch of a smoke-test comment and a record that is not a comment: a healthy
/// push-to-db stores the first (outside the list) and reports only the second.
fn poison_batch() -> Value {
    let record = |id: &str, body: String| {
        let mut record = SqsMessage::default();
        record.message_id = Some(id.to_owned());
        record.receipt_handle = Some("none".to_owned());
        record.body = Some(body);
        record.attributes = [("ApproximateReceiveCount".to_owned(), "1".to_owned())].into();
        record.event_source = Some("aws:sqs".to_owned());
        record
    };
    let now = time::OffsetDateTime::now_utc();
    let smoke = json!({
        "id": uuid::Uuid::now_v7().to_string(),
        "text": "pre-traffic-hook smoke test: never listed",
        "created_at": now.format(&time::format_description::well_known::Rfc3339).unwrap_or_default(),
        "correlation_id": "pre-traffic-hook",
        "smoke_test": true,
    });
    let mut event = SqsEvent::default();
    event.records = vec![
        record("pre-traffic-hook-smoke-comment", smoke.to_string()),
        record(
            POISON_MESSAGE_ID,
            r#"{"smoke-test": "not a comment: must be reported, never stored"}"#.to_owned(),
        ),
    ];
    serde_json::to_value(event).unwrap_or_default()
}

fn expect_status(answer: &Value, status: u64) -> Result<(), String> {
    match answer.get("statusCode").and_then(Value::as_u64) {
        Some(got) if got == status => Ok(()),
        Some(got) => Err(format!(
            "expected HTTP {status}, got {got}: {}",
            answer["body"]
        )),
        None => Err(format!("not an API Gateway response: {answer}")),
    }
}

/// The new versions' ARNs, read once at init.
#[derive(Debug, Clone)]
pub struct Targets(Vec<(SmokeTest, String)>);

impl Targets {
    /// Reads every test's version variable.
    ///
    /// # Errors
    /// [`ops_kit::ConfigError`] naming the first missing variable.
    pub fn from_env() -> Result<Self, ops_kit::ConfigError> {
        SMOKE_TESTS
            .iter()
            .map(|test| Ok((*test, ops_kit::required_env(test.version_variable)?)))
            .collect::<Result<_, _>>()
            .map(Self)
    }

    /// Targets given directly, for tests.
    pub fn new(targets: Vec<(SmokeTest, String)>) -> Self {
        Self(targets)
    }
}

/// Runs every smoke test and reports the result to CodeDeploy. Returns the status it
/// reported.
///
/// # Errors
/// When the report itself fails: CodeDeploy then times the hook out and fails the
/// deployment, which is the safe side.
pub async fn handle(
    event: HookEvent,
    targets: &Targets,
    lambda: &aws_sdk_lambda::Client,
    codedeploy: &aws_sdk_codedeploy::Client,
) -> Result<LifecycleEventStatus, aws_sdk_codedeploy::Error> {
    let results = futures::future::join_all(
        targets
            .0
            .iter()
            .map(|(test, version)| run_one(lambda, test, version)),
    )
    .await;
    let failures: Vec<String> = results.into_iter().filter_map(Result::err).collect();
    let status = if failures.is_empty() {
        tracing::info!(deployment_id = %event.deployment_id, key_activity = "smoke-test", "every new version passed");
        LifecycleEventStatus::Succeeded
    } else {
        tracing::error!(
            deployment_id = %event.deployment_id,
            failures = ?failures,
            key_activity = "smoke-test",
            "a new version failed its smoke test; traffic will not move"
        );
        LifecycleEventStatus::Failed
    };
    codedeploy
        .put_lifecycle_event_hook_execution_status()
        .deployment_id(&event.deployment_id)
        .lifecycle_event_hook_execution_id(&event.lifecycle_event_hook_execution_id)
        .status(status.clone())
        .send()
        .await?;
    Ok(status)
}

async fn run_one(
    lambda: &aws_sdk_lambda::Client,
    test: &SmokeTest,
    version: &str,
) -> Result<(), String> {
    let payload = serde_json::to_vec(&test.request()).unwrap_or_default();
    let output = lambda
        .invoke()
        .function_name(version)
        .payload(Blob::new(payload))
        .send()
        .await
        .map_err(|e| format!("{}: could not invoke {version}: {e}", test.function))?;
    if let Some(error) = output.function_error() {
        return Err(format!(
            "{}: the invocation failed ({error})",
            test.function
        ));
    }
    let answer: Value = output
        .payload()
        .and_then(|p| serde_json::from_slice(p.as_ref()).ok())
        .unwrap_or(Value::Null);
    test.check(&answer)
        .map_err(|problem| format!("{}: {problem}", test.function))?;
    tracing::info!(
        function = test.function,
        version,
        key_activity = "smoke-test",
        "new version passed"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use aws_sdk_codedeploy::operation::put_lifecycle_event_hook_execution_status::PutLifecycleEventHookExecutionStatusOutput;
    use aws_sdk_lambda::operation::invoke::InvokeOutput;
    use aws_smithy_mocks::{RuleMode, mock, mock_client};

    use super::*;

    fn targets() -> Targets {
        Targets::new(
            SMOKE_TESTS
                .iter()
                .map(|t| {
                    (
                        *t,
                        format!("arn:aws:lambda:eu-west-1:1:function:{}:7", t.function),
                    )
                })
                .collect(),
        )
    }

    fn event() -> HookEvent {
        serde_json::from_value(
            json!({"DeploymentId": "d-1", "LifecycleEventHookExecutionId": "h-1"}),
        )
        .unwrap()
    }

    /// The answer a healthy new version of `function` gives its smoke request.
    fn healthy(function: &str) -> Value {
        match function {
            "add-comments" => json!({"statusCode": 202, "body": "{}"}),
            "push-to-db" => json!({"batchItemFailures": [{"itemIdentifier": POISON_MESSAGE_ID}]}),
            _ => json!({"statusCode": 200, "body": "{}"}),
        }
    }

    fn answers(broken: Option<&(&'static str, Value)>) -> aws_sdk_lambda::Client {
        let rules: Vec<_> = SMOKE_TESTS
            .iter()
            .map(|test| {
                let function = test.function;
                let answer = match broken {
                    Some((name, answer)) if *name == function => answer.clone(),
                    _ => healthy(function),
                };
                mock!(aws_sdk_lambda::Client::invoke)
                    .match_requests(move |r| {
                        r.function_name().is_some_and(|n| n.contains(function))
                    })
                    .then_output(move || {
                        InvokeOutput::builder()
                            .status_code(200)
                            .payload(Blob::new(serde_json::to_vec(&answer).unwrap()))
                            .build()
                    })
            })
            .collect();
        mock_client!(aws_sdk_lambda, RuleMode::MatchAny, rules.iter())
    }

    async fn reported(lambda: &aws_sdk_lambda::Client) -> LifecycleEventStatus {
        let report = mock!(aws_sdk_codedeploy::Client::put_lifecycle_event_hook_execution_status)
            .match_requests(|r| {
                r.deployment_id() == Some("d-1")
                    && r.lifecycle_event_hook_execution_id() == Some("h-1")
            })
            .then_output(|| PutLifecycleEventHookExecutionStatusOutput::builder().build());
        let codedeploy = mock_client!(aws_sdk_codedeploy, [&report]);
        let status = handle(event(), &targets(), lambda, &codedeploy)
            .await
            .unwrap();
        assert_eq!(report.num_calls(), 1, "the result is reported exactly once");
        status
    }

    #[tokio::test]
    async fn healthy_new_versions_are_reported_as_succeeded() {
        assert_eq!(
            reported(&answers(None)).await,
            LifecycleEventStatus::Succeeded
        );
    }

    #[tokio::test]
    async fn a_wrong_answer_from_any_function_fails_the_deployment() {
        for broken in [
            ("add-comments", json!({"statusCode": 503})),
            ("get-all-comments", json!({"statusCode": 500})),
            ("status", json!({"statusCode": 503})),
            ("push-to-db", json!({"batchItemFailures": []})),
            ("status", json!("not an API response")),
        ] {
            let name = broken.0;
            assert_eq!(
                reported(&answers(Some(&broken))).await,
                LifecycleEventStatus::Failed,
                "{name}"
            );
        }
    }

    #[tokio::test]
    async fn a_crashed_invocation_fails_the_deployment() {
        let crashed = mock!(aws_sdk_lambda::Client::invoke).then_output(|| {
            InvokeOutput::builder()
                .status_code(200)
                .function_error("Unhandled")
                .payload(Blob::new(br#"{"errorType":"Runtime.ExitError"}"#.to_vec()))
                .build()
        });
        let lambda = mock_client!(aws_sdk_lambda, RuleMode::MatchAny, [&crashed]);
        assert_eq!(reported(&lambda).await, LifecycleEventStatus::Failed);
    }

    #[test]
    fn the_smoke_requests_are_marked_so_that_nothing_they_store_is_ever_listed() {
        let add = SMOKE_TESTS[0].request();
        assert_eq!(add["requestContext"]["stage"], SMOKE_TEST_STAGE);
        let comment: Value = serde_json::from_str(add["body"].as_str().unwrap()).unwrap();
        assert!(comment["text"].as_str().unwrap().contains("smoke test"));
        let push = SMOKE_TESTS[3].request();
        let records = push["Records"].as_array().unwrap();
        let smoke: Value = serde_json::from_str(records[0]["body"].as_str().unwrap()).unwrap();
        assert_eq!(
            smoke["smoke_test"], true,
            "stored outside the list, and expires"
        );
        let poison: Value = serde_json::from_str(records[1]["body"].as_str().unwrap()).unwrap();
        assert!(poison.get("id").is_none(), "not a comment, so never stored");
    }
}
