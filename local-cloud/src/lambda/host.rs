//! One version of a function as Lambda runs it: its execution environments
//! (`concurrency` of them, each a process of the version's binary; their life is
//! `environment.rs`'s), the queue of invocations waiting for a free one, the fault
//! injection laid over its configuration, its counters, and its platform log lines.
//! Which version an invocation runs in is `versions.rs`'s decision.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use ops_wire::faults::FaultInjection;
use serde::Serialize;
use serde_json::Value;
use tokio::sync::{mpsc, oneshot, watch};
use tokio_util::sync::CancellationToken;

use crate::cloudformation::{ACCOUNT, FunctionSpec};
use crate::cloudwatch::{CloudWatch, LogEntry, LogSource};
use crate::xray::TraceStore;

/// How long a process may take to initialise before it is killed and started again.
pub(super) const INIT_TIMEOUT: Duration = Duration::from_secs(10);

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
    /// The version that ran it (`X-Amz-Executed-Version`): a number, or `$LATEST`.
    pub executed_version: String,
    /// The answer.
    pub outcome: Outcome,
    /// How long the handler took.
    pub duration: Duration,
}

/// The trace an invocation belongs to: its root and the caller's segment.
#[derive(Clone, Debug)]
pub struct TraceContext {
    /// `1-xxxxxxxx-yyyyyyyyyyyyyyyyyyyyyyyy`.
    pub root: String,
    /// The caller's segment or subsegment id.
    pub parent: Option<String>,
}

/// The host is shutting down: nothing will answer.
#[derive(Clone, Copy, Debug, thiserror::Error)]
#[error("the function host is shutting down")]
pub struct ShuttingDown;

/// An invocation waiting for an environment.
pub(super) struct Job {
    pub(super) event: Value,
    pub(super) invoked_arn: String,
    pub(super) traces: Vec<TraceContext>,
    pub(super) reply: oneshot::Sender<Invocation>,
}

/// What an execution environment is doing.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum EnvironmentState {
    /// Between spawn and the first poll.
    Initializing,
    /// Waiting for an invocation.
    Idle,
    /// Running one.
    Busy,
    /// Its process ended; a new one is starting.
    Restarting,
    /// It cannot start (no port, no binary).
    Failed,
}

/// What the console shows of one execution environment.
#[derive(Clone, Debug, Serialize)]
pub struct EnvironmentInfo {
    /// The version it runs.
    pub version: String,
    /// The slot, 0 to concurrency − 1.
    pub slot: usize,
    /// The process id, while there is a process.
    pub pid: Option<u32>,
    /// What it is doing.
    pub state: EnvironmentState,
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

/// Invocation and error counts and every init duration seen.
#[derive(Clone, Debug, Default, Serialize)]
pub struct Counters {
    /// Invocations answered.
    pub invocations: u64,
    /// Of which invocation errors.
    pub errors: u64,
    /// Init durations, ms, in the order the processes started.
    pub init_durations_ms: Vec<f64>,
}

/// Where a hosted function sends what it observes.
#[derive(Clone, Default)]
pub struct Observers {
    /// Log lines and metrics.
    pub cloudwatch: CloudWatch,
    /// Segments.
    pub traces: TraceStore,
}

/// What one version runs: its configuration and code.
#[derive(Clone, Debug)]
pub struct HostConfig {
    /// The template's function, with this version's environment, memory and timeout.
    pub spec: FunctionSpec,
    /// `AWS_LAMBDA_FUNCTION_VERSION`: a number, or `$LATEST`.
    pub version: String,
    /// The binary (for a published version, its snapshot).
    pub binary: PathBuf,
    /// The region.
    pub region: String,
    /// The region, credentials and endpoint, before the function's own variables.
    pub base_env: Vec<(String, String)>,
}

/// One version of a hosted function, running.
pub struct FunctionHost {
    /// What the template says of it, with this version's configuration.
    pub spec: FunctionSpec,
    /// The version it runs.
    pub(super) version: String,
    /// The version's own ARN, for invocations that name none.
    pub(super) invoked_arn: String,
    pub(super) binary: PathBuf,
    pub(super) base_env: Vec<(String, String)>,
    pub(super) observers: Observers,
    jobs: mpsc::Sender<Job>,
    pub(super) queue: tokio::sync::Mutex<mpsc::Receiver<Job>>,
    pub(super) faults: watch::Sender<FaultInjection>,
    environments: Mutex<Vec<EnvironmentInfo>>,
    pub(super) counters: Mutex<Counters>,
    pub(super) stopping: CancellationToken,
}

pub(super) fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// A function's ARN, qualified by a version or an alias when `qualifier` is given.
pub fn invoked_arn(region: &str, function_name: &str, qualifier: Option<&str>) -> String {
    let arn = format!("arn:aws:lambda:{region}:{ACCOUNT}:function:{function_name}");
    match qualifier {
        Some(qualifier) => format!("{arn}:{qualifier}"),
        None => arn,
    }
}

impl FunctionHost {
    /// Prepares one version to run as `config` says, in `concurrency` environments
    /// that stop when `stopping` is cancelled.
    pub fn new(
        config: HostConfig,
        observers: Observers,
        concurrency: usize,
        stopping: CancellationToken,
    ) -> Arc<Self> {
        let HostConfig {
            spec,
            version,
            binary,
            region,
            base_env,
        } = config;
        let (jobs, queue) = mpsc::channel(256);
        let environments = (0..concurrency.max(1))
            .map(|slot| EnvironmentInfo {
                version: version.clone(),
                slot,
                pid: None,
                state: EnvironmentState::Initializing,
                log_stream: String::new(),
                init_duration_ms: None,
                invocations: 0,
                processes_started: 0,
                last_exit: None,
            })
            .collect();
        Arc::new(Self {
            invoked_arn: invoked_arn(&region, &spec.function_name, Some(&version)),
            version,
            spec,
            binary,
            base_env,
            observers,
            jobs,
            queue: tokio::sync::Mutex::new(queue),
            faults: watch::Sender::new(FaultInjection::default()),
            environments: Mutex::new(environments),
            counters: Mutex::default(),
            stopping,
        })
    }

    /// Starts one supervisor per execution environment in `tasks`; each returns, its
    /// process killed and reaped, once the host's token is cancelled.
    pub fn start(self: &Arc<Self>, tasks: &tokio_util::task::TaskTracker) {
        let slots = lock(&self.environments).len();
        for slot in 0..slots {
            let host = Arc::clone(self);
            tasks.spawn(async move { host.supervise(slot).await });
        }
    }

    /// The version it runs.
    pub fn version(&self) -> &str {
        &self.version
    }

    /// Invokes this version and waits for its answer (invocations queue while every
    /// environment is busy). `invoked_arn` is the ARN the caller used (an alias's, or
    /// `None` for the version's own). The function's trace header continues the first of
    /// `traces`; the host records the invocation's segments in each of them (a batch of
    /// queued messages can belong to several traces). No traces: not sampled, and the
    /// header says so.
    ///
    /// # Errors
    /// [`ShuttingDown`] when the host is stopping.
    pub async fn invoke(
        &self,
        event: Value,
        invoked_arn: Option<String>,
        traces: Vec<TraceContext>,
    ) -> Result<Invocation, ShuttingDown> {
        let (reply, answered) = oneshot::channel();
        self.jobs
            .send(Job {
                event,
                invoked_arn: invoked_arn.unwrap_or_else(|| self.invoked_arn.clone()),
                traces,
                reply,
            })
            .await
            .map_err(|_| ShuttingDown)?;
        answered.await.map_err(|_| ShuttingDown)
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
            .filter(|e| e.state == EnvironmentState::Failed || e.processes_started > 1)
            .filter_map(|e| e.last_exit.clone())
            .collect();
        (ready, failures)
    }

    /// The active faults.
    pub fn faults(&self) -> FaultInjection {
        *self.faults.borrow()
    }

    /// Sets the faults; every environment restarts with them once idle (the ops kit reads
    /// them at init, as a configuration change starts new environments in Lambda).
    pub fn set_faults(&self, faults: FaultInjection) {
        self.faults.send_replace(faults);
    }

    /// Stops every environment (a deleted version): their processes are killed.
    pub fn stop(&self) {
        self.stopping.cancel();
    }

    /// Invocation and error counts and the init durations seen.
    pub fn counters(&self) -> Counters {
        lock(&self.counters).clone()
    }

    pub(super) fn update(&self, slot: usize, change: impl FnOnce(&mut EnvironmentInfo)) {
        if let Some(info) = lock(&self.environments).get_mut(slot) {
            change(info);
        }
    }

    pub(super) fn ended(&self, slot: usize, state: EnvironmentState, reason: String) {
        self.update(slot, |info| {
            info.state = state;
            info.pid = None;
            info.last_exit = Some(reason);
        });
    }

    /// Writes a line to the function's log group as Lambda's platform does (`START`,
    /// `REPORT`, the host's and the event source's notices).
    pub fn platform(&self, stream: &str, request_id: Option<&str>, level: &str, message: String) {
        let mut entry = LogEntry::new(
            &self.spec.name,
            &self.version,
            &self.spec.log_group,
            stream,
            LogSource::Platform,
            message,
        );
        entry.level = Some(level.to_owned());
        entry.request_id = request_id.map(str::to_owned);
        self.observers.cloudwatch.put_log(entry);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invoked_arn_names_the_qualifier_if_there_is_one() {
        assert_eq!(
            invoked_arn("eu-west-1", "s-f", Some("live")),
            "arn:aws:lambda:eu-west-1:123456789012:function:s-f:live"
        );
        assert_eq!(
            invoked_arn("r", "f", None),
            "arn:aws:lambda:r:123456789012:function:f"
        );
    }
}
