//! The Lambda host: runs each function binary as Lambda runs it.
//!
//! Every execution environment is a process with its own Runtime API
//! (`AWS_LAMBDA_RUNTIME_API`): it polls `…/invocation/next`, gets an event with
//! Lambda's headers, and answers on `…/response` or `…/error`. The host writes the
//! platform lines (`START`, `END`, `REPORT` with init duration, duration, billed
//! duration and peak memory), kills a process that outlives its timeout, reports an
//! invocation whose process died as `Runtime.ExitError`, and starts a new process in
//! either case. `--concurrency N` environments serve each function.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::io::AsyncBufReadExt as _;
use tokio::sync::{mpsc, oneshot, watch};

use super::model::{ACCOUNT, FunctionSpec};
use super::telemetry::{DataPoint, LogEntry, Telemetry, now_ms, now_secs};

/// The version the running build is published as; `live` points to it.
pub const VERSION: &str = "1";

/// How long a process may take to initialise before it is killed and started again.
const INIT_TIMEOUT: Duration = Duration::from_secs(10);

/// How a function answered.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The handler's result.
    Response(Value),
    /// An invocation error: the handler's (`…/error`), a timeout, or a crashed process
    /// (`errorType`, `errorMessage`).
    Error(Value),
}

/// One invocation, as the caller sees it.
#[derive(Clone, Debug)]
pub struct Invocation {
    /// The Lambda request id.
    pub request_id: String,
    /// The answer.
    pub outcome: Outcome,
    /// How long the handler took.
    pub duration: Duration,
}

/// The trace an invocation belongs to: its root, the caller's segment, if sampled.
#[derive(Clone, Debug)]
pub struct TraceContext {
    /// `1-xxxxxxxx-yyyyyyyyyyyyyyyyyyyyyyyy`.
    pub root: String,
    /// The caller's segment or subsegment id.
    pub parent: Option<String>,
}

/// A new X-Ray trace id. (The ops kit has its own: this crate stays free of the ops
/// kit, which brings `lambda_runtime` with it.)
pub fn new_trace_id() -> String {
    let seconds = now_ms() / 1000;
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("1-{seconds:08x}-{}", &random[..24])
}

/// A new X-Ray segment id.
pub fn new_segment_id() -> String {
    uuid::Uuid::new_v4().simple().to_string()[..16].to_owned()
}

struct Job {
    event: Value,
    traces: Vec<TraceContext>,
    reply: oneshot::Sender<Invocation>,
}

/// What the console shows of one execution environment.
#[derive(Clone, Debug, Serialize)]
pub struct EnvironmentInfo {
    /// The slot, 0 to concurrency − 1.
    pub slot: usize,
    /// The process id, while there is a process.
    pub pid: Option<u32>,
    /// `initializing`, `idle`, `busy`, `restarting` or `failed`.
    pub state: &'static str,
    /// The log stream of the current process.
    pub log_stream: String,
    /// The current process's init duration.
    pub init_duration_ms: Option<f64>,
    /// Invocations the current process served.
    pub invocations: u64,
    /// How many processes this slot has started.
    pub processes_started: u64,
    /// Why the last process ended, if one did.
    pub last_exit: Option<String>,
}

/// Fault injection settings: the ops kit reads them from the environment at init.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, serde::Deserialize)]
pub struct Faults {
    /// `FAULT_INJECTION_ERROR_RATE`, 0 to 1.
    #[serde(default)]
    pub error_rate: f64,
    /// `FAULT_INJECTION_LATENCY_MS`.
    #[serde(default)]
    pub latency_ms: u64,
}

#[derive(Default)]
struct Counters {
    invocations: u64,
    errors: u64,
    init_durations_ms: Vec<f64>,
}

/// One hosted function.
pub struct FunctionHost {
    /// What the template says of it.
    pub spec: FunctionSpec,
    invoked_arn: String,
    binary: PathBuf,
    base_env: Vec<(String, String)>,
    telemetry: Telemetry,
    jobs: mpsc::Sender<Job>,
    queue: tokio::sync::Mutex<mpsc::Receiver<Job>>,
    faults: watch::Sender<Faults>,
    environments: Mutex<Vec<EnvironmentInfo>>,
    counters: Mutex<Counters>,
    stopping: watch::Sender<bool>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl FunctionHost {
    /// Prepares `spec` to run in `region` from `binary` with `base_env` (the standard
    /// and SDK variables the host sets, before the template's own).
    pub fn new(
        spec: FunctionSpec,
        region: &str,
        binary: PathBuf,
        base_env: Vec<(String, String)>,
        telemetry: Telemetry,
        concurrency: usize,
    ) -> Arc<Self> {
        let (jobs, queue) = mpsc::channel(256);
        let environments = (0..concurrency)
            .map(|slot| EnvironmentInfo {
                slot,
                pid: None,
                state: "initializing",
                log_stream: String::new(),
                init_duration_ms: None,
                invocations: 0,
                processes_started: 0,
                last_exit: None,
            })
            .collect();
        let alias = spec.alias.as_deref().unwrap_or(VERSION);
        let invoked_arn = format!(
            "arn:aws:lambda:{region}:{ACCOUNT}:function:{}:{alias}",
            spec.function_name
        );
        Arc::new(Self {
            spec,
            invoked_arn,
            binary,
            base_env,
            telemetry,
            jobs,
            queue: tokio::sync::Mutex::new(queue),
            faults: watch::Sender::new(Faults::default()),
            environments: Mutex::new(environments),
            counters: Mutex::default(),
            stopping: watch::Sender::new(false),
        })
    }

    /// Starts one supervisor per execution environment.
    pub fn start(self: &Arc<Self>) {
        let slots = lock(&self.environments).len();
        for slot in 0..slots {
            let host = Arc::clone(self);
            tokio::spawn(async move { host.supervise(slot).await });
        }
    }

    /// The ARN callers invoke: the function's alias.
    pub fn invoked_arn(&self) -> &str {
        &self.invoked_arn
    }

    /// Invokes the function and waits for its answer (invocations queue while every
    /// environment is busy). The function's trace header continues the first of
    /// `traces`; the host records the invocation's segments in each of them (a batch of
    /// queued messages can belong to several traces). No traces: not sampled.
    ///
    /// # Errors
    /// When the host is shutting down.
    pub async fn invoke(
        &self,
        event: Value,
        traces: Vec<TraceContext>,
    ) -> Result<Invocation, &'static str> {
        let (reply, answered) = oneshot::channel();
        self.jobs
            .send(Job {
                event,
                traces,
                reply,
            })
            .await
            .map_err(|_| "the host is shutting down")?;
        answered.await.map_err(|_| "the host is shutting down")
    }

    /// The execution environments now.
    pub fn environments(&self) -> Vec<EnvironmentInfo> {
        lock(&self.environments).clone()
    }

    /// Whether every environment has finished its first init, and the failures.
    pub fn readiness(&self) -> (bool, Vec<String>) {
        let environments = lock(&self.environments);
        let ready = environments.iter().all(|e| e.init_duration_ms.is_some());
        let failures = environments
            .iter()
            .filter(|e| e.state == "failed" || e.processes_started > 1)
            .filter_map(|e| e.last_exit.clone())
            .collect();
        (ready, failures)
    }

    /// The active faults.
    pub fn faults(&self) -> Faults {
        *self.faults.borrow()
    }

    /// Sets the faults; every environment restarts with them once idle (the ops kit reads
    /// them at init, as a configuration change starts new environments in Lambda).
    pub fn set_faults(&self, faults: Faults) {
        self.faults.send_replace(faults);
    }

    /// Invocation and error counts and the init durations seen.
    pub fn counters(&self) -> (u64, u64, Vec<f64>) {
        let counters = lock(&self.counters);
        (
            counters.invocations,
            counters.errors,
            counters.init_durations_ms.clone(),
        )
    }

    /// Stops every process.
    pub fn stop(&self) {
        self.stopping.send_replace(true);
    }

    fn update(&self, slot: usize, change: impl FnOnce(&mut EnvironmentInfo)) {
        if let Some(info) = lock(&self.environments).get_mut(slot) {
            change(info);
        }
    }

    /// Writes a line to the function's log group as Lambda's platform does (`START`,
    /// `REPORT`, the host's and the event source's notices).
    pub fn platform(&self, stream: &str, request_id: Option<&str>, level: &str, message: String) {
        self.telemetry.log(LogEntry {
            seq: 0,
            timestamp_ms: now_ms(),
            log_group: self.spec.log_group.clone(),
            log_stream: stream.to_owned(),
            function: self.spec.name.clone(),
            version: VERSION.to_owned(),
            source: "platform",
            level: Some(level.to_owned()),
            correlation_id: None,
            request_id: request_id.map(str::to_owned),
            message,
            json: None,
        });
    }

    fn command(&self, runtime_api: &str, log_stream: &str, xray: &str) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.binary);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TZ", ":UTC")
            .env("AWS_LAMBDA_RUNTIME_API", runtime_api)
            .env("AWS_LAMBDA_FUNCTION_NAME", &self.spec.function_name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", VERSION)
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                self.spec.memory_mb.to_string(),
            )
            .env("AWS_LAMBDA_LOG_GROUP_NAME", &self.spec.log_group)
            .env("AWS_LAMBDA_LOG_STREAM_NAME", log_stream)
            .env("AWS_LAMBDA_LOG_FORMAT", &self.spec.log_format)
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_XRAY_DAEMON_ADDRESS", xray)
            .env("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR")
            .env("_HANDLER", "bootstrap")
            .env(
                "LAMBDA_TASK_ROOT",
                self.binary.parent().unwrap_or(&self.binary),
            )
            .envs(self.base_env.iter().map(|(k, v)| (k, v)))
            .envs(&self.spec.environment);
        if let Some(level) = &self.spec.log_level {
            command.env("AWS_LAMBDA_LOG_LEVEL", level);
        }
        let faults = self.faults();
        if faults.error_rate > 0.0 {
            command.env("FAULT_INJECTION_ERROR_RATE", faults.error_rate.to_string());
        }
        if faults.latency_ms > 0 {
            command.env("FAULT_INJECTION_LATENCY_MS", faults.latency_ms.to_string());
        }
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    async fn supervise(self: Arc<Self>, slot: usize) {
        let xray = match self.xray_socket().await {
            Ok(address) => address,
            Err(error) => {
                self.update(slot, |info| {
                    info.state = "failed";
                    info.last_exit = Some(format!("no X-Ray daemon socket: {error}"));
                });
                return;
            }
        };
        let mut backoff = Duration::from_millis(250);
        let mut stopping = self.stopping.subscribe();
        // A job taken just as its process died goes to the next process.
        let mut carried = None;
        loop {
            if *stopping.borrow() {
                return;
            }
            match self.run_process(slot, &xray, &mut carried).await {
                ProcessEnd::Stopped => return,
                ProcessEnd::Replaced => backoff = Duration::from_millis(250),
                ProcessEnd::InitFailed => {
                    if let Some(job) = carried.take() {
                        let _ = job.reply.send(Invocation {
                            request_id: uuid::Uuid::new_v4().to_string(),
                            outcome: Outcome::Error(json!({
                                "errorType": "Runtime.InitError",
                                "errorMessage": "the execution environment failed to initialise",
                            })),
                            duration: Duration::ZERO,
                        });
                    }
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        _ = stopping.changed() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    async fn xray_socket(&self) -> std::io::Result<String> {
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0").await?;
        let address = socket.local_addr()?.to_string();
        tokio::spawn(super::telemetry::xray_daemon(
            socket,
            self.spec.name.clone(),
            self.telemetry.clone(),
        ));
        Ok(address)
    }

    #[allow(clippy::too_many_lines)] // one process's life, start to end, reads best whole
    async fn run_process(
        self: &Arc<Self>,
        slot: usize,
        xray: &str,
        carried: &mut Option<Job>,
    ) -> ProcessEnd {
        let runtime = match RuntimeServer::start(self.invoked_arn.clone()).await {
            Ok(runtime) => runtime,
            Err(error) => {
                self.update(slot, |info| {
                    info.state = "failed";
                    info.last_exit = Some(format!("no Runtime API port: {error}"));
                });
                return ProcessEnd::InitFailed;
            }
        };
        let log_stream = format!(
            "{}/[{VERSION}]{}",
            time::OffsetDateTime::now_utc()
                .format(time::macros::format_description!("[year]/[month]/[day]"))
                .unwrap_or_default(),
            uuid::Uuid::new_v4().simple()
        );
        let spawned_at = Instant::now();
        let mut child = match self.command(&runtime.address, &log_stream, xray).spawn() {
            Ok(child) => child,
            Err(error) => {
                let reason = format!("cannot start {}: {error}", self.binary.display());
                self.platform(&log_stream, None, "ERROR", reason.clone());
                self.update(slot, |info| {
                    info.state = "failed";
                    info.last_exit = Some(reason);
                });
                return ProcessEnd::InitFailed;
            }
        };
        let pid = child.id();
        let current_request: Arc<Mutex<Option<String>>> = Arc::default();
        let stderr_tail: Arc<Mutex<Vec<String>>> = Arc::default();
        self.capture(child.stdout.take(), &log_stream, &current_request, None);
        self.capture(
            child.stderr.take(),
            &log_stream,
            &current_request,
            Some(Arc::clone(&stderr_tail)),
        );
        self.update(slot, |info| {
            info.pid = pid;
            info.state = "initializing";
            info.log_stream.clone_from(&log_stream);
            info.init_duration_ms = None;
            info.invocations = 0;
            info.processes_started += 1;
        });
        let mut stopping = self.stopping.subscribe();
        let mut faults = self.faults.subscribe();
        faults.mark_unchanged();

        // Init: until the first poll.
        let exited = tokio::select! {
            () = runtime.state.polled.notified() => None,
            status = child.wait() => Some(status.map_or_else(|e| e.to_string(), |s| s.to_string())),
            () = tokio::time::sleep(INIT_TIMEOUT) => Some(format!("no poll within {INIT_TIMEOUT:?}: killed")),
            _ = stopping.changed() => return ProcessEnd::Stopped,
        };
        if let Some(reason) = exited {
            let _ = child.start_kill();
            let _ = child.wait().await;
            // Give the pipe readers a moment to take the last lines.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let init_error = lock(&runtime.state.init_error).clone();
            let detail = init_error
                .map(|e| e.to_string())
                .or_else(|| lock(&stderr_tail).last().cloned())
                .unwrap_or_default();
            let reason = format!("init failed ({reason}) {detail}").trim().to_owned();
            self.platform(
                &log_stream,
                None,
                "ERROR",
                format!(
                    "INIT_REPORT Init Duration: {:.2} ms\tPhase: init\tStatus: error\t{reason}",
                    ms(spawned_at.elapsed())
                ),
            );
            self.update(slot, |info| {
                info.state = "restarting";
                info.pid = None;
                info.last_exit = Some(reason);
            });
            return ProcessEnd::InitFailed;
        }
        let init = spawned_at.elapsed();
        lock(&self.counters).init_durations_ms.push(ms(init));
        self.update(slot, |info| {
            info.state = "idle";
            info.init_duration_ms = Some(ms(init));
        });
        let mut first = true;

        loop {
            let job = if let Some(job) = carried.take() {
                job
            } else {
                tokio::select! {
                    // A configuration change wins over a waiting job: the job then runs
                    // in an environment that has the new configuration.
                    biased;
                    _ = faults.changed() => {
                        let _ = child.start_kill();
                        let _ = child.wait().await;
                        self.platform(&log_stream, None, "INFO", "configuration changed (fault injection): environment replaced".to_owned());
                        self.update(slot, |info| { info.state = "restarting"; info.pid = None; info.last_exit = Some("configuration changed".into()); });
                        return ProcessEnd::Replaced;
                    }
                    _ = stopping.changed() => return ProcessEnd::Stopped,
                    job = async { self.queue.lock().await.recv().await } => match job {
                        Some(job) => job,
                        None => return ProcessEnd::Stopped,
                    },
                    status = child.wait() => {
                        let reason = format!("process exited while idle ({})", status.map_or_else(|e| e.to_string(), |s| s.to_string()));
                        self.platform(&log_stream, None, "WARN", reason.clone());
                        self.update(slot, |info| { info.state = "restarting"; info.pid = None; info.last_exit = Some(reason); });
                        return ProcessEnd::Replaced;
                    }
                }
            };
            if let Ok(Some(status)) = child.try_wait() {
                // It died between polls; as in Lambda, the invocation gets a new
                // environment rather than an error for a crash it did not cause.
                let reason = format!("process exited while idle ({status})");
                self.platform(&log_stream, None, "WARN", reason.clone());
                self.update(slot, |info| {
                    info.state = "restarting";
                    info.pid = None;
                    info.last_exit = Some(reason);
                });
                *carried = Some(job);
                return ProcessEnd::Replaced;
            }
            self.update(slot, |info| info.state = "busy");
            let request_id = uuid::Uuid::new_v4().to_string();
            *lock(&current_request) = Some(request_id.clone());
            self.platform(
                &log_stream,
                Some(&request_id),
                "INFO",
                format!("START RequestId: {request_id} Version: {VERSION}"),
            );
            let segment_id = job.traces.first().map(|_| new_segment_id());
            let trace_header = job.traces.first().map(|trace| {
                format!(
                    "Root={};Parent={};Sampled=1",
                    trace.root,
                    segment_id.as_deref().unwrap_or_default()
                )
            });
            let timeout = Duration::from_secs(u64::from(self.spec.timeout_secs));
            let deadline_ms = now_ms() + u64::try_from(timeout.as_millis()).unwrap_or(0);
            let (answer, answered) = oneshot::channel();
            *lock(&runtime.state.waiting) = Some((request_id.clone(), answer));
            let started = Instant::now();
            let started_secs = now_secs();
            let _ = runtime
                .state
                .next
                .send(RuntimeJob {
                    request_id: request_id.clone(),
                    deadline_ms,
                    trace_header,
                    event: job.event,
                })
                .await;
            let mut replace = None;
            let (outcome, status) = tokio::select! {
                answer = answered => match answer {
                    Ok(RuntimeAnswer::Response(value)) => (Outcome::Response(value), "success"),
                    Ok(RuntimeAnswer::Error(value)) => (Outcome::Error(value), "error"),
                    Err(_) => (Outcome::Error(json!({"errorType": "Runtime.Unknown", "errorMessage": "no answer"})), "error"),
                },
                status = child.wait() => {
                    let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                    let message = format!("RequestId: {request_id} Error: Runtime exited with error: {status}");
                    replace = Some(format!("process exited during an invocation ({status})"));
                    (Outcome::Error(json!({"errorType": "Runtime.ExitError", "errorMessage": message})), "error")
                }
                () = tokio::time::sleep(timeout) => {
                    let message = format!("{request_id} Task timed out after {:.2} seconds", timeout.as_secs_f64());
                    replace = Some(format!("timed out after {} s: killed", self.spec.timeout_secs));
                    (Outcome::Error(json!({"errorType": "Sandbox.Timedout", "errorMessage": message})), "timeout")
                }
            };
            let duration = started.elapsed();
            let peak_mb = pid.and_then(peak_memory_mb);
            if replace.is_some() {
                let _ = child.start_kill();
                let _ = child.wait().await;
            }
            let is_error = matches!(outcome, Outcome::Error(_));
            if let (Outcome::Error(error), Some(_)) = (&outcome, &replace) {
                self.platform(&log_stream, Some(&request_id), "ERROR", error.to_string());
            }
            self.report(
                &log_stream,
                &request_id,
                duration,
                peak_mb,
                first.then_some(init),
                status,
            );
            self.record_invocation(is_error, duration);
            let ended_secs = now_secs();
            for (i, trace) in job.traces.iter().enumerate() {
                let id = match (i, &segment_id) {
                    (0, Some(id)) => id.clone(),
                    _ => new_segment_id(),
                };
                self.record_facade(
                    trace,
                    &id,
                    &request_id,
                    started_secs,
                    ended_secs,
                    is_error,
                    first,
                );
            }
            first = false;
            *lock(&current_request) = None;
            self.update(slot, |info| {
                info.state = "idle";
                info.invocations += 1;
            });
            let _ = job.reply.send(Invocation {
                request_id,
                outcome,
                duration,
            });
            if let Some(reason) = replace {
                self.update(slot, |info| {
                    info.state = "restarting";
                    info.pid = None;
                    info.last_exit = Some(reason);
                });
                return ProcessEnd::Replaced;
            }
        }
    }

    fn report(
        &self,
        stream: &str,
        request_id: &str,
        duration: Duration,
        peak_mb: Option<u64>,
        init: Option<Duration>,
        status: &str,
    ) {
        self.platform(
            stream,
            Some(request_id),
            "INFO",
            format!("END RequestId: {request_id}"),
        );
        // Lambda bills whole milliseconds, rounded up.
        let billed = duration.as_micros().div_ceil(1000).max(1);
        let mut line = format!(
            "REPORT RequestId: {request_id}\tDuration: {:.2} ms\tBilled Duration: {billed} ms\tMemory Size: {} MB\tMax Memory Used: {} MB",
            ms(duration),
            self.spec.memory_mb,
            peak_mb.map_or_else(|| "?".to_owned(), |m| m.to_string()),
        );
        if let Some(init) = init {
            use std::fmt::Write as _;
            let _ = write!(line, "\tInit Duration: {:.2} ms", ms(init));
        }
        if status != "success" {
            use std::fmt::Write as _;
            let _ = write!(line, "\tStatus: {status}");
        }
        self.platform(
            stream,
            Some(request_id),
            if status == "success" { "INFO" } else { "ERROR" },
            line,
        );
    }

    fn record_invocation(&self, is_error: bool, duration: Duration) {
        {
            let mut counters = lock(&self.counters);
            counters.invocations += 1;
            counters.errors += u64::from(is_error);
        }
        let dimensions: BTreeMap<String, String> = [
            ("FunctionName".to_owned(), self.spec.function_name.clone()),
            ("ExecutedVersion".to_owned(), VERSION.to_owned()),
            ("function".to_owned(), self.spec.name.clone()),
        ]
        .into();
        for (name, unit, value) in [
            ("Invocations", "Count", 1.0),
            ("Errors", "Count", if is_error { 1.0 } else { 0.0 }),
            ("Duration", "Milliseconds", ms(duration)),
        ] {
            self.telemetry.record_point(DataPoint {
                timestamp_ms: now_ms(),
                namespace: "AWS/Lambda".to_owned(),
                name: name.to_owned(),
                unit: unit.to_owned(),
                dimensions: dimensions.clone(),
                values: vec![value],
                correlation_ids: Vec::new(),
            });
        }
    }

    /// The segments Lambda's service records for an invocation: the `AWS::Lambda`
    /// service segment (child of the caller) and the `AWS::Lambda::Function` segment the
    /// function's own subsegments hang from.
    #[allow(clippy::too_many_arguments)]
    fn record_facade(
        &self,
        trace: &TraceContext,
        function_segment: &str,
        request_id: &str,
        start: f64,
        end: f64,
        is_error: bool,
        cold_start: bool,
    ) {
        let service_segment = new_segment_id();
        let mut service = json!({
            "trace_id": trace.root,
            "id": service_segment,
            "name": self.spec.function_name,
            "origin": "AWS::Lambda",
            "start_time": start,
            "end_time": end,
            "aws": {"request_id": request_id, "resource_arn": self.invoked_arn()},
        });
        if let Some(parent) = &trace.parent {
            service["parent_id"] = json!(parent);
        }
        let function = json!({
            "trace_id": trace.root,
            "id": function_segment,
            "parent_id": service_segment,
            "name": self.spec.function_name,
            "origin": "AWS::Lambda::Function",
            "start_time": start,
            "end_time": end,
            "fault": is_error,
            "aws": {
                "function": self.spec.name,
                "function_arn": self.invoked_arn(),
                "function_version": VERSION,
                "request_id": request_id,
                "cold_start": cold_start,
            },
        });
        self.telemetry.record_segment("host", service);
        self.telemetry.record_segment("host", function);
    }

    fn capture(
        self: &Arc<Self>,
        pipe: Option<impl tokio::io::AsyncRead + Unpin + Send + 'static>,
        stream: &str,
        current_request: &Arc<Mutex<Option<String>>>,
        tail: Option<Arc<Mutex<Vec<String>>>>,
    ) {
        let Some(pipe) = pipe else { return };
        let host = Arc::clone(self);
        let stream = stream.to_owned();
        let current_request = Arc::clone(current_request);
        tokio::spawn(async move {
            let mut lines = tokio::io::BufReader::new(pipe).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                if let Some(tail) = &tail {
                    let mut tail = lock(tail);
                    if tail.len() == 20 {
                        tail.remove(0);
                    }
                    tail.push(line.clone());
                }
                host.telemetry.log(LogEntry {
                    seq: 0,
                    timestamp_ms: now_ms(),
                    log_group: host.spec.log_group.clone(),
                    log_stream: stream.clone(),
                    function: host.spec.name.clone(),
                    version: VERSION.to_owned(),
                    source: "function",
                    level: None,
                    correlation_id: None,
                    request_id: lock(&current_request).clone(),
                    message: line,
                    json: None,
                });
            }
        });
    }
}

enum ProcessEnd {
    Stopped,
    Replaced,
    InitFailed,
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

/// The process's peak resident memory (`VmHWM`), MB rounded up, as Lambda reports it.
fn peak_memory_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb.div_ceil(1024))
}

struct RuntimeJob {
    request_id: String,
    deadline_ms: u64,
    trace_header: Option<String>,
    event: Value,
}

enum RuntimeAnswer {
    Response(Value),
    Error(Value),
}

struct RuntimeState {
    invoked_arn: String,
    next: mpsc::Sender<RuntimeJob>,
    queue: tokio::sync::Mutex<mpsc::Receiver<RuntimeJob>>,
    waiting: Mutex<Option<(String, oneshot::Sender<RuntimeAnswer>)>>,
    polled: tokio::sync::Notify,
    init_error: Mutex<Option<Value>>,
}

/// One process's Runtime API; the server stops when this is dropped.
struct RuntimeServer {
    address: String,
    state: Arc<RuntimeState>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeServer {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl RuntimeServer {
    async fn start(invoked_arn: String) -> std::io::Result<Self> {
        let (next, queue) = mpsc::channel(1);
        let state = Arc::new(RuntimeState {
            invoked_arn,
            next,
            queue: tokio::sync::Mutex::new(queue),
            waiting: Mutex::default(),
            polled: tokio::sync::Notify::new(),
            init_error: Mutex::default(),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(invocation_response),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(invocation_error),
            )
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(Arc::clone(&state));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            address,
            state,
            server,
        })
    }
}

async fn next_invocation(State(state): State<Arc<RuntimeState>>) -> (HeaderMap, String) {
    state.polled.notify_one();
    let job = state.queue.lock().await.recv().await;
    let Some(job) = job else {
        // The environment is going away; the process is killed while it waits.
        std::future::pending::<()>().await;
        unreachable!()
    };
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", &job.request_id);
    set("lambda-runtime-deadline-ms", &job.deadline_ms.to_string());
    set("lambda-runtime-invoked-function-arn", &state.invoked_arn);
    if let Some(trace) = &job.trace_header {
        set("lambda-runtime-trace-id", trace);
    }
    (headers, job.event.to_string())
}

async fn invocation_response(
    State(state): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    answer(&state, &id, RuntimeAnswer::Response(json_or_text(body)))
}

async fn invocation_error(
    State(state): State<Arc<RuntimeState>>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    answer(&state, &id, RuntimeAnswer::Error(json_or_text(body)))
}

async fn init_error(State(state): State<Arc<RuntimeState>>, body: String) -> StatusCode {
    *lock(&state.init_error) = Some(json_or_text(body));
    StatusCode::ACCEPTED
}

/// A body the function posted: JSON as sent, anything else as a string.
fn json_or_text(body: String) -> Value {
    serde_json::from_str(&body).unwrap_or(Value::String(body))
}

fn answer(state: &RuntimeState, id: &str, answer: RuntimeAnswer) -> StatusCode {
    let mut waiting = lock(&state.waiting);
    match waiting.take() {
        Some((expected, sender)) if expected == id => {
            let _ = sender.send(answer);
            StatusCode::ACCEPTED
        }
        other => {
            *waiting = other;
            StatusCode::BAD_REQUEST
        }
    }
}
