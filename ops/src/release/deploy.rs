//! `feedback-ops release deploy`: a release of one function of a running local stack,
//! through its ops API (`POST /ops/api/deployments`), with each deployment event printed
//! as it happens.

use std::collections::BTreeMap;
use std::time::Duration;

use serde_json::{Value, json};

/// Why a release could not be followed to its end.
#[derive(Debug, thiserror::Error)]
pub enum ReleaseError {
    /// The stack did not answer.
    #[error(
        "no stack answers at {url} ({reason}): start one with `make demo` or `feedback-ops dev`, or pass --url"
    )]
    Unreachable {
        /// The stack's URL.
        url: String,
        /// What the client said.
        reason: String,
    },
    /// The stack refused the request (its problem document's detail).
    #[error("{0}")]
    Refused(String),
    /// A `--env` or `--fault` that does not parse.
    #[error("{0}")]
    BadArgument(String),
}

/// What to release.
#[derive(Clone, Debug, Default)]
pub struct ReleaseRequest {
    /// The function (`push-to-db`).
    pub function: String,
    /// A CodeDeploy configuration, or the template's.
    pub config: Option<String>,
    /// `K=V` variables merged onto the live version's.
    pub environment: Vec<String>,
    /// `error-rate=0.3`, `latency-ms=200`: fault injection baked into the new version.
    pub faults: Vec<String>,
}

impl ReleaseRequest {
    /// The request body.
    ///
    /// # Errors
    /// [`ReleaseError::BadArgument`] for a `--env` without `=`, or a `--fault` that is
    /// not `error-rate=R` or `latency-ms=N`.
    pub fn body(&self) -> Result<Value, ReleaseError> {
        let mut environment = BTreeMap::new();
        for pair in &self.environment {
            let (name, value) = pair.split_once('=').ok_or_else(|| {
                ReleaseError::BadArgument(format!("--env {pair}: expected NAME=VALUE"))
            })?;
            environment.insert(name.to_owned(), value.to_owned());
        }
        let mut body = json!({"function": self.function, "environment": environment});
        if let Some(config) = &self.config {
            body["config"] = json!(config);
        }
        if !self.faults.is_empty() {
            let mut faults = json!({"error_rate": 0.0, "latency_ms": 0});
            for fault in &self.faults {
                let parsed = match fault.split_once('=') {
                    Some(("error-rate", rate)) => {
                        rate.parse::<f64>().ok().map(|r| ("error_rate", json!(r)))
                    }
                    Some(("latency-ms", ms)) => {
                        ms.parse::<u64>().ok().map(|m| ("latency_ms", json!(m)))
                    }
                    _ => None,
                };
                let (name, value) = parsed.ok_or_else(|| {
                    ReleaseError::BadArgument(format!(
                        "--fault {fault}: expected error-rate=0..1 or latency-ms=N"
                    ))
                })?;
                faults[name] = value;
            }
            body["faults"] = faults;
        }
        Ok(body)
    }
}

/// The client for a local stack's ops API: answers of every status are read, not
/// errors; a release or a redrive may take minutes.
pub(crate) fn agent() -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_mins(10)))
        .build()
        .into()
}

fn read(
    url: &str,
    response: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
) -> Result<(u16, Value), ReleaseError> {
    let mut response = response.map_err(|e| ReleaseError::Unreachable {
        url: url.to_owned(),
        reason: e.to_string(),
    })?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .read_json::<Value>()
        .unwrap_or(Value::Null);
    Ok((status, body))
}

/// Starts the release on the stack at `url` and prints every event until it ends
/// (`print` receives each line). Answers the deployment's final state.
///
/// # Errors
/// [`ReleaseError`] when the stack is not there or refuses the release.
pub fn deploy(
    url: &str,
    request: &ReleaseRequest,
    mut print: impl FnMut(&str),
) -> Result<Value, ReleaseError> {
    let agent = agent();
    let body = request.body()?;
    let (status, answer) = read(
        url,
        agent
            .post(format!("{url}/ops/api/deployments"))
            .header("content-type", "application/json")
            .send(body.to_string()),
    )?;
    if status != 202 {
        return Err(ReleaseError::Refused(
            answer["detail"]
                .as_str()
                .map_or_else(|| format!("HTTP {status}: {answer}"), str::to_owned),
        ));
    }
    let id = answer["id"].as_str().unwrap_or_default().to_owned();
    let mut printed = 0;
    let mut started = None;
    loop {
        let (status, deployment) = read(
            url,
            agent.get(format!("{url}/ops/api/deployments/{id}")).call(),
        )?;
        if status != 200 {
            return Err(ReleaseError::Refused(format!(
                "deployment {id}: HTTP {status}"
            )));
        }
        let events = deployment["events"].as_array().cloned().unwrap_or_default();
        for event in events.iter().skip(printed) {
            let at = event["at_ms"].as_u64().unwrap_or(0);
            let first = *started.get_or_insert(at);
            #[allow(clippy::cast_precision_loss)] // milliseconds of one deployment
            let elapsed = at.saturating_sub(first) as f64 / 1000.0;
            print(&format!(
                "[{elapsed:6.1}s] {:<18} {}",
                event["kind"].as_str().unwrap_or("?"),
                event["message"].as_str().unwrap_or("")
            ));
        }
        printed = events.len();
        if matches!(
            deployment["status"].as_str(),
            Some("Succeeded" | "Failed" | "Stopped")
        ) {
            return Ok(deployment);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_become_the_ops_api_body_and_bad_ones_say_what_is_expected() {
        let request = ReleaseRequest {
            function: "add-comments".into(),
            config: Some("Canary10Percent5Minutes".into()),
            environment: vec!["QUEUE_URL=http://nowhere".into()],
            faults: vec!["error-rate=0.3".into()],
        };
        let body = request.body().unwrap();
        assert_eq!(body["function"], "add-comments");
        assert_eq!(body["config"], "Canary10Percent5Minutes");
        assert_eq!(body["environment"]["QUEUE_URL"], "http://nowhere");
        assert_eq!(body["faults"]["error_rate"], 0.3);
        assert_eq!(body["faults"]["latency_ms"], 0);
        for (environment, faults) in [
            (vec!["NOEQUALS"], vec![]),
            (vec![], vec!["error-rate=lots"]),
            (vec![], vec!["speed=1"]),
        ] {
            let bad = ReleaseRequest {
                function: "f".into(),
                environment: environment.into_iter().map(str::to_owned).collect(),
                faults: faults.into_iter().map(str::to_owned).collect(),
                ..ReleaseRequest::default()
            };
            assert!(matches!(bad.body(), Err(ReleaseError::BadArgument(_))));
        }
    }

    #[test]
    fn no_stack_is_one_line_that_says_what_to_do() {
        let error = deploy(
            "http://127.0.0.1:9",
            &ReleaseRequest {
                function: "f".into(),
                ..ReleaseRequest::default()
            },
            |_| {},
        )
        .unwrap_err();
        assert!(error.to_string().contains("make demo"), "{error}");
    }
}
