//! The ops kit on real function processes: EMF metrics, X-Ray subsegments, one
//! correlation id end to end, fault injection.

use std::time::Duration;

use feedback::FAILURE_REASON_ATTRIBUTE;
use feedback_tests::{Answer, FunctionProcess, TestApp, XrayDaemon, assert_xray_schema, attribute};
use serde_json::Value;

use crate::events::read;

async fn start(function: &str, app: &TestApp, extra: &[(&str, &str)]) -> FunctionProcess {
    app.start_function(function, extra).await
}

fn event(name: &str) -> Value {
    serde_json::from_str(&read(name)).unwrap()
}

/// CloudWatch's Embedded Metric Format rules, as the specification states them.
fn assert_emf_rules(line: &Value) {
    let aws = &line["_aws"];
    let timestamp = aws["Timestamp"]
        .as_u64()
        .unwrap_or_else(|| panic!("Timestamp in ms: {line}"));
    assert!(
        timestamp > 1_600_000_000_000,
        "Timestamp is in milliseconds: {line}"
    );
    let directives = aws["CloudWatchMetrics"]
        .as_array()
        .expect("CloudWatchMetrics");
    assert!(!directives.is_empty());
    for directive in directives {
        let namespace = directive["Namespace"].as_str().expect("Namespace");
        assert!((1..=255).contains(&namespace.len()), "{line}");
        for set in directive["Dimensions"].as_array().expect("Dimensions") {
            let set = set.as_array().expect("a dimension set is an array");
            assert!(set.len() <= 30, "at most 30 dimensions: {line}");
            for name in set {
                let name = name.as_str().expect("dimension names are strings");
                assert!(
                    line[name].is_string(),
                    "dimension {name} is a root member with a string value: {line}"
                );
            }
        }
        let metrics = directive["Metrics"].as_array().expect("Metrics");
        assert!(
            (1..=100).contains(&metrics.len()),
            "1 to 100 metrics: {line}"
        );
        for metric in metrics {
            let name = metric["Name"].as_str().expect("Name");
            assert!((1..=255).contains(&name.len()));
            match &line[name] {
                Value::Number(_) => {}
                Value::Array(values) => {
                    assert!(
                        values.len() <= 100 && values.iter().all(Value::is_number),
                        "{line}"
                    );
                }
                other => {
                    panic!("metric {name} is a root member with a number, not {other}: {line}")
                }
            }
            if let Some(unit) = metric.get("Unit") {
                let units = [
                    "Seconds",
                    "Microseconds",
                    "Milliseconds",
                    "Bytes",
                    "Kilobytes",
                    "Megabytes",
                    "Gigabytes",
                    "Terabytes",
                    "Bits",
                    "Kilobits",
                    "Megabits",
                    "Gigabits",
                    "Terabits",
                    "Percent",
                    "Count",
                    "Bytes/Second",
                    "Kilobytes/Second",
                    "Megabytes/Second",
                    "Gigabytes/Second",
                    "Terabytes/Second",
                    "Bits/Second",
                    "Kilobits/Second",
                    "Megabits/Second",
                    "Gigabits/Second",
                    "Terabits/Second",
                    "Count/Second",
                    "None",
                ];
                assert!(units.contains(&unit.as_str().unwrap_or_default()), "{line}");
            }
        }
    }
}

/// The counter `metric` summed over the EMF lines that carry it.
fn metric_total(lines: &[Value], metric: &str) -> u64 {
    lines.iter().filter_map(|line| line[metric].as_u64()).sum()
}

#[tokio::test]
async fn every_emf_line_follows_the_format_and_carries_the_dimensions_and_properties() {
    let app = TestApp::spawn().await;
    let add = start("add-comments", &app, &[]).await;
    let (first_request, _) = add.invoke(event("add-comments/post-comment.json")).await;
    add.invoke(event("add-comments/post-comment.json")).await;
    add.invoke(event("add-comments/post-comment-invalid-fields.json"))
        .await;
    let list = start("get-all-comments", &app, &[]).await;
    list.invoke(event("get-all-comments/get-comments.json"))
        .await;
    let status = start("status", &app, &[]).await;
    status.invoke(event("status/get-status.json")).await;

    // Wait for the last flush of each process.
    for process in [&add, &list, &status] {
        process.wait_for_log(|_| true).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    let lines: Vec<Value> = [&add, &list, &status]
        .iter()
        .flat_map(|p| p.emf_lines())
        .collect();
    assert!(!lines.is_empty());
    for line in &lines {
        assert_emf_rules(line);
        assert_eq!(
            line["_aws"]["CloudWatchMetrics"][0]["Namespace"],
            "OnlineFeedback"
        );
        assert_eq!(line["function_version"], "1");
        assert!(
            line["lambda_request_id"].is_string(),
            "request id property: {line}"
        );
        assert!(
            line["xray_trace_id"]
                .as_str()
                .is_some_and(|t| t.starts_with("1-")),
            "{line}"
        );
    }

    let added = add.emf_lines();
    assert_eq!(
        metric_total(&added, "ColdStart"),
        1,
        "one cold start per process"
    );
    assert_eq!(metric_total(&added, "CommentsAccepted"), 2);
    assert_eq!(metric_total(&added, "ValidationRejected"), 1);
    let accepted = added
        .iter()
        .find(|l| l.get("CommentsAccepted").is_some())
        .unwrap();
    assert_eq!(accepted["service"], "add-comments");
    assert_eq!(accepted["correlation_id"], "demo-7f3a2c");
    assert!(
        added
            .iter()
            .any(|l| l["lambda_request_id"] == first_request.as_str())
    );
    let latency = added
        .iter()
        .find(|l| l.get("DependencyLatency").is_some())
        .expect("a DependencyLatency data point");
    assert_eq!(
        latency["dependency"],
        app.queue_url.rsplit('/').next().unwrap(),
        "the queue's name: {latency}"
    );

    let checks = status.emf_lines();
    let dependencies: Vec<&str> = checks
        .iter()
        .filter_map(|l| l["dependency"].as_str())
        .collect();
    assert_eq!(
        dependencies.len(),
        3,
        "the table, the queue and the DLQ: {dependencies:?}"
    );
}

#[tokio::test]
async fn one_correlation_id_follows_a_comment_from_the_response_to_the_stored_item_and_the_metrics()
{
    let app = TestApp::spawn().await;
    let add = start("add-comments", &app, &[]).await;
    let store = start("push-to-db", &app, &[]).await;

    let (_, answer) = add.invoke(event("add-comments/post-comment.json")).await;
    let Answer::Response(response) = answer else {
        panic!("{answer:?}")
    };
    let correlation = response["multiValueHeaders"]["x-correlation-id"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(correlation, "demo-7f3a2c");

    let batch = app.receive(30).await;
    assert_eq!(
        batch.records[0].message_attributes["correlation_id"]
            .string_value
            .as_deref(),
        Some(correlation.as_str())
    );
    let result = app.deliver_via(&store, batch).await;
    assert_eq!(result["batchItemFailures"], serde_json::json!([]));

    let stored = store
        .wait_for_log(|line| line["message"] == "comment stored")
        .await;
    assert_eq!(stored["correlation_id"], correlation.as_str());
    assert_eq!(
        app.stored_comments().await[0]["correlation_id"]
            .as_s()
            .unwrap(),
        &correlation
    );
    store
        .wait_for_log(|line| line["message"] == "batch processed")
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let metrics = store.emf_lines();
    metrics.iter().for_each(assert_emf_rules);
    let line = metrics
        .iter()
        .find(|l| l.get("CommentsStored").is_some())
        .expect("CommentsStored");
    assert_eq!(line["correlation_id"], correlation.as_str());
}

/// What a subsegment sent on its own must be beyond AWS's schema file, which
/// [`assert_xray_schema`] checks: its `type`, a `parent_id`, an `end_time` after its
/// start, and for an AWS call the operation and status the X-Ray console shows. Also
/// the schema's name, id and annotation rules, so a failure here names the field.
/// (The daemon's header line is checked by the daemon itself: `collect` fails on a
/// datagram it would drop.)
pub(crate) fn assert_subsegment_rules(doc: &Value) {
    let name = doc["name"].as_str().expect("name");
    assert!((1..=200).contains(&name.chars().count()), "{doc}");
    assert!(
        name.chars()
            .all(|c| c.is_alphanumeric() || c.is_whitespace() || "_.:/%&#=+\\-@".contains(c)),
        "{name}"
    );
    for (field, valid) in [
        ("id", ops_kit::xray::is_segment_id as fn(&str) -> bool),
        ("trace_id", ops_kit::xray::is_trace_id),
        ("parent_id", ops_kit::xray::is_segment_id),
    ] {
        assert!(doc[field].as_str().is_some_and(valid), "{field}: {doc}");
    }
    assert_eq!(doc["type"], "subsegment", "{doc}");
    let start = doc["start_time"].as_f64().expect("start_time");
    let end = doc["end_time"].as_f64().expect("end_time");
    assert!(start > 1.6e9 && end >= start, "{doc}");
    for (key, value) in doc["annotations"].as_object().into_iter().flatten() {
        assert!(
            key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
            "{key}"
        );
        assert!(value.is_string() || value.is_number() || value.is_boolean());
    }
    if doc["namespace"] == "aws" {
        assert!(doc["aws"]["operation"].is_string(), "{doc}");
        assert!(doc["http"]["response"]["status"].is_u64(), "{doc}");
    }
}

#[tokio::test]
async fn sdk_calls_and_key_activities_reach_the_daemon_as_linked_subsegments() {
    let app = TestApp::spawn().await;
    let daemon = XrayDaemon::start().await;
    let address = daemon.address();
    let add = start(
        "add-comments",
        &app,
        &[("AWS_XRAY_DAEMON_ADDRESS", &address)],
    )
    .await;
    let store = start("push-to-db", &app, &[("AWS_XRAY_DAEMON_ADDRESS", &address)]).await;

    add.invoke(event("add-comments/post-comment.json")).await;
    let batch = app.receive(30).await;
    app.deliver_via(&store, batch).await;

    let datagrams = daemon.collect(Duration::from_millis(500)).await;
    assert_xray_schema(&datagrams);
    for datagram in &datagrams {
        assert_subsegment_rules(datagram);
    }
    let find = |name: &str| {
        datagrams
            .iter()
            .find(|d| d["name"] == name)
            .unwrap_or_else(|| panic!("no {name} subsegment in {datagrams:#?}"))
    };
    let enqueue = find("enqueue");
    let send = find("SQS");
    let store_activity = find("store");
    let put = find("DynamoDB");

    assert_eq!(enqueue["annotations"]["correlation_id"], "demo-7f3a2c");
    assert!(enqueue["annotations"]["comment_id"].is_string());
    assert_eq!(
        send["parent_id"], enqueue["id"],
        "SendMessage nests under enqueue"
    );
    assert_eq!(send["namespace"], "aws");
    assert_eq!(send["aws"]["operation"], "SendMessage");
    assert_eq!(send["aws"]["queue_url"], app.queue_url.as_str());

    // Across the queue: the consumer's work continues the producer's trace.
    assert_eq!(store_activity["trace_id"], enqueue["trace_id"]);
    assert_eq!(store_activity["parent_id"], enqueue["id"]);
    assert_eq!(
        store_activity["annotations"]["comment_id"],
        enqueue["annotations"]["comment_id"]
    );
    assert_eq!(put["parent_id"], store_activity["id"]);
    assert_eq!(put["aws"]["operation"], "PutItem");
    assert_eq!(put["aws"]["table_name"], app.table.as_str());
    assert_eq!(put["aws"]["retries"], 0);
}

#[tokio::test]
async fn nothing_is_sent_to_the_daemon_when_the_trace_is_not_sampled() {
    let app = TestApp::spawn().await;
    let daemon = XrayDaemon::start().await;
    let add = start(
        "add-comments",
        &app,
        &[("AWS_XRAY_DAEMON_ADDRESS", &daemon.address())],
    )
    .await;
    add.set_sampled(false);
    let (_, answer) = add.invoke(event("add-comments/post-comment.json")).await;
    assert!(matches!(answer, Answer::Response(_)));
    assert!(daemon.collect(Duration::from_millis(500)).await.is_empty());
}

#[tokio::test]
async fn full_fault_injection_fails_every_invocation_visibly_and_nothing_is_lost() {
    let app = TestApp::spawn().await;
    let broken = start("push-to-db", &app, &[("FAULT_INJECTION_ERROR_RATE", "1")]).await;
    broken
        .wait_for_log(|l| l["message"] == "fault injection is ON" && l["level"] == "WARN")
        .await;

    let add = start("add-comments", &app, &[]).await;
    add.invoke(event("add-comments/post-comment.json")).await;
    let batch = app.receive(0).await;
    let (_, answer) = broken.invoke(serde_json::to_value(&batch).unwrap()).await;
    let Answer::Error(error) = answer else {
        panic!("expected an invocation error, got {answer:?}")
    };
    assert!(
        error["errorMessage"]
            .as_str()
            .unwrap()
            .contains("injected fault"),
        "{error}"
    );
    broken
        .wait_for_log(|l| l["message"] == "invocation failed" && l["level"] == "ERROR")
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let failed = broken.emf_lines();
    failed.iter().for_each(assert_emf_rules);
    assert_eq!(metric_total(&failed, "InvocationErrors"), 1);

    // The message was not deleted: once the fault is off, it is stored.
    let healthy = start("push-to-db", &app, &[]).await;
    let batch = app.receive(30).await;
    assert_eq!(batch.records.len(), 1, "the message is redelivered");
    app.deliver_via(&healthy, batch).await;
    assert_eq!(app.stored_comments().await.len(), 1);
}

#[tokio::test]
async fn the_binary_dead_letters_a_poison_message_at_once_logs_a_warning_and_counts_it() {
    let app = TestApp::spawn().await;
    // The template's QUEUE_URL and DLQ_URL for this stack.
    let push = start("push-to-db", &app, &[]).await;
    app.send_raw(&app.queue_url, "not even json").await;
    let batch = app.receive(30).await;
    let result = app.deliver_via(&push, batch).await;
    assert_eq!(result["batchItemFailures"], serde_json::json!([]));

    let warning = push
        .wait_for_log(|line| line["key_activity"] == "poison-message")
        .await;
    assert_eq!(warning["level"], "WARN");
    assert_eq!(
        warning["message"],
        "message can never be stored; sent to the dead-letter queue now"
    );
    push.wait_for_log(|line| line["message"] == "batch processed")
        .await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let metrics = push.emf_lines();
    metrics.iter().for_each(assert_emf_rules);
    assert_eq!(metric_total(&metrics, "PoisonMessages"), 1);
    assert_eq!(metric_total(&metrics, "BatchItemFailures"), 0);

    let dead = app.dead_letters().await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body(), Some("not even json"));
    assert!(attribute(&dead[0], FAILURE_REASON_ATTRIBUTE).is_some());
}

#[tokio::test]
async fn the_binary_hides_a_record_whose_write_failed_for_its_backoff() {
    let app = TestApp::spawn().await;
    let push = start("push-to-db", &app, &[]).await;
    app.post_json(&serde_json::json!({"text": "the table is gone"}))
        .await;
    let batch = app.receive(0).await;
    app.drop_table().await;
    let result = app.deliver_via(&push, batch).await;
    assert_eq!(result["batchItemFailures"].as_array().unwrap().len(), 1);
    // Received with a visibility timeout of 0: only push-to-db's delay hides it.
    assert_eq!(app.visible_and_hidden(&app.queue_url).await, (0, 1));
    let delayed = push
        .wait_for_log(|line| line["key_activity"] == "retry")
        .await;
    assert_eq!(delayed["level"], "INFO", "{delayed}");
    assert_eq!(delayed["records"], 1);
}
