//! What `feedback-ops dev` prints: progress lines, the banner, and each log line as it
//! is written (unless `--quiet`).

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::Duration;

use local_cloud::cloudwatch::LogEntry;
use ops_wire::log_fields;

/// A progress line: `==> …`.
pub fn say(line: &str) {
    let _ = writeln!(std::io::stdout().lock(), "==> {line}");
}

/// The banner: the URL and what to try first.
pub fn banner(url: &str, profile: &str, took: Duration) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(
        out,
        "\nready: {url}  (started in {:.1} s; {profile} build; Ctrl-C stops everything)\n\n  \
         curl -s -X POST {url}/comments -H 'content-type: application/json' -d '{{\"text\":\"Great talk!\",\"rating\":5}}'\n  \
         curl -s {url}/comments\n  \
         curl -s {url}/status\n\n  \
         ops API: {url}/ops/api/stack  …/functions  …/logs  …/traces  …/metrics  …/graph\n",
        took.as_secs_f64()
    );
    let _ = out.flush();
}

/// Prints a log line as [`echo_line`] formats it.
pub fn echo(entry: &LogEntry) {
    if let Some(line) = echo_line(entry) {
        let _ = writeln!(std::io::stdout().lock(), "{line}");
    }
}

/// One log line for the terminal: time, function, level, message; `None` for an EMF
/// line (its metrics are in the console).
pub fn echo_line(entry: &LogEntry) -> Option<String> {
    let time =
        time::OffsetDateTime::from_unix_timestamp_nanos(i128::from(entry.timestamp_ms) * 1_000_000)
            .ok()?
            .format(time::macros::format_description!(
                "[hour]:[minute]:[second].[subsecond digits:3]"
            ))
            .ok()?;
    let level = entry.level.clone().unwrap_or_default();
    let message = match &entry.json {
        Some(json) if json.get(ops_wire::emf::METADATA_MEMBER).is_some() => return None,
        Some(json) => {
            let mut message = json[log_fields::MESSAGE]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            if let Some(id) = &entry.correlation_id {
                let _ = write!(message, "  correlation_id={id}");
            }
            if let Some(error) = json.get(log_fields::ERROR).and_then(|e| e.as_str()) {
                let _ = write!(message, "  error={error}");
            }
            message
        }
        None => entry.message.clone(),
    };
    Some(format!(
        "{time} {:<16} {level:<5} {message}",
        entry.function
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use local_cloud::cloudwatch::{CloudWatch, LogSource};

    fn kept(message: &str) -> LogEntry {
        CloudWatch::default().put_log(LogEntry::new(
            "add-comments",
            "1",
            "g",
            "s",
            LogSource::Function,
            message.to_owned(),
        ))
    }

    #[test]
    fn a_json_line_shows_its_message_and_ids_and_an_emf_line_shows_nothing() {
        let line = echo_line(&kept(
            r#"{"level":"ERROR","message":"send failed","correlation_id":"c-1","error":"timeout"}"#,
        ))
        .unwrap();
        assert!(line.contains("add-comments"), "{line}");
        assert!(
            line.contains("ERROR send failed  correlation_id=c-1  error=timeout"),
            "{line}"
        );
        assert!(echo_line(&kept(r#"{"_aws":{"Timestamp":1,"CloudWatchMetrics":[]}}"#)).is_none());
        assert!(echo_line(&kept("plain")).unwrap().ends_with("plain"));
    }
}
