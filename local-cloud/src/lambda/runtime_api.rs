//! The Lambda Runtime API, as one execution environment sees it.
//!
//! The function process polls `GET /2018-06-01/runtime/invocation/next`, gets an event
//! with Lambda's headers (request id, deadline, invoked ARN, trace header), and posts its
//! answer to `…/{id}/response` or `…/{id}/error`; an init failure goes to
//! `…/init/error`. One [`RuntimeApi`] serves one process, on its own loopback port, and
//! stops when dropped. Both the local cloud's execution environments and the tests' single
//! processes run on it, so the protocol exists once.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use axum::Router;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::routing::{get, post};
use serde_json::Value;
use tokio::sync::{Notify, mpsc, oneshot};

/// What the function answered.
#[derive(Clone, Debug, PartialEq)]
pub enum RuntimeAnswer {
    /// `POST …/response`: the handler's result.
    Response(Value),
    /// `POST …/error`: the handler's error (`errorType`, `errorMessage`).
    Error(Value),
}

/// One invocation handed to the process on its next poll.
#[derive(Clone, Debug)]
pub struct RuntimeEvent {
    /// `Lambda-Runtime-Aws-Request-Id`.
    pub request_id: String,
    /// `Lambda-Runtime-Invoked-Function-Arn`, when it is not the one the API was
    /// started with (an invocation through an alias).
    pub invoked_arn: Option<String>,
    /// `Lambda-Runtime-Deadline-Ms`: milliseconds since the epoch.
    pub deadline_ms: u64,
    /// `Lambda-Runtime-Trace-Id`, when the invocation is traced.
    pub trace_header: Option<String>,
    /// The event.
    pub payload: Value,
}

struct Shared {
    invoked_arn: String,
    queue: tokio::sync::Mutex<mpsc::Receiver<RuntimeEvent>>,
    waiting: Mutex<HashMap<String, oneshot::Sender<RuntimeAnswer>>>,
    polled: Notify,
    first_poll: OnceLock<Instant>,
    init_error: Mutex<Option<Value>>,
}

/// A Runtime API on a free loopback port; the server stops when this is dropped.
pub struct RuntimeApi {
    address: String,
    events: mpsc::Sender<RuntimeEvent>,
    shared: Arc<Shared>,
    server: tokio::task::JoinHandle<()>,
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RuntimeApi {
    /// Serves the API for a function invoked through `invoked_arn`.
    ///
    /// # Errors
    /// When no loopback port can be bound.
    pub async fn start(invoked_arn: &str) -> std::io::Result<Self> {
        let (events, queue) = mpsc::channel(16);
        let shared = Arc::new(Shared {
            invoked_arn: invoked_arn.to_owned(),
            queue: tokio::sync::Mutex::new(queue),
            waiting: Mutex::default(),
            polled: Notify::new(),
            first_poll: OnceLock::new(),
            init_error: Mutex::default(),
        });
        let app = Router::new()
            .route("/2018-06-01/runtime/invocation/next", get(next_invocation))
            .route(
                "/2018-06-01/runtime/invocation/{id}/response",
                post(invocation_response),
            )
            .route(
                "/2018-06-01/runtime/invocation/{id}/error",
                post(invocation_error),
            )
            .route("/2018-06-01/runtime/init/error", post(init_error))
            .with_state(Arc::clone(&shared));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let address = listener.local_addr()?.to_string();
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Ok(Self {
            address,
            events,
            shared,
            server,
        })
    }

    /// `127.0.0.1:PORT`: the value of `AWS_LAMBDA_RUNTIME_API`.
    pub fn address(&self) -> &str {
        &self.address
    }

    /// Queues `event` for the process's next poll; the receiver gets its answer. A
    /// dropped receiver means the API went away with the process.
    pub async fn invoke(&self, event: RuntimeEvent) -> oneshot::Receiver<RuntimeAnswer> {
        let (answer, answered) = oneshot::channel();
        lock(&self.shared.waiting).insert(event.request_id.clone(), answer);
        // The receiver lives in `shared` as long as `self`: the send cannot fail.
        let _ = self.events.send(event).await;
        answered
    }

    /// Waits for the process's next poll of `…/invocation/next` (one already made and
    /// not yet waited for counts).
    pub async fn polled(&self) {
        self.shared.polled.notified().await;
    }

    /// When the process first polled: the end of its init phase.
    pub fn first_poll(&self) -> Option<Instant> {
        self.shared.first_poll.get().copied()
    }

    /// What the process posted to `…/init/error`, if it did.
    pub fn init_error(&self) -> Option<Value> {
        lock(&self.shared.init_error).clone()
    }
}

async fn next_invocation(State(shared): State<Arc<Shared>>) -> (HeaderMap, String) {
    let _ = shared.first_poll.set(Instant::now());
    shared.polled.notify_one();
    let event = shared.queue.lock().await.recv().await;
    let Some(event) = event else {
        // The environment is going away; the process is killed while it waits.
        return std::future::pending().await;
    };
    let mut headers = HeaderMap::new();
    let mut set = |name: &'static str, value: &str| {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    };
    set("lambda-runtime-aws-request-id", &event.request_id);
    set("lambda-runtime-deadline-ms", &event.deadline_ms.to_string());
    set(
        "lambda-runtime-invoked-function-arn",
        event.invoked_arn.as_deref().unwrap_or(&shared.invoked_arn),
    );
    if let Some(trace) = &event.trace_header {
        set("lambda-runtime-trace-id", trace);
    }
    (headers, event.payload.to_string())
}

async fn invocation_response(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    answer(&shared, &id, RuntimeAnswer::Response(json_or_text(body)))
}

async fn invocation_error(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    body: String,
) -> StatusCode {
    answer(&shared, &id, RuntimeAnswer::Error(json_or_text(body)))
}

async fn init_error(State(shared): State<Arc<Shared>>, body: String) -> StatusCode {
    *lock(&shared.init_error) = Some(json_or_text(body));
    StatusCode::ACCEPTED
}

/// A body the function posted: JSON as sent, anything else as a string.
fn json_or_text(body: String) -> Value {
    serde_json::from_str(&body).unwrap_or(Value::String(body))
}

/// An answer for a request that is not waiting (unknown, or answered already) is a
/// `400`, as Lambda's own API answers it.
fn answer(shared: &Shared, id: &str, answer: RuntimeAnswer) -> StatusCode {
    match lock(&shared.waiting).remove(id) {
        Some(waiting) => {
            let _ = waiting.send(answer);
            StatusCode::ACCEPTED
        }
        None => StatusCode::BAD_REQUEST,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

    /// One HTTP/1.1 request on a fresh connection; the raw answer.
    async fn http(address: &str, request: &str) -> String {
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer).await.unwrap();
        String::from_utf8_lossy(&answer).into_owned()
    }

    fn post(path: &str, body: &str) -> String {
        format!(
            "POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
            body.len()
        )
    }

    #[tokio::test]
    async fn a_poll_gets_the_event_with_lambdas_headers_and_the_answer_comes_back() {
        let api = RuntimeApi::start("arn:aws:lambda:r:1:function:f:live")
            .await
            .unwrap();
        assert!(api.first_poll().is_none());
        let answered = api
            .invoke(RuntimeEvent {
                request_id: "req-1".into(),
                invoked_arn: None,
                deadline_ms: 42,
                trace_header: Some("Root=1-5e1b4151-5ac6c58f5b5dbd0e1ddc2a2b;Sampled=1".into()),
                payload: serde_json::json!({"hello": "world"}),
            })
            .await;
        let next = http(
            api.address(),
            "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
        )
        .await
        .to_ascii_lowercase();
        assert!(
            next.contains("lambda-runtime-aws-request-id: req-1"),
            "{next}"
        );
        assert!(next.contains("lambda-runtime-deadline-ms: 42"));
        assert!(
            next.contains(
                "lambda-runtime-invoked-function-arn: arn:aws:lambda:r:1:function:f:live"
            )
        );
        assert!(next.contains("lambda-runtime-trace-id: root=1-5e1b4151"));
        assert!(next.ends_with(r#"{"hello":"world"}"#));
        assert!(api.first_poll().is_some());

        let accepted = http(
            api.address(),
            &post(
                "/2018-06-01/runtime/invocation/req-1/response",
                r#"{"ok":true}"#,
            ),
        )
        .await;
        assert!(accepted.starts_with("HTTP/1.1 202"), "{accepted}");
        assert_eq!(
            answered.await.unwrap(),
            RuntimeAnswer::Response(serde_json::json!({"ok": true}))
        );
    }

    #[tokio::test]
    async fn an_answer_nobody_waits_for_is_refused_and_init_errors_are_kept() {
        let api = RuntimeApi::start("arn").await.unwrap();
        let refused = http(
            api.address(),
            &post("/2018-06-01/runtime/invocation/unknown/error", "{}"),
        )
        .await;
        assert!(refused.starts_with("HTTP/1.1 400"), "{refused}");
        let kept = http(
            api.address(),
            &post("/2018-06-01/runtime/init/error", "not json"),
        )
        .await;
        assert!(kept.starts_with("HTTP/1.1 202"), "{kept}");
        assert_eq!(api.init_error(), Some(Value::String("not json".into())));
    }
}
