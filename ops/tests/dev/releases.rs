//! Releases in the local stack (the talk's OC3), at `--time-scale 30`: a 5-minute
//! canary takes 10 s, a 60 s alarm period 2 s. A configuration change that
//! breaks `add-comments` under steady traffic is rolled back by the template's own
//! alarms and loses no retried post; a version failing 30 % of its invocations is
//! rolled back; good changes are promoted, and only the live version and the three
//! before it remain.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

use super::{Stack, wait_for};

/// Starts a deployment; answers its id.
fn deploy(stack: &Stack, body: &Value) -> String {
    let mut response = stack
        .agent
        .post(format!("{}/ops/api/deployments", stack.url))
        .header("content-type", "application/json")
        .send(body.to_string())
        .unwrap();
    let status = response.status().as_u16();
    let answer: Value = response.body_mut().read_json().unwrap();
    assert_eq!(status, 202, "{answer}");
    answer["id"].as_str().unwrap().to_owned()
}

/// Waits for a deployment to end; answers it.
fn finished(stack: &Stack, id: &str) -> Value {
    wait_for("the deployment to end", Duration::from_mins(1), || {
        let deployment = stack.get(&format!("/ops/api/deployments/{id}"));
        matches!(
            deployment["status"].as_str(),
            Some("Succeeded" | "Failed" | "Stopped")
        )
        .then_some(deployment)
    })
}

fn live_weights(stack: &Stack, function: &str) -> Value {
    stack.function(function)["aliases"][0]["weights"].clone()
}

fn kinds(deployment: &Value) -> Vec<String> {
    deployment["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap().to_owned())
        .collect()
}

/// What a well-behaved client saw of one comment: the first answer, and the id it was
/// finally accepted as (after retries with the same `Idempotency-Key`).
#[derive(Debug)]
struct Post {
    sent: Instant,
    first_status: u16,
    accepted_id: Option<String>,
}

/// Posts comments one after another until `stop`, each retried on a 5xx with its own
/// `Idempotency-Key`, as the page does.
fn steady_traffic(url: &str, stop: &AtomicBool, posts: &Mutex<Vec<Post>>) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut n = 0;
    while !stop.load(Ordering::Relaxed) {
        n += 1;
        let key = uuid::Uuid::new_v4().to_string();
        let sent = Instant::now();
        let mut first_status = None;
        let mut accepted_id = None;
        for attempt in 0..40 {
            let mut response = agent
                .post(format!("{url}/comments"))
                .header("content-type", "application/json")
                .header("idempotency-key", &key)
                .send(json!({"text": format!("steady {n}"), "rating": 4}).to_string())
                .unwrap();
            let status = response.status().as_u16();
            first_status.get_or_insert(status);
            if status == 202 {
                let body: Value = response.body_mut().read_json().unwrap();
                accepted_id = body["id"].as_str().map(str::to_owned);
                break;
            }
            assert!(status >= 500, "a post is never refused: {status}");
            std::thread::sleep(Duration::from_millis(50 * (attempt + 1).min(4)));
        }
        posts.lock().unwrap().push(Post {
            sent,
            first_status: first_status.unwrap_or(0),
            accepted_id,
        });
    }
}

/// Waits until every alarm whose name starts with `prefix` is OK, two alarm periods
/// (2 s each) after the last failure, so that its period has been evaluated.
fn alarms_clear(stack: &Stack, prefix: &str) {
    std::thread::sleep(Duration::from_millis(4500));
    wait_for("the alarms OK", Duration::from_secs(20), || {
        stack
            .get("/ops/api/alarms")
            .as_array()
            .unwrap()
            .iter()
            .filter(|a| a["name"].as_str().unwrap().starts_with(prefix))
            .all(|a| a["state"] == "OK")
            .then_some(())
    });
}

#[test]
fn breaking_configuration_changes_under_traffic_are_rolled_back_and_every_retried_post_is_stored_once()
 {
    // A 10 s canary and 2 s alarm periods: the alarm must see the canary's failures
    // well before the canary would end, as it would in 5 minutes in AWS.
    let stack = Stack::start(&["--time-scale", "30"]);
    let stop = Arc::new(AtomicBool::new(false));
    let posts: Arc<Mutex<Vec<Post>>> = Arc::default();
    let clients: Vec<_> = (0..3)
        .map(|_| {
            let (url, stop, posts) = (stack.url.clone(), Arc::clone(&stop), Arc::clone(&posts));
            std::thread::spawn(move || steady_traffic(&url, &stop, &posts))
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));

    // The queue URL points nowhere: every post on the new version would be a 503, with
    // no invocation error. The hook's smoke-test comment cannot be queued either: the
    // deployment fails before any traffic moves.
    let id = deploy(
        &stack,
        &json!({
            "function": "add-comments",
            "config": "Canary10Percent5Minutes",
            "environment": {"QUEUE_URL": "http://127.0.0.1:9/123456789012/nowhere"},
        }),
    );
    let caught = finished(&stack, &id);
    assert_eq!(caught["status"], "Failed", "{caught:#}");
    let caught_kinds = kinds(&caught);
    assert!(
        caught_kinds.iter().any(|k| k == "HookFailed"),
        "{caught_kinds:?}"
    );
    assert!(
        !caught_kinds.iter().any(|k| k == "TrafficShifted"),
        "{caught_kinds:?}"
    );
    assert_eq!(live_weights(&stack, "add-comments"), json!({"1": 1.0}));
    alarms_clear(&stack, "AddComments");

    // The idempotency table's name is wrong: every post with an Idempotency-Key (all of
    // the clients') fails on the new version, but the hook's smoke post has none and
    // passes. The template's alarm on add-comments' ERROR lines stops the canary.
    let started = Instant::now();
    let id = deploy(
        &stack,
        &json!({
            "function": "add-comments",
            "config": "Canary10Percent5Minutes",
            "environment": {"TABLE_NAME": "no-such-table"},
        }),
    );
    let deployment = finished(&stack, &id);
    let ended = Instant::now();
    std::thread::sleep(Duration::from_millis(500));
    stop.store(true, Ordering::Relaxed);
    for client in clients {
        client.join().unwrap();
    }

    assert_eq!(deployment["status"], "Stopped", "{deployment:#}");
    assert_eq!(deployment["from_version"], "1");
    assert_eq!(deployment["to_version"], "3");
    let kinds = kinds(&deployment);
    for kind in [
        "VersionPublished",
        "HookSucceeded",
        "TrafficShifted",
        "RollingBack",
        "RolledBack",
        "Stopped",
    ] {
        assert!(kinds.iter().any(|k| k == kind), "{kind} in {kinds:?}");
    }
    assert!(!kinds.iter().any(|k| k == "Promoted"), "{kinds:?}");
    let most_on_new = deployment["events"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["weights"]["3"].as_f64())
        .fold(0.0, f64::max);
    assert!(
        (most_on_new - 0.1).abs() < 1e-9,
        "the canary's 10 %: {most_on_new}"
    );
    assert_eq!(live_weights(&stack, "add-comments"), json!({"1": 1.0}));

    let posts = posts.lock().unwrap();
    let during: Vec<&Post> = posts
        .iter()
        .filter(|p| p.sent >= started && p.sent <= ended)
        .collect();
    let failed_first = during.iter().filter(|p| p.first_status >= 500).count();
    assert!(!during.is_empty());
    assert!(failed_first >= 1, "the canary served some posts");
    #[allow(clippy::cast_precision_loss)]
    let share = failed_first as f64 / during.len() as f64;
    // The canary's 10 %, give or take the noise of a few dozen posts.
    assert!(
        share <= 0.3,
        "{failed_first} of {} posts saw the bad version",
        during.len()
    );
    eprintln!(
        "rollback: {failed_first} of {} posts during the deployment saw the bad version ({:.0} %)",
        during.len(),
        share * 100.0
    );

    every_post_stored_once(&stack, &posts);
}

/// Every post a client made was accepted in the end, and is listed exactly once.
fn every_post_stored_once(stack: &Stack, posts: &[Post]) {
    let accepted: BTreeSet<String> = posts
        .iter()
        .map(|p| {
            p.accepted_id
                .clone()
                .expect("every post accepted in the end")
        })
        .collect();
    assert_eq!(accepted.len(), posts.len(), "one comment per key");
    let listed = wait_for(
        "every accepted comment stored",
        Duration::from_secs(30),
        || {
            let ids = stack.listed_ids();
            (ids.len() >= accepted.len()).then_some(ids)
        },
    );
    let unique: BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(unique.len(), listed.len(), "nothing stored twice");
    assert_eq!(
        unique, accepted,
        "nothing lost, and no smoke-test comment listed"
    );
}

#[test]
fn a_version_that_fails_some_invocations_is_rolled_back_and_good_changes_are_promoted_keeping_n_minus_3()
 {
    // A 10 s canary: long enough for the canary's failures to reach an alarm.
    let stack = Stack::start(&["--time-scale", "30"]);
    let status_url = format!("{}/status", stack.url);

    // 30 % of the new version's invocations fail. The hook's single request catches it
    // 30 % of the time (Failed); otherwise the canary's share of the traffic shows it to
    // the template's alarms (Stopped). Deployed until the alarms have had their turn.
    let stop = Arc::new(AtomicBool::new(false));
    let traffic = {
        let (stop, agent, url) = (Arc::clone(&stop), stack.agent.clone(), status_url.clone());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let _ = agent.get(&url).call();
            }
        })
    };
    let mut stopped_by_an_alarm = None;
    for _ in 0..6 {
        let id = deploy(
            &stack,
            &json!({"function": "status", "config": "Canary10Percent5Minutes", "faults": {"error_rate": 0.3}}),
        );
        let bad = finished(&stack, &id);
        assert_ne!(bad["status"], "Succeeded", "{bad:#}");
        assert_eq!(live_weights(&stack, "status"), json!({"1": 1.0}));
        if bad["status"] == "Stopped" {
            stopped_by_an_alarm = Some(bad);
            break;
        }
        alarms_clear(&stack, "Status");
    }
    stop.store(true, Ordering::Relaxed);
    traffic.join().unwrap();
    let bad = stopped_by_an_alarm.expect("the hook passed the faulty version at least once in 6");
    let bad_kinds = kinds(&bad);
    for kind in ["HookSucceeded", "TrafficShifted", "RolledBack"] {
        assert!(
            bad_kinds.iter().any(|k| k == kind),
            "{kind} in {bad_kinds:?}"
        );
    }
    let last = bad["events"].as_array().unwrap().last().unwrap()["message"]
        .as_str()
        .unwrap();
    assert!(last.starts_with("stopped by Status"), "{last}");

    // Once the alarms clear, good changes go out, one after another.
    alarms_clear(&stack, "Status");
    let mut promoted = Vec::new();
    for mark in 1..=5 {
        let id = deploy(
            &stack,
            &json!({"function": "status", "config": "AllAtOnce", "environment": {"RELEASE_MARK": mark.to_string()}, "faults": {"error_rate": 0.0}}),
        );
        let good = finished(&stack, &id);
        assert_eq!(
            good["status"],
            "Succeeded",
            "{good:#}\nERROR lines: {:#?}",
            stack
                .logs("function=status&level=ERROR")
                .iter()
                .rev()
                .take(3)
                .collect::<Vec<_>>()
        );
        assert!(
            kinds(&good).iter().any(|k| k == "HookSucceeded"),
            "{good:#}"
        );
        promoted.push(good["to_version"].as_str().unwrap().to_owned());
    }
    let live = promoted.last().unwrap().clone();
    assert_eq!(live_weights(&stack, "status"), json!({ live.clone(): 1.0 }));

    // Only the live version and the three before it (and $LATEST) remain.
    let versions: Vec<String> = stack.function("status")["versions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["version"].as_str().unwrap().to_owned())
        .collect();
    let live_number: u64 = live.parse().unwrap();
    let expected: Vec<String> = std::iter::once("$LATEST".to_owned())
        .chain((live_number - 3..=live_number).map(|n| n.to_string()))
        .collect();
    assert_eq!(versions, expected);

    // The same release again publishes nothing: a 409.
    let again = stack
        .agent
        .post(format!("{}/ops/api/deployments", stack.url))
        .send(json!({"function": "status", "environment": {"RELEASE_MARK": "5"}, "faults": {"error_rate": 0.0}}).to_string())
        .unwrap();
    assert_eq!(again.status().as_u16(), 409);
    let listed = stack.get("/ops/api/deployments");
    let succeeded = listed
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["status"] == "Succeeded")
        .count();
    assert_eq!(succeeded, 5, "{listed}");
    assert_eq!(listed[0]["to_version"], live.as_str());

    the_presenters_command_deploys(&stack);
    the_release_tools_drive_the_local_lambda_api(&stack);
}

/// `release prune` and `release rollback` on the stack's Lambda API, as on AWS's.
fn the_release_tools_drive_the_local_lambda_api(stack: &Stack) {
    let function = stack.function("status")["function_name"]
        .as_str()
        .unwrap()
        .to_owned();
    let release = |args: &[&str]| {
        let output = std::process::Command::new(env!("CARGO_BIN_EXE_feedback-ops"))
            .arg("release")
            .args(args)
            .args(["--endpoint", &stack.url, "--region", "eu-west-1"])
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .output()
            .unwrap();
        let out = String::from_utf8_lossy(&output.stdout).into_owned();
        assert!(
            output.status.success(),
            "{args:?}: {out}{}",
            String::from_utf8_lossy(&output.stderr)
        );
        out
    };
    // The deployments pruned as they went: nothing left to delete.
    let plan: Value = serde_json::from_str(&release(&[
        "prune",
        "--function",
        &function,
        "--dry-run",
        "--json",
    ]))
    .unwrap();
    let versions = plan["functions"][0]["versions"].as_array().unwrap();
    assert_eq!(versions.len(), 4, "{plan:#}");
    assert!(versions.iter().all(|d| d["keep"] == true), "{plan:#}");
    // Rollback: live back to the version before it.
    let live: u64 = stack.function("status")["aliases"][0]["weights"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    let out = release(&["rollback", &function]);
    assert!(
        out.contains(&format!("live {live} → {}", live - 1)),
        "{out}"
    );
    assert_eq!(
        live_weights(stack, "status"),
        json!({ (live - 1).to_string(): 1.0 })
    );
    a_rollback_stops_the_canary_in_progress(stack, &release, &function);
}

/// During a canary, `release prune` reads the deployment through the stack's CodeDeploy
/// API and `release rollback` stops it before it moves `live`.
fn a_rollback_stops_the_canary_in_progress(
    stack: &Stack,
    release: &dyn Fn(&[&str]) -> String,
    function: &str,
) {
    let id = deploy(
        stack,
        &json!({"function": "status", "config": "Canary10Percent30Minutes", "environment": {"RELEASE_MARK": "canary"}}),
    );
    let deployment = wait_for("the canary to take traffic", Duration::from_mins(1), || {
        let deployment = stack.get(&format!("/ops/api/deployments/{id}"));
        (deployment["weights"].as_object()?.len() == 2).then_some(deployment)
    });
    let (from, to) = (
        deployment["from_version"].as_str().unwrap().to_owned(),
        deployment["to_version"].as_str().unwrap().to_owned(),
    );
    let plan: Value = serde_json::from_str(&release(&[
        "prune",
        "--function",
        function,
        "--dry-run",
        "--json",
    ]))
    .unwrap();
    assert_eq!(
        plan["deployments_in_progress"],
        json!([{"id": id, "function": function, "alias": "live", "current_version": from, "target_version": to}]),
        "{plan:#}"
    );
    assert_eq!(plan["codedeploy_error"], Value::Null);

    let out = release(&["rollback", function]);
    assert!(
        out.contains(&format!("deployment {id} stopped (Stopped)"))
            && out.contains(&format!("live {from} → {from}")),
        "{out}"
    );
    assert_eq!(finished(stack, &id)["status"], "Stopped");
    assert_eq!(live_weights(stack, "status"), json!({ from: 1.0 }));
}

/// `feedback-ops release deploy`: prints the events, exits 0 on success and 2 on a
/// flag it cannot read.
fn the_presenters_command_deploys(stack: &Stack) {
    // The presenter's command: prints the events, exits 0 on success.
    let output = std::process::Command::new(env!("CARGO_BIN_EXE_feedback-ops"))
        .args([
            "release",
            "deploy",
            "status",
            "--env",
            "RELEASE_MARK=cli",
            "--config",
            "AllAtOnce",
            "--url",
            &stack.url,
        ])
        .output()
        .unwrap();
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{printed}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in ["HookSucceeded", "Promoted", "Succeeded"] {
        assert!(printed.contains(expected), "{expected} in {printed}");
    }
    let bad_flag = std::process::Command::new(env!("CARGO_BIN_EXE_feedback-ops"))
        .args([
            "release", "deploy", "status", "--fault", "speed=9", "--url", &stack.url,
        ])
        .output()
        .unwrap();
    assert_eq!(bad_flag.status.code(), Some(2));
}

#[test]
fn the_stage_canary_serves_its_share_and_the_access_log_and_metrics_say_which_served() {
    let stack = Stack::start(&["--parameter-overrides", "StageCanaryPercent=50"]);
    for _ in 0..40 {
        stack.get("/status");
    }
    let lines = wait_for("40 access log lines", Duration::from_secs(10), || {
        let lines: Vec<Value> = stack
            .logs("function=feedback-api")
            .iter()
            .filter_map(|e| serde_json::from_str::<Value>(e["message"].as_str()?).ok())
            .filter(|line| line["resourcePath"] == "/status")
            .collect();
        (lines.len() >= 40).then_some(lines)
    });
    let canary = lines.iter().filter(|l| l["canary"] == "true").count();
    assert!(
        (5..=35).contains(&canary),
        "{canary} of 40 on the 50 % canary"
    );
    assert!(
        lines
            .iter()
            .all(|l| l["status"] == "200" && l["httpMethod"] == "GET")
    );
    let stages: BTreeSet<String> = stack
        .get("/ops/api/metrics?namespace=AWS/ApiGateway&name=Count")["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["dimensions"]["Stage"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(stages, ["dev".to_owned(), "dev/Canary".to_owned()].into());
}
