//! push-to-db: at-least-once delivery, partial batch failures, poison messages sent to
//! the dead-letter queue at once, transient failures retried with a backoff.

use std::time::{Duration, Instant};

use aws_sdk_sqs::types::{
    MessageAttributeValue, MessageSystemAttributeName, MessageSystemAttributeNameForSends,
    MessageSystemAttributeValue,
};
use feedback::{FAILURE_REASON_ATTRIBUTE, SOURCE_MESSAGE_ID_ATTRIBUTE, SqsSourceQueue};
use feedback_tests::{MAX_RECEIVE_COUNT, OutageStore, TestApp, attribute, failed_ids, json_body};
use http::StatusCode;
use ops_kit::CORRELATION_ATTRIBUTE;
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
async fn a_poison_record_goes_to_the_dead_letter_queue_at_once_and_the_rest_are_stored() {
    let app = TestApp::spawn().await;
    for n in 0..4 {
        let response = app.post_json(&json!({"text": format!("good {n}")})).await;
        assert_eq!(response.status(), StatusCode::ACCEPTED);
    }
    let poison_body = r#"{"text":"no id and no time"}"#;
    let trace = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
    app.sqs
        .send_message()
        .queue_url(&app.queue_url)
        .message_body(poison_body)
        .message_attributes(
            CORRELATION_ATTRIBUTE,
            MessageAttributeValue::builder()
                .data_type("String")
                .string_value("poison-42")
                .build()
                .unwrap(),
        )
        .message_system_attributes(
            MessageSystemAttributeNameForSends::AwsTraceHeader,
            MessageSystemAttributeValue::builder()
                .data_type("String")
                .string_value(trace)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();

    let batch = app.receive(30).await;
    assert_eq!(batch.records.len(), 5);
    let poison_id = batch
        .records
        .iter()
        .find(|r| r.body.as_deref() == Some(poison_body))
        .and_then(|r| r.message_id.clone())
        .unwrap();

    let response = app.deliver(batch).await;
    assert!(
        failed_ids(&response).is_empty(),
        "the poison record is handled, not retried: {response:?}"
    );
    assert_eq!(app.stored_comments().await.len(), 4);
    assert_eq!(app.depth(&app.queue_url).await, 0, "all five deleted");

    let dead = app.dead_letters().await;
    assert_eq!(dead.len(), 1, "in the DLQ after one receive");
    let letter = &dead[0];
    assert_eq!(letter.body(), Some(poison_body), "the body unchanged");
    assert_eq!(
        attribute(letter, FAILURE_REASON_ATTRIBUTE),
        Some("the message body is not a valid comment")
    );
    assert_eq!(
        attribute(letter, SOURCE_MESSAGE_ID_ATTRIBUTE),
        Some(poison_id.as_str())
    );
    assert_eq!(attribute(letter, CORRELATION_ATTRIBUTE), Some("poison-42"));
    assert_eq!(
        letter
            .attributes()
            .and_then(|a| a.get(&MessageSystemAttributeName::AwsTraceHeader))
            .map(String::as_str),
        Some(trace),
        "the trace continues into the DLQ"
    );
}

#[tokio::test]
async fn a_hostile_poison_body_is_dead_lettered_unchanged_and_its_reason_quotes_none_of_it() {
    let app = TestApp::spawn().await;
    let oversized = format!(
        r#"{{"id": "SECRET-not-an-id", "text": "<script>alert('SECRET')</script>{}", "created_at": "x"}}"#,
        "SECRET ".repeat(20_000)
    );
    let bodies = [
        oversized.as_str(),
        r#"{"rating": "SECRET in a field that wants a number"}"#,
        r"SECRET <img src=x onerror=alert(1)> \u0000 not json",
    ];
    // The parser's own message would quote the body: the reason must not be it.
    let quoted = feedback::decode_message(Some(bodies[1])).unwrap_err();
    assert!(
        std::error::Error::source(&quoted)
            .unwrap()
            .to_string()
            .contains("SECRET"),
        "the test's bodies are ones a careless reason would leak"
    );
    for body in bodies {
        app.send_raw(&app.queue_url, body).await;
    }

    let batch = app.receive(30).await;
    assert_eq!(batch.records.len(), 3);
    assert!(failed_ids(&app.deliver(batch).await).is_empty());

    let dead = app.dead_letters().await;
    let mut received: Vec<&str> = dead.iter().filter_map(|m| m.body()).collect();
    received.sort_unstable();
    let mut sent = bodies.to_vec();
    sent.sort_unstable();
    assert_eq!(received, sent, "every body dead-lettered byte for byte");
    for letter in &dead {
        let reason = attribute(letter, FAILURE_REASON_ATTRIBUTE).unwrap();
        assert_eq!(reason, "the message body is not a valid comment");
        for (name, value) in letter.message_attributes().unwrap() {
            let text = value.string_value().unwrap_or_default();
            assert!(
                !text.contains("SECRET") && !text.contains('<'),
                "{name} quotes the body: {text}"
            );
        }
    }
    assert!(app.stored_comments().await.is_empty());
}

#[tokio::test]
async fn a_poison_record_the_dead_letter_queue_refuses_is_reported_and_kept() {
    let app = TestApp::spawn().await;
    app.send_raw(&app.queue_url, "not even json").await;
    let batch = app.receive(30).await;
    let message_id = batch.records[0].message_id.clone().unwrap();

    // A dead-letter queue that does not exist: SQS refuses the send.
    let no_dlq = SqsSourceQueue::new(
        app.sqs.clone(),
        app.queue_url.clone(),
        format!("{}-missing", app.dlq_url),
    );
    let response = app.deliver_with(batch, &app.store, &no_dlq).await;
    assert_eq!(failed_ids(&response), [message_id.as_str()]);
    assert_eq!(
        app.visible_and_hidden(&app.queue_url).await,
        (0, 1),
        "still on the queue, hidden until its retry"
    );
    assert!(app.dead_letters().await.is_empty());
}

#[tokio::test]
async fn a_write_that_fails_in_an_outage_is_retried_after_a_backoff_and_stored_once() {
    let app = TestApp::spawn().await;
    app.post_json(&json!({"text": "posted during an outage"}))
        .await;
    let table = OutageStore::new(app.store.clone());
    table.set_down(true);

    let batch = app.receive(30).await;
    let message_id = batch.records[0].message_id.clone().unwrap();
    let response = app.deliver_with(batch, &table, &app.source).await;
    let failed_at = Instant::now();
    assert_eq!(failed_ids(&response), [message_id.as_str()]);
    assert!(
        app.dead_letters().await.is_empty(),
        "a valid comment is not poison"
    );
    assert_eq!(app.visible_and_hidden(&app.queue_url).await, (0, 1));
    assert!(
        app.receive(30).await.records.is_empty(),
        "hidden for its backoff"
    );

    // It comes back after the first receive's delay (5 s), not the receive's 30 s.
    table.set_down(false);
    let again = loop {
        let batch = app.receive(30).await;
        if !batch.records.is_empty() {
            break batch;
        }
        assert!(
            failed_at.elapsed() < Duration::from_secs(20),
            "not delivered again within 20 s"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let waited = failed_at.elapsed();
    assert!(
        waited + Duration::from_secs(1) >= push_to_db::retry_delay(1),
        "came back after {waited:?}"
    );
    assert_eq!(
        again.records[0].message_id.as_deref(),
        Some(message_id.as_str())
    );
    assert_eq!(
        again.records[0].attributes["ApproximateReceiveCount"], "2",
        "the second receive"
    );
    assert!(failed_ids(&app.deliver_with(again, &table, &app.source).await).is_empty());
    assert_eq!(app.stored_comments().await.len(), 1, "stored exactly once");
    assert_eq!(app.depth(&app.queue_url).await, 0);
    assert!(app.dead_letters().await.is_empty());
}

#[tokio::test]
async fn a_write_that_keeps_failing_reaches_the_dead_letter_queue_after_max_receive_count() {
    let app = TestApp::spawn().await;
    app.post_json(&json!({"text": "the table never comes back"}))
        .await;
    let table = OutageStore::new(app.store.clone());
    table.set_down(true);
    // A queue URL SQS does not know: the delay cannot be set, so each failed record
    // keeps the visibility it was received with (0 here), and the batch is unaffected.
    let no_delay = SqsSourceQueue::new(
        app.sqs.clone(),
        format!("{}-missing", app.queue_url),
        app.dlq_url.clone(),
    );
    for receive in 1..=MAX_RECEIVE_COUNT {
        let batch = app.receive(0).await;
        assert_eq!(batch.records.len(), 1, "receive {receive}");
        assert_eq!(
            app.deliver_with(batch, &table, &no_delay)
                .await
                .batch_item_failures
                .len(),
            1
        );
    }
    // The next receive finds it over maxReceiveCount: SQS moves it to the DLQ, without
    // a failure reason: its retries ran out.
    assert!(app.receive(0).await.records.is_empty());
    let dead = app.dead_letters().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(attribute(&dead[0], FAILURE_REASON_ATTRIBUTE), None);
    assert!(app.stored_comments().await.is_empty());
}

#[test]
fn the_retry_budget_outlasts_an_outage_of_twenty_minutes() {
    // The delays after every receive but the last, which finds the budget spent.
    let budget: Duration = (1..MAX_RECEIVE_COUNT).map(push_to_db::retry_delay).sum();
    assert_eq!(
        budget,
        Duration::from_secs(1215),
        "the template's arithmetic"
    );
    assert!(budget >= Duration::from_mins(20));
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
