//! `POST /ops/api/deployments`: a release of one function, as `sam deploy` and
//! CodeDeploy make one. The current code is built (or re-read from `--bin-dir`), the
//! requested configuration change is laid over the live version's, the result is
//! published as a new version, and a CodeDeploy deployment runs it through the
//! function's `DeploymentPreference`: its `PreTraffic` hook, its configuration's traffic
//! shift and its alarms.

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use local_cloud::codedeploy::{DeploymentConfig, Hook, Plan, hook_environment};
use local_cloud::lambda::{self, ConfigurationUpdate, Function, Version};
use ops_wire::faults::{FaultInjection, is_fault_var};
use serde::Deserialize;

use super::Shared;
use super::api::ApiError;

/// How many versions before the live one a successful deployment keeps (the talk's
/// "support for n-3 versions").
pub const KEEP_VERSIONS: usize = 3;

/// Where new code comes from.
#[derive(Clone, Debug)]
pub enum CodeSource {
    /// `cargo build` with these arguments, in this folder.
    Cargo {
        /// The project folder.
        project: PathBuf,
        /// The build arguments (`--workspace --bins --profile demo`).
        args: Vec<String>,
    },
    /// Prebuilt binaries in a folder (`--bin-dir`): read again.
    Folder(PathBuf),
}

impl CodeSource {
    /// The binaries as they are now, by name (building them first with cargo).
    fn binaries(&self) -> Result<HashMap<String, PathBuf>, String> {
        match self {
            Self::Folder(dir) => Ok(lambda::prebuilt(dir)),
            Self::Cargo { project, args } => {
                let args: Vec<&str> = args.iter().map(String::as_str).collect();
                lambda::cargo_build(project, &args).map_err(|e| e.to_string())
            }
        }
    }
}

/// The body of `POST /ops/api/deployments`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeployRequest {
    /// The function's console name (`push-to-db`).
    pub function: String,
    /// A CodeDeploy configuration; default: the template's for the stack's environment.
    #[serde(default)]
    pub config: Option<String>,
    /// Variables merged onto the live version's (a configuration change).
    #[serde(default)]
    pub environment: BTreeMap<String, String>,
    /// Fault injection baked into the new version.
    #[serde(default)]
    pub faults: Option<FaultInjection>,
}

/// Starts a deployment; answers its id.
///
/// # Errors
/// [`ApiError`]: an unknown function or configuration, a deployment of the function in
/// progress or nothing new to publish (`409`), a build that fails.
pub async fn start(shared: &Arc<Shared>, request: DeployRequest) -> Result<String, ApiError> {
    // Two requests at once would build twice and could both pass the check below.
    let _preparing = shared.preparing.lock().await;
    let function = super::api::function(shared, &request.function)?;
    let alias = function.spec.alias.clone().ok_or_else(|| {
        ApiError::Conflict(format!(
            "{} has no alias to deploy through",
            request.function
        ))
    })?;
    let preference = function.spec.deployment.clone();
    let config_name = request
        .config
        .clone()
        .or_else(|| preference.as_ref().map(|p| p.config.clone()))
        .unwrap_or_else(|| "AllAtOnce".to_owned());
    let config = DeploymentConfig::named(&config_name).ok_or_else(|| {
        ApiError::BadRequest(format!(
            "{config_name:?} is not a CodeDeploy configuration; the predefined ones are {}",
            local_cloud::codedeploy::PREDEFINED.join(", ")
        ))
    })?;
    if let Some(faults) = &request.faults {
        faults
            .validate()
            .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    }
    if let Some(running) = shared.deployments.in_progress(&function.spec.name) {
        return Err(ApiError::Conflict(format!(
            "deployment {} of {} is in progress",
            running.id, running.function
        )));
    }
    let live = function
        .alias(&alias)
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    let live_version = function
        .version(Some(&live.function_version))
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;

    let published = publish_new(shared, &function, &live_version, &request, &config.name).await?;
    let hook = preference
        .as_ref()
        .and_then(|p| p.pre_traffic.as_ref())
        .and_then(|logical_id| shared.hooks.get(logical_id))
        .map(|hook| Hook {
            environment: hook_environment(
                &hook.spec.environment,
                &versions_for_hook(shared, &function, &published.version),
            ),
            timeout: Duration::from_secs(u64::from(hook.spec.timeout_secs) + 5),
            function: Arc::clone(hook),
        });
    let plan = Plan {
        function: Arc::clone(&function),
        alias,
        from_version: live_version.version.clone(),
        to_version: published.version.clone(),
        config,
        alarms: preference.map(|p| p.alarms).unwrap_or_default(),
        hook,
        time_scale: f64::from(shared.time_scale),
        keep: KEEP_VERSIONS,
        code_sha256: published.code.sha256(),
    };
    let id = shared.deployments.create(&plan);
    let deployments = shared.deployments.clone();
    let alarms = shared.alarms.clone();
    let running = id.clone();
    tokio::spawn(async move { deployments.run(running, plan, alarms).await });
    Ok(id)
}

/// Builds the current code, makes it `$LATEST` with the live version's configuration
/// and the request's change, and publishes it; a `409` when that is what is live
/// already (nothing is published then).
async fn publish_new(
    shared: &Shared,
    function: &Arc<Function>,
    live_version: &Version,
    request: &DeployRequest,
    config: &str,
) -> Result<Version, ApiError> {
    let source = shared.code.clone();
    let binaries = tokio::task::spawn_blocking(move || source.binaries())
        .await
        .map_err(|e| ApiError::Unavailable(e.to_string()))?
        .map_err(|e| ApiError::Unavailable(format!("the build failed: {e}")))?;
    let binary = binaries
        .get(&function.spec.binary)
        .cloned()
        .ok_or_else(|| {
            ApiError::Unavailable(format!(
                "no binary {} after the build",
                function.spec.binary
            ))
        })?;
    function.update_code(binary);
    let environment = environment(&live_version.configuration.environment, request);
    function
        .update_configuration(ConfigurationUpdate {
            environment: Some(environment),
            memory_mb: Some(live_version.configuration.memory_mb),
            timeout_secs: Some(live_version.configuration.timeout_secs),
            ..ConfigurationUpdate::default()
        })
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    // Nothing new: refused before a version is published for it.
    let latest = function
        .latest()
        .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    if latest.code.digest == live_version.code.digest
        && latest.configuration == live_version.configuration
    {
        return Err(ApiError::Conflict(format!(
            "nothing new to deploy: the code ({}) and the configuration are version {}'s, which is live",
            latest.code.sha256(),
            live_version.version
        )));
    }
    let publishing = Arc::clone(function);
    let description = format!("deployed from the ops API with {config}");
    let published =
        tokio::task::spawn_blocking(move || publishing.publish(Some(description), None, None))
            .await
            .map_err(|e| ApiError::Unavailable(e.to_string()))?
            .map_err(|e| ApiError::Unavailable(e.to_string()))?;
    Ok(published)
}

/// The live version's variables, the request's laid over them, and the request's
/// faults (replacing any the live version had baked in).
fn environment(
    live: &BTreeMap<String, String>,
    request: &DeployRequest,
) -> BTreeMap<String, String> {
    let mut environment = live.clone();
    environment.extend(request.environment.clone());
    if let Some(faults) = &request.faults {
        environment.retain(|name, _| !is_fault_var(name));
        environment.extend(
            faults
                .env_vars()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v)),
        );
    }
    environment
}

/// The version each function's hook variable names: the new one for the function
/// deployed, the live one for the others.
fn versions_for_hook(
    shared: &Shared,
    deployed: &Function,
    version: &str,
) -> BTreeMap<String, String> {
    shared
        .functions
        .values()
        .filter_map(|f| {
            let version = if f.spec.function_name == deployed.spec.function_name {
                version.to_owned()
            } else {
                f.version(f.spec.alias.as_deref()).ok()?.version
            };
            Some((f.spec.function_name.clone(), version))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_configuration_change_lays_over_the_live_variables_and_faults_replace_faults() {
        let live: BTreeMap<String, String> = [
            ("QUEUE_URL".to_owned(), "http://q".to_owned()),
            ("TABLE_NAME".to_owned(), "t".to_owned()),
            ("FAULT_INJECTION_ERROR_RATE".to_owned(), "0.5".to_owned()),
        ]
        .into();
        let change = DeployRequest {
            function: "add-comments".into(),
            environment: [("QUEUE_URL".to_owned(), "http://nowhere".to_owned())].into(),
            ..DeployRequest::default()
        };
        let merged = environment(&live, &change);
        assert_eq!(merged["QUEUE_URL"], "http://nowhere");
        assert_eq!(merged["TABLE_NAME"], "t");
        assert_eq!(
            merged["FAULT_INJECTION_ERROR_RATE"], "0.5",
            "no faults asked: kept"
        );

        let healed = DeployRequest {
            function: "add-comments".into(),
            faults: Some(FaultInjection::default()),
            ..DeployRequest::default()
        };
        assert!(!environment(&live, &healed).contains_key("FAULT_INJECTION_ERROR_RATE"));

        let prefixed: BTreeMap<String, String> =
            [("OPS_KIT_FAULT_LATENCY_MS".to_owned(), "900".to_owned())].into();
        let slower = DeployRequest {
            function: "add-comments".into(),
            faults: Some(FaultInjection {
                error_rate: 0.0,
                latency_ms: 100,
            }),
            ..DeployRequest::default()
        };
        assert_eq!(
            environment(&prefixed, &slower)["OPS_KIT_FAULT_LATENCY_MS"],
            "100",
            "the request's faults replace the template's, under either name"
        );
    }
}
