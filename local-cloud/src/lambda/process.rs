//! An execution environment's process: the function binary started with exactly the
//! environment Lambda gives it (nothing of the host's leaks in but `PATH`), its stdout
//! and stderr read line by line, and its peak memory read as Lambda reports it.

use std::path::{Path, PathBuf};
use std::process::Stdio;

use tokio::io::AsyncBufReadExt as _;

/// What Lambda tells a process about itself through its environment.
#[derive(Clone, Debug)]
pub struct LambdaEnvironment {
    /// The function binary (`bootstrap`).
    pub binary: PathBuf,
    /// `AWS_LAMBDA_FUNCTION_NAME`.
    pub function_name: String,
    /// `AWS_LAMBDA_FUNCTION_VERSION`.
    pub version: String,
    /// `AWS_LAMBDA_FUNCTION_MEMORY_SIZE`, MB.
    pub memory_mb: u32,
    /// `AWS_LAMBDA_LOG_GROUP_NAME`.
    pub log_group: String,
    /// `AWS_LAMBDA_LOG_STREAM_NAME`.
    pub log_stream: String,
    /// `AWS_LAMBDA_LOG_FORMAT` (`JSON` or `Text`).
    pub log_format: String,
    /// `AWS_LAMBDA_LOG_LEVEL`, when the function's logging config sets one.
    pub log_level: Option<String>,
    /// `AWS_LAMBDA_RUNTIME_API`.
    pub runtime_api: String,
    /// `AWS_XRAY_DAEMON_ADDRESS`, when segments are collected.
    pub xray_daemon: Option<String>,
    /// Everything else: the region, credentials and endpoint, then the template's own
    /// variables (later entries win).
    pub variables: Vec<(String, String)>,
}

impl LambdaEnvironment {
    /// The command that starts the process: stdin closed, stdout and stderr piped,
    /// killed when dropped.
    pub fn command(&self) -> tokio::process::Command {
        let mut command = tokio::process::Command::new(&self.binary);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("TZ", ":UTC")
            .env("AWS_LAMBDA_RUNTIME_API", &self.runtime_api)
            .env("AWS_LAMBDA_FUNCTION_NAME", &self.function_name)
            .env("AWS_LAMBDA_FUNCTION_VERSION", &self.version)
            .env(
                "AWS_LAMBDA_FUNCTION_MEMORY_SIZE",
                self.memory_mb.to_string(),
            )
            .env("AWS_LAMBDA_LOG_GROUP_NAME", &self.log_group)
            .env("AWS_LAMBDA_LOG_STREAM_NAME", &self.log_stream)
            .env("AWS_LAMBDA_LOG_FORMAT", &self.log_format)
            .env("AWS_LAMBDA_INITIALIZATION_TYPE", "on-demand")
            .env("AWS_XRAY_CONTEXT_MISSING", "LOG_ERROR")
            .env("_HANDLER", "bootstrap")
            .env("LAMBDA_TASK_ROOT", task_root(&self.binary));
        if let Some(level) = &self.log_level {
            command.env("AWS_LAMBDA_LOG_LEVEL", level);
        }
        if let Some(daemon) = &self.xray_daemon {
            command.env("AWS_XRAY_DAEMON_ADDRESS", daemon);
        }
        command
            .envs(self.variables.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }
}

/// A log stream name as Lambda makes one: `YYYY/MM/DD/[version]<id>`.
pub fn log_stream_name(version: &str) -> String {
    format!(
        "{}/[{version}]{}",
        time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!("[year]/[month]/[day]"))
            .unwrap_or_default(),
        uuid::Uuid::new_v4().simple()
    )
}

/// Reads `pipe` line by line into `sink` until it closes.
pub fn read_lines(
    pipe: Option<impl tokio::io::AsyncRead + Unpin + Send + 'static>,
    mut sink: impl FnMut(String) + Send + 'static,
) {
    let Some(pipe) = pipe else { return };
    tokio::spawn(async move {
        let mut lines = tokio::io::BufReader::new(pipe).lines();
        while let Ok(Some(line)) = lines.next_line().await {
            sink(line);
        }
    });
}

/// The process's peak resident memory (`VmHWM`), MB rounded up, as Lambda reports it.
pub(super) fn peak_memory_mb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    peak_from_status(&status)
}

fn peak_from_status(status: &str) -> Option<u64> {
    let kb: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kb.div_ceil(1024))
}

/// The folder a binary sits in, as `LAMBDA_TASK_ROOT`.
fn task_root(binary: &Path) -> &Path {
    binary.parent().unwrap_or(binary)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peak_memory_is_read_from_vm_hwm_and_rounded_up() {
        let status = "Name:\tx\nVmPeak:\t  9000 kB\nVmHWM:\t    1025 kB\nVmRSS:\t 1 kB\n";
        assert_eq!(peak_from_status(status), Some(2));
        assert_eq!(peak_from_status("VmHWM:\t 1024 kB"), Some(1));
        assert_eq!(peak_from_status("nothing here"), None);
        assert_eq!(peak_from_status("VmHWM: lots"), None);
    }

    #[test]
    fn log_streams_carry_the_version_in_brackets() {
        let name = log_stream_name("7");
        let (date, rest) = name.split_at(11);
        assert_eq!(date.matches('/').count(), 3, "{name}");
        assert!(rest.starts_with("[7]") && rest.len() == 35, "{name}");
    }

    #[tokio::test]
    async fn the_process_sees_lambdas_variables_and_nothing_else_of_the_host() {
        let environment = LambdaEnvironment {
            binary: PathBuf::from("/usr/bin/env"),
            function_name: "f".into(),
            version: "3".into(),
            memory_mb: 256,
            log_group: "/aws/lambda/f".into(),
            log_stream: "s".into(),
            log_format: "JSON".into(),
            log_level: None,
            runtime_api: "127.0.0.1:1".into(),
            xray_daemon: Some("127.0.0.1:2".into()),
            variables: vec![("TABLE_NAME".into(), "t".into())],
        };
        let output = environment.command().output().await.unwrap();
        let seen = String::from_utf8_lossy(&output.stdout);
        for expected in [
            "AWS_LAMBDA_FUNCTION_VERSION=3",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE=256",
            "AWS_XRAY_DAEMON_ADDRESS=127.0.0.1:2",
            "AWS_LAMBDA_RUNTIME_API=127.0.0.1:1",
            "TABLE_NAME=t",
            "LAMBDA_TASK_ROOT=/usr/bin",
        ] {
            assert!(seen.lines().any(|l| l == expected), "{expected} in {seen}");
        }
        assert!(!seen.contains("CARGO"), "{seen}");
        assert!(!seen.contains("AWS_LAMBDA_LOG_LEVEL"), "{seen}");
        assert_eq!(task_root(Path::new("/a/b")), Path::new("/a"));
    }
}
