//! `feedback-ops release classify` on commits made in a temporary clone of this
//! repository: each kind of change gives its functions, classes, risk and rollout.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn git(dir: &Path, args: &[&str]) {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=test", "-c", "user.email=test@example.com"])
        .args(args)
        .status()
        .unwrap();
    assert!(status.success(), "git {args:?}");
}

/// A fresh clone of the repository's HEAD, with the working tree's template and
/// manifests (the change under test may not be committed yet).
fn clone() -> (tempfile::TempDir, PathBuf) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let dir = tempfile::tempdir().unwrap();
    let repo = dir.path().join("repo");
    let status = Command::new("git")
        .args(["clone", "--quiet", "--no-hardlinks"])
        .arg(&root)
        .arg(&repo)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::copy(root.join("template.yaml"), repo.join("template.yaml")).unwrap();
    git(
        &repo,
        &[
            "commit",
            "--quiet",
            "--allow-empty",
            "-am",
            "the working tree's template",
        ],
    );
    (dir, repo)
}

/// Commits `edit` of `file` and classifies that commit.
fn classify_edit(repo: &Path, file: &str, edit: impl FnOnce(String) -> String) -> Value {
    let path = repo.join(file);
    let before = std::fs::read_to_string(&path).unwrap();
    let after = edit(before.clone());
    assert_ne!(before, after, "the edit of {file} changed nothing");
    std::fs::write(&path, after).unwrap();
    git(repo, &["commit", "--quiet", "-am", "change"]);
    let output = Command::new(env!("CARGO_BIN_EXE_feedback-ops"))
        .current_dir(repo)
        .args(["release", "classify", "--base", "HEAD~1", "--json"])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

fn names(answer: &Value) -> Vec<&str> {
    answer["functions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect()
}

fn function<'a>(answer: &'a Value, name: &str) -> &'a Value {
    answer["functions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == name)
        .unwrap_or_else(|| panic!("{name} in {answer}"))
}

#[test]
fn each_kind_of_change_gets_its_functions_class_risk_and_rollout() {
    let (_dir, repo) = clone();

    let docs = classify_edit(&repo, "README.md", |t| t + "\nA line of docs.\n");
    assert!(names(&docs).is_empty(), "{docs}");
    assert_eq!(docs["risk"], "low");

    let code = classify_edit(&repo, "functions/status/src/lib.rs", |t| {
        t + "\n// a change\n"
    });
    assert_eq!(names(&code), ["status"]);
    assert_eq!(
        function(&code, "status")["classes"],
        serde_json::json!(["code"])
    );
    assert_eq!(code["rollout"], "Canary10Percent5Minutes");
    assert!(
        function(&code, "status")["impact"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n == "feedback-api")
    );

    let shared = classify_edit(&repo, "shared/feedback/src/lib.rs", |t| {
        t + "\n// a change\n"
    });
    assert_eq!(
        names(&shared),
        ["add-comments", "get-all-comments", "push-to-db", "status"]
    );

    let iam = classify_edit(&repo, "template.yaml", |t| {
        t.replacen(
            "Action: dynamodb:DescribeTable",
            "Action: [dynamodb:DescribeTable, dynamodb:Scan]",
            1,
        )
    });
    assert_eq!(names(&iam), ["status"]);
    assert_eq!(
        function(&iam, "status")["classes"],
        serde_json::json!(["permissions"])
    );
    assert_eq!(iam["risk"], "high");
    assert_eq!(iam["rollout"], "Linear10PercentEvery1Minute");

    let environment = classify_edit(&repo, "template.yaml", |t| {
        t.replacen(
            "          OPS_KIT_SERVICE_NAME: status\n",
            "          OPS_KIT_SERVICE_NAME: status\n          RELEASE_MARK: \"2\"\n",
            1,
        )
    });
    assert_eq!(
        function(&environment, "status")["classes"],
        serde_json::json!(["configuration"])
    );
    assert_eq!(environment["risk"], "medium");

    let key = classify_edit(&repo, "template.yaml", |t| {
        t.replacen(
            "- { AttributeName: pk, KeyType: HASH }",
            "- { AttributeName: id, KeyType: HASH }",
            1,
        )
    });
    assert!(names(&key).is_empty(), "no function's own change: {key}");
    assert_eq!(key["risk"], "high");
    let table = &key["resources"][0];
    assert_eq!(table["class"], "data");
    assert!(
        table["warning"]
            .as_str()
            .unwrap()
            .contains("replaces the table"),
        "{table}"
    );

    let route = classify_edit(&repo, "template.yaml", |t| {
        t.replacen("Path: /status/{id}", "Path: /statuses/{id}", 1)
    });
    assert_eq!(
        function(&route, "status")["classes"],
        serde_json::json!(["interface"])
    );

    let sam = Command::new(env!("CARGO_BIN_EXE_feedback-ops"))
        .current_dir(&repo)
        .args([
            "release",
            "classify",
            "--base",
            "HEAD~3",
            "--sam-parameters",
        ])
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&sam.stdout).trim(),
        "DeploymentType=Linear10PercentEvery1Minute"
    );
}

#[test]
fn an_unknown_ref_or_a_broken_template_is_one_line() {
    let (_dir, repo) = clone();
    let run_in = |dir: &Path, args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_feedback-ops"))
            .current_dir(dir)
            .args(["release", "classify"])
            .args(args)
            // A temporary folder is never taken for part of a repository above it.
            .env("GIT_CEILING_DIRECTORIES", std::env::temp_dir())
            .output()
            .unwrap()
    };
    let run = |args: &[&str]| run_in(&repo, args);
    let assert_one_line = |output: std::process::Output, says: &str| {
        let err = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{err}");
        assert!(
            err.contains(says) && err.trim().lines().count() == 1,
            "{err}"
        );
    };
    assert_one_line(run(&["--base", "no-such-ref"]), "is not a commit");
    // Without --base the merge base with main is taken: an unknown head is still
    // named as the unknown ref, not as a missing merge base.
    assert_one_line(
        run(&["--head", "no-such-ref"]),
        "\"no-such-ref\" is not a commit",
    );
    let elsewhere = tempfile::tempdir().unwrap();
    assert_one_line(run_in(elsewhere.path(), &[]), "is not in a git repository");

    std::fs::write(repo.join("template.yaml"), "Resources: [unclosed").unwrap();
    git(&repo, &["commit", "--quiet", "-am", "broken"]);
    assert_one_line(run(&["--base", "HEAD~1"]), "template.yaml");
}
