//! `GET /status`: live dependency checks.

use feedback_tests::{TestApp, json_body};
use http::StatusCode;

#[tokio::test]
async fn with_every_dependency_up_the_status_is_ok_and_lists_each_check() {
    let app = TestApp::spawn().await;
    let response = app.status(None).await;
    assert_eq!(response.status(), StatusCode::OK, "{}", response.body());
    let status = json_body(&response);
    assert_eq!(status["status"], "ok");
    assert_eq!(status["function"]["alias"], "live");
    let checks = status["dependencies"].as_array().unwrap();
    let kinds: Vec<(&str, &str)> = checks
        .iter()
        .map(|c| (c["kind"].as_str().unwrap(), c["state"].as_str().unwrap()))
        .collect();
    assert_eq!(kinds, [("DDB", "ok"), ("SQS", "ok"), ("SQS", "ok")]);
    assert_eq!(checks[0]["name"], app.table.as_str());
    assert!(checks.iter().all(|c| c["latency_ms"].is_u64()));
}

#[tokio::test]
async fn messages_in_the_dead_letter_queue_make_the_status_degraded() {
    let app = TestApp::spawn().await;
    app.send_raw(&app.dlq_url, "x").await;
    let response = app.status(None).await;
    assert_eq!(response.status(), StatusCode::OK);
    let status = json_body(&response);
    assert_eq!(status["status"], "degraded");
    assert_eq!(status["dependencies"][2]["state"], "attention");
    assert_eq!(status["dependencies"][2]["messages"], 1);
}

#[tokio::test]
async fn a_missing_table_makes_the_status_unavailable_with_a_503() {
    let app = TestApp::spawn().await;
    app.drop_table().await;
    let response = app.status(None).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    let status = json_body(&response);
    assert_eq!(status["status"], "unavailable");
    assert_eq!(status["dependencies"][0]["state"], "failed");
}

#[tokio::test]
async fn an_unknown_comment_id_is_a_404_problem() {
    let app = TestApp::spawn().await;
    let id = feedback::CommentId::new().to_string();
    let response = app.status(Some(&id)).await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}
