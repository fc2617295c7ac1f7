//! The backend fault proxy: while DynamoDB and SQS throttle 30 % of the functions' calls
//! and fail 10 % more, well-behaved clients (retrying with their `Idempotency-Key`) get
//! every comment accepted, and every one is stored exactly once; the throttling shows
//! in the functions' logs. The stack's own calls are never faulted.

use std::collections::BTreeSet;
use std::time::Duration;

use serde_json::{Value, json};

use super::{Stack, wait_for};

fn backend_faults(stack: &Stack, method: &str, body: Option<&Value>) -> (u16, Value) {
    let url = format!("{}/ops/api/backend/faults", stack.url);
    let answer = match (method, body) {
        ("PUT", Some(body)) => stack.agent.put(&url).send(body.to_string()),
        ("DELETE", _) => stack.agent.delete(&url).call(),
        _ => stack.agent.get(&url).call(),
    };
    let mut answer = answer.unwrap();
    let status = answer.status().as_u16();
    (status, answer.body_mut().read_json().unwrap())
}

/// Whether a log entry matching `query` shows up within `patience`.
fn wait_for_logged(stack: &Stack, query: &str, patience: Duration) -> bool {
    let deadline = std::time::Instant::now() + patience;
    loop {
        if !stack.logs(query).is_empty() {
            return true;
        }
        if std::time::Instant::now() > deadline {
            return false;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Posts until accepted, as a well-behaved client: the same key, back-off on a 5xx.
fn post_with_retries(stack: &Stack, text: &str) -> (String, u32) {
    let key = uuid::Uuid::new_v4().to_string();
    for attempt in 0..30 {
        let mut answer = stack
            .agent
            .post(format!("{}/comments", stack.url))
            .header("content-type", "application/json")
            .header("idempotency-key", &key)
            .send(json!({"text": text}).to_string())
            .unwrap();
        let status = answer.status().as_u16();
        let body: Value = answer.body_mut().read_json().unwrap_or(Value::Null);
        match status {
            202 | 200 => return (body["id"].as_str().unwrap().to_owned(), attempt),
            500..=599 => std::thread::sleep(Duration::from_millis(100 * (1 << attempt.min(4)))),
            _ => panic!("{text}: {status} {body}"),
        }
    }
    panic!("{text}: never accepted");
}

#[test]
fn throttling_and_5xx_from_the_backend_lose_nothing_acknowledged() {
    let stack = Stack::start(&[]);
    let (status, bad) = backend_faults(&stack, "PUT", Some(&json!({"throttle_rate": 2})));
    assert_eq!(status, 400, "{bad}");
    let (status, on) = backend_faults(
        &stack,
        "PUT",
        Some(&json!({"throttle_rate": 0.3, "error_rate": 0.1, "latency_ms": 20})),
    );
    assert_eq!(status, 200, "{on}");
    assert_eq!(on["active"], true);

    let mut accepted = BTreeSet::new();
    let mut attempts_repeated = 0;
    for n in 0..12 {
        let (id, retries) = post_with_retries(&stack, &format!("through the outage {n}"));
        attempts_repeated += retries;
        accepted.insert(id);
    }
    let (_, during) = backend_faults(&stack, "GET", None);
    assert!(
        during["throttled"].as_u64().unwrap() > 0 && during["failed"].as_u64().unwrap() > 0,
        "{during}"
    );
    // A call fails only when every one of the SDK's three attempts is faulted (about
    // one call in twenty), so a dozen comments may not show it yet: more comments
    // under the same faults, up to a bound, until a function has logged a throttle.
    let throttle_logged = || {
        wait_for_logged(
            &stack,
            "text=ProvisionedThroughputExceeded",
            Duration::from_secs(2),
        )
    };
    let mut extra = 0;
    while !throttle_logged() {
        assert!(
            extra < 60,
            "no function logged a throttle after {} comments under 30 % throttling",
            accepted.len()
        );
        let (id, retries) = post_with_retries(&stack, &format!("through the outage, more {extra}"));
        attempts_repeated += retries;
        accepted.insert(id);
        extra += 1;
    }
    let (_, off) = backend_faults(&stack, "DELETE", None);
    assert_eq!(off["active"], false);

    let listed = wait_for("every comment stored", Duration::from_mins(1), || {
        let ids = stack.listed_ids();
        (ids.len() >= accepted.len()).then_some(ids)
    });
    std::thread::sleep(Duration::from_secs(1));
    let listed_again = stack.listed_ids();
    assert_eq!(listed_again.len(), listed.len(), "nothing stored twice");
    assert_eq!(
        listed_again.into_iter().collect::<BTreeSet<_>>(),
        accepted,
        "every accepted comment stored exactly once ({attempts_repeated} posts repeated)"
    );
    assert_eq!(stack.get("/ops/api/dlq?peek=false")["depth"], 0);
}
