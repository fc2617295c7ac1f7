//! Every sample event in `events/` parses, round-trips, and gets the answer it
//! documents from its function, against moto.

use std::path::{Path, PathBuf};

use aws_lambda_events::event::apigw::ApiGatewayProxyRequest;
use aws_lambda_events::event::sqs::SqsEvent;
use feedback_tests::{TestApp, failed_ids, lambda_context};
use http::StatusCode;
use lambda_http::RequestExt as _;

/// Each event and what its function must answer: an HTTP status, or for SQS batches
/// the message ids reported as failed.
pub(crate) enum Expect {
    Http(StatusCode),
    BatchFailures(&'static [&'static str]),
}

pub(crate) const EVENTS: &[(&str, Expect)] = &[
    (
        "add-comments/post-comment.json",
        Expect::Http(StatusCode::ACCEPTED),
    ),
    (
        "add-comments/post-comment-anonymous.json",
        Expect::Http(StatusCode::ACCEPTED),
    ),
    (
        "add-comments/post-comment-idempotent.json",
        Expect::Http(StatusCode::ACCEPTED),
    ),
    (
        "add-comments/post-comment-bad-json.json",
        Expect::Http(StatusCode::BAD_REQUEST),
    ),
    (
        "add-comments/post-comment-invalid-fields.json",
        Expect::Http(StatusCode::BAD_REQUEST),
    ),
    (
        "add-comments/post-comment-invalid-utf8.json",
        Expect::Http(StatusCode::BAD_REQUEST),
    ),
    (
        "add-comments/post-comment-oversized.json",
        Expect::Http(StatusCode::PAYLOAD_TOO_LARGE),
    ),
    (
        "add-comments/post-comment-wrong-content-type.json",
        Expect::Http(StatusCode::UNSUPPORTED_MEDIA_TYPE),
    ),
    (
        "get-all-comments/get-comments.json",
        Expect::Http(StatusCode::OK),
    ),
    (
        "get-all-comments/get-comments-page.json",
        Expect::Http(StatusCode::OK),
    ),
    (
        "get-all-comments/get-comments-bad-cursor.json",
        Expect::Http(StatusCode::BAD_REQUEST),
    ),
    (
        "get-all-comments/get-comments-bad-limit.json",
        Expect::Http(StatusCode::BAD_REQUEST),
    ),
    ("status/get-status.json", Expect::Http(StatusCode::OK)),
    (
        "status/get-comment-status.json",
        Expect::Http(StatusCode::NOT_FOUND),
    ),
    (
        "status/get-comment-status-bad-id.json",
        Expect::Http(StatusCode::BAD_REQUEST),
    ),
    ("push-to-db/sqs-batch.json", Expect::BatchFailures(&[])),
    // The sample names a queue (`online-feedback-comments-queue`) that is not the one
    // push-to-db consumes here, as with any direct invocation: the poison record is
    // reported for its sender, not dead-lettered (the queue's own poison goes to the DLQ
    // at once; see queue_consumer.rs).
    (
        "push-to-db/sqs-batch-poison.json",
        Expect::BatchFailures(&["d9e3a1f0-0000-4000-8000-00000000beef"]),
    ),
];

fn events_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../events")
}

pub(crate) fn read(name: &str) -> String {
    std::fs::read_to_string(events_dir().join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_file_in_events_is_listed_here() {
    let mut on_disk = Vec::new();
    for function in std::fs::read_dir(events_dir()).unwrap() {
        let function = function.unwrap().path();
        for file in std::fs::read_dir(&function).unwrap() {
            let file = file.unwrap().path();
            let function = function.file_name().unwrap().to_string_lossy();
            on_disk.push(format!(
                "{function}/{}",
                file.file_name().unwrap().to_string_lossy()
            ));
        }
    }
    on_disk.sort();
    let mut listed: Vec<String> = EVENTS.iter().map(|(name, _)| (*name).to_owned()).collect();
    listed.sort();
    assert_eq!(on_disk, listed);
}

#[test]
fn every_event_parses_and_round_trips() {
    for (name, expect) in EVENTS {
        let json = read(name);
        match expect {
            Expect::Http(_) => {
                let event: ApiGatewayProxyRequest = serde_json::from_str(&json).unwrap();
                let again: ApiGatewayProxyRequest =
                    serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
                assert_eq!(event, again, "{name}");
                assert!(lambda_http::request::from_str(&json).is_ok(), "{name}");
            }
            Expect::BatchFailures(_) => {
                let event: SqsEvent = serde_json::from_str(&json).unwrap();
                let again: SqsEvent =
                    serde_json::from_str(&serde_json::to_string(&event).unwrap()).unwrap();
                assert_eq!(event, again, "{name}");
                assert!(!event.records.is_empty(), "{name}");
            }
        }
    }
}

#[tokio::test]
async fn every_event_gets_the_answer_it_documents() {
    let app = TestApp::spawn().await;
    let status_dependencies = app.status_dependencies();
    for (name, expect) in EVENTS {
        let json = read(name);
        match expect {
            Expect::Http(expected) => {
                let request = lambda_http::request::from_str(&json)
                    .unwrap()
                    .with_lambda_context(lambda_context());
                let response = match name.split('/').next() {
                    Some("add-comments") => {
                        add_comments::handle(request, &app.queue, &app.store).await
                    }
                    Some("get-all-comments") => get_all_comments::handle(request, &app.store).await,
                    Some("status") => {
                        status::handle(request, &status_dependencies, &app.store).await
                    }
                    other => panic!("no handler for {other:?}"),
                };
                assert_eq!(response.status(), *expected, "{name}: {}", response.body());
            }
            Expect::BatchFailures(expected) => {
                let event: SqsEvent = serde_json::from_str(&json).unwrap();
                let response = push_to_db::handle(
                    lambda_runtime::LambdaEvent::new(event, lambda_context()),
                    &app.store,
                    &app.source,
                )
                .await;
                let failed = failed_ids(&response);
                assert_eq!(failed, *expected, "{name}");
            }
        }
    }
}
