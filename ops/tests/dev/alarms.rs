//! The template's alarms in the local stack: evaluated against the local metrics with
//! their own periods (`--time-scale` makes them seconds), every one of them with a real
//! state, and a failing function's alarm firing and clearing.

use std::time::Duration;

use serde_json::{Value, json};

use super::{Stack, wait_for};

fn alarm(stack: &Stack, name: &str) -> Value {
    stack
        .get("/ops/api/alarms")
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["name"] == name)
        .cloned()
        .unwrap_or_else(|| panic!("no alarm {name}"))
}

#[test]
fn every_template_alarm_has_a_real_state_and_a_failing_function_fires_its_own() {
    // 60 s periods in 1 s.
    let stack = Stack::start(&["--time-scale", "60"]);
    let alarms = wait_for("every alarm evaluated", Duration::from_secs(10), || {
        let alarms = stack.get("/ops/api/alarms");
        alarms
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["state"] != "INSUFFICIENT_DATA")
            .then_some(alarms)
    });
    let alarms = alarms.as_array().unwrap();
    let declared = std::fs::read_to_string(super::template())
        .unwrap()
        .matches("Type: AWS::CloudWatch::Alarm")
        .count();
    assert!(declared >= 18, "{declared}");
    assert_eq!(
        alarms.len(),
        declared,
        "every AWS::CloudWatch::Alarm of the template"
    );
    for alarm in alarms {
        assert_eq!(alarm["state"], "OK", "{alarm}");
        assert!(alarm["metric"]["namespace"].is_string(), "{alarm}");
        assert!(
            alarm["updated_at"].as_str().unwrap().starts_with("20"),
            "{alarm}"
        );
    }
    assert_eq!(alarm(&stack, "StatusErrorsAlarm")["period_ms"], 1000);

    // Every invocation of status fails: its errors alarm fires, from the alias's
    // Errors; so does its error-lines metric filter's count (not alarmed on).
    stack.put_faults("status", &json!({"error_rate": 1.0}));
    let fired = wait_for(
        "StatusErrorsAlarm in ALARM",
        Duration::from_secs(20),
        || {
            let _ = stack.agent.get(format!("{}/status", stack.url)).call();
            let alarm = alarm(&stack, "StatusErrorsAlarm");
            (alarm["state"] == "ALARM").then_some(alarm)
        },
    );
    assert!(
        fired["reason"]
            .as_str()
            .unwrap()
            .contains("Threshold Crossed"),
        "{fired}"
    );
    for quiet in [
        "AddCommentsErrorsAlarm",
        "PushToDbErrorsAlarm",
        "DeadLetterQueueAlarm",
    ] {
        assert_eq!(alarm(&stack, quiet)["state"], "OK", "{quiet}");
    }
    let error_lines = stack.get("/ops/api/metrics?namespace=OnlineFeedback&name=ErrorLogLines");
    assert!(
        error_lines["series"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["dimensions"]["service"] == "status"),
        "the metric filter counts status's ERROR lines: {error_lines}"
    );
    let gateway = stack.get("/ops/api/metrics?namespace=AWS/ApiGateway&name=5XXError");
    assert!(
        !gateway["series"].as_array().unwrap().is_empty(),
        "{gateway}"
    );

    // Healthy again: the alarm clears a period later.
    stack.put_faults("status", &json!({"error_rate": 0.0}));
    wait_for(
        "StatusErrorsAlarm OK again",
        Duration::from_secs(20),
        || (alarm(&stack, "StatusErrorsAlarm")["state"] == "OK").then_some(()),
    );
    let depth =
        stack.get("/ops/api/metrics?namespace=AWS/SQS&name=ApproximateNumberOfMessagesVisible");
    assert!(!depth["series"].as_array().unwrap().is_empty(), "{depth}");
}
