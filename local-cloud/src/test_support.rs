//! What the unit tests share: stand-in executables for the processes the local cloud
//! starts.

use std::path::PathBuf;

/// An executable `name` in a fresh temporary folder whose content is `script` (with its
/// own `#!` line).
pub(crate) fn executable(name: &str, script: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("local-cloud-test-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, script).unwrap();
    let status = std::process::Command::new("chmod")
        .arg("+x")
        .arg(&path)
        .status()
        .unwrap();
    assert!(status.success());
    path
}
