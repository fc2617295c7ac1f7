//! push-to-db: at-least-once delivery, partial batch failures, poison messages.

use feedback_tests::{MAX_RECEIVE_COUNT, TestApp, failed_ids, json_body};
use http::StatusCode;
use serde_json::json;

#[tokio::test]
async fn a_redelivered_message_makes_no_second_item() {
    let app = TestApp::spawn().await;
    app.post_json(&json!({"text": "delivered twice"})).await;

    // A visibility timeout of 0 makes the message visible again at once, as after a
    // consumer that timed out before deleting it.
    let first = app.receive(0).await;
    assert_eq!(first.records.len(), 1);
    let second = app.receive(30).await;
    assert_eq!(second.records.len(), 1);
    assert_eq!(first.records[0].message_id, second.records[0].message_id);

    assert!(app.deliver(first).await.batch_item_failures.is_empty());
    assert!(
        app.deliver(second).await.batch_item_failures.is_empty(),
        "a duplicate is a success, not a failure to retry"
    );
    assert_eq!(app.stored_comments().await.len(), 1);
    assert_eq!(
        json_body(&app.list(&[]).await)["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

#[tokio::test]
async fn a_batch_with_one_poison_record_reports_exactly_that_record_and_stores_the_rest() {
    let app = TestApp::spawn().await;
    for n in 0..4 {
        let response = app.post_json(&json!({"text": format!("good {n}")})).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    app.send_raw(&app.queue_url, r#"{"text":"no id and no time"}"#)
        .await;

    let batch = app.receive(30).await;
    assert_eq!(batch.records.len(), 5);
    let poison_id = batch
        .records
        .iter()
        .find(|r| r.body.as_deref().is_some_and(|b| b.contains("no id")))
        .and_then(|r| r.message_id.clone())
        .unwrap();

    let response = app.deliver(batch).await;
    let failed = failed_ids(&response);
    assert_eq!(failed, [poison_id.as_str()]);
    assert_eq!(app.stored_comments().await.len(), 4);
}

#[tokio::test]
async fn a_poison_message_reaches_the_dead_letter_queue_after_three_receives() {
    let app = TestApp::spawn().await;
    app.send_raw(&app.queue_url, "not even json").await;

    for receive in 1..=MAX_RECEIVE_COUNT {
        let batch = app.receive(0).await;
        assert_eq!(batch.records.len(), 1, "receive {receive}");
        assert_eq!(app.deliver(batch).await.batch_item_failures.len(), 1);
    }
    // The next receive finds it over maxReceiveCount: SQS moves it to the DLQ.
    assert!(app.receive(0).await.records.is_empty());
    assert_eq!(app.depth(&app.dlq_url).await, 1);
    assert!(app.stored_comments().await.is_empty());
}

#[tokio::test]
async fn a_record_whose_write_fails_is_reported_for_redelivery() {
    let app = TestApp::spawn().await;
    app.post_json(&json!({"text": "the table is gone"})).await;
    let batch = app.receive(30).await;
    let message_id = batch.records[0].message_id.clone().unwrap();

    // The table disappears between the post and the write.
    app.drop_table().await;
    let response = app.deliver(batch).await;
    let failed = failed_ids(&response);
    assert_eq!(failed, [message_id.as_str()]);
    assert_eq!(
        app.depth(&app.queue_url).await,
        1,
        "the message stays for redelivery"
    );
}

#[tokio::test]
async fn a_delete_sqs_refuses_for_one_entry_is_reported_not_ignored() {
    let app = TestApp::spawn().await;
    app.send_raw(&app.queue_url, "{}").await;
    let batch = app.receive(30).await;
    let handle = batch.records[0].receipt_handle.clone().unwrap();
    let refused = local_cloud::sqs::delete(
        &app.sqs,
        &app.queue_url,
        &[handle.as_str(), "not-a-receipt-handle"],
    )
    .await
    .unwrap_err();
    assert!(refused.contains("1 of 2 deletes failed"), "{refused}");
    assert_eq!(
        app.depth(&app.queue_url).await,
        0,
        "the valid one was deleted"
    );
}
