//! The functions' code: the binaries cargo builds, found by name from cargo's own build
//! messages (so the target directory and profile are cargo's), or a folder of prebuilt
//! ones.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Stdio;

use serde_json::Value;

/// Why the binaries could not be had.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    /// cargo could not be run.
    #[error("cannot run {cargo} ({source}): install Rust with rustup (https://rustup.rs)")]
    NoCargo {
        /// The command tried.
        cargo: String,
        /// Why.
        source: std::io::Error,
    },
    /// The build failed; cargo printed why.
    #[error("the build failed: fix the errors cargo printed above, then run it again")]
    Failed,
}

/// Runs `cargo build` in `dir` with `args` (cargo's diagnostics and progress on this
/// process's stderr) and returns the binaries it produced, by name.
///
/// # Errors
/// [`BuildError`] when cargo cannot run or the build fails.
pub fn cargo_build(dir: &Path, args: &[&str]) -> Result<HashMap<String, PathBuf>, BuildError> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = std::process::Command::new(&cargo)
        .arg("build")
        .args(args)
        .arg("--message-format=json-render-diagnostics")
        .current_dir(dir)
        .stderr(Stdio::inherit())
        .stdout(Stdio::piped())
        .output()
        .map_err(|source| BuildError::NoCargo {
            cargo: cargo.clone(),
            source,
        })?;
    if !output.status.success() {
        return Err(BuildError::Failed);
    }
    Ok(artifacts(&String::from_utf8_lossy(&output.stdout)))
}

/// The executables named in cargo's JSON build messages, by target name.
fn artifacts(messages: &str) -> HashMap<String, PathBuf> {
    messages
        .lines()
        .filter_map(|line| serde_json::from_str::<Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter_map(|message| {
            Some((
                message["target"]["name"].as_str()?.to_owned(),
                PathBuf::from(message["executable"].as_str()?),
            ))
        })
        .collect()
}

/// Every file in `dir`, by file name: a folder of prebuilt binaries.
pub fn prebuilt(dir: &Path) -> HashMap<String, PathBuf> {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_file())
        .filter_map(|entry| Some((entry.file_name().into_string().ok()?, entry.path())))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executables_come_from_compiler_artifact_messages_only() {
        let messages = [
            r#"{"reason":"compiler-artifact","target":{"name":"add-comments"},"executable":"/t/debug/add-comments"}"#,
            r#"{"reason":"compiler-artifact","target":{"name":"feedback"},"executable":null}"#,
            r#"{"reason":"build-finished","success":true}"#,
            "not json",
        ]
        .join("\n");
        let found = artifacts(&messages);
        assert_eq!(found.len(), 1);
        assert_eq!(
            found["add-comments"],
            PathBuf::from("/t/debug/add-comments")
        );
    }

    #[test]
    fn a_prebuilt_folder_lists_its_files_by_name() {
        let dir = std::env::temp_dir().join(format!("local-cloud-bins-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("status"), b"").unwrap();
        let found = prebuilt(&dir);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(found.keys().collect::<Vec<_>>(), ["status"]);
        assert!(prebuilt(Path::new("/nonexistent/dir")).is_empty());
    }
}
