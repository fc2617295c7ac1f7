//! The chaos of `feedback-ops load --chaos`, on the local stack only: a schedule drawn
//! from a seed ([`Schedule`]), run by a background thread ([`Chaos`]) through the ops
//! API, with every fault it injected removed when it stops.
//!
//! The schedule repeats a cycle of six steps:
//!
//! | step | does |
//! |---|---|
//! | 1 | `push-to-db` fails 30 % of its invocations (`PUT /ops/api/functions/push-to-db/faults`) |
//! | 2 | `kill -9` one process of `add-comments` or `push-to-db` |
//! | 3 | `push-to-db`'s fault removed; the backend throttles 30 %, fails 10 % and adds 200 ms (`PUT /ops/api/backend/faults`) |
//! | 4 | `kill -9` one process |
//! | 5 | the backend's fault removed |
//! | 6 | `kill -9` one process |
//!
//! The first step comes a tenth of the interval after the start and the second half an
//! interval later, so even a run of a few seconds sees a fault and a kill; every later
//! step comes 0.5 to 1.5 intervals after the one before. The seed draws those gaps,
//! which function each kill aims at and which of its processes: the same seed gives the
//! same schedule (the pids depend on the stack). A stack without the backend fault
//! proxy answers `404`: one warning, and the backend steps are skipped.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use serde::Serialize;
use serde_json::json;

use super::client::Api;
use super::report::Console;

/// The function whose invocations the schedule makes fail.
pub const FAULTED_FUNCTION: &str = "push-to-db";
/// The functions whose processes the schedule kills: the write path.
pub const KILL_TARGETS: [&str; 2] = ["add-comments", "push-to-db"];
/// The share of `push-to-db`'s invocations that fail while its fault is on.
pub const FUNCTION_ERROR_RATE: f64 = 0.3;
/// What the backend does while its fault is on.
pub const BACKEND_FAULT: BackendFault = BackendFault {
    throttle_rate: 0.3,
    error_rate: 0.1,
    latency_ms: 200,
};
/// The warning for a stack without the backend fault proxy.
pub const NO_BACKEND_PROXY: &str = "the stack has no backend fault proxy; backend faults skipped";

/// The backend fault, as `PUT /ops/api/backend/faults` takes it.
#[derive(Clone, Copy, Debug, PartialEq, Serialize)]
pub struct BackendFault {
    /// The share of backend calls throttled.
    pub throttle_rate: f64,
    /// The share that fail.
    pub error_rate: f64,
    /// Latency added to each.
    pub latency_ms: u64,
}

/// One thing the schedule does.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Action {
    /// Makes `function` fail `error_rate` of its invocations.
    FunctionFault {
        /// The function.
        function: &'static str,
        /// The share that fails.
        error_rate: f64,
    },
    /// Removes `function`'s fault.
    ClearFunctionFault {
        /// The function.
        function: &'static str,
    },
    /// `kill -9` one of `function`'s processes: number `pick` modulo how many there are.
    Kill {
        /// The function.
        function: &'static str,
        /// Which process.
        pick: u32,
    },
    /// Makes the backend fail.
    BackendFault(BackendFault),
    /// Removes the backend's fault.
    ClearBackendFault,
}

/// The seeded schedule: an endless sequence of steps, each with how long after the step
/// before it comes.
#[derive(Clone, Debug)]
pub struct Schedule {
    rng: fastrand::Rng,
    interval: Duration,
    step: usize,
}

impl Schedule {
    /// The schedule for `seed`, with steps about `interval` apart.
    pub fn new(seed: u64, interval: Duration) -> Self {
        Self {
            rng: fastrand::Rng::with_seed(seed),
            interval,
            step: 0,
        }
    }

    fn kill(&mut self) -> Action {
        Action::Kill {
            function: KILL_TARGETS[self.rng.usize(..KILL_TARGETS.len())],
            pick: self.rng.u32(..),
        }
    }
}

impl Iterator for Schedule {
    type Item = (Duration, Vec<Action>);

    fn next(&mut self) -> Option<Self::Item> {
        let gap = match self.step {
            0 => self.interval / 10,
            1 => self.interval / 2,
            _ => self.interval.mul_f64(0.5 + self.rng.f64()),
        };
        let actions = match self.step % 6 {
            0 => vec![Action::FunctionFault {
                function: FAULTED_FUNCTION,
                error_rate: FUNCTION_ERROR_RATE,
            }],
            2 => vec![
                Action::ClearFunctionFault {
                    function: FAULTED_FUNCTION,
                },
                Action::BackendFault(BACKEND_FAULT),
            ],
            4 => vec![Action::ClearBackendFault],
            _ => vec![self.kill()],
        };
        self.step += 1;
        Some((gap, actions))
    }
}

/// One chaos action taken, as the report lists it.
#[derive(Clone, Debug, Serialize)]
pub struct ChaosEvent {
    /// Seconds since the run started.
    pub at_s: f64,
    /// `fault_on`, `fault_off`, `kill`, `backend_fault_on` or `backend_fault_off`.
    pub kind: &'static str,
    /// The function (or `backend`).
    pub target: String,
    /// What was done: the fault, the pid killed.
    pub detail: String,
    /// Whether it worked.
    pub ok: bool,
    /// Why not, when it did not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

impl ChaosEvent {
    /// The event as a line for the terminal.
    pub fn line(&self) -> String {
        let outcome = match &self.error {
            Some(error) => format!(" — FAILED: {error}"),
            None => String::new(),
        };
        format!(
            "chaos {:>7.2} s  {:<17}  {:<12}  {}{outcome}",
            self.at_s, self.kind, self.target, self.detail
        )
    }
}

/// What is injected right now, so that the end removes exactly that.
#[derive(Default)]
struct Injected {
    function_fault: bool,
    backend_fault: bool,
    no_backend_proxy: bool,
}

/// The chaos thread of one run.
pub struct Chaos {
    stop: Arc<AtomicBool>,
    events: Arc<Mutex<Vec<ChaosEvent>>>,
    warnings: Arc<Mutex<Vec<String>>>,
    thread: Option<JoinHandle<()>>,
}

impl Chaos {
    /// Starts the schedule for `seed` against the local stack `api`; times are counted
    /// from `started`.
    pub fn start(
        api: Api,
        seed: u64,
        interval: Duration,
        started: Instant,
        console: Arc<Console>,
    ) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let events = Arc::new(Mutex::new(Vec::new()));
        let warnings = Arc::new(Mutex::new(Vec::new()));
        let runner = Runner {
            api,
            started,
            console,
            events: Arc::clone(&events),
            warnings: Arc::clone(&warnings),
            injected: Injected::default(),
        };
        let stopped = Arc::clone(&stop);
        let thread =
            std::thread::spawn(move || runner.run(Schedule::new(seed, interval), &stopped));
        Self {
            stop,
            events,
            warnings,
            thread: Some(thread),
        }
    }

    /// Stops the schedule, removes every fault it injected, and gives what it did and
    /// any warnings.
    pub fn finish(mut self) -> (Vec<ChaosEvent>, Vec<String>) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let events = std::mem::take(&mut *lock(&self.events));
        let warnings = std::mem::take(&mut *lock(&self.warnings));
        (events, warnings)
    }
}

/// A lock that a panicked holder does not poison for the others.
fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

struct Runner {
    api: Api,
    started: Instant,
    console: Arc<Console>,
    events: Arc<Mutex<Vec<ChaosEvent>>>,
    warnings: Arc<Mutex<Vec<String>>>,
    injected: Injected,
}

impl Runner {
    fn run(mut self, schedule: Schedule, stop: &AtomicBool) {
        let begun = Instant::now();
        let mut due = Duration::ZERO;
        for (gap, actions) in schedule {
            // A step that ran late (a slow ops API) pushes the next one back: steps
            // never bunch up.
            due = due.max(begun.elapsed()) + gap;
            // Sleep in short steps so that the end of the load is not kept waiting.
            while begun.elapsed() < due {
                if stop.load(Ordering::SeqCst) {
                    self.clean_up();
                    return;
                }
                std::thread::sleep(
                    due.saturating_sub(begun.elapsed())
                        .min(Duration::from_millis(20)),
                );
            }
            if stop.load(Ordering::SeqCst) {
                break;
            }
            for action in actions {
                self.perform(action);
            }
        }
        self.clean_up();
    }

    fn record(&self, kind: &'static str, target: &str, detail: String, error: Option<String>) {
        let event = ChaosEvent {
            at_s: (self.started.elapsed().as_secs_f64() * 100.0).round() / 100.0,
            kind,
            target: target.to_owned(),
            detail,
            ok: error.is_none(),
            error,
        };
        self.console.line(&event.line());
        lock(&self.events).push(event);
    }

    fn perform(&mut self, action: Action) {
        match action {
            Action::FunctionFault {
                function,
                error_rate,
            } => {
                // Counted as on before the answer: a lost answer may still have set it.
                self.injected.function_fault = true;
                let error = self.send(
                    "PUT",
                    &format!("/ops/api/functions/{function}/faults"),
                    Some(&json!({ "error_rate": error_rate })),
                );
                self.record(
                    "fault_on",
                    function,
                    format!("error_rate {error_rate}"),
                    error,
                );
            }
            Action::ClearFunctionFault { function } => self.clear_function_fault(function),
            Action::Kill { function, pick } => self.kill(function, pick),
            Action::BackendFault(fault) => self.backend_fault(fault),
            Action::ClearBackendFault => self.clear_backend_fault(),
        }
    }

    fn clear_function_fault(&mut self, function: &str) {
        if !self.injected.function_fault {
            return;
        }
        let error = self.send(
            "DELETE",
            &format!("/ops/api/functions/{function}/faults"),
            None,
        );
        if error.is_none() {
            self.injected.function_fault = false;
        }
        self.record("fault_off", function, "fault removed".to_owned(), error);
    }

    fn kill(&self, function: &str, pick: u32) {
        // An environment between processes (just killed, or restarting with a new
        // fault) has no pid for a moment: ask again a few times.
        let mut answer = self.api.pids(function);
        for _ in 0..10 {
            if answer.as_ref().is_ok_and(|pids| !pids.is_empty()) {
                break;
            }
            std::thread::sleep(Duration::from_millis(100));
            answer = self.api.pids(function);
        }
        let pids = match answer {
            Ok(pids) => pids,
            Err(error) => {
                self.record("kill", function, "no pid".to_owned(), Some(error));
                return;
            }
        };
        let Some(&pid) = usize::try_from(pick)
            .ok()
            .and_then(|pick| pids.get(pick % pids.len().max(1)))
        else {
            // Every environment is between processes: nothing to kill this time.
            self.record(
                "kill",
                function,
                "no process running".to_owned(),
                Some("no environment had a pid".to_owned()),
            );
            return;
        };
        let error = match std::process::Command::new("kill")
            .args(["-9", &pid.to_string()])
            .stderr(std::process::Stdio::null())
            .status()
        {
            Ok(status) if status.success() => None,
            Ok(status) => Some(format!("kill -9 {pid}: {status}")),
            Err(e) => Some(format!("kill -9 {pid}: {e}")),
        };
        self.record("kill", function, format!("kill -9 pid {pid}"), error);
    }

    fn backend_fault(&mut self, fault: BackendFault) {
        if self.injected.no_backend_proxy {
            return;
        }
        let body = serde_json::to_value(fault).unwrap_or_default();
        match self
            .api
            .call("PUT", "/ops/api/backend/faults", Some(&body), &[])
        {
            // No such route (404), or the route's GET-only fallback (405).
            Ok(reply) if matches!(reply.status, 404 | 405) => {
                self.injected.no_backend_proxy = true;
                self.console.warn(NO_BACKEND_PROXY);
                lock(&self.warnings).push(NO_BACKEND_PROXY.to_owned());
            }
            answer => {
                self.injected.backend_fault = true;
                let error = match answer {
                    Ok(reply) if (200..300).contains(&reply.status) => None,
                    Ok(reply) => Some(format!("HTTP {}", reply.status)),
                    Err(error) => Some(error),
                };
                let detail = format!(
                    "throttle_rate {}, error_rate {}, latency_ms {}",
                    fault.throttle_rate, fault.error_rate, fault.latency_ms
                );
                self.record("backend_fault_on", "backend", detail, error);
            }
        }
    }

    fn clear_backend_fault(&mut self) {
        if !self.injected.backend_fault {
            return;
        }
        let error = self.send("DELETE", "/ops/api/backend/faults", None);
        if error.is_none() {
            self.injected.backend_fault = false;
        }
        self.record(
            "backend_fault_off",
            "backend",
            "fault removed".to_owned(),
            error,
        );
    }

    /// Removes what is still injected, trying a few times.
    fn clean_up(&mut self) {
        for _ in 0..5 {
            if !self.injected.function_fault && !self.injected.backend_fault {
                return;
            }
            if self.injected.function_fault {
                self.clear_function_fault(FAULTED_FUNCTION);
            }
            if self.injected.backend_fault {
                self.clear_backend_fault();
            }
            if self.injected.function_fault || self.injected.backend_fault {
                std::thread::sleep(Duration::from_millis(500));
            }
        }
        let left = [
            (self.injected.function_fault, FAULTED_FUNCTION),
            (self.injected.backend_fault, "the backend"),
        ];
        for (_, what) in left.iter().filter(|(on, _)| *on) {
            let warning = format!("could not remove the fault on {what}: remove it by hand");
            self.console.warn(&warning);
            lock(&self.warnings).push(warning);
        }
    }

    /// One ops API call; `None` when it answered 2xx, else what went wrong.
    fn send(&self, method: &str, path: &str, body: Option<&serde_json::Value>) -> Option<String> {
        match self.api.call(method, path, body, &[]) {
            Ok(reply) if (200..300).contains(&reply.status) => None,
            Ok(reply) => Some(format!("{method} {path}: HTTP {}", reply.status)),
            Err(error) => Some(format!("{method} {path}: {error}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(seed: u64, count: usize) -> Vec<(Duration, Vec<Action>)> {
        Schedule::new(seed, Duration::from_secs(2))
            .take(count)
            .collect()
    }

    #[test]
    fn a_fault_and_a_kill_come_first_and_early() {
        let steps = steps(7, 2);
        assert_eq!(steps[0].0, Duration::from_millis(200));
        assert_eq!(
            steps[0].1,
            [Action::FunctionFault {
                function: "push-to-db",
                error_rate: 0.3
            }]
        );
        assert_eq!(steps[1].0, Duration::from_secs(1));
        assert!(matches!(steps[1].1[..], [Action::Kill { .. }]));
    }

    #[test]
    fn the_cycle_switches_every_fault_it_injects_off_again() {
        let steps = steps(1, 60);
        let mut function_fault = false;
        let mut backend_fault = false;
        for (_, actions) in &steps {
            for action in actions {
                match action {
                    Action::FunctionFault { .. } => {
                        assert!(!function_fault, "on twice");
                        function_fault = true;
                    }
                    Action::ClearFunctionFault { .. } => {
                        assert!(function_fault, "off while off");
                        function_fault = false;
                    }
                    Action::BackendFault(fault) => {
                        assert_eq!(*fault, BACKEND_FAULT);
                        assert!(!backend_fault);
                        backend_fault = true;
                    }
                    Action::ClearBackendFault => {
                        assert!(backend_fault);
                        backend_fault = false;
                    }
                    Action::Kill { function, .. } => assert!(KILL_TARGETS.contains(function)),
                }
            }
        }
        // 60 steps are ten whole cycles: nothing is left on.
        assert!(!function_fault && !backend_fault);
        let kills = steps
            .iter()
            .flat_map(|(_, a)| a)
            .filter(|a| matches!(a, Action::Kill { .. }))
            .count();
        assert_eq!(kills, 30);
    }

    #[test]
    fn the_same_seed_gives_the_same_schedule_and_gaps_stay_within_bounds() {
        assert_eq!(steps(42, 30), steps(42, 30));
        assert_ne!(steps(42, 30), steps(43, 30));
        for (gap, _) in steps(42, 200).iter().skip(2) {
            assert!(*gap >= Duration::from_secs(1) && *gap <= Duration::from_secs(3));
        }
        // Both functions are aimed at over a run.
        let aimed: std::collections::BTreeSet<&str> = steps(42, 60)
            .iter()
            .flat_map(|(_, a)| a)
            .filter_map(|a| match a {
                Action::Kill { function, .. } => Some(*function),
                _ => None,
            })
            .collect();
        assert_eq!(aimed.len(), 2);
    }

    #[test]
    fn an_event_reads_as_one_line() {
        let event = ChaosEvent {
            at_s: 1.5,
            kind: "kill",
            target: "push-to-db".into(),
            detail: "kill -9 pid 4242".into(),
            ok: true,
            error: None,
        };
        let line = event.line();
        assert!(
            line.contains("1.50 s") && line.contains("pid 4242"),
            "{line}"
        );
        assert!(!line.contains('\n'));
        let failed = ChaosEvent {
            error: Some("HTTP 500".into()),
            ok: false,
            ..event
        };
        assert!(failed.line().ends_with("FAILED: HTTP 500"));
    }
}
