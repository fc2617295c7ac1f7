//! `feedback-ops load` against a local stack: 500 comments from eight clients under the
//! chaos schedule (push-to-db failures, killed processes, backend faults where the stack
//! has the proxy) are each stored exactly once, and the tool's own accounting agrees
//! with a listing made here; a remote `--url` with `--chaos`, and a URL nobody answers,
//! are one-line errors.

use std::collections::BTreeSet;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use super::{Stack, agent};

fn load(args: &[&str]) -> (Option<i32>, String, String) {
    let output = Command::new(env!("CARGO_BIN_EXE_feedback-ops"))
        .arg("load")
        .args(args)
        .output()
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn five_hundred_comments_under_chaos_are_each_stored_exactly_once() {
    let stack = Stack::start(&[]);
    let started = Instant::now();
    let (code, stdout, stderr) = load(&[
        "--url",
        &stack.url,
        "--comments",
        "500",
        "--clients",
        "8",
        "--chaos",
        "--json",
    ]);
    let took = started.elapsed();
    let report: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("not one JSON object ({e}):\n{stdout}\nstderr:\n{stderr}"));
    assert_eq!(code, Some(0), "{report:#}\nstderr:\n{stderr}");
    assert_eq!(report["comments"], 500, "{report:#}");
    assert_eq!(report["accepted"], 500, "{report:#}");
    assert_eq!(report["rejected"], 0, "{report:#}");
    assert_eq!(report["lost"], 0, "{report:#}");
    assert_eq!(report["duplicates"], 0, "{report:#}");
    assert_eq!(
        report["stored"].as_u64().unwrap() + report["dead_lettered"].as_u64().unwrap(),
        500,
        "{report:#}"
    );
    // A transient failure is retried with back-off, never dead-lettered.
    assert_eq!(report["dead_lettered"], 0, "{report:#}");
    assert_eq!(report["drained"], true, "{report:#}");
    for figure in ["post_ms", "stored_ms"] {
        for p in ["p50", "p90", "p99"] {
            assert!(
                report[figure][p].as_f64().unwrap() > 0.0,
                "{figure}.{p}: {report:#}"
            );
        }
    }
    assert!(report["accepted_per_s"].as_f64().unwrap() > 0.0);

    let chaos = report["chaos"].as_array().unwrap();
    let did = |kind: &str, target: Option<&str>| {
        chaos.iter().any(|event| {
            event["kind"] == kind
                && event["ok"] == true
                && target.is_none_or(|t| event["target"] == t)
        })
    };
    assert!(did("fault_on", Some("push-to-db")), "{chaos:#?}");
    assert!(did("kill", None), "{chaos:#?}");
    // Every fault it injected is gone.
    assert_eq!(
        stack.function("push-to-db")["faults"]["error_rate"],
        0.0,
        "{chaos:#?}"
    );
    let backend = agent()
        .get(format!("{}/ops/api/backend/faults", stack.url))
        .call()
        .unwrap();
    if backend.status() == 200 {
        let mut backend = backend;
        let faults: Value = backend.body_mut().read_json().unwrap();
        for rate in ["throttle_rate", "error_rate"] {
            assert!(
                faults[rate].as_f64().unwrap_or(0.0) == 0.0,
                "the backend fault is still on: {faults}"
            );
        }
    }

    // The tool's accounting against a listing of our own: 500 items, 500 ids, each
    // text once.
    let run = report["run_id"].as_str().unwrap();
    let texts: Vec<String> = listed_texts(&stack)
        .into_iter()
        .filter(|text| text.starts_with(&format!("load {run} ")))
        .collect();
    assert_eq!(texts.len(), 500, "listed");
    assert_eq!(
        texts.iter().collect::<BTreeSet<_>>().len(),
        500,
        "each once"
    );
    assert!(took < Duration::from_secs(100), "the run took {took:?}");
}

/// Every listed comment's text, page by page.
fn listed_texts(stack: &Stack) -> Vec<String> {
    let mut texts = Vec::new();
    let mut path = "/comments?limit=100".to_owned();
    loop {
        let page = stack.get(&path);
        texts.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|item| item["text"].as_str().unwrap().to_owned()),
        );
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/comments?limit=100&cursor={cursor}"),
            None => return texts,
        }
    }
}

#[test]
fn chaos_off_this_machine_and_an_unreachable_url_are_one_line_errors() {
    let (code, stdout, stderr) = load(&[
        "--url",
        "https://abc123.execute-api.eu-west-1.amazonaws.com/prod",
        "--chaos",
    ]);
    assert_eq!(code, Some(2), "{stdout}{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.contains("--chaos needs the local stack"), "{stderr}");
    assert!(stdout.is_empty(), "{stdout}");

    // A port nobody listens on.
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    for chaos in [false, true] {
        let mut args = vec!["--url", url.as_str(), "--comments", "5"];
        if chaos {
            args.push("--chaos");
        }
        let (code, stdout, stderr) = load(&args);
        assert_eq!(code, Some(2), "{stdout}{stderr}");
        assert_eq!(stderr.lines().count(), 1, "{stderr}");
        assert!(stderr.contains("no API answers"), "{stderr}");
        assert!(stderr.contains("make demo"), "{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
    }

    // Not a URL at all, and a usage error: clap's exit 2.
    let (code, _, stderr) = load(&["--url", "127.0.0.1:3000"]);
    assert_eq!(code, Some(2), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    let (code, _, _) = load(&["--comments", "0"]);
    assert_eq!(code, Some(2));
}
