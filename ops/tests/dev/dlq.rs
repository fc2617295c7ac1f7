//! The dead-letter queue of the local stack: a valid comment whose retries ran out while
//! `push-to-db` failed is listed (never with its text), and after `feedback-ops dlq
//! redrive` it is stored exactly once.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Stack, wait_for};

fn dlq(stack: &Stack, args: &[&str]) -> (i32, String) {
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_feedback-ops"))
        .arg("dlq")
        .args(args)
        .args(["--url", &stack.url])
        .output()
        .unwrap();
    (
        output.status.code().unwrap_or(-1),
        format!(
            "{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        ),
    )
}

#[test]
fn a_comment_dead_lettered_during_an_outage_is_stored_once_after_a_redrive() {
    // A 1 s visibility timeout: an injected fault fails the whole invocation (push-to-db
    // sets no delay of its own), so the ten receives run out in seconds.
    let stack = Stack::start(&["--visibility-timeout", "1"]);
    stack.put_faults("push-to-db", &json!({"error_rate": 1.0}));
    let (status, body) = stack.post_comment("SECRET kept through an outage", None);
    assert_eq!(status, 202);
    let id = body["id"].as_str().unwrap().to_owned();
    let listing = wait_for(
        "the comment in the DLQ after ten receives",
        Duration::from_mins(1),
        || {
            let listing = stack.get("/ops/api/dlq?peek=false");
            (listing["depth"] == 1).then_some(listing)
        },
    );
    assert_eq!(listing["messages"], json!([]), "peek=false lists nothing");
    stack.put_faults("push-to-db", &json!({"error_rate": 0.0}));

    let (code, out) = dlq(&stack, &["list", "--json"]);
    assert_eq!(code, 0, "{out}");
    assert!(!out.contains("SECRET"), "no comment text: {out}");
    let listing: Value = serde_json::from_str(&out).unwrap();
    let message = &listing["messages"][0];
    assert_eq!(message["failure_reason"], Value::Null, "{listing:#}");
    assert!(
        message["receive_count"].as_u64().unwrap() >= 10,
        "{listing:#}"
    );
    // An injected fault fails the whole invocation before any record is read, so no
    // log line names this message: the listing says its retries ran out.
    let (code, table) = dlq(&stack, &["list"]);
    assert_eq!(code, 0, "{table}");
    assert!(
        table.contains("1 message") && table.contains("retries ran out"),
        "{table}"
    );
    assert!(stack.listed_ids().is_empty());

    let (code, out) = dlq(&stack, &["redrive"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("moved 1 message back"), "{out}");
    wait_for("the comment stored", Duration::from_secs(20), || {
        stack.listed_ids().contains(&id).then_some(())
    });
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(stack.listed_ids(), [id], "stored exactly once");
    assert_eq!(stack.get("/ops/api/dlq?peek=false")["depth"], 0);
}
