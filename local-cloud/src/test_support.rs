//! What the unit tests share: stand-in executables for the processes the local cloud
//! starts.

use std::path::PathBuf;

/// An executable `name` in a fresh temporary folder (removed when the folder returned is
/// dropped) whose content is `script` (with its own `#!` line).
pub(crate) fn executable(name: &str, script: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::Builder::new()
        .prefix("local-cloud-test-")
        .tempdir()
        .unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, script).unwrap();
    let status = std::process::Command::new("chmod")
        .arg("+x")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    (dir, path)
}

/// A function of the template as the stack model reads it: `crash`, invoked through
/// its `live` alias, with nothing routed to it.
pub(crate) fn function_spec() -> crate::cloudformation::FunctionSpec {
    crate::cloudformation::FunctionSpec {
        logical_id: "CrashFunction".into(),
        name: "crash".into(),
        function_name: "s-crash".into(),
        binary: "bootstrap".into(),
        memory_mb: 128,
        timeout_secs: 3,
        log_group: "/aws/lambda/s-crash".into(),
        log_format: "JSON".into(),
        log_level: None,
        environment: std::collections::BTreeMap::new(),
        tags: std::collections::BTreeMap::new(),
        alias: Some("live".into()),
        deployment: None,
        routes: Vec::new(),
        sqs_sources: Vec::new(),
    }
}

/// A function of [`function_spec`] whose build is the file `f` in the folder returned
/// (write to it to make a new build), with nothing published.
pub(crate) fn function() -> (std::sync::Arc<crate::lambda::Function>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let binary = dir.path().join("f");
    std::fs::write(&binary, b"build one").unwrap();
    let function = crate::lambda::Function::new(crate::lambda::FunctionSetup {
        spec: function_spec(),
        binary,
        region: "eu-west-1".into(),
        base_env: Vec::new(),
        observers: crate::lambda::Observers::default(),
        concurrency: 1,
        stopping: tokio_util::sync::CancellationToken::new(),
        code_store: std::sync::Arc::new(crate::lambda::CodeStore::new().unwrap()),
    });
    (function, dir)
}
