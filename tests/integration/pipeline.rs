//! The happy path, end to end: post → queue → push-to-db → table → list.

use feedback_tests::{TestApp, json_body};
use http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_posted_comment_travels_through_the_queue_into_the_table_and_the_list() {
    let app = TestApp::spawn().await;

    let response = app
        .post(
            r#"{"author":"Ada","text":"Great talk","rating":5}"#,
            &[
                ("Content-Type", "application/json"),
                ("X-Correlation-Id", "pipeline-1"),
            ],
        )
        .await;
    assert_eq!(
        response.status(),
        StatusCode::ACCEPTED,
        "{}",
        response.body()
    );
    assert_eq!(response.headers()["x-correlation-id"], "pipeline-1");
    let accepted = json_body(&response);
    let id = accepted["id"].as_str().unwrap().to_owned();
    assert_eq!(accepted["status"], "accepted");
    assert_eq!(accepted["correlation_id"], "pipeline-1");
    assert_eq!(response.headers()["location"], format!("/dev/status/{id}"));

    // On the queue, with the correlation id as a message attribute.
    let batch = app.receive(30).await;
    assert_eq!(batch.records.len(), 1);
    let record = &batch.records[0];
    assert_eq!(
        record.message_attributes["correlation_id"]
            .string_value
            .as_deref(),
        Some("pipeline-1")
    );
    let message: serde_json::Value = serde_json::from_str(record.body.as_deref().unwrap()).unwrap();
    assert_eq!(message["id"], id.as_str());
    assert_eq!(message["text"], "Great talk");

    // Not stored until push-to-db has run.
    assert_eq!(app.status(Some(&id)).await.status(), StatusCode::NOT_FOUND);

    let result = app.deliver(batch).await;
    assert!(result.batch_item_failures.is_empty());
    assert_eq!(
        app.depth(&app.queue_url).await,
        0,
        "the processed message is deleted"
    );

    let stored = app.stored_comments().await;
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0]["correlation_id"].as_s().unwrap(), "pipeline-1");

    let listed = json_body(&app.list(&[]).await);
    assert_eq!(
        listed,
        json!({
            "items": [{
                "id": id,
                "author": "Ada",
                "text": "Great talk",
                "rating": 5,
                "created_at": accepted["created_at"],
            }],
            "next_cursor": null,
        })
    );

    let status = app.status(Some(&id)).await;
    assert_eq!(status.status(), StatusCode::OK);
    assert_eq!(json_body(&status)["state"], "stored");
}

#[tokio::test]
async fn text_that_merely_looks_dangerous_comes_back_byte_for_byte() {
    let app = TestApp::spawn().await;
    let texts = [
        "<script>alert('x')</script>",
        r#""double" and 'single' quotes, `backticks`"#,
        "'; DROP TABLE comments; --",
        "{\"looks\": \"like json\"}",
        "${jndi:ldap://example.invalid/a} {{7*7}} %s %n",
        "../../etc/passwd",
        "emoji 🎉👍🏽 and a family 👨‍👩‍👧 joined by ZWJ",
        "\u{200f}שלום עולם\u{200f} right-to-left marks",
        "\u{202e}override\u{202c} and zero\u{200b}width",
        "line one\nline two\r\n\ttabbed",
        "a backslash \\ and a literal \\u0000",
        "COMMENT#019ac4d2-7f1e-7c3a-9b2d-4e5f60718293",
    ];
    for text in texts {
        let response = app
            .post_json(&json!({"text": text, "author": "<b>Mallory</b>"}))
            .await;
        assert_eq!(
            response.status(),
            StatusCode::ACCEPTED,
            "{text:?}: {}",
            response.body()
        );
    }
    app.drain().await;

    let listed = json_body(&app.list(&[("limit", "100")]).await);
    let mut returned: Vec<&str> = listed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["text"].as_str().unwrap())
        .collect();
    returned.reverse();
    assert_eq!(returned, texts, "newest first, each exactly as posted");
    assert!(
        listed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|i| i["author"] == "<b>Mallory</b>")
    );
}

#[tokio::test]
async fn when_the_queue_is_unavailable_the_client_gets_a_503_that_names_no_internals() {
    let app = TestApp::spawn().await;
    let missing =
        feedback::SqsCommentQueue::new(app.sqs.clone(), format!("{}-missing", app.queue_url));
    let request = feedback_tests::api_request(
        "POST",
        "/comments",
        "/comments",
        Some(r#"{"text":"hello"}"#),
        &[("Content-Type", "application/json")],
        &[],
        &[],
    );
    let response = add_comments::handle(request, &missing, &app.store).await;
    assert_eq!(response.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(response.headers()["retry-after"], "1");
    let body = response.body();
    for internal in ["127.0.0.1", "missing", "NonExistentQueue", "sqs", "queue"] {
        assert!(
            !body.to_lowercase().contains(&internal.to_lowercase()),
            "{internal} in {body}"
        );
    }
    assert!(app.stored_comments().await.is_empty());
}

#[tokio::test]
async fn an_attribute_added_to_a_stored_item_later_does_not_break_the_list() {
    let app = TestApp::spawn().await;
    let comment = app.store_comment("kept").await;
    app.dynamodb
        .update_item()
        .table_name(&app.table)
        .key(
            "pk",
            aws_sdk_dynamodb::types::AttributeValue::S(format!("COMMENT#{}", comment.id)),
        )
        .update_expression("SET moderated = :yes")
        .expression_attribute_values(":yes", aws_sdk_dynamodb::types::AttributeValue::Bool(true))
        .send()
        .await
        .unwrap();
    let response = app.list(&[]).await;
    assert_eq!(response.status(), 200, "{}", response.body());
    assert_eq!(json_body(&response)["items"][0]["text"], "kept");
    let status = app.status(Some(&comment.id.to_string())).await;
    assert_eq!(status.status(), 200, "{}", status.body());
}
