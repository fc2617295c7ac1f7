//! One deployment of a function's new version, run as CodeDeploy runs a Lambda
//! deployment: the `PreTraffic` hook (the real hook function, which invokes the new
//! version through the Lambda API and reports back through
//! `PutLifecycleEventHookExecutionStatus`), the traffic shift of the configuration's
//! steps with the preference's alarms watched throughout, then promotion — or, on an
//! alarm or a failed hook, the alias put back on the old version. After a success only
//! the live version and the `keep` before it remain. Every step is a timestamped event.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use serde_json::json;
use tokio::sync::oneshot;
use tokio_util::sync::CancellationToken;

use super::config::DeploymentConfig;
use super::prune::{AliasRef, plan};
use crate::cloudwatch::{AlarmState, Alarms};
use crate::lambda::{AliasUpdate, ConfigurationUpdate, Function, LambdaError, Outcome};

/// Where a deployment is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub enum Status {
    /// Accepted, not started.
    Created,
    /// The hook or the traffic shift is running.
    InProgress,
    /// The new version is live.
    Succeeded,
    /// The hook failed (or could not run): no traffic moved.
    Failed,
    /// An alarm fired: the alias is back on the old version.
    Stopped,
}

/// One thing that happened in a deployment.
#[derive(Clone, Debug, Serialize)]
pub struct Event {
    /// When, ms since the epoch.
    pub at_ms: u64,
    /// What: `Created`, `VersionPublished`, `HookStarted`, `HookSucceeded`, `HookFailed`, `TrafficShifted`,
    /// `AlarmStateChanged`, `RollingBack`, `RolledBack`, `Promoted`, `VersionsPruned`,
    /// `Succeeded`, `Failed`, `Stopped`.
    pub kind: &'static str,
    /// In words.
    pub message: String,
    /// The alias's weights after a traffic shift, promotion or rollback.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub weights: Option<BTreeMap<String, f64>>,
}

/// A deployment, as the ops API shows it.
#[derive(Clone, Debug, Serialize)]
pub struct Deployment {
    /// `d-` and a random id.
    pub id: String,
    /// The function's console name (`add-comments`).
    pub function: String,
    /// The function's name in the Lambda API (`online-feedback-AddCommentsFunction`).
    pub function_name: String,
    /// The function's logical id in the template (`AddCommentsFunction`).
    pub logical_id: String,
    /// The alias traffic shifts on (`live`).
    pub alias: String,
    /// The configuration (`Canary10Percent5Minutes`).
    pub config: String,
    /// Where it is.
    pub status: Status,
    /// The version `live` pointed to before.
    pub from_version: String,
    /// The version deployed.
    pub to_version: String,
    /// The alias's weights now.
    pub weights: BTreeMap<String, f64>,
    /// The alarms watched (logical ids).
    pub alarms: Vec<String>,
    /// Everything that happened, oldest first.
    pub events: Vec<Event>,
    /// When it was created, ms since the epoch.
    pub created_ms: u64,
}

impl Deployment {
    /// Whether it has ended.
    pub fn is_done(&self) -> bool {
        matches!(
            self.status,
            Status::Succeeded | Status::Failed | Status::Stopped
        )
    }
}

/// The `PreTraffic` hook of a deployment: the hook function and the environment it
/// runs with for this deployment (the new version's ARN in its variable).
pub struct Hook {
    /// The hook function (run as `$LATEST`).
    pub function: Arc<Function>,
    /// Its environment for this deployment.
    pub environment: BTreeMap<String, String>,
    /// How long CodeDeploy waits for its report.
    pub timeout: Duration,
}

/// What to deploy and how.
pub struct Plan {
    /// The function.
    pub function: Arc<Function>,
    /// The alias traffic shifts on (`live`).
    pub alias: String,
    /// The version the alias is on now.
    pub from_version: String,
    /// The version to deploy.
    pub to_version: String,
    /// The configuration.
    pub config: DeploymentConfig,
    /// The alarms that stop it (logical ids).
    pub alarms: Vec<String>,
    /// The `PreTraffic` hook, if the preference has one.
    pub hook: Option<Hook>,
    /// How many times faster than real time the steps run.
    pub time_scale: f64,
    /// How many versions before the live one a success keeps (the talk's n-3).
    pub keep: usize,
    /// The new version's `CodeSha256`, for its `VersionPublished` event.
    pub code_sha256: String,
}

/// A hook execution a deployment waits for: (deployment id, execution id).
type HookExecution = (String, String);

/// Every deployment of a stack, and the hook reports they wait for.
#[derive(Clone, Default)]
pub struct Deployments {
    all: Arc<Mutex<Vec<Deployment>>>,
    waiting_hooks: Arc<Mutex<HashMap<HookExecution, oneshot::Sender<String>>>>,
    /// Cancelled to stop a deployment in progress (`StopDeployment` with rollback).
    stops: Arc<Mutex<HashMap<String, CancellationToken>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Why a hook report was refused (`PutLifecycleEventHookExecutionStatus`).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum HookReportError {
    /// No deployment waits for that hook execution.
    #[error("no lifecycle event hook execution {1} is waiting in deployment {0}")]
    NotWaiting(String, String),
    /// A status other than `Succeeded` or `Failed`.
    #[error("status {0:?} is not Succeeded or Failed")]
    InvalidStatus(String),
}

impl Deployments {
    /// Every deployment, newest first.
    pub fn list(&self) -> Vec<Deployment> {
        lock(&self.all).iter().rev().cloned().collect()
    }

    /// One deployment.
    pub fn get(&self, id: &str) -> Option<Deployment> {
        lock(&self.all).iter().find(|d| d.id == id).cloned()
    }

    /// The deployment of `function` that has not ended, if there is one.
    pub fn in_progress(&self, function: &str) -> Option<Deployment> {
        lock(&self.all)
            .iter()
            .find(|d| d.function == function && !d.is_done())
            .cloned()
    }

    /// Stops deployment `id` and rolls its alias back, as CodeDeploy's `StopDeployment`
    /// with automatic rollback. Answers whether it was in progress.
    pub fn stop(&self, id: &str) -> bool {
        match lock(&self.stops).get(id) {
            Some(token) => {
                token.cancel();
                true
            }
            None => false,
        }
    }

    /// Records a new deployment of `plan`, `Created`; answers its id.
    pub fn create(&self, plan: &Plan) -> String {
        let id = format!("d-{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        lock(&self.stops).insert(id.clone(), CancellationToken::new());
        let now = crate::clock::now_ms();
        let weights = plan
            .function
            .alias(&plan.alias)
            .map(|a| a.weights())
            .unwrap_or_default();
        lock(&self.all).push(Deployment {
            id: id.clone(),
            function: plan.function.spec.name.clone(),
            function_name: plan.function.spec.function_name.clone(),
            logical_id: plan.function.spec.logical_id.clone(),
            alias: plan.alias.clone(),
            config: plan.config.name.clone(),
            status: Status::Created,
            from_version: plan.from_version.clone(),
            to_version: plan.to_version.clone(),
            weights,
            alarms: plan.alarms.clone(),
            events: vec![
                Event {
                    at_ms: now,
                    kind: "Created",
                    message: format!(
                        "deploy version {} of {} ({}) with {}; {} now on {}",
                        plan.to_version,
                        plan.function.spec.name,
                        plan.function.spec.function_name,
                        plan.config.name,
                        plan.alias,
                        plan.from_version
                    ),
                    weights: None,
                },
                Event {
                    at_ms: now,
                    kind: "VersionPublished",
                    message: format!(
                        "version {} of {} published (CodeSha256 {})",
                        plan.to_version, plan.function.spec.function_name, plan.code_sha256
                    ),
                    weights: None,
                },
            ],
            created_ms: now,
        });
        id
    }

    fn update(&self, id: &str, change: impl FnOnce(&mut Deployment)) {
        if let Some(deployment) = lock(&self.all).iter_mut().find(|d| d.id == id) {
            change(deployment);
        }
    }

    fn event(&self, id: &str, kind: &'static str, message: String) {
        self.update(id, |d| {
            d.events.push(Event {
                at_ms: crate::clock::now_ms(),
                kind,
                message,
                weights: None,
            });
        });
    }

    fn weights_changed(
        &self,
        id: &str,
        kind: &'static str,
        message: String,
        weights: BTreeMap<String, f64>,
    ) {
        self.update(id, |d| {
            d.weights.clone_from(&weights);
            d.events.push(Event {
                at_ms: crate::clock::now_ms(),
                kind,
                message,
                weights: Some(weights),
            });
        });
    }

    fn finish(&self, id: &str, status: Status, message: String) {
        lock(&self.stops).remove(id);
        let kind = match status {
            Status::Succeeded => "Succeeded",
            Status::Stopped => "Stopped",
            _ => "Failed",
        };
        self.update(id, |d| {
            d.status = status;
            d.events.push(Event {
                at_ms: crate::clock::now_ms(),
                kind,
                message,
                weights: None,
            });
        });
    }

    /// A hook's report (`PutLifecycleEventHookExecutionStatus`).
    ///
    /// # Errors
    /// [`HookReportError`] when no deployment waits for it or the status is not one.
    pub fn report_hook(
        &self,
        deployment_id: &str,
        execution_id: &str,
        status: &str,
    ) -> Result<(), HookReportError> {
        if !matches!(status, "Succeeded" | "Failed") {
            return Err(HookReportError::InvalidStatus(status.to_owned()));
        }
        let waiting = lock(&self.waiting_hooks)
            .remove(&(deployment_id.to_owned(), execution_id.to_owned()))
            .ok_or_else(|| {
                HookReportError::NotWaiting(deployment_id.to_owned(), execution_id.to_owned())
            })?;
        let _ = waiting.send(status.to_owned());
        Ok(())
    }

    /// Runs deployment `id` to its end.
    pub async fn run(&self, id: String, plan: Plan, alarms: Alarms) {
        self.update(&id, |d| d.status = Status::InProgress);
        let stopped = lock(&self.stops).get(&id).cloned().unwrap_or_default();
        if let Some(hook) = &plan.hook {
            match self.run_hook(&id, hook).await {
                Ok(()) => self.event(
                    &id,
                    "HookSucceeded",
                    format!("the PreTraffic hook passed version {}", plan.to_version),
                ),
                Err(reason) => {
                    self.event(&id, "HookFailed", reason.clone());
                    self.finish(
                        &id,
                        Status::Failed,
                        format!(
                            "the PreTraffic hook failed; {} stays on {}",
                            plan.alias, plan.from_version
                        ),
                    );
                    return;
                }
            }
        }
        if let Err(stop) = self.shift(&id, &plan, &alarms, &stopped).await {
            self.stop_and_roll_back(&id, &plan, stop);
            return;
        }
        let promoted = plan.function.update_alias(
            &plan.alias,
            AliasUpdate {
                function_version: Some(plan.to_version.clone()),
                additional_weights: Some(BTreeMap::new()),
                ..AliasUpdate::default()
            },
        );
        match promoted {
            Ok(alias) => self.weights_changed(
                &id,
                "Promoted",
                format!("{} → version {} (100%)", plan.alias, plan.to_version),
                alias.weights(),
            ),
            Err(error) => {
                self.roll_back(&id, &plan, &error.to_string());
                self.finish(
                    &id,
                    Status::Failed,
                    format!("the alias could not be promoted: {error}"),
                );
                return;
            }
        }
        let pruned = prune(&plan.function, plan.keep);
        if !pruned.is_empty() {
            self.event(
                &id,
                "VersionsPruned",
                format!(
                    "deleted version(s) {}: only the live version and the {} before it remain",
                    pruned.join(", "),
                    plan.keep
                ),
            );
        }
        self.finish(
            &id,
            Status::Succeeded,
            format!("version {} is live", plan.to_version),
        );
    }

    /// Invokes the hook with CodeDeploy's lifecycle event and waits for its report.
    async fn run_hook(&self, id: &str, hook: &Hook) -> Result<(), String> {
        let execution_id = uuid::Uuid::new_v4().to_string();
        let (reported, report) = oneshot::channel();
        lock(&self.waiting_hooks).insert((id.to_owned(), execution_id.clone()), reported);
        let forget = || {
            lock(&self.waiting_hooks).remove(&(id.to_owned(), execution_id.clone()));
        };
        if let Err(error) = hook.function.update_configuration(ConfigurationUpdate {
            environment: Some(hook.environment.clone()),
            ..ConfigurationUpdate::default()
        }) {
            forget();
            return Err(format!("the hook could not be configured: {error}"));
        }
        self.event(
            id,
            "HookStarted",
            format!(
                "invoking the PreTraffic hook {}",
                hook.function.spec.function_name
            ),
        );
        let event = json!({"DeploymentId": id, "LifecycleEventHookExecutionId": execution_id});
        let invocation = hook.function.invoke(None, event, Vec::new()).await;
        match invocation {
            Ok(invocation) => {
                if let Outcome::Error(error) = invocation.outcome {
                    forget();
                    return Err(format!("the hook failed: {error}"));
                }
            }
            Err(error) => {
                forget();
                return Err(format!("the hook could not be invoked: {error}"));
            }
        }
        match tokio::time::timeout(hook.timeout, report).await {
            Ok(Ok(status)) if status == "Succeeded" => Ok(()),
            Ok(Ok(status)) => Err(format!("the hook reported {status}")),
            Ok(Err(_)) | Err(_) => {
                forget();
                Err(format!(
                    "the hook reported nothing within {:?}",
                    hook.timeout
                ))
            }
        }
    }

    /// The traffic shift: each step's weight, then its wait with the alarms watched.
    async fn shift(
        &self,
        id: &str,
        plan: &Plan,
        alarms: &Alarms,
        stopped: &CancellationToken,
    ) -> Result<(), Shift> {
        if stopped.is_cancelled() {
            return Err(Shift::Requested);
        }
        let mut changes = alarms.subscribe();
        let watched = |name: &str| plan.alarms.iter().any(|a| a == name);
        let firing = || {
            plan.alarms
                .iter()
                .find(|name| alarms.state(name) == Some(AlarmState::Alarm))
                .cloned()
        };
        if let Some(alarm) = firing() {
            return Err(Shift::Alarm(alarm));
        }
        for step in &plan.config.steps {
            let alias = plan
                .function
                .update_alias(
                    &plan.alias,
                    AliasUpdate {
                        function_version: Some(plan.from_version.clone()),
                        additional_weights: Some([(plan.to_version.clone(), step.weight)].into()),
                        ..AliasUpdate::default()
                    },
                )
                .map_err(Shift::Lambda)?;
            let wait = step.wait.div_f64(plan.time_scale.max(1e-6));
            let scaled = if (plan.time_scale - 1.0).abs() < f64::EPSILON {
                String::new()
            } else {
                format!(
                    " ({:.1}s at time scale {})",
                    wait.as_secs_f64(),
                    plan.time_scale
                )
            };
            self.weights_changed(
                id,
                "TrafficShifted",
                format!(
                    "{}% of {} on version {} for {}s{scaled}",
                    (step.weight * 100.0).round(),
                    plan.alias,
                    plan.to_version,
                    step.wait.as_secs()
                ),
                alias.weights(),
            );
            let deadline = tokio::time::Instant::now() + wait;
            loop {
                tokio::select! {
                    () = tokio::time::sleep_until(deadline) => break,
                    () = stopped.cancelled() => return Err(Shift::Requested),
                    change = changes.recv() => {
                        if let Ok(change) = change
                            && watched(&change.name)
                        {
                            self.event(id, "AlarmStateChanged", format!("{}: {:?} → {:?}: {}", change.name, change.from, change.to, change.reason));
                        }
                        if let Some(alarm) = firing() {
                            return Err(Shift::Alarm(alarm));
                        }
                    }
                }
            }
            if let Some(alarm) = firing() {
                return Err(Shift::Alarm(alarm));
            }
        }
        Ok(())
    }

    /// Ends a deployment whose traffic shift stopped: the alias back, the reason.
    fn stop_and_roll_back(&self, id: &str, plan: &Plan, stop: Shift) {
        let (status, why, end) = match stop {
            Shift::Requested => (
                Status::Stopped,
                "a stop was requested".to_owned(),
                "stopped on request".to_owned(),
            ),
            Shift::Alarm(alarm) => (
                Status::Stopped,
                format!("alarm {alarm} is in ALARM"),
                format!("stopped by {alarm}"),
            ),
            Shift::Lambda(error) => (
                Status::Failed,
                error.to_string(),
                format!("the alias could not be updated: {error}"),
            ),
        };
        self.roll_back(id, plan, &why);
        self.finish(
            id,
            status,
            format!("{end}; rolled back to version {}", plan.from_version),
        );
    }

    fn roll_back(&self, id: &str, plan: &Plan, why: &str) {
        self.event(id, "RollingBack", format!("rolling back: {why}"));
        let back = plan.function.update_alias(
            &plan.alias,
            AliasUpdate {
                function_version: Some(plan.from_version.clone()),
                additional_weights: Some(BTreeMap::new()),
                ..AliasUpdate::default()
            },
        );
        match back {
            Ok(alias) => self.weights_changed(
                id,
                "RolledBack",
                format!("{} → version {} (100%)", plan.alias, plan.from_version),
                alias.weights(),
            ),
            Err(error) => self.event(
                id,
                "RolledBack",
                format!("the alias could not be put back: {error}"),
            ),
        }
    }
}

enum Shift {
    Alarm(String),
    Lambda(LambdaError),
    Requested,
}

/// Deletes the versions a successful deployment no longer needs, by
/// [`super::prune::plan`]: all but what an alias references, the `keep` published
/// immediately before `live`, and the newest. Answers the versions deleted, oldest
/// first.
pub fn prune(function: &Function, keep: usize) -> Vec<String> {
    let Ok(versions) = function.versions() else {
        return Vec::new();
    };
    let numbers: Vec<u64> = versions
        .iter()
        .filter_map(|v| v.version.parse::<u64>().ok())
        .collect();
    let aliases: Vec<AliasRef> = function
        .aliases()
        .into_iter()
        .map(|a| AliasRef {
            name: a.name,
            primary: a.function_version,
            additional: a.additional_weights.into_keys().collect(),
        })
        .collect();
    plan(&numbers, &aliases, &[], keep)
        .into_iter()
        .filter(|decision| !decision.keep)
        .filter(|decision| function.delete_version(&decision.version).is_ok())
        .map(|decision| decision.version)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Publishes versions 1 to `n` of a fresh function, each a new build.
    fn published(n: u64) -> (Arc<Function>, tempfile::TempDir) {
        let (function, dir) = crate::test_support::function();
        for i in 1..=n {
            std::fs::write(dir.path().join("f"), format!("build {i}")).unwrap();
            assert_eq!(
                function.publish(None, None, None).unwrap().version,
                i.to_string()
            );
        }
        (function, dir)
    }

    fn remaining(function: &Function) -> Vec<String> {
        function
            .versions()
            .unwrap()
            .into_iter()
            .map(|v| v.version)
            .collect()
    }

    #[test]
    fn a_success_keeps_what_an_alias_needs_the_three_before_live_and_the_newest() {
        let (function, _dir) = published(9);
        function.create_alias("live", "6").unwrap();
        function.create_alias("old", "1").unwrap();
        let deleted = prune(&function, 3);
        assert_eq!(deleted, ["2", "7", "8"]);
        assert_eq!(
            remaining(&function),
            ["$LATEST", "1", "3", "4", "5", "6", "9"]
        );
        assert!(
            prune(&function, 3).is_empty(),
            "a second run deletes nothing"
        );
    }

    #[test]
    fn a_hook_report_reaches_the_deployment_waiting_for_it_and_nothing_else() {
        let deployments = Deployments::default();
        assert!(matches!(
            deployments.report_hook("d-1", "h-1", "Succeeded"),
            Err(HookReportError::NotWaiting(..))
        ));
        let (waiting, mut report) = oneshot::channel();
        lock(&deployments.waiting_hooks).insert(("d-1".into(), "h-1".into()), waiting);
        assert!(matches!(
            deployments.report_hook("d-1", "h-1", "Pending"),
            Err(HookReportError::InvalidStatus(_))
        ));
        deployments.report_hook("d-1", "h-1", "Failed").unwrap();
        assert_eq!(report.try_recv().unwrap(), "Failed");
        assert!(
            deployments.report_hook("d-1", "h-1", "Succeeded").is_err(),
            "once only"
        );
    }
}
