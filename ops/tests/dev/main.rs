//! End to end: `feedback-ops dev` started as a process on free ports, against the test
//! binary's moto server, driven over HTTP as a presenter's browser or `curl` would.
//!
//! Each test runs its own stack (its own stack name, so its own table and queues) with a
//! short visibility timeout, so redeliveries take seconds, not the template's 90.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod alarms;
mod backend_faults;
mod dlq;
mod lambda_api;
mod load;
mod releases;
mod schemathesis;

use std::collections::{BTreeSet, HashMap};
use std::io::BufRead as _;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_sqs::types::QueueAttributeName;
use serde_json::{Value, json};

/// A running `feedback-ops dev`, stopped (SIGTERM, then SIGKILL) when dropped.
struct Stack {
    child: Child,
    url: String,
    output: Arc<Mutex<Vec<String>>>,
    agent: ureq::Agent,
}

fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into()
}

fn template() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../template.yaml").to_owned()
}

fn bin_dir() -> String {
    feedback_tests::function_binaries()["add-comments"]
        .parent()
        .unwrap()
        .display()
        .to_string()
}

fn dev_command(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_feedback-ops"));
    command.arg("dev").args(args);
    command
}

impl Stack {
    fn start(extra: &[&str]) -> Self {
        let stack_name = format!("e2e-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let endpoint = feedback_tests::moto().endpoint.clone();
        let template = template();
        let bin_dir = bin_dir();
        let mut args = vec![
            "--port",
            "0",
            "--template",
            &template,
            "--endpoint",
            &endpoint,
            "--stack-name",
            &stack_name,
            "--bin-dir",
            &bin_dir,
        ];
        if !extra.contains(&"--visibility-timeout") {
            args.extend(["--visibility-timeout", "2"]);
        }
        args.extend_from_slice(extra);
        Self::spawn(&args)
    }

    fn spawn(args: &[&str]) -> Self {
        let mut child = dev_command(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start feedback-ops dev");
        let output: Arc<Mutex<Vec<String>>> = Arc::default();
        let (ready, url) = std::sync::mpsc::channel();
        let stdout = child.stdout.take().unwrap();
        let sink = Arc::clone(&output);
        std::thread::spawn(move || {
            // Read to the end: the stack must never block on a full pipe.
            for line in std::io::BufReader::new(stdout)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(rest) = line.strip_prefix("ready: ") {
                    let _ = ready.send(rest.split_whitespace().next().unwrap_or("").to_owned());
                }
                sink.lock().unwrap().push(line);
            }
        });
        let url = url
            .recv_timeout(Duration::from_mins(1))
            .unwrap_or_else(|error| {
                panic!(
                    "no ready line ({error}; its stderr is above):\n{}",
                    output.lock().unwrap().join("\n")
                )
            });
        Self {
            child,
            url,
            output,
            agent: agent(),
        }
    }

    fn get(&self, path: &str) -> Value {
        let mut response = self
            .agent
            .get(format!("{}{path}", self.url))
            .call()
            .unwrap();
        assert!(
            response.status().is_success(),
            "GET {path}: {}",
            response.status()
        );
        response.body_mut().read_json().unwrap()
    }

    fn post_comment(&self, text: &str, correlation_id: Option<&str>) -> (u16, Value) {
        let mut request = self
            .agent
            .post(format!("{}/comments", self.url))
            .header("content-type", "application/json");
        if let Some(id) = correlation_id {
            request = request.header("x-correlation-id", id);
        }
        let mut response = request
            .send(json!({"text": text, "rating": 4}).to_string())
            .unwrap();
        let status = response.status().as_u16();
        (
            status,
            response.body_mut().read_json().unwrap_or(Value::Null),
        )
    }

    fn put_faults(&self, function: &str, faults: &Value) -> Value {
        let mut response = self
            .agent
            .put(format!("{}/ops/api/functions/{function}/faults", self.url))
            .send(faults.to_string())
            .unwrap();
        assert!(response.status().is_success(), "{}", response.status());
        response.body_mut().read_json().unwrap()
    }

    /// Every comment id in the list, page by page.
    fn listed_ids(&self) -> Vec<String> {
        let mut ids = Vec::new();
        let mut path = "/comments?limit=100".to_owned();
        loop {
            let page = self.get(&path);
            ids.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|item| item["id"].as_str().unwrap().to_owned()),
            );
            match page["next_cursor"].as_str() {
                Some(cursor) => path = format!("/comments?limit=100&cursor={cursor}"),
                None => return ids,
            }
        }
    }

    fn logs(&self, query: &str) -> Vec<Value> {
        self.get(&format!("/ops/api/logs?limit=5000&{query}"))["entries"]
            .as_array()
            .unwrap()
            .clone()
    }

    fn function(&self, name: &str) -> Value {
        self.get("/ops/api/functions")
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .cloned()
            .unwrap()
    }

    fn pids(&self) -> Vec<u32> {
        self.get("/ops/api/functions")
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|f| f["environments"].as_array().unwrap().clone())
            .filter_map(|e| e["pid"].as_u64())
            .map(|p| u32::try_from(p).unwrap())
            .collect()
    }

    fn output(&self) -> String {
        self.output.lock().unwrap().join("\n")
    }

    fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .args([signal, &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `check` every 100 ms until it gives a value.
fn wait_for<T>(what: &str, timeout: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = Instant::now() + timeout;
    loop {
        if let Some(value) = check() {
            return value;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn alive(pid: u32) -> bool {
    std::path::Path::new(&format!("/proc/{pid}")).exists()
        && !std::fs::read_to_string(format!("/proc/{pid}/stat"))
            .unwrap_or_default()
            .contains(") Z ")
}

#[test]
fn fifty_comments_are_stored_and_listed_once_and_one_correlation_id_runs_through_it_all() {
    let stack = Stack::start(&[]);
    let correlation_id = format!("e2e-{}", uuid::Uuid::new_v4());
    let mut posted = BTreeSet::new();
    for i in 0..50 {
        let id = (i == 0).then_some(correlation_id.as_str());
        let (status, body) = stack.post_comment(&format!("comment {i}"), id);
        assert_eq!(status, 202, "{body}");
        posted.insert(body["id"].as_str().unwrap().to_owned());
    }
    let listed = wait_for("all 50 listed", Duration::from_secs(30), || {
        let ids = stack.listed_ids();
        (ids.len() >= 50).then_some(ids)
    });
    let unique: BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(unique.len(), listed.len(), "a comment is listed twice");
    assert_eq!(unique, posted);

    // Logs: both functions wrote lines with the id.
    let logs = stack.logs(&format!("correlation_id={correlation_id}"));
    let functions: BTreeSet<&str> = logs
        .iter()
        .map(|e| e["function"].as_str().unwrap())
        .collect();
    assert!(
        functions.contains("add-comments") && functions.contains("push-to-db"),
        "{functions:?}"
    );

    assert_one_trace_from_the_api_to_the_table(&stack, &correlation_id);

    // Metrics: the EMF lines of both functions carry it.
    let metrics = stack.get(&format!("/ops/api/metrics?correlation_id={correlation_id}"));
    let names: BTreeSet<&str> = metrics["series"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains("CommentsAccepted") && names.contains("CommentsStored"),
        "{names:?}"
    );

    // The host's REPORT lines, one per invocation, with the init duration once per
    // environment.
    let reports = stack.logs("function=add-comments&text=REPORT%20RequestId");
    assert_eq!(reports.len(), 50);
    let with_init = reports
        .iter()
        .filter(|r| r["message"].as_str().unwrap().contains("Init Duration"))
        .count();
    assert!((1..=2).contains(&with_init), "{with_init}");
    assert!(
        reports[0]["message"]
            .as_str()
            .unwrap()
            .contains("Memory Size: 256 MB")
    );
}

/// Exactly one trace has the correlation id, and it runs from the API stage through
/// add-comments, the queue and push-to-db to the table write.
fn assert_one_trace_from_the_api_to_the_table(stack: &Stack, correlation_id: &str) {
    let traces = stack.get(&format!("/ops/api/traces?correlation_id={correlation_id}"));
    let traces = traces.as_array().unwrap();
    assert_eq!(traces.len(), 1, "{traces:?}");
    let trace = stack.get(&format!(
        "/ops/api/traces/{}",
        traces[0]["id"].as_str().unwrap()
    ));
    // Every document of the trace, the stack's own (the stage, Lambda, the queue) and
    // the functions' subsegments, as AWS's schema has it.
    let documents: Vec<Value> = trace["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["document"].clone())
        .collect();
    feedback_tests::assert_xray_schema(&documents);
    let spans = trace["spans"].as_array().unwrap();
    let by_id: HashMap<&str, &Value> = spans
        .iter()
        .map(|s| (s["id"].as_str().unwrap(), s))
        .collect();
    let ancestors = |span: &Value| {
        let mut chain = Vec::new();
        let mut current = span;
        while let Some(parent) = current["parent_id"].as_str().and_then(|p| by_id.get(p)) {
            chain.push(parent["origin"].as_str().unwrap_or("").to_owned());
            current = parent;
        }
        chain
    };
    let put_item = spans
        .iter()
        .find(|s| s["name"] == "DynamoDB" && s["source"] == "push-to-db")
        .unwrap_or_else(|| panic!("no DynamoDB call from push-to-db in {spans:#?}"));
    assert!(
        put_item["aws"]["table_name"]
            .as_str()
            .unwrap()
            .ends_with("CommentsTable")
    );
    assert!(
        ancestors(put_item).contains(&"AWS::ApiGateway::Stage".to_owned()),
        "the table write is not under the API request"
    );
    let push_function = spans
        .iter()
        .find(|s| s["origin"] == "AWS::Lambda::Function" && s["aws"]["function"] == "push-to-db")
        .expect("push-to-db's function segment is in the trace");
    let chain = ancestors(push_function);
    assert_eq!(
        chain,
        [
            "AWS::Lambda",
            "AWS::SQS::Queue",
            "",
            "AWS::Lambda::Function",
            "AWS::Lambda",
            "AWS::ApiGateway::Stage"
        ],
        "push-to-db ← queue ← enqueue ← add-comments ← API"
    );
}

#[test]
fn a_poison_message_is_in_the_dead_letter_queue_after_one_receive_with_its_reason() {
    let stack = Stack::start(&[]);
    let info = stack.get("/ops/api/stack");
    let queue_url = info["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["redrive"].is_object())
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let dlq_url = info["queues"]
        .as_array()
        .unwrap()
        .iter()
        .find(|q| q["redrive"].is_null())
        .unwrap()["url"]
        .as_str()
        .unwrap()
        .to_owned();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let sqs = runtime.block_on(async {
        let config =
            local_cloud::backend::sdk_config(&feedback_tests::moto().endpoint, "eu-west-1").await;
        aws_sdk_sqs::Client::new(&config)
    });
    runtime
        .block_on(
            sqs.send_message()
                .queue_url(&queue_url)
                .message_body("{not a comment")
                .send(),
        )
        .unwrap();
    // push-to-db sends it there itself, on its first receive: well within the 2 s
    // visibility timeout a second receive would need.
    let moved = wait_for("the poison in the DLQ", Duration::from_secs(15), || {
        let received = runtime
            .block_on(
                sqs.receive_message()
                    .queue_url(&dlq_url)
                    .message_system_attribute_names(
                        aws_sdk_sqs::types::MessageSystemAttributeName::All,
                    )
                    .message_attribute_names("All")
                    .send(),
            )
            .unwrap();
        received.messages.unwrap_or_default().into_iter().next()
    });
    assert_eq!(moved.body(), Some("{not a comment"));
    let reason = moved
        .message_attributes()
        .and_then(|a| a.get(feedback::FAILURE_REASON_ATTRIBUTE))
        .and_then(|v| v.string_value());
    assert_eq!(reason, Some("the message body is not a valid comment"));
    wait_for(
        "deleted from the comments queue",
        Duration::from_secs(10),
        || {
            let attributes = runtime
                .block_on(
                    sqs.get_queue_attributes()
                        .queue_url(&queue_url)
                        .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
                        .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
                        .send(),
                )
                .unwrap()
                .attributes
                .unwrap_or_default();
            let depth: u64 = attributes
                .values()
                .filter_map(|n| n.parse::<u64>().ok())
                .sum();
            (depth == 0).then_some(())
        },
    );
    let rejections = wait_for(
        "the poison-message warning",
        Duration::from_secs(10),
        || {
            let lines = stack.logs("function=push-to-db&level=WARN&text=poison-message");
            (!lines.is_empty()).then_some(lines)
        },
    );
    assert_eq!(rejections.len(), 1, "one receive, one rejection");
    // And a good comment still goes through.
    let (status, body) = stack.post_comment("after the poison", None);
    assert_eq!(status, 202);
    let id = body["id"].as_str().unwrap().to_owned();
    wait_for("the good comment listed", Duration::from_secs(15), || {
        stack.listed_ids().contains(&id).then_some(())
    });
}

#[test]
fn full_fault_injection_on_push_to_db_shows_errors_and_loses_nothing() {
    // Five seconds before a failed message comes back (an injected fault fails the
    // invocation, so push-to-db sets no delay of its own): time to see the errors and
    // switch the fault off long before a tenth receive sends it to the DLQ.
    let stack = Stack::start(&["--visibility-timeout", "5"]);
    let active = stack.put_faults("push-to-db", &json!({"error_rate": 1.0}));
    assert_eq!(active["error_rate"], 1.0);
    wait_for(
        "push-to-db restarted with the fault",
        Duration::from_secs(10),
        || {
            (stack
                .logs("function=push-to-db&level=WARN&text=fault-injection")
                .len()
                >= 2)
                .then_some(())
        },
    );
    let mut posted = BTreeSet::new();
    for i in 0..5 {
        let (status, body) = stack.post_comment(&format!("during the fault {i}"), None);
        assert_eq!(status, 202, "add-comments is not affected");
        posted.insert(body["id"].as_str().unwrap().to_owned());
    }
    wait_for(
        "errors in logs and metrics",
        Duration::from_secs(10),
        || {
            let errors = stack.logs("function=push-to-db&level=ERROR&text=injected");
            let metrics = stack.get("/ops/api/metrics?name=InvocationErrors");
            let lambda_errors = stack.get("/ops/api/metrics?namespace=AWS/Lambda&name=Errors");
            let lambda_errors: f64 = lambda_errors["series"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|s| s["dimensions"]["function"] == "push-to-db")
                .flat_map(|s| s["points"].as_array().unwrap().clone())
                .map(|p| p[1].as_f64().unwrap())
                .sum();
            (!errors.is_empty()
                && !metrics["series"].as_array().unwrap().is_empty()
                && lambda_errors >= 1.0)
                .then_some(())
        },
    );
    assert!(
        stack.listed_ids().is_empty(),
        "nothing is stored while it fails"
    );
    let off = stack.put_faults("push-to-db", &json!({"error_rate": 0.0}));
    assert_eq!(off["error_rate"], 0.0);
    let listed = wait_for("every comment stored", Duration::from_secs(30), || {
        let ids: BTreeSet<String> = stack.listed_ids().into_iter().collect();
        (ids.len() >= posted.len()).then_some(ids)
    });
    assert_eq!(listed, posted, "nothing lost, nothing twice");
}

#[test]
fn a_killed_process_is_replaced_and_an_invocation_it_was_serving_is_an_error() {
    let stack = Stack::start(&["--concurrency", "1"]);
    let before = stack.function("add-comments");
    let pid = before["environments"][0]["pid"].as_u64().unwrap();
    // Killed while idle: the host starts a new environment, and requests are served.
    Command::new("kill")
        .args(["-KILL", &pid.to_string()])
        .status()
        .unwrap();
    let after = wait_for(
        "a new add-comments process",
        Duration::from_secs(10),
        || {
            let function = stack.function("add-comments");
            let environment = &function["environments"][0];
            (environment["processes_started"] == 2 && environment["state"] == "idle")
                .then_some(function)
        },
    );
    let (status, _) = stack.post_comment("after the kill", None);
    assert_eq!(status, 202);
    assert_eq!(after["environments"][0]["processes_started"], 2);
    assert_ne!(
        after["environments"][0]["pid"],
        before["environments"][0]["pid"]
    );
    assert!(
        after["environments"][0]["last_exit"]
            .as_str()
            .unwrap()
            .contains("signal: 9"),
        "{after}"
    );

    // Killed during an invocation: that invocation fails as Lambda reports it.
    stack.put_faults("get-all-comments", &json!({"latency_ms": 3000}));
    wait_for(
        "get-all-comments restarted",
        Duration::from_secs(10),
        || {
            (stack.function("get-all-comments")["environments"][0]["state"] == "idle"
                && stack.function("get-all-comments")["environments"][0]["processes_started"] == 2)
                .then_some(())
        },
    );
    let url = format!("{}/comments", stack.url);
    let request = std::thread::spawn(move || {
        let mut response = agent().get(&url).call().unwrap();
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap(),
        )
    });
    let busy_pid = wait_for("the invocation running", Duration::from_secs(5), || {
        let environment = stack.function("get-all-comments")["environments"][0].clone();
        (environment["state"] == "busy").then(|| environment["pid"].as_u64().unwrap())
    });
    Command::new("kill")
        .args(["-KILL", &busy_pid.to_string()])
        .status()
        .unwrap();
    let (status, body) = request.join().unwrap();
    assert_eq!(status, 502, "{body}");
    assert!(body.contains("Internal server error"));
    let exit = stack.logs("function=get-all-comments&text=Runtime.ExitError");
    assert_eq!(exit.len(), 1, "{exit:?}");
    stack.put_faults("get-all-comments", &json!({}));
    wait_for(
        "get-all-comments serving again",
        Duration::from_secs(10),
        || {
            let response = agent().get(format!("{}/comments", stack.url)).call().ok()?;
            (response.status() == 200).then_some(())
        },
    );
}

#[test]
fn a_stuck_invocation_times_out_after_the_templates_timeout_and_the_next_is_served() {
    let stack = Stack::start(&["--concurrency", "1"]);
    // The template gives status 10 s; 11 s of injected latency outlives it.
    stack.put_faults("status", &json!({"latency_ms": 11_000}));
    wait_for("status restarted", Duration::from_secs(10), || {
        (stack.function("status")["environments"][0]["processes_started"] == 2
            && stack.function("status")["environments"][0]["state"] == "idle")
            .then_some(())
    });
    let started = Instant::now();
    let mut response = stack
        .agent
        .get(format!("{}/status", stack.url))
        .call()
        .unwrap();
    assert_eq!(response.status(), 502);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_secs(10) && waited < Duration::from_secs(12),
        "{waited:?}"
    );
    let _ = response.body_mut().read_to_string();
    let timeouts = stack.logs("function=status&text=Task%20timed%20out");
    assert_eq!(timeouts.len(), 1);
    let report = stack.logs("function=status&text=Status:%20timeout");
    assert_eq!(report.len(), 1, "the REPORT line says timeout");
    stack.put_faults("status", &json!({}));
    wait_for("status serving again", Duration::from_secs(10), || {
        let response = agent().get(format!("{}/status", stack.url)).call().ok()?;
        (response.status() == 200).then_some(())
    });
}

#[test]
fn the_gateway_answers_like_api_gateway() {
    let stack = Stack::start(&[]);
    let agent = agent();
    // No route: API Gateway's 403.
    let mut response = agent.get(format!("{}/nowhere", stack.url)).call().unwrap();
    assert_eq!(response.status(), 403);
    assert_eq!(
        response.body_mut().read_json::<Value>().unwrap()["message"],
        "Missing Authentication Token"
    );
    // The stage prefix reaches the same route, and path parameters are passed.
    let (_, body) = stack.post_comment("staged", None);
    let id = body["id"].as_str().unwrap();
    let response = agent
        .get(format!("{}/dev/status/{id}", stack.url))
        .call()
        .unwrap();
    assert!(
        matches!(response.status().as_u16(), 200 | 404),
        "{}",
        response.status()
    );
    // A body that is not UTF-8 reaches the function (base64) and gets its 400.
    let mut response = agent
        .post(format!("{}/comments", stack.url))
        .header("content-type", "application/json")
        .send(&[0xff_u8, 0xfe, 0x00][..])
        .unwrap();
    assert_eq!(response.status(), 400);
    let problem: Value = response.body_mut().read_json().unwrap();
    assert!(problem["type"].is_string(), "{problem}");
    // Over API Gateway's 10 MB limit: 413 before any function runs.
    let big = vec![b'a'; 10 * 1024 * 1024 + 1];
    let response = agent
        .post(format!("{}/comments", stack.url))
        .header("content-type", "application/json")
        .send(&big[..])
        .unwrap();
    assert_eq!(response.status(), 413);
    // Metrics can be asked from a time on: the console polls only what is new.
    assert!(
        !stack.get("/ops/api/metrics")["series"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    let future = stack.get("/ops/api/metrics?since_ms=99999999999999");
    assert!(future["series"].as_array().unwrap().is_empty(), "{future}");
    // The feedback page, with a policy that lets no injected script run.
    let response = agent.get(format!("{}/", stack.url)).call().unwrap();
    assert_eq!(response.status(), 200);
    assert!(
        response.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    let policy = response.headers()["content-security-policy"]
        .to_str()
        .unwrap();
    assert!(policy.contains("default-src 'self'"), "{policy}");
    assert!(policy.contains("frame-ancestors 'none'"), "{policy}");
    assert_eq!(response.headers()["x-frame-options"], "DENY");
    // A page on another host name (DNS rebinding) can neither read nor change anything.
    for (method, path) in [
        ("GET", "/ops/api/logs"),
        ("PUT", "/ops/api/functions/push-to-db/faults"),
        ("GET", "/ops"),
        ("GET", "/comments"),
    ] {
        let request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", stack.url))
            .header("host", "rebound.example:3000")
            .body(String::from(r#"{"error_rate": 1}"#))
            .unwrap();
        let response = agent.run(request).unwrap();
        assert_eq!(response.status(), 403, "{method} {path}");
    }
    assert_eq!(stack.function("push-to-db")["faults"]["error_rate"], 0.0);
    // The ops API says what it does not have.
    let response = agent
        .get(format!("{}/ops/api/nothing", stack.url))
        .call()
        .unwrap();
    assert_eq!(response.status(), 404);
    let response = agent
        .get(format!("{}/ops/api/logs?limit=many", stack.url))
        .call()
        .unwrap();
    assert_eq!(response.status(), 400);
    let mut response = agent
        .put(format!("{}/ops/api/functions/push-to-db/faults", stack.url))
        .send(r#"{"error_rate": 2}"#)
        .unwrap();
    assert_eq!(response.status(), 400);
    let _ = response.body_mut().read_to_string();
    let response = agent
        .put(format!("{}/ops/api/functions/nope/faults", stack.url))
        .send("{}")
        .unwrap();
    assert_eq!(response.status(), 404);
}

#[test]
fn ctrl_c_stops_every_process_it_started() {
    // Without --endpoint: the stack starts its own moto, and must stop it too.
    let template = template();
    let bin_dir = bin_dir();
    let stack = Stack::spawn(&[
        "--port",
        "0",
        "--template",
        &template,
        "--bin-dir",
        &bin_dir,
        "--quiet",
    ]);
    let mut pids = stack.pids();
    assert_eq!(pids.len(), 8, "four functions, two environments each");
    pids.push(u32::try_from(stack.get("/ops/api/stack")["moto_pid"].as_u64().unwrap()).unwrap());
    assert!(pids.iter().all(|pid| alive(*pid)));
    stack.signal("-INT");
    wait_for("every process gone", Duration::from_secs(10), || {
        pids.iter().all(|pid| !alive(*pid)).then_some(())
    });
    let mut stack = stack;
    let status = wait_for("feedback-ops exits", Duration::from_secs(10), || {
        stack.child.try_wait().unwrap()
    });
    assert!(status.success(), "{status}\n{}", stack.output());
}

#[test]
fn a_taken_port_and_a_missing_moto_are_one_line_errors() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let template = template();
    let output = dev_command(&["--port", &port, "--template", &template])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(
        stderr.contains(&format!("port {port} is taken")),
        "{stderr}"
    );
    assert!(stderr.contains("--port"), "{stderr}");

    // A template in a directory with no .venv: no moto to start.
    let directory = std::env::temp_dir().join(format!("no-moto-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&directory).unwrap();
    std::fs::copy(&template, directory.join("template.yaml")).unwrap();
    let copied = directory.join("template.yaml").display().to_string();
    let bin_dir = bin_dir();
    let output = dev_command(&["--port", "0", "--template", &copied, "--bin-dir", &bin_dir])
        .output()
        .unwrap();
    std::fs::remove_dir_all(&directory).unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("moto is not installed"), "{stderr}");
    assert!(stderr.contains("make demo"), "{stderr}");
}
