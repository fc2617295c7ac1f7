//! HTTP for `feedback-ops load`: posting a comment as a well-behaved client does
//! (retrying a 5xx, a `429` or a connection error with the same `Idempotency-Key`, with
//! back-off), listing the stored comments page by page, asking whether one is stored,
//! and the local stack's ops API. Blocking calls on a shared `ureq` agent (its
//! connection pool serves every client thread).

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use super::{Answer, Backoff};

/// How long one request may take: API Gateway gives up on an integration after 29 s.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// The largest page `GET /comments` gives.
const PAGE_LIMIT: u16 = 100;

/// An API (and, on the local stack, its ops API) at one base URL.
#[derive(Clone)]
pub struct Api {
    agent: ureq::Agent,
    url: String,
}

/// What one request got: the status, the `X-Correlation-Id` header and the body (JSON,
/// or `null` when it is not).
#[derive(Clone, Debug)]
pub struct Reply {
    /// The HTTP status.
    pub status: u16,
    /// The `X-Correlation-Id` header, if any.
    pub correlation_id: Option<String>,
    /// The body as JSON; `null` when empty or not JSON.
    pub body: Value,
}

/// How one comment's post ended.
#[derive(Clone, Debug)]
pub struct Posted {
    /// The final answer.
    pub answer: Answer,
    /// Attempts made, the first included.
    pub attempts: u32,
    /// From the first attempt's start to the final answer, back-off pauses included.
    pub latency: Duration,
    /// When the first attempt started.
    pub sent: Instant,
    /// The same, by the wall clock (to compare with the API's `stored_at`).
    pub sent_wall: SystemTime,
    /// The comment's id, from a 2xx answer.
    pub id: Option<String>,
    /// The correlation id the API answered with (else the one sent).
    pub correlation_id: String,
    /// The last status, or the last connection error, for a comment not accepted.
    pub last_problem: Option<String>,
}

/// What `GET /status/{id}` said about one comment.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stored {
    /// Stored, at this time by the API's clock (when the answer says).
    Yes(Option<SystemTime>),
    /// Not stored yet.
    No,
    /// No answer that says either: ask again.
    Unknown,
}

/// One comment to post.
#[derive(Clone, Debug)]
pub struct NewComment {
    /// Its text, with its marker.
    pub text: String,
    /// Its rating, 1 to 5.
    pub rating: u8,
    /// Its `Idempotency-Key`, the same on every attempt.
    pub key: String,
    /// Its `X-Correlation-Id`.
    pub correlation_id: String,
}

/// Whether an answer is worth another attempt: a 5xx, or a `429` (throttled).
pub fn retryable(status: u16) -> bool {
    status >= 500 || status == 429
}

impl Api {
    /// A client for the API at `url` (no trailing slash) keeping up to `connections`
    /// idle connections.
    pub fn new(url: &str, connections: usize) -> Self {
        let mut config = ureq::Agent::config_builder();
        if url.starts_with("https://") {
            config = config.tls_config(tls());
        }
        let agent: ureq::Agent = config
            .http_status_as_error(false)
            .timeout_global(Some(REQUEST_TIMEOUT))
            .timeout_connect(Some(Duration::from_secs(5)))
            .max_idle_connections(connections.max(4))
            .max_idle_connections_per_host(connections.max(4))
            .build()
            .into();
        Self {
            agent,
            url: url.trim_end_matches('/').to_owned(),
        }
    }

    /// The base URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// One request, once.
    ///
    /// # Errors
    /// The connection error, in one line, when no HTTP answer came.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Result<Reply, String> {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.url));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let text = body.map(Value::to_string).unwrap_or_default();
        if body.is_some() {
            request = request.header("content-type", "application/json");
        }
        let request = request.body(text).map_err(|e| e.to_string())?;
        let mut response = self.agent.run(request).map_err(|e| one_line(&e))?;
        let correlation_id = response
            .headers()
            .get("x-correlation-id")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let text = response
            .body_mut()
            .read_to_string()
            .map_err(|e| one_line(&e))?;
        Ok(Reply {
            status: response.status().as_u16(),
            correlation_id,
            body: serde_json::from_str(&text).unwrap_or(Value::Null),
        })
    }

    /// A `GET` retried like a post (5xx, `429`, connection errors) a few times.
    ///
    /// # Errors
    /// The last problem when no 2xx came, or at once for another status.
    pub fn get_json(&self, path: &str) -> Result<Value, String> {
        let mut rng = fastrand::Rng::new();
        let backoff = Backoff {
            attempts: 5,
            ..Backoff::CLIENT
        };
        let mut attempt = 1;
        loop {
            let problem = match self.call("GET", path, None, &[]) {
                Ok(reply) if (200..300).contains(&reply.status) => return Ok(reply.body),
                Ok(reply) if !retryable(reply.status) => {
                    return Err(format!("GET {path}: HTTP {}", reply.status));
                }
                Ok(reply) => format!("GET {path}: HTTP {}", reply.status),
                Err(error) => format!("GET {path}: {error}"),
            };
            if attempt >= backoff.attempts {
                return Err(problem);
            }
            std::thread::sleep(backoff.delay(attempt, rng.f64()));
            attempt += 1;
        }
    }

    /// Posts `comment` until a final answer or the last attempt: a 2xx is accepted, a 4xx
    /// other than `429` rejected, anything else retried after `backoff`'s pause with the
    /// same key. `pace` runs before every attempt (the rate limit); `stop` ends the
    /// retries early (Ctrl-C).
    pub fn post_comment(
        &self,
        comment: &NewComment,
        backoff: &Backoff,
        rng: &mut fastrand::Rng,
        pace: &dyn Fn(),
        stop: &AtomicBool,
    ) -> Posted {
        let body = json!({"text": comment.text, "rating": comment.rating});
        let headers = [
            ("idempotency-key", comment.key.as_str()),
            ("x-correlation-id", comment.correlation_id.as_str()),
        ];
        let mut posted = Posted {
            answer: Answer::Failed,
            attempts: 0,
            latency: Duration::ZERO,
            sent: Instant::now(),
            sent_wall: SystemTime::now(),
            id: None,
            correlation_id: comment.correlation_id.clone(),
            last_problem: None,
        };
        loop {
            pace();
            if posted.attempts == 0 {
                posted.sent = Instant::now();
                posted.sent_wall = SystemTime::now();
            }
            posted.attempts += 1;
            match self.call("POST", "/comments", Some(&body), &headers) {
                Ok(reply) if !retryable(reply.status) => {
                    posted.latency = posted.sent.elapsed();
                    if (200..300).contains(&reply.status) {
                        posted.answer = Answer::Accepted;
                        posted.id = reply.body["id"].as_str().map(str::to_owned);
                        if let Some(id) = reply.correlation_id {
                            posted.correlation_id = id;
                        }
                    } else {
                        posted.answer = Answer::Rejected;
                        posted.last_problem = Some(problem_of(&reply));
                    }
                    return posted;
                }
                Ok(reply) => posted.last_problem = Some(problem_of(&reply)),
                Err(error) => posted.last_problem = Some(error),
            }
            if posted.attempts >= backoff.attempts || stop.load(Ordering::Relaxed) {
                posted.latency = posted.sent.elapsed();
                return posted;
            }
            std::thread::sleep(backoff.delay(posted.attempts, rng.f64()));
        }
    }

    /// Whether comment `id` is stored, from `GET /status/{id}`: its `200` says
    /// [`Stored::Yes`] with its `stored_at`, its `404` [`Stored::No`].
    pub fn stored(&self, id: &str) -> Stored {
        match self.call("GET", &format!("/status/{id}"), None, &[]) {
            Ok(reply) if reply.status == 200 => Stored::Yes(
                reply.body["stored_at"]
                    .as_str()
                    .and_then(|at| OffsetDateTime::parse(at, &Rfc3339).ok())
                    .map(SystemTime::from),
            ),
            Ok(reply) if reply.status == 404 => Stored::No,
            _ => Stored::Unknown,
        }
    }

    /// Every stored comment of run `run`, newest first, page by page: for each comment
    /// number, the distinct ids of the items that carry its marker. Paging stops at the
    /// first item older than `floor_ms` (ids are `UUIDv7`s, and the feed is ordered by
    /// id), so the cost is the run's pages, not the table's.
    ///
    /// # Errors
    /// The problem when a page cannot be had after retries.
    pub fn stored_markers(
        &self,
        run: &str,
        floor_ms: u64,
    ) -> Result<HashMap<usize, HashSet<String>>, String> {
        let mut found: HashMap<usize, HashSet<String>> = HashMap::new();
        let mut path = format!("/comments?limit={PAGE_LIMIT}");
        loop {
            let page = self.get_json(&path)?;
            let items = page["items"]
                .as_array()
                .ok_or_else(|| format!("GET {path}: the answer has no items: {page}"))?;
            let mut older = false;
            for item in items {
                let id = item["id"].as_str().unwrap_or_default();
                if super::uuid7_ms(id).is_some_and(|ms| ms < floor_ms) {
                    older = true;
                }
                if let Some(n) = item["text"]
                    .as_str()
                    .and_then(|text| super::parse_marker(run, text))
                {
                    found.entry(n).or_default().insert(id.to_owned());
                }
            }
            match page["next_cursor"].as_str() {
                Some(cursor) if !older => {
                    path = format!("/comments?limit={PAGE_LIMIT}&cursor={cursor}");
                }
                _ => return Ok(found),
            }
        }
    }

    /// The local stack's `GET /ops/api/stack`, or `None` where there is no ops API.
    pub fn ops_stack(&self) -> Option<Value> {
        let reply = self.call("GET", "/ops/api/stack", None, &[]).ok()?;
        (reply.status == 200 && reply.body["queues"].is_array()).then_some(reply.body)
    }

    /// The dead-letter queue, through the local stack's ops API: its depth, and unless
    /// `peek` is false its messages (without bodies).
    ///
    /// # Errors
    /// The problem when the ops API does not answer.
    pub fn dlq(&self, peek: bool) -> Result<Value, String> {
        self.get_json(&format!("/ops/api/dlq?peek={peek}"))
    }

    /// The pids of function `function`'s execution environments, from
    /// `GET /ops/api/functions`.
    ///
    /// # Errors
    /// The problem when the ops API does not answer.
    pub fn pids(&self, function: &str) -> Result<Vec<u32>, String> {
        let functions = self.get_json("/ops/api/functions")?;
        Ok(functions
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["name"] == function)
            .flat_map(|f| f["environments"].as_array().cloned().unwrap_or_default())
            .filter_map(|e| e["pid"].as_u64())
            .filter_map(|pid| u32::try_from(pid).ok())
            .collect())
    }
}

/// TLS for a deployed stage: rustls with the aws-lc-rs provider (the one the AWS SDK
/// links) and the system's root certificates.
fn tls() -> ureq::tls::TlsConfig {
    let roots: Vec<ureq::tls::Certificate<'static>> = rustls_native_certs::load_native_certs()
        .certs
        .iter()
        .map(|der| ureq::tls::Certificate::from_der(der.as_ref()).to_owned())
        .collect();
    ureq::tls::TlsConfig::builder()
        .provider(ureq::tls::TlsProvider::Rustls)
        .root_certs(ureq::tls::RootCerts::new_with_certs(&roots))
        .unversioned_rustls_crypto_provider(std::sync::Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .build()
}

/// A non-2xx answer in one line: the status and the problem's title or detail.
fn problem_of(reply: &Reply) -> String {
    let detail = reply.body["detail"]
        .as_str()
        .or_else(|| reply.body["title"].as_str())
        .or_else(|| reply.body["message"].as_str());
    match detail {
        Some(detail) => format!("HTTP {}: {detail}", reply.status),
        None => format!("HTTP {}", reply.status),
    }
}

/// An error's text on one line.
fn one_line(error: &dyn std::fmt::Display) -> String {
    error
        .to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn five_hundreds_and_throttles_are_retried_and_other_answers_are_final() {
        for status in [500, 502, 503, 504, 429] {
            assert!(retryable(status), "{status}");
        }
        for status in [200, 202, 400, 403, 404, 413, 415, 422] {
            assert!(!retryable(status), "{status}");
        }
    }

    #[test]
    fn a_problem_is_one_line_with_its_status() {
        let reply = Reply {
            status: 422,
            correlation_id: None,
            body: json!({"title": "Unprocessable", "detail": "key reused"}),
        };
        assert_eq!(problem_of(&reply), "HTTP 422: key reused");
        let bare = Reply {
            status: 502,
            correlation_id: None,
            body: Value::Null,
        };
        assert_eq!(problem_of(&bare), "HTTP 502");
        assert_eq!(one_line(&"a\n  b\tc"), "a b c");
    }
}
