//! `feedback-ops dlq list` and `dlq redrive` against moto (`--stack --endpoint`): the
//! queues found through the stack's functions, a listing that never shows the comment
//! text and leaves every message in place, and a redrive that moves every message back
//! with its correlation id (moto has no `StartMessageMoveTask`: receive → send →
//! delete).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use aws_sdk_lambda::types::Environment;
use aws_sdk_sqs::types::{MessageAttributeValue, QueueAttributeName};
use feedback_tests::{moto, sdk_config};
use ops_wire::queue::{
    CORRELATION_ATTRIBUTE, FAILURE_REASON_ATTRIBUTE, SOURCE_MESSAGE_ID_ATTRIBUTE,
};
use serde_json::Value;

fn dlq(args: &[&str]) -> (i32, String, String) {
    common::feedback_ops("dlq", args)
}

fn text(value: &str) -> MessageAttributeValue {
    MessageAttributeValue::builder()
        .data_type("String")
        .string_value(value)
        .build()
        .unwrap()
}

/// A stack in moto: a queue, its DLQ, and a function whose environment names both.
async fn stack(sqs: &aws_sdk_sqs::Client, name: &str) -> (String, String) {
    let lambda = aws_sdk_lambda::Client::new(&sdk_config(&moto().endpoint).await);
    let dlq_url = sqs
        .create_queue()
        .queue_name(format!("{name}-dlq"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let queue_url = sqs
        .create_queue()
        .queue_name(format!("{name}-queue"))
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    let function = format!("{name}-StatusFunction");
    common::create_function(
        &lambda,
        &function,
        &common::role(name).await,
        &[
            ("aws:cloudformation:stack-name", name),
            ("aws:cloudformation:logical-id", "StatusFunction"),
        ],
    )
    .await;
    lambda
        .update_function_configuration()
        .function_name(&function)
        .environment(
            Environment::builder()
                .variables("QUEUE_URL", &queue_url)
                .variables("DLQ_URL", &dlq_url)
                .build(),
        )
        .send()
        .await
        .unwrap();
    (queue_url, dlq_url)
}

async fn visible(sqs: &aws_sdk_sqs::Client, url: &str) -> u64 {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
        .send()
        .await
        .unwrap()
        .attributes()
        .and_then(|a| a.get(&QueueAttributeName::ApproximateNumberOfMessages))
        .and_then(|v| v.parse().ok())
        .unwrap()
}

/// Two dead letters: one push-to-db dead-lettered itself (poison), and one SQS moved
/// after its retries ran out.
async fn seed(sqs: &aws_sdk_sqs::Client, dlq_url: &str) {
    sqs.send_message()
        .queue_url(dlq_url)
        .message_body("SECRET poison text")
        .message_attributes(CORRELATION_ATTRIBUTE, text("corr-poison"))
        .message_attributes(
            FAILURE_REASON_ATTRIBUTE,
            text("the message body is not a valid comment"),
        )
        .message_attributes(SOURCE_MESSAGE_ID_ATTRIBUTE, text("m-1"))
        .send()
        .await
        .unwrap();
    sqs.send_message()
        .queue_url(dlq_url)
        .message_body(r#"{"text":"SECRET valid comment"}"#)
        .message_attributes(CORRELATION_ATTRIBUTE, text("corr-valid"))
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn list_shows_why_without_the_text_and_redrive_moves_everything_back() {
    let sqs = aws_sdk_sqs::Client::new(&sdk_config(&moto().endpoint).await);
    let name = format!("dlq-{}", &uuid::Uuid::new_v4().simple().to_string()[..10]);
    let (queue_url, dlq_url) = stack(&sqs, &name).await;
    seed(&sqs, &dlq_url).await;
    let endpoint = moto().endpoint.clone();

    let (code, out, err) = dlq(&["list", "--stack", &name, "--endpoint", &endpoint, "--json"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        !out.contains("SECRET"),
        "the listing shows no comment text: {out}"
    );
    let listing: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(listing["depth"], 2, "{listing:#}");
    assert_eq!(listing["dlq_url"], dlq_url.as_str());
    let messages = listing["messages"].as_array().unwrap();
    let poison = messages
        .iter()
        .find(|m| m["correlation_id"] == "corr-poison")
        .unwrap();
    assert_eq!(
        poison["failure_reason"],
        "the message body is not a valid comment"
    );
    assert_eq!(poison["source_message_id"], "m-1");
    let valid = messages
        .iter()
        .find(|m| m["correlation_id"] == "corr-valid")
        .unwrap();
    assert_eq!(valid["failure_reason"], Value::Null);
    assert!(valid["receive_count"].as_u64().unwrap() >= 1, "{valid}");
    assert_eq!(
        visible(&sqs, &dlq_url).await,
        2,
        "a listing leaves every message visible"
    );
    let (code, table, _) = dlq(&["list", "--stack", &name, "--endpoint", &endpoint]);
    assert_eq!(code, 0);
    assert!(
        table.contains("poison: the message body is not a valid comment")
            && table.contains("retries ran out")
            && !table.contains("SECRET"),
        "{table}"
    );

    let (code, out, err) = dlq(&[
        "redrive",
        "--stack",
        &name,
        "--endpoint",
        &endpoint,
        "--json",
    ]);
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["moved"], 2, "{report:#}");
    assert_eq!(report["failed"], Value::Array(Vec::new()));
    assert_eq!(report["method"], "receive-send-delete");
    let note = report["note"].as_str().unwrap();
    assert!(
        note.starts_with("StartMessageMoveTask was refused (") && note.len() < 120,
        "why the move task was not used, in a few words: {note}"
    );
    assert_eq!(visible(&sqs, &dlq_url).await, 0);
    let back = sqs
        .receive_message()
        .queue_url(&queue_url)
        .max_number_of_messages(10)
        .message_attribute_names("All")
        .send()
        .await
        .unwrap();
    let mut correlations: Vec<String> = back
        .messages()
        .iter()
        .map(|m| {
            assert!(
                !m.message_attributes()
                    .is_some_and(|a| a.contains_key(FAILURE_REASON_ATTRIBUTE)),
                "a redriven message starts a new life: {m:?}"
            );
            m.message_attributes().unwrap()[CORRELATION_ATTRIBUTE]
                .string_value()
                .unwrap()
                .to_owned()
        })
        .collect();
    correlations.sort();
    assert_eq!(correlations, ["corr-poison", "corr-valid"]);

    // Nothing left: a second redrive moves nothing and succeeds.
    let (code, out, _) = dlq(&["redrive", "--stack", &name, "--endpoint", &endpoint]);
    assert_eq!(code, 0);
    assert!(out.contains("moved 0 messages"), "{out}");
}

#[test]
fn an_unreachable_stack_or_an_unknown_one_is_one_line_and_a_failure() {
    let (code, _, err) = dlq(&["list", "--url", "http://127.0.0.1:9"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no local stack answers"), "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let (code, _, err) = dlq(&[
        "redrive",
        "--stack",
        "no-such-stack",
        "--endpoint",
        &moto().endpoint,
    ]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("no function carries the tag"), "{err}");
    let (code, _, err) = dlq(&["list", "--stack", "s", "--endpoint", "http://127.0.0.1:9"]);
    assert_eq!(code, 2, "{err}");
    assert_eq!(err.trim().lines().count(), 1, "{err}");
    let (code, _, _) = dlq(&["list", "--url", "http://x", "--stack", "s"]);
    assert_eq!(code, 2, "--url and --stack exclude each other");
}
