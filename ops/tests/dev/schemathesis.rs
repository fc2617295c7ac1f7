//! The running API against its contract: Schemathesis (installed by `make test` into
//! `.tools/schemathesis`, pinned in `tools/requirements-schemathesis.txt`) generates
//! requests from `openapi.yaml`, valid and invalid, sends them to a local stack and
//! checks every answer: no 5xx, only documented statuses, media types, bodies and
//! headers, and invalid input always refused. `tools/schemathesis.toml` holds the
//! settings that have no flag (no example database or cache from an earlier run, the
//! statuses that count as refusing invalid input).
//!
//! A fixed seed and example count keep the run reproducible and about half a minute
//! long. The stateful phase follows the spec's links (a post's id to
//! `GET /status/{id}`, `next_cursor` to the next page), so stored comments are
//! checked too.
//!
//! Not checked: a method the spec does not list (Schemathesis' `unsupported_method`
//! wants `405`; API Gateway answers `403 Missing Authentication Token`, and so does the
//! local stack), and the CORS preflight, which is not an operation of the spec (API
//! Gateway answers it from the template's `Cors`; the local stack does not).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use super::Stack;

/// Every check that compares an answer with the spec, plus no 5xx ever and invalid
/// input always refused.
const CHECKS: &str = "not_a_server_error,status_code_conformance,content_type_conformance,\
                      response_schema_conformance,response_headers_conformance,\
                      negative_data_rejection";

/// Test cases per operation and phase: about 700 requests in all.
const MAX_EXAMPLES: &str = "50";

/// Any fixed seed: the same requests on every run, so a failure in CI can be replayed.
const SEED: &str = "20261202";

/// Far above a run's half minute: only a hung run gets near it.
const DEADLINE: Duration = Duration::from_mins(10);

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The pinned Schemathesis CLI; a missing one fails the test, never skips it.
fn schemathesis() -> PathBuf {
    let st = root().join(".tools/schemathesis/bin/st");
    assert!(
        st.is_file(),
        "{} is missing: run `make test`, which installs Schemathesis (pinned in \
         tools/requirements-schemathesis.txt) before it runs the tests, or \
         `make .tools/schemathesis/bin/st` to install it alone",
        st.display()
    );
    st
}

#[test]
fn the_running_api_keeps_the_contract_of_openapi_yaml() {
    let st = schemathesis();
    let stack = Stack::start(&[]);
    // Schemathesis writes `.hypothesis/` where it runs: not into the checkout.
    let workdir = tempfile::tempdir().unwrap();
    let log = workdir.path().join("schemathesis.log");
    let file = std::fs::File::create(&log).unwrap();
    let started = Instant::now();
    let mut child = Command::new(&st)
        .current_dir(workdir.path())
        .arg("--config-file")
        .arg(root().join("tools/schemathesis.toml"))
        .arg("--no-color")
        .arg("run")
        .arg(root().join("openapi.yaml"))
        .args(["--url", &stack.url])
        .args(["--checks", CHECKS])
        .args(["--phases", "examples,coverage,fuzzing,stateful"])
        .args(["--max-examples", MAX_EXAMPLES, "--seed", SEED])
        .args(["--workers", "1", "--request-timeout", "30"])
        .stdin(Stdio::null())
        .stdout(file.try_clone().unwrap())
        .stderr(file)
        .spawn()
        .unwrap_or_else(|e| panic!("{}: {e}", st.display()));
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break Some(status);
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(200));
    };
    let output = std::fs::read_to_string(&log).unwrap_or_default();
    // `Operations: 4 selected / 4 total`, `652 generated, 652 passed`, and the last line.
    let mut summary: Vec<String> = output
        .lines()
        .map(str::trim)
        .filter(|line| line.starts_with("Operations:") || line.contains(" generated, "))
        .map(|line| line.split_whitespace().collect::<Vec<_>>().join(" "))
        .collect();
    summary.extend(
        output
            .lines()
            .rev()
            .map(|line| line.trim_matches(['=', ' ']).to_owned())
            .find(|line| !line.is_empty()),
    );
    let summary = summary.join("; ");
    eprintln!(
        "schemathesis: {summary} ({:.0} s)",
        started.elapsed().as_secs_f64()
    );
    let ended = status.map_or_else(
        || format!("stopped after {} s", DEADLINE.as_secs()),
        |status| status.to_string(),
    );
    // The stack's last lines: a crashed function or a failed start shows there.
    let stack_output = stack.output();
    let stack_tail: Vec<&str> = stack_output.lines().rev().take(40).collect();
    assert!(
        status.is_some_and(|s| s.success()),
        "Schemathesis: the running API does not keep openapi.yaml ({ended}). Each failure \
         below has a curl line: replay it against `make demo` (port 3000) to see the \
         answer.\n{output}\n\nthe stack's last lines:\n{}",
        stack_tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
}
