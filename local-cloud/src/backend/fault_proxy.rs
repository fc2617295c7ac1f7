//! A fault proxy between the functions and the backend: every DynamoDB and SQS call a
//! function makes passes through it on its way to moto, and while faults are set it
//! answers a share of them as the real service does when it is in trouble — DynamoDB
//! throttling (`ProvisionedThroughputExceededException`, SQS `RequestThrottled`), a
//! `500` (`InternalServerError`, `InternalError`) — and delays every call by the added
//! latency. So a presenter can show a dependency outage, and a load test can check that
//! nothing acknowledged is lost through one. The stack's own calls (provisioning, the
//! event source's polling, the DLQ tools) go to moto directly: only the functions'
//! dependencies fail.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio_util::sync::CancellationToken;

/// The largest request body forwarded (SQS's largest message is 1 MiB).
const MAX_BODY: usize = 16 * 1024 * 1024;
/// The longest latency that can be added.
pub const MAX_LATENCY_MS: u64 = 60_000;

/// The faults the proxy applies to every call it forwards.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackendFaults {
    /// The share of calls (0 to 1) answered as throttled: DynamoDB's
    /// `ProvisionedThroughputExceededException`, SQS's `RequestThrottled` (`400`).
    #[serde(default)]
    pub throttle_rate: f64,
    /// The share of the other calls (0 to 1) answered `500`.
    #[serde(default)]
    pub error_rate: f64,
    /// Added to every call, in milliseconds.
    #[serde(default)]
    pub latency_ms: u64,
}

impl BackendFaults {
    /// Whether any fault is set.
    pub fn active(&self) -> bool {
        self.throttle_rate > 0.0 || self.error_rate > 0.0 || self.latency_ms > 0
    }

    /// Checks the ranges.
    ///
    /// # Errors
    /// What is out of range, in words.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("throttle_rate", self.throttle_rate),
            ("error_rate", self.error_rate),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be from 0 to 1, not {rate}"));
            }
        }
        if self.latency_ms > MAX_LATENCY_MS {
            return Err(format!(
                "latency_ms must be at most {MAX_LATENCY_MS}, not {}",
                self.latency_ms
            ));
        }
        Ok(())
    }
}

/// The calls of one operation that reached the backend, and their bytes: what a cost
/// model needs (request units follow item sizes; SQS bills per 64 KiB of payload).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CallStats {
    /// How many.
    pub count: u64,
    /// Request bodies, bytes.
    pub request_bytes: u64,
    /// Response bodies, bytes.
    pub response_bytes: u64,
}

/// What the proxy did, since it started.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ProxyCounts {
    /// Calls passed on to the backend.
    pub forwarded: u64,
    /// Calls answered as throttled.
    pub throttled: u64,
    /// Calls answered `500`.
    pub failed: u64,
}

#[derive(Default)]
struct Counters {
    forwarded: AtomicU64,
    throttled: AtomicU64,
    failed: AtomicU64,
}

struct Inner {
    upstream: String,
    faults: RwLock<BackendFaults>,
    counters: Counters,
    calls: Mutex<BTreeMap<String, CallStats>>,
    client: Client<HttpConnector, Full<Bytes>>,
}

/// A running fault proxy: its URL is what the functions get as `AWS_ENDPOINT_URL`.
#[derive(Clone)]
pub struct FaultProxy {
    url: String,
    inner: Arc<Inner>,
}

impl FaultProxy {
    /// Starts a proxy to `upstream` (`http://127.0.0.1:PORT`) on a free loopback port,
    /// until `shutdown`.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub async fn start(upstream: &str, shutdown: CancellationToken) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", 0)).await?;
        let address: SocketAddr = listener.local_addr()?;
        let inner = Arc::new(Inner {
            upstream: upstream.trim_end_matches('/').to_owned(),
            faults: RwLock::new(BackendFaults::default()),
            counters: Counters::default(),
            calls: Mutex::default(),
            client: Client::builder(TokioExecutor::new()).build_http(),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(Arc::clone(&inner));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown.cancelled_owned())
                .await;
        });
        Ok(Self {
            url: format!("http://{address}"),
            inner,
        })
    }

    /// The proxy's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The faults applied now.
    pub fn faults(&self) -> BackendFaults {
        *self
            .inner
            .faults
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Applies `faults` from the next call on.
    ///
    /// # Errors
    /// What is out of range; nothing changes then.
    pub fn set(&self, faults: BackendFaults) -> Result<(), String> {
        faults.validate()?;
        *self
            .inner
            .faults
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = faults;
        Ok(())
    }

    /// The calls that reached the backend so far, by operation (`DynamoDB.PutItem`,
    /// `SQS.SendMessage`).
    pub fn calls(&self) -> BTreeMap<String, CallStats> {
        self.inner
            .calls
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// What it did so far.
    pub fn counts(&self) -> ProxyCounts {
        let c = &self.inner.counters;
        ProxyCounts {
            forwarded: c.forwarded.load(Ordering::Relaxed),
            throttled: c.throttled.load(Ordering::Relaxed),
            failed: c.failed.load(Ordering::Relaxed),
        }
    }
}

/// The service a call is for, from its `X-Amz-Target` (both speak JSON).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Service {
    DynamoDb,
    Sqs,
    Other,
}

fn target(request: &Request) -> &str {
    request
        .headers()
        .get("x-amz-target")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
}

/// `DynamoDB.PutItem` for `DynamoDB_20120810.PutItem`, `SQS.SendMessage` for
/// `AmazonSQS.SendMessage`.
fn operation(service: Service, target: &str) -> String {
    let name = target.rsplit('.').next().unwrap_or(target);
    match service {
        Service::DynamoDb => format!("DynamoDB.{name}"),
        Service::Sqs => format!("SQS.{name}"),
        Service::Other => "other".to_owned(),
    }
}

fn service(request: &Request) -> Service {
    let target = target(request);
    if target.starts_with("DynamoDB_") {
        Service::DynamoDb
    } else if target.starts_with("AmazonSQS.") {
        Service::Sqs
    } else {
        Service::Other
    }
}

/// The error the service would answer, in its own JSON protocol.
fn injected(service: Service, throttled: bool) -> Response {
    let (status, error_type, message) = match (service, throttled) {
        (Service::DynamoDb, true) => (
            StatusCode::BAD_REQUEST,
            "com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException",
            "The level of configured provisioned throughput for the table was exceeded (injected by the local stack's fault proxy)",
        ),
        (Service::DynamoDb, false) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "com.amazonaws.dynamodb.v20120810#InternalServerError",
            "Internal server error (injected by the local stack's fault proxy)",
        ),
        (_, true) => (
            StatusCode::BAD_REQUEST,
            "com.amazonaws.sqs#RequestThrottled",
            "Request is throttled (injected by the local stack's fault proxy)",
        ),
        (_, false) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "com.amazonaws.sqs#InternalError",
            "We encountered an internal error (injected by the local stack's fault proxy)",
        ),
    };
    let mut response = (
        status,
        [("content-type", "application/x-amz-json-1.0")],
        json!({"__type": error_type, "message": message}).to_string(),
    )
        .into_response();
    let short = error_type.rsplit('#').next().unwrap_or(error_type);
    if let Ok(value) = HeaderValue::from_str(short) {
        response.headers_mut().insert("x-amzn-errortype", value);
    }
    response
}

async fn forward(State(inner): State<Arc<Inner>>, request: Request) -> Response {
    let faults = *inner
        .faults
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    if faults.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(faults.latency_ms)).await;
    }
    let service = service(&request);
    let operation = operation(service, target(&request));
    if service != Service::Other {
        if fastrand::f64() < faults.throttle_rate {
            inner.counters.throttled.fetch_add(1, Ordering::Relaxed);
            return injected(service, true);
        }
        if fastrand::f64() < faults.error_rate {
            inner.counters.failed.fetch_add(1, Ordering::Relaxed);
            return injected(service, false);
        }
    }
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body over 16 MiB").into_response();
    };
    let request_bytes = body.len() as u64;
    let path = parts.uri.path_and_query().map_or("/", |p| p.as_str());
    let mut upstream = match axum::http::Request::builder()
        .method(parts.method)
        .uri(format!("{}{path}", inner.upstream))
        .body(Full::new(body))
    {
        Ok(upstream) => upstream,
        Err(e) => return (StatusCode::BAD_REQUEST, e.to_string()).into_response(),
    };
    let mut headers = parts.headers;
    headers.remove("host");
    *upstream.headers_mut() = headers;
    inner.counters.forwarded.fetch_add(1, Ordering::Relaxed);
    match inner.client.request(upstream).await {
        Ok(answer) => {
            let (parts, body) = answer.into_parts();
            let Ok(body) = axum::body::to_bytes(Body::new(body), MAX_BODY).await else {
                return (StatusCode::BAD_GATEWAY, "the backend's answer broke off").into_response();
            };
            let mut calls = inner
                .calls
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            let stats = calls.entry(operation).or_default();
            stats.count += 1;
            stats.request_bytes += request_bytes;
            stats.response_bytes += body.len() as u64;
            drop(calls);
            Response::from_parts(parts, Body::from(body))
        }
        Err(e) => (
            StatusCode::BAD_GATEWAY,
            format!("the fault proxy cannot reach the backend: {e}"),
        )
            .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_out_of_range_are_refused_and_unknown_fields_do_not_parse() {
        assert!(BackendFaults::default().validate().is_ok());
        assert!(!BackendFaults::default().active());
        let bad = BackendFaults {
            throttle_rate: 1.5,
            ..BackendFaults::default()
        };
        assert!(bad.validate().unwrap_err().contains("throttle_rate"));
        let slow = BackendFaults {
            latency_ms: MAX_LATENCY_MS + 1,
            ..BackendFaults::default()
        };
        assert!(slow.validate().unwrap_err().contains("latency_ms"));
        assert!(serde_json::from_str::<BackendFaults>(r#"{"eror_rate": 1}"#).is_err());
        let parsed: BackendFaults = serde_json::from_str(r#"{"error_rate": 0.5}"#).unwrap();
        assert!(parsed.active() && parsed.throttle_rate == 0.0);
    }

    #[tokio::test]
    async fn calls_pass_through_and_faults_answer_as_the_service_would() {
        // The backend: anything that answers HTTP.
        let backend = tokio::net::TcpListener::bind(("127.0.0.1", 0))
            .await
            .unwrap();
        let backend_url = format!("http://{}", backend.local_addr().unwrap());
        let app = axum::Router::new().fallback(|request: Request| async move {
            format!("moto saw {}", request.uri().path())
        });
        tokio::spawn(async move { axum::serve(backend, app).await });
        let shutdown = CancellationToken::new();
        let proxy = FaultProxy::start(&backend_url, shutdown.clone())
            .await
            .unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let url = proxy.url().to_owned();
        let call = move |target: &'static str| {
            let agent = agent.clone();
            let url = url.clone();
            tokio::task::spawn_blocking(move || {
                let mut answer = agent
                    .post(format!("{url}/queue"))
                    .header("x-amz-target", target)
                    .send("{}")
                    .unwrap();
                let status = answer.status().as_u16();
                (status, answer.body_mut().read_to_string().unwrap())
            })
        };
        let (status, body) = call("DynamoDB_20120810.PutItem").await.unwrap();
        assert_eq!((status, body.as_str()), (200, "moto saw /queue"));

        proxy
            .set(BackendFaults {
                throttle_rate: 1.0,
                ..BackendFaults::default()
            })
            .unwrap();
        let (status, body) = call("DynamoDB_20120810.PutItem").await.unwrap();
        assert_eq!(status, 400);
        assert!(
            body.contains("ProvisionedThroughputExceededException"),
            "{body}"
        );
        let (status, body) = call("AmazonSQS.SendMessage").await.unwrap();
        assert_eq!(status, 400);
        assert!(body.contains("RequestThrottled"), "{body}");

        proxy
            .set(BackendFaults {
                error_rate: 1.0,
                ..BackendFaults::default()
            })
            .unwrap();
        let (status, body) = call("DynamoDB_20120810.GetItem").await.unwrap();
        assert_eq!(status, 500);
        assert!(body.contains("InternalServerError"), "{body}");
        assert_eq!(
            proxy.counts(),
            ProxyCounts {
                forwarded: 1,
                throttled: 2,
                failed: 1
            }
        );
        assert_eq!(
            proxy.calls()["DynamoDB.PutItem"],
            CallStats {
                count: 1,
                request_bytes: 2,
                response_bytes: "moto saw /queue".len() as u64,
            },
            "only the calls that reached the backend, with their bytes"
        );
        proxy.set(BackendFaults::default()).unwrap();
        assert_eq!(call("AmazonSQS.ReceiveMessage").await.unwrap().0, 200);
        shutdown.cancel();
    }
}
