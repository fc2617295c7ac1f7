//! `Idempotency-Key`: a repeated post gets the same answer and makes one comment.

use feedback_tests::{TestApp, json_body};
use http::StatusCode;

const JSON: (&str, &str) = ("Content-Type", "application/json");

#[tokio::test]
async fn a_repeated_idempotency_key_gets_the_same_answer_and_makes_one_comment() {
    let app = TestApp::spawn().await;
    let key = ("Idempotency-Key", "7c1f0c8e-2b0a-4d8e-9a51-3f0e6b2d9c44");
    let body = r#"{"text":"posted once","rating":4}"#;

    let first = app.post(body, &[JSON, key]).await;
    let second = app
        .post(body, &[JSON, key, ("X-Correlation-Id", "the-retry")])
        .await;
    assert_eq!(first.status(), StatusCode::ACCEPTED);
    assert_eq!(second.status(), StatusCode::ACCEPTED);
    assert_eq!(json_body(&first), json_body(&second), "the same answer");
    assert_eq!(first.headers()["location"], second.headers()["location"]);
    assert_eq!(second.headers()["idempotent-replayed"], "true");
    assert!(!first.headers().contains_key("idempotent-replayed"));

    assert_eq!(
        app.depth(&app.queue_url).await,
        1,
        "the retry sends nothing new"
    );
    app.drain().await;
    assert_eq!(app.stored_comments().await.len(), 1);
}

#[tokio::test]
async fn the_same_key_for_a_different_comment_is_refused_and_changes_nothing() {
    let app = TestApp::spawn().await;
    let key = ("Idempotency-Key", "reused-key");
    assert_eq!(
        app.post(r#"{"text":"first"}"#, &[JSON, key]).await.status(),
        StatusCode::ACCEPTED
    );

    let reused = app.post(r#"{"text":"second"}"#, &[JSON, key]).await;
    assert_eq!(reused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(reused.headers()["content-type"], "application/problem+json");
    assert!(
        json_body(&reused)["type"]
            .as_str()
            .unwrap()
            .ends_with("#idempotency-key-reused")
    );

    app.drain().await;
    let stored = app.stored_comments().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["text"].as_s().unwrap(), "first");
}

#[tokio::test]
async fn a_retry_after_the_queue_failed_sends_the_first_comment_again() {
    let app = TestApp::spawn().await;
    let key = ("Idempotency-Key", "queue-was-down");
    let body = r#"{"text":"try, try again"}"#;
    let request = || {
        feedback_tests::api_request(
            "POST",
            "/comments",
            "/comments",
            Some(body),
            &[JSON, key],
            &[],
            &[],
        )
    };

    let broken =
        feedback::SqsCommentQueue::new(app.sqs.clone(), format!("{}-missing", app.queue_url));
    let failed = add_comments::handle(request(), &broken, &app.store).await;
    assert_eq!(failed.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(app.depth(&app.queue_url).await, 0);

    let retried = add_comments::handle(request(), &app.queue, &app.store).await;
    assert_eq!(retried.status(), StatusCode::ACCEPTED);
    assert_eq!(
        app.depth(&app.queue_url).await,
        1,
        "the retry queued the comment"
    );
    app.drain().await;
    let stored = app.stored_comments().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(
        stored[0]["id"].as_s().unwrap(),
        json_body(&retried)["id"].as_str().unwrap()
    );
}
