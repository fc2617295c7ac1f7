//! A Lambda Runtime API, enough to run a function binary as Lambda runs it.
//!
//! The function process polls `GET /2018-06-01/runtime/invocation/next`, gets an event
//! with Lambda's headers (request id, deadline, invoked ARN, trace id), and posts its
//! answer to `…/{id}/response` or `…/{id}/error`. [`RuntimeApi::invoke`] hands one
//! event to whichever process polls next and waits for that answer.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{Mutex, mpsc, oneshot};

/// How a function answered one invocation.
#[derive(Debug, Clone, PartialEq)]
pub enum Answer {
    /// `POST …/response`: the handler's result.
    Response(Value),
    /// `POST …/error`: the handler's error (`errorType`, `errorMessage`).
    Error(Value),
}

struct Pending {
    request_id: String,
    event: Value,
    answer: oneshot::Sender<Answer>,
}

#[derive(Clone)]
struct Shared {
    queue: Arc<Mutex<mpsc::Receiver<Pending>>>,
    waiting: Arc<Mutex<HashMap<String, oneshot::Sender<Answer>>>>,
    invoked_arn: String,
    sampled: Arc<AtomicBool>,
    first_poll: Arc<std::sync::OnceLock<std::time::Instant>>,
}

/// A Runtime API on a free loopback port.
pub struct RuntimeApi {
    /// `127.0.0.1:PORT`: the value of `AWS_LAMBDA_RUNTIME_API`.
    pub address: String,
    sender: mpsc::Sender<Pending>,
    sampled: Arc<AtomicBool>,
    first_poll: Arc<std::sync::OnceLock<std::time::Instant>>,
    _server: tokio::task::JoinHandle<()>,
}

impl RuntimeApi {
    /// Serves the API for a function invoked through `invoked_arn`.
    ///
    /// # Panics
    /// When no loopback port can be bound.
    pub async fn start(invoked_arn: &str) -> Self {
        let (sender, receiver) = mpsc::channel(16);
        let sampled = Arc::new(AtomicBool::new(true));
        let first_poll = Arc::default();
        let shared = Shared {
            queue: Arc::new(Mutex::new(receiver)),
            waiting: Arc::default(),
            invoked_arn: invoked_arn.to_owned(),
            sampled: Arc::clone(&sampled),
            first_poll: Arc::clone(&first_poll),
        };
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(response),
            )
            .route("/2018-06-01/runtime/invocation/{id}/error", post(error))
            .with_state(shared);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let address = listener.local_addr().expect("local address").to_string();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self {
            address,
            sender,
            sampled,
            first_poll,
            _server: server,
        }
    }

    /// When the function first asked for an invocation: the end of its init phase.
    ///
    /// # Panics
    /// When it has not asked within `timeout`.
    pub async fn first_poll(&self, timeout: Duration) -> std::time::Instant {
        let deadline = std::time::Instant::now() + timeout;
        loop {
            if let Some(at) = self.first_poll.get() {
                return *at;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "the function never polled"
            );
            tokio::time::sleep(Duration::from_micros(200)).await;
        }
    }

    /// Whether the trace ids of the next invocations say `Sampled=1` (the default).
    pub fn set_sampled(&self, sampled: bool) {
        self.sampled.store(sampled, Ordering::Relaxed);
    }

    /// Invokes the function with `event` and waits up to `timeout` for its answer.
    ///
    /// # Panics
    /// When no answer comes in time.
    pub async fn invoke(&self, event: Value, timeout: Duration) -> (String, Answer) {
        let request_id = uuid::Uuid::new_v4().to_string();
        let (answer, answered) = oneshot::channel();
        self.sender
            .send(Pending {
                request_id: request_id.clone(),
                event,
                answer,
            })
            .await
            .expect("the Runtime API is running");
        let answer = tokio::time::timeout(timeout, answered)
            .await
            .unwrap_or_else(|_| panic!("no answer to invocation {request_id} within {timeout:?}"))
            .expect("the Runtime API keeps the answer channel");
        (request_id, answer)
    }
}

async fn next(State(shared): State<Shared>) -> (HeaderMap, String) {
    let _ = shared.first_poll.set(std::time::Instant::now());
    let pending = shared.queue.lock().await.recv().await;
    let Some(pending) = pending else {
        // The test is over; the function keeps polling until it is killed.
        std::future::pending::<()>().await;
        unreachable!()
    };
    let deadline = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        + Duration::from_secs(30);
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", pending.request_id.clone());
    set(
        "lambda-runtime-deadline-ms",
        deadline.as_millis().to_string(),
    );
    set(
        "lambda-runtime-invoked-function-arn",
        shared.invoked_arn.clone(),
    );
    set(
        "lambda-runtime-trace-id",
        format!(
            "Root={};Parent={};Sampled={}",
            ops_kit::xray::new_trace_id(),
            ops_kit::xray::new_segment_id(),
            u8::from(shared.sampled.load(Ordering::Relaxed)),
        ),
    );
    shared
        .waiting
        .lock()
        .await
        .insert(pending.request_id, pending.answer);
    (headers, pending.event.to_string())
}

async fn response(
    State(shared): State<Shared>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    answer(
        &shared,
        &id,
        Answer::Response(serde_json::from_str(&body).unwrap_or(Value::String(body))),
    )
    .await
}

async fn error(State(shared): State<Shared>, Path(id): Path<String>, body: String) -> StatusCode {
    answer(
        &shared,
        &id,
        Answer::Error(serde_json::from_str(&body).unwrap_or(Value::String(body))),
    )
    .await
}

async fn answer(shared: &Shared, id: &str, answer: Answer) -> StatusCode {
    match shared.waiting.lock().await.remove(id) {
        Some(waiting) => {
            let _ = waiting.send(answer);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}
