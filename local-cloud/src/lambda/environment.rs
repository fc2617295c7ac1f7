//! One execution environment's life, as Lambda runs it: spawn the process on its own
//! Runtime API, time its init (spawn to first poll), hand it one invocation at a time
//! with Lambda's headers, kill it when an invocation outlives the timeout
//! (`Sandbox.Timedout`), fail the invocation whose process died (`Runtime.ExitError`),
//! write `START`/`END`/`REPORT`, record `AWS/Lambda` metrics and Lambda's segments, and
//! start a new process when one ends or the configuration (fault injection) changes.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use ops_wire::trace::{SegmentId, TraceId};
use serde_json::json;

use super::host::{
    EnvironmentState, FunctionHost, INIT_TIMEOUT, Invocation, Job, Outcome, TraceContext, lock,
};
use super::platform::{self, InvocationStatus, Report, ms};
use super::process::{LambdaEnvironment, log_stream_name, peak_memory_mb, read_lines};
use super::runtime_api::{RuntimeAnswer, RuntimeApi, RuntimeEvent};
use super::segments::{InvocationTrace, facade};
use crate::clock::{now_ms, now_secs};
use crate::cloudwatch::{LogEntry, LogSource};
use crate::xray::{SegmentSource, XrayDaemon};

impl FunctionHost {
    fn environment(&self, runtime_api: &str, log_stream: &str, xray: &str) -> LambdaEnvironment {
        let mut variables = self.base_env.clone();
        variables.extend(
            self.spec
                .environment
                .iter()
                .map(|(k, v)| (k.clone(), v.clone())),
        );
        variables.extend(
            self.faults()
                .env_vars()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v)),
        );
        LambdaEnvironment {
            binary: self.binary.clone(),
            function_name: self.spec.function_name.clone(),
            version: self.version.clone(),
            memory_mb: self.spec.memory_mb,
            log_group: self.spec.log_group.clone(),
            log_stream: log_stream.to_owned(),
            log_format: self.spec.log_format.clone(),
            log_level: self.spec.log_level.clone(),
            runtime_api: runtime_api.to_owned(),
            xray_daemon: Some(xray.to_owned()),
            variables,
        }
    }

    pub(super) async fn supervise(self: Arc<Self>, slot: usize) {
        let xray = match XrayDaemon::bind().await {
            Ok(daemon) => {
                let address = daemon.address().to_owned();
                let source = SegmentSource::Function(self.spec.name.clone());
                let traces = self.observers.traces.clone();
                let stopping = self.stopping.clone();
                tokio::spawn(async move {
                    tokio::select! {
                        () = daemon.run(source, traces) => {}
                        () = stopping.cancelled() => {}
                    }
                });
                address
            }
            Err(error) => {
                self.ended(
                    slot,
                    EnvironmentState::Failed,
                    format!("no X-Ray daemon socket: {error}"),
                );
                return;
            }
        };
        let mut backoff = Duration::from_millis(250);
        // A job taken just as its process died goes to the next process.
        let mut carried = None;
        while !self.stopping.is_cancelled() {
            match self.run_process(slot, &xray, &mut carried).await {
                ProcessEnd::Stopped => return,
                ProcessEnd::Replaced => backoff = Duration::from_millis(250),
                // A process that dies before it serves anything would otherwise be
                // restarted in a tight loop; a job it left stays for the next one.
                ProcessEnd::DiedBeforeServing => {
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = self.stopping.cancelled() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
                ProcessEnd::InitFailed => {
                    if let Some(job) = carried.take() {
                        let _ = job.reply.send(Invocation {
                            request_id: uuid::Uuid::new_v4().to_string(),
                            executed_version: self.version.clone(),
                            outcome: Outcome::Error(json!({
                                "errorType": "Runtime.InitError",
                                "errorMessage": "the execution environment failed to initialise",
                            })),
                            duration: Duration::ZERO,
                        });
                    }
                    tokio::select! {
                        () = tokio::time::sleep(backoff) => {}
                        () = self.stopping.cancelled() => return,
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(30));
                }
            }
        }
    }

    /// One process's life, from spawn to exit.
    async fn run_process(
        self: &Arc<Self>,
        slot: usize,
        xray: &str,
        carried: &mut Option<Job>,
    ) -> ProcessEnd {
        // Subscribed before the environment is read: a change from now on, even during
        // init, replaces this process.
        let mut faults = self.faults.subscribe();
        faults.mark_unchanged();
        let mut process = match self.spawn(slot, xray).await {
            Ok(process) => process,
            Err(reason) => {
                self.ended(slot, EnvironmentState::Failed, reason);
                return ProcessEnd::InitFailed;
            }
        };
        let init = match self.init(slot, &mut process).await {
            Ok(init) => init,
            Err(end) => return end,
        };
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
                        process.kill().await;
                        self.platform(&process.log_stream, None, "INFO", "configuration changed (fault injection): environment replaced".to_owned());
                        self.ended(slot, EnvironmentState::Restarting, "configuration changed".into());
                        return ProcessEnd::Replaced;
                    }
                    () = self.stopping.cancelled() => return process.stop().await,
                    job = async { self.queue.lock().await.recv().await } => match job {
                        Some(job) => job,
                        None => return process.stop().await,
                    },
                    status = process.child.wait() => {
                        let reason = format!("process exited while idle ({})", status.map_or_else(|e| e.to_string(), |s| s.to_string()));
                        self.platform(&process.log_stream, None, "WARN", reason.clone());
                        self.ended(slot, EnvironmentState::Restarting, reason);
                        return died_idle(first);
                    }
                }
            };
            if let Ok(Some(status)) = process.child.try_wait() {
                // It died between polls; as in Lambda, the invocation gets a new
                // environment rather than an error for a crash it did not cause.
                let reason = format!("process exited while idle ({status})");
                self.platform(&process.log_stream, None, "WARN", reason.clone());
                self.ended(slot, EnvironmentState::Restarting, reason);
                *carried = Some(job);
                return died_idle(first);
            }
            self.update(slot, |info| info.state = EnvironmentState::Busy);
            let replaced = self
                .invoke_once(&mut process, job, first.then_some(init))
                .await;
            first = false;
            self.update(slot, |info| {
                info.state = EnvironmentState::Idle;
                info.invocations += 1;
            });
            if let Some(reason) = replaced {
                self.ended(slot, EnvironmentState::Restarting, reason);
                return ProcessEnd::Replaced;
            }
        }
    }

    /// Starts a process on a new Runtime API, its output captured into the log group.
    async fn spawn(self: &Arc<Self>, slot: usize, xray: &str) -> Result<Process, String> {
        let runtime = RuntimeApi::start(&self.invoked_arn)
            .await
            .map_err(|error| format!("no Runtime API port: {error}"))?;
        let log_stream = log_stream_name(&self.version);
        let spawned_at = Instant::now();
        let mut child = self
            .environment(runtime.address(), &log_stream, xray)
            .command()
            .spawn()
            .map_err(|error| {
                let reason = format!("cannot start {}: {error}", self.binary.display());
                self.platform(&log_stream, None, "ERROR", reason.clone());
                reason
            })?;
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
            info.state = EnvironmentState::Initializing;
            info.log_stream.clone_from(&log_stream);
            info.init_duration_ms = None;
            info.invocations = 0;
            info.processes_started += 1;
        });
        Ok(Process {
            runtime,
            child,
            pid,
            log_stream,
            spawned_at,
            current_request,
            stderr_tail,
        })
    }

    /// Waits for the first poll: the init duration, or how the process ended instead.
    async fn init(&self, slot: usize, process: &mut Process) -> Result<Duration, ProcessEnd> {
        let exited = tokio::select! {
            () = process.runtime.polled() => None,
            status = process.child.wait() => Some(status.map_or_else(|e| e.to_string(), |s| s.to_string())),
            () = tokio::time::sleep(INIT_TIMEOUT) => Some(format!("no poll within {INIT_TIMEOUT:?}: killed")),
            () = self.stopping.cancelled() => None,
        };
        if self.stopping.is_cancelled() {
            process.kill().await;
            return Err(ProcessEnd::Stopped);
        }
        if let Some(reason) = exited {
            process.kill().await;
            // Give the pipe readers a moment to take the last lines.
            tokio::time::sleep(Duration::from_millis(50)).await;
            let detail = process
                .runtime
                .init_error()
                .map(|e| e.to_string())
                .or_else(|| lock(&process.stderr_tail).last().cloned())
                .unwrap_or_default();
            let reason = format!("init failed ({reason}) {detail}").trim().to_owned();
            self.platform(
                &process.log_stream,
                None,
                "ERROR",
                platform::init_failed_line(process.spawned_at.elapsed(), &reason),
            );
            self.ended(slot, EnvironmentState::Restarting, reason);
            return Err(ProcessEnd::InitFailed);
        }
        let init = process.spawned_at.elapsed();
        lock(&self.counters).init_durations_ms.push(ms(init));
        self.update(slot, |info| {
            info.state = EnvironmentState::Idle;
            info.init_duration_ms = Some(ms(init));
        });
        Ok(init)
    }

    /// Runs one invocation in `process`: the platform lines, the timeout, the metrics
    /// and segments, the answer to the caller. `init` is the process's init duration
    /// on its first invocation. Returns why the process must be replaced, if it must.
    async fn invoke_once(
        &self,
        process: &mut Process,
        job: Job,
        init: Option<Duration>,
    ) -> Option<String> {
        let request_id = uuid::Uuid::new_v4().to_string();
        *lock(&process.current_request) = Some(request_id.clone());
        let stream = process.log_stream.clone();
        self.platform(
            &stream,
            Some(&request_id),
            "INFO",
            platform::start_line(&request_id, &self.version),
        );
        let function_segment = SegmentId::generate().to_string();
        let trace_header = trace_header(job.traces.first(), &function_segment);
        let timeout = Duration::from_secs(u64::from(self.spec.timeout_secs));
        let started = Instant::now();
        let started_secs = now_secs();
        let answered = process
            .runtime
            .invoke(RuntimeEvent {
                request_id: request_id.clone(),
                invoked_arn: Some(job.invoked_arn.clone()),
                deadline_ms: now_ms() + u64::try_from(timeout.as_millis()).unwrap_or(0),
                trace_header: Some(trace_header),
                payload: job.event,
            })
            .await;
        let mut replace = None;
        let (outcome, status) = tokio::select! {
            answer = answered => match answer {
                Ok(RuntimeAnswer::Response(value)) => (Outcome::Response(value), InvocationStatus::Success),
                Ok(RuntimeAnswer::Error(value)) => (Outcome::Error(value), InvocationStatus::Error),
                Err(_) => (Outcome::Error(json!({"errorType": "Runtime.Unknown", "errorMessage": "no answer"})), InvocationStatus::Error),
            },
            status = process.child.wait() => {
                let status = status.map_or_else(|e| e.to_string(), |s| s.to_string());
                replace = Some(format!("process exited during an invocation ({status})"));
                (Outcome::Error(json!({"errorType": "Runtime.ExitError", "errorMessage": platform::exit_error_message(&request_id, &status)})), InvocationStatus::Error)
            }
            () = tokio::time::sleep(timeout) => {
                replace = Some(format!("timed out after {} s: killed", self.spec.timeout_secs));
                (Outcome::Error(json!({"errorType": "Sandbox.Timedout", "errorMessage": platform::timed_out_message(&request_id, timeout)})), InvocationStatus::Timeout)
            }
        };
        let duration = started.elapsed();
        let peak_mb = process.pid.and_then(peak_memory_mb);
        if replace.is_some() {
            process.kill().await;
        }
        let is_error = matches!(outcome, Outcome::Error(_));
        if let (Outcome::Error(error), Some(_)) = (&outcome, &replace) {
            self.platform(&stream, Some(&request_id), "ERROR", error.to_string());
        }
        self.finish(
            &stream,
            &job.invoked_arn,
            &Report {
                request_id: &request_id,
                duration,
                memory_mb: self.spec.memory_mb,
                peak_mb,
                init,
                status,
            },
        );
        let ended_secs = now_secs();
        for (i, trace) in job.traces.iter().enumerate() {
            let id = if i == 0 {
                function_segment.clone()
            } else {
                SegmentId::generate().to_string()
            };
            let documents = facade(&InvocationTrace {
                root: &trace.root,
                parent: trace.parent.as_deref(),
                function_segment: &id,
                function_name: &self.spec.function_name,
                function: &self.spec.name,
                invoked_arn: &job.invoked_arn,
                version: &self.version,
                request_id: &request_id,
                start: started_secs,
                end: ended_secs,
                is_error,
                cold_start: init.is_some(),
            });
            for document in documents.into_iter().flatten() {
                self.observers.traces.put(SegmentSource::Service, document);
            }
        }
        *lock(&process.current_request) = None;
        let _ = job.reply.send(Invocation {
            request_id,
            executed_version: self.version.clone(),
            outcome,
            duration,
        });
        replace
    }

    /// The end of an invocation as Lambda records it: `END`, `REPORT`, the counters and
    /// the `AWS/Lambda` metrics.
    fn finish(&self, stream: &str, invoked_arn: &str, report: &Report<'_>) {
        let request_id = Some(report.request_id);
        self.platform(
            stream,
            request_id,
            "INFO",
            platform::end_line(report.request_id),
        );
        self.platform(
            stream,
            request_id,
            report.status.level(),
            platform::report_line(report),
        );
        let is_error = report.status != InvocationStatus::Success;
        {
            let mut counters = lock(&self.counters);
            counters.invocations += 1;
            counters.errors += u64::from(is_error);
        }
        super::metrics::record_invocation(
            &self.observers.cloudwatch.metrics,
            &super::metrics::Invoked {
                function_name: &self.spec.function_name,
                function: &self.spec.name,
                arn: invoked_arn,
                version: &self.version,
            },
            is_error,
            report.duration,
        );
    }

    fn capture(
        self: &Arc<Self>,
        pipe: Option<impl tokio::io::AsyncRead + Unpin + Send + 'static>,
        stream: &str,
        current_request: &Arc<Mutex<Option<String>>>,
        tail: Option<Arc<Mutex<Vec<String>>>>,
    ) {
        let host = Arc::clone(self);
        let stream = stream.to_owned();
        let current_request = Arc::clone(current_request);
        read_lines(pipe, move |line| {
            if let Some(tail) = &tail {
                let mut tail = lock(tail);
                if tail.len() == 20 {
                    tail.remove(0);
                }
                tail.push(line.clone());
            }
            let mut entry = LogEntry::new(
                &host.spec.name,
                &host.version,
                &host.spec.log_group,
                &stream,
                LogSource::Function,
                line,
            );
            entry.request_id.clone_from(&lock(&current_request));
            host.observers.cloudwatch.put_log(entry);
        });
    }
}

/// The `Lambda-Runtime-Trace-Id` of an invocation: the caller's trace, continued from
/// the function segment, sampled; with no trace, a new one that is not sampled (so the
/// function sends nothing, as in Lambda).
fn trace_header(trace: Option<&TraceContext>, function_segment: &str) -> String {
    match trace {
        Some(trace) => format!("Root={};Parent={function_segment};Sampled=1", trace.root),
        None => format!(
            "Root={};Parent={};Sampled=0",
            TraceId::generate(),
            SegmentId::generate()
        ),
    }
}

/// One execution environment's process and its Runtime API.
struct Process {
    runtime: RuntimeApi,
    child: tokio::process::Child,
    pid: Option<u32>,
    log_stream: String,
    spawned_at: Instant,
    /// The request the process is serving, for the lines it writes meanwhile.
    current_request: Arc<Mutex<Option<String>>>,
    /// Its last stderr lines, for the reason of a failed init.
    stderr_tail: Arc<Mutex<Vec<String>>>,
}

impl Process {
    /// Kills and reaps the process.
    async fn kill(&mut self) {
        let _ = self.child.start_kill();
        let _ = self.child.wait().await;
    }

    /// Kills and reaps it as the host stops: nothing outlives a stopped host.
    async fn stop(&mut self) -> ProcessEnd {
        self.kill().await;
        ProcessEnd::Stopped
    }
}

/// How a process that died while idle ended: before it served anything (a crash
/// loop in the making), or after.
fn died_idle(before_serving: bool) -> ProcessEnd {
    if before_serving {
        ProcessEnd::DiedBeforeServing
    } else {
        ProcessEnd::Replaced
    }
}

enum ProcessEnd {
    /// The host is stopping.
    Stopped,
    /// Replaced after serving (a timeout, a crash mid-invocation, a new configuration).
    Replaced,
    /// Died while idle before serving any invocation.
    DiedBeforeServing,
    /// Never finished init.
    InitFailed,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lambda::{FunctionHost, HostConfig, Observers};
    use ops_wire::trace::TraceHeader;

    /// A "function" that polls once and exits: it dies right after its init.
    fn crashing_binary() -> (tempfile::TempDir, std::path::PathBuf) {
        crate::test_support::executable(
            "bootstrap",
            "#!/usr/bin/env python3\nimport os, urllib.request\ntry:\n    urllib.request.urlopen('http://' + os.environ['AWS_LAMBDA_RUNTIME_API'] + '/2018-06-01/runtime/invocation/next', timeout=0.2)\nexcept Exception:\n    pass\n",
        )
    }

    #[tokio::test]
    async fn a_process_that_dies_before_serving_is_restarted_with_back_off() {
        let stopping = tokio_util::sync::CancellationToken::new();
        let (_dir, binary) = crashing_binary();
        let host = FunctionHost::new(
            HostConfig {
                spec: crate::test_support::function_spec(),
                version: "1".into(),
                binary,
                region: "eu-west-1".into(),
                base_env: Vec::new(),
            },
            Observers::default(),
            1,
            stopping.clone(),
        );
        let tasks = tokio_util::task::TaskTracker::new();
        host.start(&tasks);
        tokio::time::sleep(Duration::from_secs(2)).await;
        let started = host.environments()[0].processes_started;
        stopping.cancel();
        tasks.close();
        tasks.wait().await;
        // Back-off of 0.25, 0.5 and 1 s: at most four processes in two seconds; without
        // it, one every few tens of milliseconds.
        assert!((2..=4).contains(&started), "{started} processes in 2 s");
    }

    #[test]
    fn a_traced_invocation_continues_its_trace_and_an_untraced_one_is_not_sampled() {
        let trace = TraceContext {
            root: "1-5e1b4151-5ac6c58f5b5dbd0e1ddc2a2b".into(),
            parent: Some("aaaaaaaaaaaaaaaa".into()),
        };
        let traced = TraceHeader::parse(&trace_header(Some(&trace), "ffffffffffffffff")).unwrap();
        assert_eq!(traced.root.as_str(), trace.root);
        assert_eq!(
            traced.parent.map(|p| p.to_string()).as_deref(),
            Some("ffffffffffffffff")
        );
        assert_eq!(traced.sampled, Some(true));
        let untraced = TraceHeader::parse(&trace_header(None, "ffffffffffffffff")).unwrap();
        assert_eq!(untraced.sampled, Some(false));
        assert_ne!(untraced.root.as_str(), trace.root);
    }
}
