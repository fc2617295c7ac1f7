//! `feedback-ops release classify`: which functions a change releases, and how — the
//! talk's "classify the changes" so that small, low-risk changes go out fast and risky
//! ones slowly.
//!
//! Code: a change in a function crate releases that function; one in a shared crate
//! releases every function crate that depends on it (`cargo metadata`); tests, docs,
//! benches, the web page and tooling release nothing. The template is compared
//! resource by resource and property by property (not line by line), each change put
//! in a class:
//!
//! | class | what | risk | rollout |
//! |---|---|---|---|
//! | `observability` | alarms, dashboards, queries, log settings, tags | low | `AllAtOnce` |
//! | `code` | a function's code | medium | `Canary10Percent5Minutes` |
//! | `configuration` | a function's environment, memory, timeout; queue settings | medium | `Canary10Percent5Minutes` |
//! | `interface` | routes, events, event-source settings, the API | medium | `Canary10Percent5Minutes` |
//! | `permissions` | policies, roles | high | `Linear10PercentEvery1Minute` |
//! | `data` | a table's keys or indexes; replacing or deleting a table or queue | high | `Linear10PercentEvery1Minute` |

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use local_cloud::cloudformation::{Template, talk_name};
use serde::Serialize;
use serde_json::Value;

/// Why a change could not be classified: one line that says what to do.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ClassifyError(pub String);

/// A class of change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Class {
    /// Alarms, dashboards, queries, log settings, tags.
    Observability,
    /// A function's code.
    Code,
    /// A function's environment, memory or timeout; a queue's settings.
    Configuration,
    /// Routes, events, event-source settings, the API definition.
    Interface,
    /// Policies and roles.
    Permissions,
    /// A table's keys or indexes, or a stateful resource replaced or deleted.
    Data,
}

/// How risky a change is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Goes out at once.
    Low,
    /// A canary.
    Medium,
    /// A slow linear rollout.
    High,
}

impl Class {
    /// Its risk.
    pub fn risk(self) -> Risk {
        match self {
            Self::Observability => Risk::Low,
            Self::Code | Self::Configuration | Self::Interface => Risk::Medium,
            Self::Permissions | Self::Data => Risk::High,
        }
    }
}

impl Risk {
    /// The CodeDeploy configuration for it.
    pub fn rollout(self) -> &'static str {
        match self {
            Self::Low => "AllAtOnce",
            Self::Medium => "Canary10Percent5Minutes",
            Self::High => "Linear10PercentEvery1Minute",
        }
    }
}

/// One function that needs a release.
#[derive(Clone, Debug, Serialize)]
pub struct FunctionRelease {
    /// Its name (`add-comments`).
    pub name: String,
    /// What changed.
    pub classes: BTreeSet<Class>,
    /// The highest risk of its classes.
    pub risk: Risk,
    /// The rollout for it.
    pub rollout: &'static str,
    /// Each change, in words.
    pub reasons: Vec<String>,
    /// What breaks if it fails (`deps impact`).
    pub impact: Vec<String>,
}

/// A template resource that changed.
#[derive(Clone, Debug, Serialize)]
pub struct ResourceChange {
    /// Its logical id.
    pub logical_id: String,
    /// Its type.
    pub kind: String,
    /// The class.
    pub class: Class,
    /// The risk.
    pub risk: Risk,
    /// What changed.
    pub reason: String,
    /// Set when CloudFormation would replace or delete a stateful resource.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
}

/// The answer.
#[derive(Clone, Debug, Serialize)]
pub struct Classification {
    /// The highest risk of all changes (`low` when nothing needs a release).
    pub risk: Risk,
    /// The rollout for it.
    pub rollout: &'static str,
    /// The functions that need a release.
    pub functions: Vec<FunctionRelease>,
    /// The template's changed resources.
    pub resources: Vec<ResourceChange>,
}

fn git(repo: &Path, args: &[&str]) -> Result<String, ClassifyError> {
    let output = Command::new("git")
        .arg("-C")
        .arg(repo)
        .args(args)
        .output()
        .map_err(|e| ClassifyError(format!("cannot run git: {e}")))?;
    if !output.status.success() {
        return Err(ClassifyError(format!(
            "git {}: {}",
            args.join(" "),
            String::from_utf8_lossy(&output.stderr).trim()
        )));
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

/// Resolves `reference` to a commit, or says it is unknown.
fn commit(repo: &Path, reference: &str) -> Result<String, ClassifyError> {
    git(repo, &["rev-parse", "--verify", "--quiet", &format!("{reference}^{{commit}}")])
        .map(|s| s.trim().to_owned())
        .map_err(|_| {
            ClassifyError(format!(
                "{reference:?} is not a commit here: give --base/--head a branch, tag or commit (git log shows them)"
            ))
        })
}

/// Where a change on `head` started: its merge base with `branch` (the default
/// `--base`).
///
/// # Errors
/// [`ClassifyError`] when there is none (an unknown branch, unrelated histories).
pub fn merge_base(repo: &Path, branch: &str, head: &str) -> Result<String, ClassifyError> {
    // Outside a repository, or with a head that is no commit, say that rather than
    // blame the merge base.
    git(repo, &["rev-parse", "--git-dir"]).map_err(|_| {
        ClassifyError(format!(
            "{} is not in a git repository: run classify in a clone of the project",
            repo.display()
        ))
    })?;
    commit(repo, head)?;
    git(repo, &["merge-base", branch, head])
        .map(|base| base.trim().to_owned())
        .map_err(|_| {
            ClassifyError(format!(
                "no merge base of {head} with {branch}: pass --base REF"
            ))
        })
}

/// The workspace's packages: name → (folder, internal dependencies).
fn packages(repo: &Path) -> Result<BTreeMap<String, (PathBuf, Vec<String>)>, ClassifyError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(repo)
        .output()
        .map_err(|e| ClassifyError(format!("cannot run cargo metadata: {e}")))?;
    let metadata: Value = serde_json::from_slice(&output.stdout).map_err(|_| {
        ClassifyError(format!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr).trim()
        ))
    })?;
    let root = PathBuf::from(metadata["workspace_root"].as_str().unwrap_or_default());
    Ok(metadata["packages"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|package| {
            let name = package["name"].as_str()?.to_owned();
            let folder = Path::new(package["manifest_path"].as_str()?)
                .parent()?
                .strip_prefix(&root)
                .ok()?
                .to_path_buf();
            let internal = package["dependencies"]
                .as_array()
                .into_iter()
                .flatten()
                .filter(|d| d["path"].is_string() && d["kind"].is_null())
                .filter_map(|d| d["name"].as_str().map(str::to_owned))
                .collect();
            Some((name, (folder, internal)))
        })
        .collect())
}

/// Whether a file of a package is shipped code (not its tests or benches).
fn is_shipped(relative: &Path) -> bool {
    matches!(
        relative
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str()),
        Some("src" | "Cargo.toml" | "build.rs")
    )
}

/// Classifies the change from `base` to `head` in the repository at `repo`.
///
/// # Errors
/// [`ClassifyError`] for an unknown ref, a template that does not parse, or git and
/// cargo failing.
pub fn classify(repo: &Path, base: &str, head: &str) -> Result<Classification, ClassifyError> {
    let base = commit(repo, base)?;
    let head = commit(repo, head)?;
    let changed_files: Vec<PathBuf> = git(repo, &["diff", "--name-only", &base, &head])?
        .lines()
        .map(PathBuf::from)
        .collect();
    let template_at = |commit: &str| -> Result<Template, ClassifyError> {
        let text = git(repo, &["show", &format!("{commit}:template.yaml")])?;
        Template::parse(
            &text,
            &format!("template.yaml at {}", &commit[..commit.len().min(12)]),
        )
        .map_err(|e| ClassifyError(format!("{e}: fix the template, or classify another range")))
    };
    let (old, new) = (template_at(&base)?, template_at(&head)?);
    let mut by_function: BTreeMap<String, (BTreeSet<Class>, Vec<String>)> = BTreeMap::new();
    let (template_notes, resources) = template_changes(&old, &new);
    for (function, class, reason) in code_changes(repo, &changed_files, &new)?
        .into_iter()
        .chain(template_notes)
    {
        let entry = by_function.entry(function).or_default();
        entry.0.insert(class);
        entry.1.push(reason);
    }
    let graph = crate::deps::wiring::actual(&new);
    let functions: Vec<FunctionRelease> = by_function
        .into_iter()
        .map(|(name, (classes, reasons))| {
            let risk = classes.iter().map(|c| c.risk()).max().unwrap_or(Risk::Low);
            FunctionRelease {
                impact: graph.impact(&name).into_iter().map(|i| i.node).collect(),
                name,
                classes,
                risk,
                rollout: risk.rollout(),
                reasons,
            }
        })
        .collect();
    let risk = functions
        .iter()
        .map(|f| f.risk)
        .chain(resources.iter().map(|r| r.risk))
        .max()
        .unwrap_or(Risk::Low);
    Ok(Classification {
        risk,
        rollout: risk.rollout(),
        functions,
        resources,
    })
}

/// A function's change: its name, the class, the reason.
type Note = (String, Class, String);

/// The functions whose shipped code (or a workspace crate it depends on) changed.
fn code_changes(
    repo: &Path,
    changed_files: &[PathBuf],
    template: &Template,
) -> Result<Vec<Note>, ClassifyError> {
    let packages = packages(repo)?;
    let mut touched = BTreeSet::new();
    let dependencies_changed = changed_files
        .iter()
        .any(|file| matches!(file.to_str(), Some("Cargo.lock" | "Cargo.toml")));
    for file in changed_files {
        let owner = packages
            .iter()
            .filter(|(_, (folder, _))| !folder.as_os_str().is_empty() && file.starts_with(folder))
            .max_by_key(|(_, (folder, _))| folder.components().count());
        if let Some((name, (folder, _))) = owner
            && file.strip_prefix(folder).is_ok_and(is_shipped)
        {
            touched.insert(name.clone());
        }
    }
    let mut notes = Vec::new();
    for (crate_name, function) in function_crates(template) {
        let through: Vec<&str> = touched
            .iter()
            .filter(|t| **t == crate_name || depends_on(&packages, &crate_name, t))
            .map(String::as_str)
            .collect();
        if !through.is_empty() {
            notes.push((
                function.clone(),
                Class::Code,
                format!("code changed in {}", through.join(", ")),
            ));
        }
        if dependencies_changed {
            notes.push((
                function,
                Class::Code,
                "the workspace's dependencies changed (Cargo.toml, Cargo.lock)".to_owned(),
            ));
        }
    }
    Ok(notes)
}

/// The template's changes, resource by resource: the functions' own, and every
/// resource's.
fn template_changes(old: &Template, new: &Template) -> (Vec<Note>, Vec<ResourceChange>) {
    let mut notes = Vec::new();
    let mut resources = Vec::new();
    let empty = Value::Null;
    let ids: BTreeSet<&String> = old
        .resources()
        .keys()
        .chain(new.resources().keys())
        .collect();
    let globals_old = &old.document()["Globals"]["Function"];
    let globals_new = &new.document()["Globals"]["Function"];
    for id in ids {
        let before = old.resource(id).unwrap_or(&empty);
        let after = new.resource(id).unwrap_or(&empty);
        let kind = after["Type"]
            .as_str()
            .or_else(|| before["Type"].as_str())
            .unwrap_or("?")
            .to_owned();
        let mut changes = resource_changes(&kind, before, after);
        if kind == "AWS::Serverless::Function" {
            for (key, class) in function_properties() {
                if globals_old[key] != globals_new[key] && after["Properties"].get(key).is_none() {
                    changes.push((class, format!("Globals.Function.{key} changed"), None));
                }
            }
        }
        for (class, reason, warning) in changes {
            if kind == "AWS::Serverless::Function" {
                notes.push((talk_name(id), class, format!("{id}: {reason}")));
            }
            resources.push(ResourceChange {
                logical_id: id.clone(),
                kind: kind.clone(),
                class,
                risk: class.risk(),
                reason,
                warning,
            });
        }
    }
    (notes, resources)
}

/// Whether workspace package `package` depends on `on`, directly or not.
fn depends_on(
    packages: &BTreeMap<String, (PathBuf, Vec<String>)>,
    package: &str,
    on: &str,
) -> bool {
    let mut seen = BTreeSet::new();
    let mut stack = vec![package.to_owned()];
    while let Some(next) = stack.pop() {
        for dependency in packages
            .get(&next)
            .map(|(_, d)| d.as_slice())
            .unwrap_or_default()
        {
            if dependency == on {
                return true;
            }
            if seen.insert(dependency.clone()) {
                stack.push(dependency.clone());
            }
        }
    }
    false
}

/// The template's functions: crate (binary) name → talk name.
fn function_crates(template: &Template) -> BTreeMap<String, String> {
    template
        .resources()
        .iter()
        .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
        .filter_map(|(id, r)| {
            Some((
                r["Metadata"]["BuildProperties"]["Binary"]
                    .as_str()?
                    .to_owned(),
                talk_name(id),
            ))
        })
        .collect()
}

/// A function's properties and the class a change to each is.
fn function_properties() -> [(&'static str, Class); 14] {
    [
        ("Environment", Class::Configuration),
        ("MemorySize", Class::Configuration),
        ("Timeout", Class::Configuration),
        ("Runtime", Class::Configuration),
        ("Architectures", Class::Configuration),
        ("Handler", Class::Configuration),
        ("AutoPublishAlias", Class::Configuration),
        ("DeploymentPreference", Class::Configuration),
        ("Policies", Class::Permissions),
        ("Role", Class::Permissions),
        ("Events", Class::Interface),
        ("LoggingConfig", Class::Observability),
        ("Tracing", Class::Observability),
        ("Tags", Class::Observability),
    ]
}

/// A change: its class, what changed, and a warning for a stateful resource replaced
/// or deleted.
type Change = (Class, String, Option<String>);

/// What changed in one resource, property by property.
fn resource_changes(kind: &str, before: &Value, after: &Value) -> Vec<Change> {
    let stateful = matches!(kind, "AWS::DynamoDB::Table" | "AWS::SQS::Queue");
    if before.is_null() {
        let class = match kind {
            "AWS::Serverless::Function" => Class::Code,
            _ => class_of_resource(kind),
        };
        return vec![(class, "added".to_owned(), None)];
    }
    if after.is_null() {
        let warning = stateful.then(|| format!("{kind} would be deleted, with its data"));
        let class = if stateful {
            Class::Data
        } else {
            class_of_resource(kind)
        };
        return vec![(class, "removed".to_owned(), warning)];
    }
    let empty = Value::Null;
    let keys: BTreeSet<&String> = before["Properties"]
        .as_object()
        .into_iter()
        .flatten()
        .chain(after["Properties"].as_object().into_iter().flatten())
        .map(|(k, _)| k)
        .collect();
    let mut changes = Vec::new();
    for key in keys {
        let (was, is) = (
            before["Properties"].get(key).unwrap_or(&empty),
            after["Properties"].get(key).unwrap_or(&empty),
        );
        if was == is {
            continue;
        }
        let (class, warning) = match kind {
            "AWS::Serverless::Function" => (
                function_properties()
                    .iter()
                    .find(|(name, _)| *name == key)
                    .map_or(Class::Configuration, |(_, class)| *class),
                None,
            ),
            "AWS::DynamoDB::Table" => match key.as_str() {
                "KeySchema" | "TableName" => (
                    Class::Data,
                    Some(format!(
                        "changing {key} replaces the table: a new, empty table"
                    )),
                ),
                "AttributeDefinitions" | "GlobalSecondaryIndexes" | "LocalSecondaryIndexes" => {
                    (Class::Data, None)
                }
                _ => (Class::Configuration, None),
            },
            "AWS::SQS::Queue" => match key.as_str() {
                "QueueName" | "FifoQueue" => (
                    Class::Data,
                    Some(format!(
                        "changing {key} replaces the queue: messages in it are lost"
                    )),
                ),
                _ => (Class::Configuration, None),
            },
            _ => (class_of_resource(kind), None),
        };
        changes.push((class, format!("{key} changed"), warning));
    }
    changes
}

/// The class of a change to a resource of `kind` as a whole.
fn class_of_resource(kind: &str) -> Class {
    match kind {
        "AWS::Serverless::Api" | "AWS::ApiGateway::RestApi" | "AWS::ApiGateway::Stage" => {
            Class::Interface
        }
        "AWS::IAM::Role" | "AWS::IAM::Policy" | "AWS::IAM::ManagedPolicy" | "AWS::KMS::Key" => {
            Class::Permissions
        }
        "AWS::DynamoDB::Table" | "AWS::SQS::Queue" => Class::Data,
        "AWS::CloudWatch::Alarm"
        | "AWS::CloudWatch::Dashboard"
        | "AWS::Logs::LogGroup"
        | "AWS::Logs::MetricFilter"
        | "AWS::Logs::QueryDefinition"
        | "AWS::SNS::Topic"
        | "AWS::SNS::Subscription" => Class::Observability,
        _ => Class::Configuration,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_template_property_falls_in_its_class() {
        let function = |properties: Value| json!({"Type": "AWS::Serverless::Function", "Properties": properties});
        let base = function(
            json!({"Environment": {"Variables": {"A": "1"}}, "Policies": [], "Events": {}}),
        );
        let cases = [
            (
                json!({"Environment": {"Variables": {"A": "2"}}, "Policies": [], "Events": {}}),
                Class::Configuration,
            ),
            (
                json!({"Environment": {"Variables": {"A": "1"}}, "Policies": ["x"], "Events": {}}),
                Class::Permissions,
            ),
            (
                json!({"Environment": {"Variables": {"A": "1"}}, "Policies": [], "Events": {"E": {}}}),
                Class::Interface,
            ),
        ];
        for (after, class) in cases {
            let changes = resource_changes("AWS::Serverless::Function", &base, &function(after));
            assert_eq!(changes.len(), 1);
            assert_eq!(changes[0].0, class);
        }
        let table = |keys: Value| json!({"Type": "AWS::DynamoDB::Table", "Properties": {"KeySchema": keys}});
        let changes = resource_changes(
            "AWS::DynamoDB::Table",
            &table(json!(["pk"])),
            &table(json!(["id"])),
        );
        assert_eq!(changes[0].0, Class::Data);
        assert!(
            changes[0]
                .2
                .as_ref()
                .unwrap()
                .contains("replaces the table")
        );
        let removed = resource_changes(
            "AWS::SQS::Queue",
            &json!({"Type": "AWS::SQS::Queue"}),
            &Value::Null,
        );
        assert!(removed[0].2.as_ref().unwrap().contains("deleted"));
        assert_eq!(Class::Data.risk().rollout(), "Linear10PercentEvery1Minute");
        assert_eq!(Class::Observability.risk().rollout(), "AllAtOnce");
        assert!(is_shipped(Path::new("src/lib.rs")) && !is_shipped(Path::new("tests/a.rs")));
    }
}
