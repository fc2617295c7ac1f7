//! CodeDeploy for Lambda: deployments of a function's new version through its alias,
//! run from the template's `DeploymentPreference` (configuration, alarms, `PreTraffic`
//! hook), and the one CodeDeploy operation a hook calls
//! (`PutLifecycleEventHookExecutionStatus`).
//!
//! | file | owns |
//! |---|---|
//! | `config.rs` | the predefined configurations: canary, linear, all at once |
//! | `deployment.rs` | a deployment's run: hook, traffic shift, alarms, rollback, promotion, n-3 |
//! | `api.rs` | the CodeDeploy JSON endpoint the hook reports to |
//! | `prune.rs` | which versions to keep (n-3, aliases, canaries, the newest) |

pub mod api;
mod config;
mod deployment;
pub mod prune;

use std::collections::BTreeMap;

pub use config::{DeploymentConfig, PREDEFINED, Step};
pub use deployment::{Deployment, Deployments, Event, Hook, HookReportError, Plan, Status, prune};

/// The hook's environment for a deployment: each variable that holds a function
/// version's ARN (`!Ref Function.Version` in the template) names the version being
/// deployed for the function deployed, and the live one for every other;
/// `versions` maps a physical function name to that version.
pub fn hook_environment(
    environment: &BTreeMap<String, String>,
    versions: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    environment
        .iter()
        .map(|(name, value)| {
            let replaced = value
                .rsplit_once(':')
                .and_then(|(unqualified, _)| {
                    let function = unqualified.split_once(":function:")?.1;
                    let version = versions.get(function)?;
                    Some(format!("{unqualified}:{version}"))
                })
                .unwrap_or_else(|| value.clone());
            (name.clone(), replaced)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hook_targets_the_deployed_version_and_the_others_live_ones() {
        let environment: BTreeMap<String, String> = [
            (
                "OPS_KIT_SERVICE_NAME".to_owned(),
                "pre-traffic-hook".to_owned(),
            ),
            (
                "ADD_COMMENTS_VERSION".to_owned(),
                "arn:aws:lambda:r:1:function:s-AddCommentsFunction:1".to_owned(),
            ),
            (
                "STATUS_VERSION".to_owned(),
                "arn:aws:lambda:r:1:function:s-StatusFunction:1".to_owned(),
            ),
        ]
        .into();
        let versions: BTreeMap<String, String> = [
            ("s-AddCommentsFunction".to_owned(), "4".to_owned()),
            ("s-StatusFunction".to_owned(), "2".to_owned()),
        ]
        .into();
        let hook = hook_environment(&environment, &versions);
        assert_eq!(hook["OPS_KIT_SERVICE_NAME"], "pre-traffic-hook");
        assert_eq!(
            hook["ADD_COMMENTS_VERSION"],
            "arn:aws:lambda:r:1:function:s-AddCommentsFunction:4"
        );
        assert_eq!(
            hook["STATUS_VERSION"],
            "arn:aws:lambda:r:1:function:s-StatusFunction:2"
        );
    }
}
