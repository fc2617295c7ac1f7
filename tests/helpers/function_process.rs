//! Function binaries run as Lambda runs them: a process with Lambda's environment,
//! polling a [`RuntimeApi`], its stdout captured line by line.

use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use serde_json::Value;
use tokio::io::AsyncBufReadExt as _;

use crate::runtime_api::{Answer, RuntimeApi};

/// The four functions, by crate (and binary) name.
pub const FUNCTIONS: [&str; 4] = ["add-comments", "get-all-comments", "push-to-db", "status"];

/// The function binaries, built once per test run with the cargo that runs the tests,
/// so they are never stale. Their paths come from cargo's own build messages.
///
/// # Panics
/// When the build fails: cargo's diagnostics are on stderr.
pub fn function_binaries() -> &'static HashMap<String, PathBuf> {
    static BINARIES: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    // `--workspace` as `make build-functions` has it: the same feature unification, so
    // after that step this build has nothing to do.
    BINARIES.get_or_init(|| build_binaries(&["--workspace", "--bins"]))
}

/// Runs `cargo build` with `args` and returns the binaries it produced, by name, from
/// cargo's own build messages (so the target directory and profile are cargo's).
///
/// # Panics
/// When the build fails: cargo's diagnostics are on stderr.
pub fn build_binaries(args: &[&str]) -> HashMap<String, PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(cargo)
        .arg("build")
        .args(args)
        .args(["--quiet", "--message-format=json-render-diagnostics"])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .stderr(Stdio::inherit())
        .output()
        .expect("run cargo build");
    assert!(
        output.status.success(),
        "cargo build {args:?} failed (see above)"
    );
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter_map(|message| {
            let name = message["target"]["name"].as_str()?.to_owned();
            let executable = message["executable"].as_str()?;
            Some((name, PathBuf::from(executable)))
        })
        .collect()
}

/// A running function process and its Runtime API.
pub struct FunctionProcess {
    /// The Runtime API the process polls.
    pub api: RuntimeApi,
    /// When the process was started: with [`RuntimeApi::first_poll`], its init time.
    pub spawned_at: std::time::Instant,
    child: tokio::process::Child,
    stdout: Arc<Mutex<Vec<String>>>,
}

/// The ARN a function is invoked through in these tests: its `live` alias.
pub fn invoked_arn(function: &str) -> String {
    format!("arn:aws:lambda:eu-west-1:123456789012:function:{function}:live")
}

impl FunctionProcess {
    /// Starts `function` with Lambda's standard variables, moto's endpoint and test
    /// credentials, and `env` (what the template would set). Nothing else is inherited.
    ///
    /// # Panics
    /// When the binary cannot be started.
    pub async fn start(function: &str, moto_endpoint: &str, env: &[(&str, &str)]) -> Self {
        Self::start_binary(&function_binaries()[function], function, moto_endpoint, env).await
    }

    /// Starts any Lambda binary as `function`, as [`FunctionProcess::start`] does.
    ///
    /// # Panics
    /// When the binary cannot be started.
    pub async fn start_binary(
        binary: &std::path::Path,
        function: &str,
        moto_endpoint: &str,
        env: &[(&str, &str)],
    ) -> Self {
        let api = RuntimeApi::start(&invoked_arn(function)).await;
        let mut command = tokio::process::Command::new(binary);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("AWS_LAMBDA_RUNTIME_API", &api.address)
            .env("AWS_LAMBDA_FUNCTION_NAME", function)
            .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
            .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "128")
            .env(
                "AWS_LAMBDA_LOG_GROUP_NAME",
                format!("/aws/lambda/{function}"),
            )
            .env("AWS_LAMBDA_LOG_STREAM_NAME", "2026/11/28/[1]test")
            .env("AWS_REGION", "eu-west-1")
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_ENDPOINT_URL", moto_endpoint)
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let spawned_at = Instant::now();
        let mut child = command.spawn().expect("start the function binary");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let mut lines =
            tokio::io::BufReader::new(child.stdout.take().expect("piped stdout")).lines();
        let sink = Arc::clone(&stdout);
        tokio::spawn(async move {
            while let Ok(Some(line)) = lines.next_line().await {
                sink.lock().expect("log sink").push(line);
            }
        });
        Self {
            api,
            spawned_at,
            child,
            stdout,
        }
    }

    /// Invokes the function with `event`; returns the request id and the answer.
    pub async fn invoke(&self, event: Value) -> (String, Answer) {
        self.api.invoke(event, Duration::from_secs(30)).await
    }

    /// Every stdout line so far.
    pub fn stdout(&self) -> Vec<String> {
        self.stdout.lock().expect("log sink").clone()
    }

    /// Every EMF line so far (JSON lines with an `_aws` member).
    pub fn emf_lines(&self) -> Vec<Value> {
        self.stdout()
            .iter()
            .filter_map(|line| serde_json::from_str::<Value>(line).ok())
            .filter(|line| line.get("_aws").is_some())
            .collect()
    }

    /// Waits up to 5 s for a JSON log line for which `matches` is true.
    ///
    /// # Panics
    /// When none appears: the message lists what was printed.
    pub async fn wait_for_log(&self, matches: impl Fn(&Value) -> bool) -> Value {
        let deadline = Instant::now() + Duration::from_secs(5);
        loop {
            let found = self
                .stdout()
                .iter()
                .filter_map(|line| serde_json::from_str::<Value>(line).ok())
                .find(|line| matches(line));
            if let Some(line) = found {
                return line;
            }
            assert!(
                Instant::now() < deadline,
                "no such log line in:\n{}",
                self.stdout().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Waits for the process to exit (it should, on a configuration error) and returns
    /// its exit status and stderr.
    ///
    /// # Panics
    /// When it is still running after 10 s.
    pub async fn exit(mut self) -> (std::process::ExitStatus, String) {
        let status = tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .expect("the process exits")
            .expect("wait for the process");
        let mut stderr = String::new();
        if let Some(mut pipe) = self.child.stderr.take() {
            let _ = tokio::io::AsyncReadExt::read_to_string(&mut pipe, &mut stderr).await;
        }
        (status, stderr)
    }
}
