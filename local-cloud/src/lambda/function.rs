//! A function as Lambda runs it: its execution environments (`concurrency` of them,
//! each a process of the function's binary; their life is `environment.rs`'s), the
//! queue of invocations waiting for a free one, its configuration (fault injection),
//! its counters, and its platform log lines.

use std::collections::BTreeMap;
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

/// The version the running build is published as; `live` points to it.
pub const VERSION: &str = "1";

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

/// One hosted function.
pub struct FunctionHost {
    /// What the template says of it.
    pub spec: FunctionSpec,
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

/// The ARN a function is invoked through: its alias, else its version.
pub fn invoked_arn(region: &str, function_name: &str, alias: Option<&str>) -> String {
    format!(
        "arn:aws:lambda:{region}:{ACCOUNT}:function:{function_name}:{}",
        alias.unwrap_or(VERSION)
    )
}

impl FunctionHost {
    /// Prepares `spec` to run in `region` from `binary` with `base_env` (the region,
    /// credentials and endpoint, before the template's own variables), in `concurrency`
    /// environments that stop when `stopping` is cancelled.
    pub fn new(
        spec: FunctionSpec,
        region: &str,
        binary: PathBuf,
        base_env: Vec<(String, String)>,
        observers: Observers,
        concurrency: usize,
        stopping: CancellationToken,
    ) -> Arc<Self> {
        let (jobs, queue) = mpsc::channel(256);
        let environments = (0..concurrency.max(1))
            .map(|slot| EnvironmentInfo {
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
            invoked_arn: invoked_arn(region, &spec.function_name, spec.alias.as_deref()),
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
    pub fn start(self: &Arc<Self>, tasks: &mut tokio::task::JoinSet<()>) {
        let slots = lock(&self.environments).len();
        for slot in 0..slots {
            let host = Arc::clone(self);
            tasks.spawn(async move { host.supervise(slot).await });
        }
    }

    /// The ARN callers invoke: the function's alias.
    pub fn invoked_arn(&self) -> &str {
        &self.invoked_arn
    }

    /// Invokes the function and waits for its answer (invocations queue while every
    /// environment is busy). The function's trace header continues the first of
    /// `traces`; the host records the invocation's segments in each of them (a batch of
    /// queued messages can belong to several traces). No traces: not sampled, and the
    /// header says so.
    ///
    /// # Errors
    /// [`ShuttingDown`] when the host is stopping.
    pub async fn invoke(
        &self,
        event: Value,
        traces: Vec<TraceContext>,
    ) -> Result<Invocation, ShuttingDown> {
        let (reply, answered) = oneshot::channel();
        self.jobs
            .send(Job {
                event,
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
            VERSION,
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

/// The functions of a stack, by name.
pub type Functions = BTreeMap<String, Arc<FunctionHost>>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_invoked_arn_names_the_alias_or_the_version() {
        assert_eq!(
            invoked_arn("eu-west-1", "s-f", Some("live")),
            "arn:aws:lambda:eu-west-1:123456789012:function:s-f:live"
        );
        assert!(invoked_arn("r", "f", None).ends_with(&format!(":f:{VERSION}")));
    }
}
