//! A function as the Lambda API sees it: `$LATEST` (the current build and the
//! template's configuration), the numbered versions published from it (immutable
//! snapshots of code and configuration), and the aliases that point to them, with at
//! most one additional version and its weight. An invocation names a qualifier; an
//! alias's is resolved per request by its weights, and each version runs in execution
//! environments of its own (a [`FunctionHost`]), started when it is first invoked and
//! stopped when the version is deleted.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use ops_wire::faults::FaultInjection;
use serde::Serialize;
use serde_json::Value;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use super::code::{Code, CodeStore};
use super::host::{
    Counters, EnvironmentInfo, FunctionHost, HostConfig, Invocation, Observers, TraceContext,
    invoked_arn, lock,
};
use crate::cloudformation::FunctionSpec;

/// The qualifier of the unpublished, current code and configuration.
pub const LATEST: &str = "$LATEST";

/// A Lambda API error, named as AWS names it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum LambdaError {
    /// `ResourceNotFoundException` (404): no such function, version or alias.
    #[error("{0}")]
    NotFound(String),
    /// `ResourceConflictException` (409): a version an alias still references.
    #[error("{0}")]
    Conflict(String),
    /// `InvalidParameterValueException` (400).
    #[error("{0}")]
    InvalidParameter(String),
    /// `PreconditionFailedException` (412): a `RevisionId` or `CodeSha256` that is
    /// not the current one.
    #[error("{0}")]
    PreconditionFailed(String),
    /// `ServiceException` (500): the local cloud could not do it (a binary that
    /// cannot be read, a host shutting down).
    #[error("{0}")]
    Service(String),
}

impl LambdaError {
    /// The error type, as `x-amzn-ErrorType` names it.
    pub fn error_type(&self) -> &'static str {
        match self {
            Self::NotFound(_) => "ResourceNotFoundException",
            Self::Conflict(_) => "ResourceConflictException",
            Self::InvalidParameter(_) => "InvalidParameterValueException",
            Self::PreconditionFailed(_) => "PreconditionFailedException",
            Self::Service(_) => "ServiceException",
        }
    }

    /// The HTTP status the Lambda API answers it with.
    pub fn status(&self) -> u16 {
        match self {
            Self::NotFound(_) => 404,
            Self::Conflict(_) => 409,
            Self::InvalidParameter(_) => 400,
            Self::PreconditionFailed(_) => 412,
            Self::Service(_) => 500,
        }
    }
}

/// What a version runs with besides its code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Configuration {
    /// The function's own environment variables.
    pub environment: BTreeMap<String, String>,
    /// `MemorySize`, MB.
    pub memory_mb: u32,
    /// `Timeout`, seconds.
    pub timeout_secs: u32,
}

/// A change to `$LATEST`'s configuration (`UpdateFunctionConfiguration`): what is
/// `None` stays.
#[derive(Clone, Debug, Default)]
pub struct ConfigurationUpdate {
    /// Replaces the environment variables.
    pub environment: Option<BTreeMap<String, String>>,
    /// `MemorySize`, 128 to 10240 MB.
    pub memory_mb: Option<u32>,
    /// `Timeout`, 1 to 900 s.
    pub timeout_secs: Option<u32>,
    /// `Description`.
    pub description: Option<String>,
    /// Applies only if `$LATEST` is still at this revision.
    pub revision_id: Option<String>,
}

/// `$LATEST` or one published version.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    /// `$LATEST` or a number.
    pub version: String,
    /// The code.
    pub code: Code,
    /// The configuration.
    pub configuration: Configuration,
    /// `Description`.
    pub description: String,
    /// When its code or configuration last changed (`LastModified`).
    pub last_modified: String,
    /// Changes with every update (`RevisionId`).
    pub revision_id: String,
}

/// An alias: a primary version and at most one additional version with a weight.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alias {
    /// Its name (`live`).
    pub name: String,
    /// The primary version.
    pub function_version: String,
    /// `RoutingConfig.AdditionalVersionWeights`: version → share of invocations.
    pub additional_weights: BTreeMap<String, f64>,
    /// `Description`.
    pub description: String,
    /// Changes with every update (`RevisionId`).
    pub revision_id: String,
}

impl Alias {
    /// The version an invocation runs for a uniform `draw` in [0, 1).
    pub fn route(&self, draw: f64) -> &str {
        let mut edge = 0.0;
        for (version, weight) in &self.additional_weights {
            edge += weight;
            if draw < edge {
                return version;
            }
        }
        &self.function_version
    }

    /// Each version and the share of invocations it gets.
    pub fn weights(&self) -> BTreeMap<String, f64> {
        let additional: f64 = self.additional_weights.values().sum();
        let mut weights = self.additional_weights.clone();
        *weights.entry(self.function_version.clone()).or_default() += 1.0 - additional;
        weights
    }
}

/// A change to an alias (`UpdateAlias`): what is `None` stays.
#[derive(Clone, Debug, Default)]
pub struct AliasUpdate {
    /// The new primary version.
    pub function_version: Option<String>,
    /// `Description`.
    pub description: Option<String>,
    /// `RoutingConfig.AdditionalVersionWeights` (an empty map removes the routing).
    pub additional_weights: Option<BTreeMap<String, f64>>,
    /// Applies only if the alias is still at this revision.
    pub revision_id: Option<String>,
}

/// Everything a [`Function`] needs to run its versions.
pub struct FunctionSetup {
    /// The template's function (its configuration is `$LATEST`'s).
    pub spec: FunctionSpec,
    /// The build output `$LATEST` runs.
    pub binary: PathBuf,
    /// The region.
    pub region: String,
    /// The region, credentials and endpoint every process gets.
    pub base_env: Vec<(String, String)>,
    /// Where logs, metrics and segments go.
    pub observers: Observers,
    /// Execution environments per version.
    pub concurrency: usize,
    /// Cancelled when the stack stops.
    pub stopping: CancellationToken,
    /// Where published binaries are kept.
    pub code_store: Arc<CodeStore>,
}

struct State {
    latest_binary: PathBuf,
    /// `$LATEST`'s code as last read, and the file's modification time then.
    latest_code: Option<(std::time::SystemTime, Code)>,
    latest_configuration: Configuration,
    latest_description: String,
    latest_modified: String,
    latest_revision: String,
    versions: BTreeMap<u64, Version>,
    /// Numbers are never reused, even after a version is deleted.
    last_number: u64,
    aliases: BTreeMap<String, Alias>,
    /// The running versions.
    hosts: BTreeMap<String, Arc<FunctionHost>>,
}

/// One function: `$LATEST`, its versions, its aliases and the running hosts.
pub struct Function {
    /// What the template says of it.
    pub spec: FunctionSpec,
    region: String,
    base_env: Vec<(String, String)>,
    observers: Observers,
    concurrency: usize,
    stopping: CancellationToken,
    tasks: TaskTracker,
    code_store: Arc<CodeStore>,
    faults: Mutex<FaultInjection>,
    state: Mutex<State>,
}

fn timestamp() -> String {
    time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]+0000"
        ))
        .unwrap_or_default()
}

fn revision() -> String {
    uuid::Uuid::new_v4().to_string()
}

impl Function {
    /// The function, with nothing published yet.
    pub fn new(setup: FunctionSetup) -> Arc<Self> {
        let FunctionSetup {
            spec,
            binary,
            region,
            base_env,
            observers,
            concurrency,
            stopping,
            code_store,
        } = setup;
        let state = State {
            latest_binary: binary,
            latest_code: None,
            latest_configuration: Configuration {
                environment: spec.environment.clone(),
                memory_mb: spec.memory_mb,
                timeout_secs: spec.timeout_secs,
            },
            latest_description: String::new(),
            latest_modified: timestamp(),
            latest_revision: revision(),
            versions: BTreeMap::new(),
            last_number: 0,
            aliases: BTreeMap::new(),
            hosts: BTreeMap::new(),
        };
        Arc::new(Self {
            spec,
            region,
            base_env,
            observers,
            concurrency: concurrency.max(1),
            stopping,
            tasks: TaskTracker::new(),
            code_store,
            faults: Mutex::default(),
            state: Mutex::new(state),
        })
    }

    /// The region it runs in.
    pub fn region(&self) -> &str {
        &self.region
    }

    /// The function's ARN, qualified when `qualifier` is given.
    pub fn arn(&self, qualifier: Option<&str>) -> String {
        invoked_arn(&self.region, &self.spec.function_name, qualifier)
    }

    fn not_found(&self, qualifier: &str) -> LambdaError {
        LambdaError::NotFound(format!("Function not found: {}", self.arn(Some(qualifier))))
    }

    /// `$LATEST` as it is now (its binary is hashed again when the build changed it).
    ///
    /// # Errors
    /// [`LambdaError::Service`] when the binary cannot be read.
    pub fn latest(&self) -> Result<Version, LambdaError> {
        let mut state = lock(&self.state);
        let modified = std::fs::metadata(&state.latest_binary)
            .and_then(|m| m.modified())
            .map_err(|e| self.unreadable(&state.latest_binary, &e))?;
        let code = match &state.latest_code {
            Some((seen, code)) if *seen == modified => code.clone(),
            _ => {
                let code = Code::read(&state.latest_binary)
                    .map_err(|e| self.unreadable(&state.latest_binary, &e))?;
                state.latest_code = Some((modified, code.clone()));
                code
            }
        };
        Ok(Version {
            version: LATEST.to_owned(),
            code,
            configuration: state.latest_configuration.clone(),
            description: state.latest_description.clone(),
            last_modified: state.latest_modified.clone(),
            revision_id: state.latest_revision.clone(),
        })
    }

    fn unreadable(&self, binary: &std::path::Path, error: &std::io::Error) -> LambdaError {
        LambdaError::Service(format!(
            "{}: cannot read its binary {}: {error}",
            self.spec.function_name,
            binary.display()
        ))
    }

    /// `$LATEST` runs `binary` from now on (a new build); running `$LATEST`
    /// environments are replaced.
    pub fn update_code(&self, binary: PathBuf) {
        let replaced = {
            let mut state = lock(&self.state);
            state.latest_binary = binary;
            state.latest_code = None;
            state.latest_modified = timestamp();
            state.latest_revision = revision();
            state.hosts.remove(LATEST)
        };
        if let Some(host) = replaced {
            host.stop();
        }
    }

    /// Changes `$LATEST`'s configuration; running `$LATEST` environments are
    /// replaced. Answers `$LATEST` as it is now.
    ///
    /// # Errors
    /// [`LambdaError::PreconditionFailed`] for a stale `revision_id`,
    /// [`LambdaError::InvalidParameter`] for a memory size or timeout Lambda refuses.
    pub fn update_configuration(
        &self,
        update: ConfigurationUpdate,
    ) -> Result<Version, LambdaError> {
        if let Some(memory) = update.memory_mb
            && !(128..=10_240).contains(&memory)
        {
            return Err(LambdaError::InvalidParameter(format!(
                "MemorySize {memory} is not from 128 to 10240 MB"
            )));
        }
        if let Some(timeout) = update.timeout_secs
            && !(1..=900).contains(&timeout)
        {
            return Err(LambdaError::InvalidParameter(format!(
                "Timeout {timeout} is not from 1 to 900 seconds"
            )));
        }
        let replaced = {
            let mut state = lock(&self.state);
            if let Some(expected) = &update.revision_id
                && *expected != state.latest_revision
            {
                return Err(LambdaError::PreconditionFailed(
                    "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".to_owned(),
                ));
            }
            let configuration = &mut state.latest_configuration;
            if let Some(environment) = update.environment {
                configuration.environment = environment;
            }
            if let Some(memory) = update.memory_mb {
                configuration.memory_mb = memory;
            }
            if let Some(timeout) = update.timeout_secs {
                configuration.timeout_secs = timeout;
            }
            if let Some(description) = update.description {
                state.latest_description = description;
            }
            state.latest_modified = timestamp();
            state.latest_revision = revision();
            state.hosts.remove(LATEST)
        };
        if let Some(host) = replaced {
            host.stop();
        }
        self.latest()
    }

    /// Publishes `$LATEST` as the next version (`PublishVersion`): its binary copied
    /// into the code store, its configuration as it is now. When neither changed since
    /// the newest version, that version is the answer and nothing is published, as in
    /// Lambda. `code_sha256`, when given, must be `$LATEST`'s.
    ///
    /// # Errors
    /// [`LambdaError::PreconditionFailed`] for another `CodeSha256` or `RevisionId`,
    /// [`LambdaError::Service`] when the binary cannot be copied.
    pub fn publish(
        &self,
        description: Option<String>,
        code_sha256: Option<&str>,
        revision_id: Option<&str>,
    ) -> Result<Version, LambdaError> {
        let latest = self.latest()?;
        if let Some(expected) = code_sha256
            && expected != latest.code.sha256()
        {
            return Err(LambdaError::PreconditionFailed(format!(
                "CodeSha256 {expected} does not match $LATEST's ({})",
                latest.code.sha256()
            )));
        }
        if let Some(expected) = revision_id
            && expected != latest.revision_id
        {
            return Err(LambdaError::PreconditionFailed(
                "The Revision Id provided does not match the latest Revision Id".to_owned(),
            ));
        }
        let code = self
            .code_store
            .snapshot(&latest.code.binary)
            .map_err(|e| self.unreadable(&latest.code.binary, &e))?;
        let mut state = lock(&self.state);
        if let Some(newest) = state.versions.values().next_back()
            && newest.code.digest == code.digest
            && newest.configuration == state.latest_configuration
        {
            return Ok(newest.clone());
        }
        state.last_number += 1;
        let version = Version {
            version: state.last_number.to_string(),
            code,
            configuration: state.latest_configuration.clone(),
            description: description.unwrap_or_default(),
            last_modified: timestamp(),
            revision_id: revision(),
        };
        let number = state.last_number;
        state.versions.insert(number, version.clone());
        Ok(version)
    }

    /// `$LATEST` and every published version, oldest first.
    ///
    /// # Errors
    /// [`LambdaError::Service`] when `$LATEST`'s binary cannot be read.
    pub fn versions(&self) -> Result<Vec<Version>, LambdaError> {
        let latest = self.latest()?;
        let state = lock(&self.state);
        Ok(std::iter::once(latest)
            .chain(state.versions.values().cloned())
            .collect())
    }

    /// One version: `$LATEST`, a number, or the version an alias's primary is.
    ///
    /// # Errors
    /// [`LambdaError::NotFound`] for a version or alias that does not exist.
    pub fn version(&self, qualifier: Option<&str>) -> Result<Version, LambdaError> {
        let qualifier = qualifier.unwrap_or(LATEST);
        if qualifier == LATEST {
            return self.latest();
        }
        let state = lock(&self.state);
        let number = match state.aliases.get(qualifier) {
            Some(alias) => alias.function_version.as_str(),
            None => qualifier,
        };
        number
            .parse::<u64>()
            .ok()
            .and_then(|n| state.versions.get(&n).cloned())
            .ok_or_else(|| self.not_found(qualifier))
    }

    /// Deletes a published version (`DeleteFunction` with a `Qualifier`) and stops its
    /// environments.
    ///
    /// # Errors
    /// [`LambdaError::Conflict`] while an alias references it (as its primary or its
    /// additional version), [`LambdaError::NotFound`] for one that does not exist,
    /// [`LambdaError::InvalidParameter`] for `$LATEST` or an alias.
    pub fn delete_version(&self, qualifier: &str) -> Result<(), LambdaError> {
        let host = {
            let mut state = lock(&self.state);
            if qualifier == LATEST || state.aliases.contains_key(qualifier) {
                return Err(LambdaError::InvalidParameter(format!(
                    "{qualifier} is not a published version: delete a numbered version (the local stack's functions themselves come from the template)"
                )));
            }
            let number = qualifier
                .parse::<u64>()
                .ok()
                .filter(|n| state.versions.contains_key(n))
                .ok_or_else(|| self.not_found(qualifier))?;
            let referencing: Vec<&str> = state
                .aliases
                .values()
                .filter(|alias| {
                    alias.function_version == qualifier
                        || alias.additional_weights.contains_key(qualifier)
                })
                .map(|alias| alias.name.as_str())
                .collect();
            if !referencing.is_empty() {
                return Err(LambdaError::Conflict(format!(
                    "Unable to delete version because the following aliases reference it: [{}]",
                    referencing.join(", ")
                )));
            }
            state.versions.remove(&number);
            state.hosts.remove(qualifier)
        };
        if let Some(host) = host {
            host.stop();
        }
        Ok(())
    }

    /// Every alias, by name.
    pub fn aliases(&self) -> Vec<Alias> {
        lock(&self.state).aliases.values().cloned().collect()
    }

    /// One alias.
    ///
    /// # Errors
    /// [`LambdaError::NotFound`] when it does not exist.
    pub fn alias(&self, name: &str) -> Result<Alias, LambdaError> {
        lock(&self.state)
            .aliases
            .get(name)
            .cloned()
            .ok_or_else(|| self.alias_not_found(name))
    }

    fn alias_not_found(&self, name: &str) -> LambdaError {
        LambdaError::NotFound(format!("Alias not found: {}", self.arn(Some(name))))
    }

    /// Creates alias `name` on `version` (what `AutoPublishAlias` does on a deploy).
    ///
    /// # Errors
    /// [`LambdaError::Conflict`] when it exists, [`LambdaError::NotFound`] for a
    /// version that does not, [`LambdaError::InvalidParameter`] for a name that is a
    /// version.
    pub fn create_alias(&self, name: &str, version: &str) -> Result<Alias, LambdaError> {
        if name == LATEST || name.parse::<u64>().is_ok() || name.is_empty() {
            return Err(LambdaError::InvalidParameter(format!(
                "{name:?} cannot name an alias"
            )));
        }
        let mut state = lock(&self.state);
        if state.aliases.contains_key(name) {
            return Err(LambdaError::Conflict(format!(
                "Alias already exists: {}",
                self.arn(Some(name))
            )));
        }
        self.check_version(&state, version)?;
        let alias = Alias {
            name: name.to_owned(),
            function_version: version.to_owned(),
            additional_weights: BTreeMap::new(),
            description: String::new(),
            revision_id: revision(),
        };
        state.aliases.insert(name.to_owned(), alias.clone());
        Ok(alias)
    }

    fn check_version(&self, state: &State, version: &str) -> Result<(), LambdaError> {
        let exists = version == LATEST
            || version
                .parse::<u64>()
                .is_ok_and(|n| state.versions.contains_key(&n));
        if exists {
            Ok(())
        } else {
            Err(self.not_found(version))
        }
    }

    /// Changes an alias (`UpdateAlias`), checked as Lambda checks it: the versions
    /// exist, at most one additional version, with a weight from 0 to 1, both it and
    /// the primary are published versions and they differ.
    ///
    /// # Errors
    /// [`LambdaError::NotFound`], [`LambdaError::InvalidParameter`] or
    /// [`LambdaError::PreconditionFailed`] (a stale `revision_id`).
    pub fn update_alias(&self, name: &str, update: AliasUpdate) -> Result<Alias, LambdaError> {
        let mut state = lock(&self.state);
        let current = state
            .aliases
            .get(name)
            .cloned()
            .ok_or_else(|| self.alias_not_found(name))?;
        if let Some(expected) = &update.revision_id
            && *expected != current.revision_id
        {
            return Err(LambdaError::PreconditionFailed(
                "The Revision Id provided does not match the latest Revision Id. Call the GetFunction/GetAlias API to retrieve the latest Revision Id".to_owned(),
            ));
        }
        let mut alias = current;
        if let Some(version) = update.function_version {
            self.check_version(&state, &version)?;
            alias.function_version = version;
        }
        if let Some(weights) = update.additional_weights {
            alias.additional_weights = weights;
        }
        if let Some(description) = update.description {
            alias.description = description;
        }
        if alias.additional_weights.len() > 1 {
            return Err(LambdaError::InvalidParameter(
                "RoutingConfig.AdditionalVersionWeights: at most one additional version".to_owned(),
            ));
        }
        for (version, weight) in &alias.additional_weights {
            if !(0.0..=1.0).contains(weight) {
                return Err(LambdaError::InvalidParameter(format!(
                    "the weight of version {version} is {weight}: it must be from 0.0 to 1.0"
                )));
            }
            if *version == alias.function_version {
                return Err(LambdaError::InvalidParameter(format!(
                    "version {version} is the alias's primary version: an additional version must be another one"
                )));
            }
            if version == LATEST || alias.function_version == LATEST {
                return Err(LambdaError::InvalidParameter(
                    "an alias with routing points to published versions only, not $LATEST"
                        .to_owned(),
                ));
            }
            self.check_version(&state, version)?;
        }
        alias.revision_id = revision();
        state.aliases.insert(name.to_owned(), alias.clone());
        Ok(alias)
    }

    /// The version an invocation with `qualifier` runs: `$LATEST` without one, the
    /// version named, or for an alias a version drawn by its weights.
    ///
    /// # Errors
    /// [`LambdaError::NotFound`] for a version or alias that does not exist.
    pub fn resolve(&self, qualifier: Option<&str>) -> Result<String, LambdaError> {
        let qualifier = qualifier.unwrap_or(LATEST);
        let state = lock(&self.state);
        if let Some(alias) = state.aliases.get(qualifier) {
            return Ok(alias.route(fastrand::f64()).to_owned());
        }
        self.check_version(&state, qualifier)?;
        Ok(qualifier.to_owned())
    }

    /// Invokes the function through `qualifier` (as API Gateway and the SQS event
    /// source invoke it through its alias) and waits for the answer, which says the
    /// version that ran.
    ///
    /// # Errors
    /// [`LambdaError::NotFound`] for an unknown qualifier, [`LambdaError::Service`]
    /// when the version cannot start or the stack is stopping.
    pub async fn invoke(
        &self,
        qualifier: Option<&str>,
        event: Value,
        traces: Vec<TraceContext>,
    ) -> Result<Invocation, LambdaError> {
        let version = self.resolve(qualifier)?;
        let host = self.host(&version)?;
        host.invoke(event, Some(self.arn(qualifier)), traces)
            .await
            .map_err(|e| LambdaError::Service(e.to_string()))
    }

    /// The running host of `version`, started now if it is not running.
    ///
    /// # Errors
    /// [`LambdaError::NotFound`] for a version that does not exist,
    /// [`LambdaError::Service`] when `$LATEST`'s binary cannot be read.
    pub fn host(&self, version: &str) -> Result<Arc<FunctionHost>, LambdaError> {
        if let Some(host) = lock(&self.state).hosts.get(version) {
            return Ok(Arc::clone(host));
        }
        let published = self.version(Some(version))?;
        let mut state = lock(&self.state);
        if let Some(host) = state.hosts.get(version) {
            return Ok(Arc::clone(host));
        }
        let mut spec = self.spec.clone();
        spec.environment = published.configuration.environment;
        spec.memory_mb = published.configuration.memory_mb;
        spec.timeout_secs = published.configuration.timeout_secs;
        let host = FunctionHost::new(
            HostConfig {
                spec,
                version: published.version,
                binary: published.code.binary,
                region: self.region.clone(),
                base_env: self.base_env.clone(),
            },
            self.observers.clone(),
            self.concurrency,
            self.stopping.child_token(),
        );
        host.set_faults(*lock(&self.faults));
        host.start(&self.tasks);
        state.hosts.insert(version.to_owned(), Arc::clone(&host));
        Ok(host)
    }

    /// The running hosts, by version.
    pub fn hosts(&self) -> Vec<Arc<FunctionHost>> {
        lock(&self.state).hosts.values().cloned().collect()
    }

    /// Every running execution environment, of every version.
    pub fn environments(&self) -> Vec<EnvironmentInfo> {
        self.hosts()
            .iter()
            .flat_map(|host| host.environments())
            .collect()
    }

    /// Invocations, errors and init durations, over every version that ran.
    pub fn counters(&self) -> Counters {
        let mut total = Counters::default();
        for host in self.hosts() {
            let counters = host.counters();
            total.invocations += counters.invocations;
            total.errors += counters.errors;
            total.init_durations_ms.extend(counters.init_durations_ms);
        }
        total
    }

    /// Whether every running environment finished its first init, and the failures.
    pub fn readiness(&self) -> (bool, Vec<String>) {
        let mut all_ready = true;
        let mut failures = Vec::new();
        for host in self.hosts() {
            let (ready, failed) = host.readiness();
            all_ready &= ready;
            failures.extend(failed);
        }
        (all_ready, failures)
    }

    /// The fault injection laid over every version's configuration.
    pub fn faults(&self) -> FaultInjection {
        *lock(&self.faults)
    }

    /// Sets the fault injection of every version; running environments restart with it
    /// once idle.
    pub fn set_faults(&self, faults: FaultInjection) {
        *lock(&self.faults) = faults;
        for host in self.hosts() {
            host.set_faults(faults);
        }
    }

    /// Writes a platform line (`LogSource::Platform`) to the function's log group, as
    /// the event source's notices are.
    pub fn platform(&self, stream: &str, level: &str, message: String) {
        let mut entry = crate::cloudwatch::LogEntry::new(
            &self.spec.name,
            "",
            &self.spec.log_group,
            stream,
            crate::cloudwatch::LogSource::Platform,
            message,
        );
        entry.level = Some(level.to_owned());
        self.observers.cloudwatch.put_log(entry);
    }

    /// Waits until every environment of every version has stopped (after the stack's
    /// token is cancelled): their processes are killed and reaped by then.
    pub async fn stopped(&self) {
        self.tasks.close();
        self.tasks.wait().await;
    }
}

/// The functions of a stack, by the name the console shows (`add-comments`).
pub type Functions = BTreeMap<String, Arc<Function>>;

/// The function a Lambda API caller names — by physical name, by ARN, or as
/// `name:qualifier` — and the qualifier the name carries, if any.
pub fn find_function<'a>(
    functions: &'a Functions,
    name: &str,
) -> Option<(&'a Arc<Function>, Option<String>)> {
    let rest = name
        .strip_prefix("arn:aws:lambda:")
        .and_then(|rest| rest.split_once(":function:").map(|(_, f)| f))
        .or_else(|| {
            // A partial ARN: `123456789012:function:name`.
            name.split_once(":function:").map(|(_, f)| f)
        })
        .unwrap_or(name);
    let (function_name, qualifier) = match rest.split_once(':') {
        Some((function_name, qualifier)) => (function_name, Some(qualifier.to_owned())),
        None => (rest, None),
    };
    functions
        .values()
        .find(|f| f.spec.function_name == function_name)
        .map(|f| (f, qualifier))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alias(primary: &str, additional: &[(&str, f64)]) -> Alias {
        Alias {
            name: "live".into(),
            function_version: primary.into(),
            additional_weights: additional
                .iter()
                .map(|(v, w)| ((*v).to_owned(), *w))
                .collect(),
            description: String::new(),
            revision_id: String::new(),
        }
    }

    #[test]
    fn an_alias_routes_its_weight_to_the_additional_version_and_the_rest_to_the_primary() {
        let live = alias("6", &[("7", 0.1)]);
        assert_eq!(live.route(0.0), "7");
        assert_eq!(live.route(0.099), "7");
        assert_eq!(live.route(0.1), "6");
        assert_eq!(live.route(0.999), "6");
        let weights = live.weights();
        assert!((weights["6"] - 0.9).abs() < 1e-9 && (weights["7"] - 0.1).abs() < 1e-9);
        assert_eq!(alias("3", &[]).weights(), [("3".to_owned(), 1.0)].into());
        let share = (0..10_000)
            .filter(|_| live.route(fastrand::f64()) == "7")
            .count();
        assert!(
            (800..1200).contains(&share),
            "{share} of 10000 on the canary"
        );
    }

    fn function() -> (Arc<Function>, tempfile::TempDir) {
        crate::test_support::function()
    }

    #[test]
    fn publishing_snapshots_code_and_configuration_and_publishes_nothing_unchanged() {
        let (function, dir) = function();
        let one = function.publish(Some("first".into()), None, None).unwrap();
        assert_eq!(one.version, "1");
        assert_eq!(one.description, "first");
        assert_eq!(function.publish(None, None, None).unwrap(), one);

        std::fs::write(dir.path().join("f"), b"build two").unwrap();
        let two = function.publish(None, None, None).unwrap();
        assert_eq!(two.version, "2");
        assert_ne!(two.code.sha256(), one.code.sha256());
        assert_eq!(std::fs::read(&one.code.binary).unwrap(), b"build one");

        let mut environment = function.latest().unwrap().configuration.environment;
        environment.insert("QUEUE_URL".into(), "http://nowhere".into());
        function
            .update_configuration(ConfigurationUpdate {
                environment: Some(environment),
                ..ConfigurationUpdate::default()
            })
            .unwrap();
        let three = function.publish(None, None, None).unwrap();
        assert_eq!(three.version, "3");
        assert_eq!(
            three.code, two.code,
            "a configuration change shares the code"
        );
        assert_eq!(
            three.configuration.environment["QUEUE_URL"],
            "http://nowhere"
        );
        assert_eq!(two.configuration.environment.get("QUEUE_URL"), None);

        let wrong = function.publish(None, Some("bm90IGl0"), None).unwrap_err();
        assert_eq!(wrong.error_type(), "PreconditionFailedException");
        let versions: Vec<String> = function
            .versions()
            .unwrap()
            .into_iter()
            .map(|v| v.version)
            .collect();
        assert_eq!(versions, ["$LATEST", "1", "2", "3"]);
    }

    #[test]
    fn an_aliased_version_cannot_be_deleted_and_numbers_are_never_reused() {
        let (function, dir) = function();
        function.publish(None, None, None).unwrap();
        std::fs::write(dir.path().join("f"), b"build two").unwrap();
        function.publish(None, None, None).unwrap();
        function.create_alias("live", "1").unwrap();
        function
            .update_alias(
                "live",
                AliasUpdate {
                    additional_weights: Some([("2".to_owned(), 0.1)].into()),
                    ..AliasUpdate::default()
                },
            )
            .unwrap();
        for version in ["1", "2"] {
            let refused = function.delete_version(version).unwrap_err();
            assert_eq!(refused.error_type(), "ResourceConflictException");
            assert!(refused.to_string().contains("[live]"), "{refused}");
        }
        function
            .update_alias(
                "live",
                AliasUpdate {
                    function_version: Some("2".into()),
                    additional_weights: Some(BTreeMap::new()),
                    ..AliasUpdate::default()
                },
            )
            .unwrap();
        function.delete_version("1").unwrap();
        assert_eq!(
            function.delete_version("1").unwrap_err().error_type(),
            "ResourceNotFoundException"
        );
        assert_eq!(
            function.delete_version(LATEST).unwrap_err().error_type(),
            "InvalidParameterValueException"
        );
        std::fs::write(dir.path().join("f"), b"build three").unwrap();
        assert_eq!(function.publish(None, None, None).unwrap().version, "3");
        assert_eq!(function.version(Some("live")).unwrap().version, "2");
    }

    #[test]
    fn alias_updates_are_checked_as_lambda_checks_them() {
        let (function, dir) = function();
        function.publish(None, None, None).unwrap();
        std::fs::write(dir.path().join("f"), b"build two").unwrap();
        function.publish(None, None, None).unwrap();
        let live = function.create_alias("live", "1").unwrap();
        let refused = |update: AliasUpdate| function.update_alias("live", update).unwrap_err();
        let weights = |pairs: &[(&str, f64)]| {
            Some(
                pairs
                    .iter()
                    .map(|(v, w)| ((*v).to_owned(), *w))
                    .collect::<BTreeMap<_, _>>(),
            )
        };
        for (update, expected) in [
            (
                AliasUpdate {
                    additional_weights: weights(&[("2", 1.5)]),
                    ..AliasUpdate::default()
                },
                "InvalidParameterValueException",
            ),
            (
                AliasUpdate {
                    additional_weights: weights(&[("1", 0.5)]),
                    ..AliasUpdate::default()
                },
                "InvalidParameterValueException",
            ),
            (
                AliasUpdate {
                    additional_weights: weights(&[("2", 0.1), ("$LATEST", 0.1)]),
                    ..AliasUpdate::default()
                },
                "InvalidParameterValueException",
            ),
            (
                AliasUpdate {
                    additional_weights: weights(&[("9", 0.1)]),
                    ..AliasUpdate::default()
                },
                "ResourceNotFoundException",
            ),
            (
                AliasUpdate {
                    function_version: Some("9".into()),
                    ..AliasUpdate::default()
                },
                "ResourceNotFoundException",
            ),
            (
                AliasUpdate {
                    function_version: Some("2".into()),
                    revision_id: Some("stale".into()),
                    ..AliasUpdate::default()
                },
                "PreconditionFailedException",
            ),
        ] {
            assert_eq!(refused(update).error_type(), expected);
        }
        assert_eq!(function.alias("live").unwrap(), live, "nothing changed");
        assert_eq!(
            function.alias("nope").unwrap_err().error_type(),
            "ResourceNotFoundException"
        );
        assert_eq!(
            function.resolve(Some("nope")).unwrap_err().error_type(),
            "ResourceNotFoundException"
        );
        assert_eq!(function.resolve(None).unwrap(), LATEST);
        assert_eq!(function.resolve(Some("live")).unwrap(), "1");
    }

    #[test]
    fn callers_name_a_function_by_name_arn_or_partial_arn_with_a_qualifier() {
        let (function, _dir) = function();
        let functions: Functions = [("crash".to_owned(), function)].into();
        let name = functions["crash"].spec.function_name.clone();
        for (given, qualifier) in [
            (name.clone(), None),
            (format!("{name}:live"), Some("live")),
            (
                format!("arn:aws:lambda:eu-west-1:123456789012:function:{name}"),
                None,
            ),
            (
                format!("arn:aws:lambda:eu-west-1:123456789012:function:{name}:7"),
                Some("7"),
            ),
            (format!("123456789012:function:{name}"), None),
        ] {
            let (found, q) = find_function(&functions, &given).unwrap();
            assert_eq!(found.spec.function_name, name);
            assert_eq!(q.as_deref(), qualifier, "{given}");
        }
        assert!(find_function(&functions, "other").is_none());
    }
}
