//! A function's real binary run as Lambda runs it, on the local cloud's Runtime API and
//! with the environment the local cloud gives it; its stdout kept line by line for the
//! test to read.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use local_cloud::cloudformation::FunctionSpec;
use local_cloud::lambda::{LambdaEnvironment, RuntimeAnswer, RuntimeApi, RuntimeEvent, read_lines};
use ops_wire::trace::{SegmentId, TraceId};
use serde_json::Value;

/// How a function answered one invocation.
pub type Answer = RuntimeAnswer;

/// The version a single test process says it is (`AWS_LAMBDA_FUNCTION_VERSION`), as
/// a first deploy's alias points to version 1.
pub(crate) const VERSION: &str = "1";

/// The four functions, by crate (and binary) name.
pub const FUNCTIONS: [&str; 4] = ["add-comments", "get-all-comments", "push-to-db", "status"];

/// The region of every test stack.
pub const REGION: &str = "eu-west-1";

/// The function binaries, built once per test run with the cargo that runs the tests,
/// so they are never stale.
///
/// # Panics
/// When the build fails: cargo's diagnostics are on stderr.
pub fn function_binaries() -> &'static HashMap<String, PathBuf> {
    static BINARIES: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    // `--workspace` as `make build-functions` has it: the same feature unification, so
    // after that step this build has nothing to do.
    BINARIES.get_or_init(|| build_binaries(&["--workspace", "--bins"]))
}

/// `cargo build` with `args` (quietly); the binaries it produced, by name.
///
/// # Panics
/// When the build fails: cargo's diagnostics are on stderr.
pub fn build_binaries(args: &[&str]) -> HashMap<String, PathBuf> {
    let mut args = args.to_vec();
    args.push("--quiet");
    local_cloud::lambda::cargo_build(Path::new(env!("CARGO_MANIFEST_DIR")), &args)
        .unwrap_or_else(|error| panic!("cargo build {args:?}: {error}"))
}

/// The ARN a function is invoked through in tests that run it by its crate name.
pub fn invoked_arn(function: &str) -> String {
    local_cloud::lambda::invoked_arn(REGION, function, Some("live"))
}

/// A running function process and its Runtime API.
pub struct FunctionProcess {
    api: RuntimeApi,
    /// When the process was started: with [`FunctionProcess::first_poll`], its init time.
    pub spawned_at: Instant,
    invoked_arn: String,
    timeout: Duration,
    sampled: AtomicBool,
    child: tokio::process::Child,
    stdout: Arc<Mutex<Vec<String>>>,
}

impl FunctionProcess {
    /// Starts `spec`'s binary with the template's configuration for it (memory, log
    /// group and format, its environment) and `extra` variables, against `endpoint`.
    ///
    /// # Panics
    /// When the binary cannot be started.
    pub async fn start_spec(
        spec: &FunctionSpec,
        region: &str,
        endpoint: &str,
        extra: &[(&str, &str)],
    ) -> Self {
        Self::start_spec_binary(
            spec,
            &function_binaries()[&spec.binary],
            region,
            endpoint,
            extra,
        )
        .await
    }

    /// [`FunctionProcess::start_spec`] with another build of the function's binary (a
    /// release or size-optimised one, for the benchmarks).
    ///
    /// # Panics
    /// When the binary cannot be started.
    pub async fn start_spec_binary(
        spec: &FunctionSpec,
        binary: &Path,
        region: &str,
        endpoint: &str,
        extra: &[(&str, &str)],
    ) -> Self {
        let mut variables: Vec<(String, String)> = spec
            .environment
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        variables.extend(owned(extra));
        let environment = LambdaEnvironment {
            memory_mb: spec.memory_mb,
            log_group: spec.log_group.clone(),
            log_format: spec.log_format.clone(),
            log_level: spec.log_level.clone(),
            ..lambda_environment(binary, &spec.function_name, region, endpoint, variables)
        };
        let invoked_arn =
            local_cloud::lambda::invoked_arn(region, &spec.function_name, spec.alias.as_deref());
        Self::launch(
            environment,
            invoked_arn,
            Duration::from_secs(u64::from(spec.timeout_secs)),
        )
        .await
    }

    /// Starts `function`'s binary with nothing of the template: Lambda's variables, the
    /// endpoint and test credentials, and exactly `env`.
    ///
    /// # Panics
    /// When the binary cannot be started.
    pub async fn start(function: &str, endpoint: &str, env: &[(&str, &str)]) -> Self {
        Self::start_binary(&function_binaries()[function], function, endpoint, env).await
    }

    /// Starts any Lambda binary as `function`, as [`FunctionProcess::start`] does.
    ///
    /// # Panics
    /// When the binary cannot be started.
    pub async fn start_binary(
        binary: &Path,
        function: &str,
        endpoint: &str,
        env: &[(&str, &str)],
    ) -> Self {
        let environment = lambda_environment(binary, function, REGION, endpoint, owned(env));
        Self::launch(environment, invoked_arn(function), Duration::from_secs(30)).await
    }

    async fn launch(
        mut environment: LambdaEnvironment,
        invoked_arn: String,
        timeout: Duration,
    ) -> Self {
        let api = RuntimeApi::start(&invoked_arn)
            .await
            .expect("a loopback port for the Runtime API");
        api.address().clone_into(&mut environment.runtime_api);
        let spawned_at = Instant::now();
        let mut child = environment
            .command()
            .spawn()
            .expect("start the function binary");
        let stdout = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&stdout);
        read_lines(child.stdout.take(), move |line| {
            sink.lock().expect("log sink").push(line);
        });
        Self {
            api,
            spawned_at,
            invoked_arn,
            timeout,
            sampled: AtomicBool::new(true),
            child,
            stdout,
        }
    }

    /// The ARN the process is invoked through.
    pub fn invoked_arn(&self) -> &str {
        &self.invoked_arn
    }

    /// Whether the trace headers of the next invocations say `Sampled=1` (the default).
    pub fn set_sampled(&self, sampled: bool) {
        self.sampled.store(sampled, Ordering::Relaxed);
    }

    /// When the function first asked for an invocation: the end of its init phase.
    ///
    /// # Panics
    /// When it has not asked within `timeout`, or exited first: the message has its
    /// exit status and what it wrote to stderr (a missing variable, say).
    pub async fn first_poll(&mut self, timeout: Duration) -> Instant {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(at) = self.api.first_poll() {
                return at;
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                let mut stderr = String::new();
                if let Some(mut pipe) = self.child.stderr.take() {
                    let _ = tokio::io::AsyncReadExt::read_to_string(&mut pipe, &mut stderr).await;
                }
                panic!("the function exited before it polled ({status}): {stderr}");
            }
            assert!(Instant::now() < deadline, "the function never polled");
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    /// Invokes the function with `event`, in a new trace; returns the request id and the
    /// answer.
    ///
    /// # Panics
    /// When no answer comes within 30 s.
    pub async fn invoke(&self, event: Value) -> (String, Answer) {
        let request_id = uuid::Uuid::new_v4().to_string();
        let sampled = u8::from(self.sampled.load(Ordering::Relaxed));
        let deadline =
            local_cloud::clock::now_ms() + u64::try_from(self.timeout.as_millis()).unwrap_or(0);
        let answered = self
            .api
            .invoke(RuntimeEvent {
                request_id: request_id.clone(),
                invoked_arn: None,
                deadline_ms: deadline,
                trace_header: Some(format!(
                    "Root={};Parent={};Sampled={sampled}",
                    TraceId::generate(),
                    SegmentId::generate()
                )),
                payload: event,
            })
            .await;
        let answer = tokio::time::timeout(Duration::from_secs(30), answered)
            .await
            .unwrap_or_else(|_| panic!("no answer to invocation {request_id} within 30 s"))
            .expect("the Runtime API keeps the answer channel");
        (request_id, answer)
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
            .filter(|line| line.get(ops_wire::emf::METADATA_MEMBER).is_some())
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

/// Lambda's environment for `binary` as `function` against `endpoint`, with the test
/// credentials, then `variables`; the rest as an unconfigured function has it (128 MB,
/// `/aws/lambda/<function>`, JSON logs). The Runtime API's address is filled in at launch.
fn lambda_environment(
    binary: &Path,
    function: &str,
    region: &str,
    endpoint: &str,
    variables: Vec<(String, String)>,
) -> LambdaEnvironment {
    let mut all = local_cloud::backend::function_env(endpoint, region);
    all.extend(variables);
    LambdaEnvironment {
        binary: binary.to_owned(),
        function_name: function.to_owned(),
        version: VERSION.to_owned(),
        memory_mb: 128,
        log_group: format!("/aws/lambda/{function}"),
        log_stream: local_cloud::lambda::log_stream_name(VERSION),
        log_format: "JSON".to_owned(),
        log_level: None,
        runtime_api: String::new(),
        xray_daemon: None,
        variables: all,
    }
}

fn owned(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}
