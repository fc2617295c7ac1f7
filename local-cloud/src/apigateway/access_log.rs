//! The stage's access log (`AccessLogSetting`): one line per request in the template's
//! own `Format`, its `$context` variables filled in as API Gateway fills them (JSON-safe),
//! into the template's log group. `$context.isCanaryRequest` says whether the stage's
//! canary deployment served the request.

use std::collections::BTreeMap;

/// Fills the `$context.…` variables of `format` from `values`; a variable without a
/// value is `-`, as API Gateway writes it. Values are escaped for a JSON string.
pub fn access_log_line(format: &str, values: &BTreeMap<&str, String>) -> String {
    let mut line = String::with_capacity(format.len() + 128);
    let mut rest = format;
    while let Some(at) = rest.find("$context.") {
        line.push_str(&rest[..at]);
        let after = &rest[at + "$context.".len()..];
        let end = after
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.' || c == '_'))
            .unwrap_or(after.len());
        // A trailing dot belongs to the text, not the variable.
        let name = after[..end].trim_end_matches('.');
        match values.get(name) {
            Some(value) => line.push_str(&escape(value)),
            None => line.push('-'),
        }
        rest = &after[name.len()..];
    }
    line.push_str(rest);
    line
}

/// A value as the inside of a JSON string.
fn escape(value: &str) -> String {
    let quoted = serde_json::Value::String(value.to_owned()).to_string();
    quoted[1..quoted.len() - 1].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_templates_format_becomes_one_json_line() {
        let format = r#"{"requestId":"$context.requestId","status":"$context.status","ip":"$context.identity.sourceIp","errorMessage":"$context.error.message","canary":"$context.isCanaryRequest"}"#;
        let values: BTreeMap<&str, String> = [
            ("requestId", "r-1".to_owned()),
            ("status", "503".to_owned()),
            ("identity.sourceIp", "127.0.0.1".to_owned()),
            ("isCanaryRequest", "true".to_owned()),
        ]
        .into();
        let line = access_log_line(format, &values);
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["requestId"], "r-1");
        assert_eq!(parsed["ip"], "127.0.0.1");
        assert_eq!(parsed["errorMessage"], "-");
        assert_eq!(parsed["canary"], "true");
    }

    #[test]
    fn values_cannot_break_the_json_and_trailing_dots_stay_text() {
        let values: BTreeMap<&str, String> =
            [("error.message", "a \"quoted\" \\ message".to_owned())].into();
        let line = access_log_line(r#"{"e":"$context.error.message"}"#, &values);
        let parsed: serde_json::Value = serde_json::from_str(&line).unwrap();
        assert_eq!(parsed["e"], "a \"quoted\" \\ message");
        assert_eq!(
            access_log_line("at $context.stage.", &[("stage", "dev".to_owned())].into()),
            "at dev."
        );
    }
}
