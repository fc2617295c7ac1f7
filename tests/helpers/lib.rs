//! The integration-test harness: the real handlers, the real AWS SDK, a real moto
//! server, and the local cloud that `feedback-ops dev` runs — this crate only adds test
//! conveniences on top of it.
//!
//! - [`moto`] starts one moto server per test binary (the local cloud's
//!   [`Moto`], which stops it when the test process ends),
//!   the first time a test asks for it. Set `MOTO_ENDPOINT` to use a server that is
//!   already running instead, or `MOTO_SERVER` to another `moto_server`.
//! - [`TestApp::spawn`] provisions a stack of its own from `template.yaml` (a unique
//!   stack name, so tests run in parallel against one server), with the local cloud's
//!   CloudFormation reader and provisioning: the table, queue and dead-letter queue are
//!   the ones the demo and AWS get.
//! - [`TestApp`]'s methods drive the handlers the way API Gateway and the SQS event
//!   source mapping would, with the local cloud's event types and batch rules.
//! - [`FunctionProcess`] runs a function's real binary on the local cloud's Runtime
//!   API, as Lambda runs it; [`XrayDaemon`] collects what it sends to X-Ray, and
//!   [`assert_xray_schema`] holds it to AWS's segment document schema.
//!
//! If moto cannot be started the test fails with what to do; it is never skipped.

// A harness that cannot set up must stop the test loudly, with the reason.
#![allow(clippy::expect_used, clippy::missing_panics_doc)]

mod function_process;
mod xray;

pub use function_process::{
    Answer, FUNCTIONS, FunctionProcess, REGION, build_binaries, function_binaries, invoked_arn,
};
pub use xray::{XRAY_SCHEMA, XrayDaemon, assert_xray_schema};

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use feedback::{
    CommentId, CommentStore, DynamoCommentStore, Inserted, Page, PageCursor, PageLimit,
    SourceQueue, SqsCommentQueue, SqsSourceQueue, StoreError, StoredComment,
};
use lambda_http::{Request, RequestExt as _};
use local_cloud::backend::{MOTO_VERSION, Moto};
use local_cloud::cloudformation::{FunctionSpec, StackModel, Template};
use serde_json::Value;

/// The moto server of this test binary.
pub struct MotoServer {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    _server: Option<Moto>,
}

/// The moto server for this test binary, started on first use.
///
/// # Panics
/// When moto is not installed or does not start: the message says what to run.
pub fn moto() -> &'static MotoServer {
    static MOTO: OnceLock<MotoServer> = OnceLock::new();
    MOTO.get_or_init(|| {
        if let Ok(endpoint) = std::env::var("MOTO_ENDPOINT") {
            return MotoServer {
                endpoint,
                _server: None,
            };
        }
        let server = std::env::var_os("MOTO_SERVER").map_or_else(
            || local_cloud::backend::moto_path(&workspace_root()),
            PathBuf::from,
        );
        let moto = Moto::start(&server).unwrap_or_else(|error| {
            panic!("{error} (tests need moto {MOTO_VERSION}; MOTO_SERVER or MOTO_ENDPOINT point elsewhere)")
        });
        MotoServer {
            endpoint: moto.endpoint.clone(),
            _server: Some(moto),
        }
    })
}

pub(crate) fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `template.yaml`, read once.
pub fn template() -> &'static Template {
    static TEMPLATE: OnceLock<Template> = OnceLock::new();
    TEMPLATE.get_or_init(|| {
        Template::load(&workspace_root().join("template.yaml")).expect("template.yaml reads")
    })
}

/// An SDK configuration for moto: fixed test credentials, the tests' region.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    local_cloud::backend::sdk_config(endpoint, REGION).await
}

/// One test's own stack: its table, queue and dead-letter queue, provisioned from the
/// template, with the adapters and clients.
pub struct TestApp {
    /// DynamoDB, for assertions on the table.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// SQS, for assertions on the queues.
    pub sqs: aws_sdk_sqs::Client,
    /// The table's name.
    pub table: String,
    /// The comments queue.
    pub queue_url: String,
    /// Its ARN, the records' `eventSourceARN`.
    pub queue_arn: String,
    /// Its dead-letter queue.
    pub dlq_url: String,
    /// The store adapter on the table.
    pub store: DynamoCommentStore,
    /// The queue adapter on the queue.
    pub queue: SqsCommentQueue,
    /// The consumer's adapter on the queue and its dead-letter queue.
    pub source: SqsSourceQueue,
    /// The stack as the template describes it, with this test's physical names.
    pub model: StackModel,
}

/// How many receives move a message to the dead-letter queue (the template's value:
/// [`TestApp::spawn`] checks it).
pub const MAX_RECEIVE_COUNT: u32 = 10;

impl TestApp {
    /// Provisions a stack of its own from `template.yaml` on the shared moto server.
    /// Queues get a 30 s visibility timeout instead of the template's 90 s, so a
    /// failed message comes back within a test.
    pub async fn spawn() -> Self {
        let config = sdk_config(&moto().endpoint).await;
        let stack = format!("t{}", uuid::Uuid::new_v4().simple());
        let mut model =
            StackModel::read(template(), &stack, REGION).expect("the template resolves");
        for queue in &mut model.queues {
            queue.visibility_timeout = 30;
        }
        let (physical, _) = local_cloud::backend::provision(&model, &config)
            .await
            .expect("provision the test stack");
        model
            .resolve_functions(template(), &physical)
            .expect("the functions resolve");
        let queue = model
            .queues
            .iter()
            .find(|q| q.logical_id == "CommentsQueue")
            .expect("the template has CommentsQueue");
        assert_eq!(
            queue.redrive.as_ref().map(|(_, count)| *count),
            Some(MAX_RECEIVE_COUNT),
            "MAX_RECEIVE_COUNT is the template's maxReceiveCount"
        );
        let queue_url = physical.reference("CommentsQueue").expect("a queue URL");
        let queue_arn = queue.arn.clone();
        let dlq_url = physical.reference("CommentsDlq").expect("a DLQ URL");
        let table = physical.reference("CommentsTable").expect("a table name");
        let dynamodb = aws_sdk_dynamodb::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        Self {
            store: DynamoCommentStore::new(dynamodb.clone(), table.clone()),
            queue: SqsCommentQueue::new(sqs.clone(), queue_url.clone()),
            source: SqsSourceQueue::new(sqs.clone(), queue_url.clone(), dlq_url.clone()),
            dynamodb,
            sqs,
            table,
            queue_url,
            queue_arn,
            dlq_url,
            model,
        }
    }

    /// What the template says of `function` (by its crate name), for this stack.
    pub fn function(&self, function: &str) -> &FunctionSpec {
        self.model
            .function(function)
            .unwrap_or_else(|| panic!("the template hosts no function {function}"))
    }

    /// Starts `function`'s real binary as the local cloud runs it, with the template's
    /// configuration for this stack and `extra` variables.
    pub async fn start_function(&self, function: &str, extra: &[(&str, &str)]) -> FunctionProcess {
        FunctionProcess::start_spec(self.function(function), REGION, &moto().endpoint, extra).await
    }

    /// `POST /comments` through the `add-comments` handler.
    pub async fn post(&self, body: &str, headers: &[(&str, &str)]) -> http::Response<String> {
        let request = api_request(
            "POST",
            "/comments",
            "/comments",
            Some(body),
            headers,
            &[],
            &[],
        );
        add_comments::handle(request, &self.queue, &self.store).await
    }

    /// `POST /comments` with a JSON body and nothing else.
    pub async fn post_json(&self, body: &Value) -> http::Response<String> {
        self.post(&body.to_string(), &[("Content-Type", "application/json")])
            .await
    }

    /// `GET /comments` with the given query through `get-all-comments`.
    pub async fn list(&self, query: &[(&str, &str)]) -> http::Response<String> {
        let request = api_request("GET", "/comments", "/comments", None, &[], query, &[]);
        get_all_comments::handle(request, &self.store).await
    }

    /// `GET /status` (no id) or `GET /status/{id}` through `status`.
    pub async fn status(&self, id: Option<&str>) -> http::Response<String> {
        let request = match id {
            Some(id) => {
                let path = format!("/status/{id}");
                api_request("GET", "/status/{id}", &path, None, &[], &[], &[("id", id)])
            }
            None => api_request("GET", "/status", "/status", None, &[], &[], &[]),
        };
        status::handle(request, &self.status_dependencies(), &self.store).await
    }

    /// What `status` is given at init.
    pub fn status_dependencies(&self) -> status::Dependencies {
        status::Dependencies {
            dynamodb: self.dynamodb.clone(),
            sqs: self.sqs.clone(),
            config: status::Config {
                table_name: self.table.clone(),
                queue_url: self.queue_url.clone(),
                dlq_url: self.dlq_url.clone(),
            },
        }
    }

    /// Sends a raw message body to `queue_url`, as something other than
    /// `add-comments` might (a poison message, a message for the DLQ).
    pub async fn send_raw(&self, queue_url: &str, body: &str) {
        self.sqs
            .send_message()
            .queue_url(queue_url)
            .message_body(body)
            .send()
            .await
            .expect("send a raw message");
    }

    /// Deletes the test's table, as an outage of the table would look to the code.
    pub async fn drop_table(&self) {
        self.dynamodb
            .delete_table()
            .table_name(&self.table)
            .send()
            .await
            .expect("delete the table");
    }

    /// Stores a comment with `text` directly through the store adapter, skipping the
    /// queue; returns it.
    pub async fn store_comment(&self, text: &str) -> feedback::Comment {
        let comment = feedback::NewComment {
            author: None,
            text: feedback::CommentText::parse(text).expect("valid text"),
            rating: None,
        }
        .accept(ops_kit::CorrelationId::generate());
        self.store.insert(&comment).await.expect("store a comment");
        comment
    }

    /// Receives up to 10 messages, with a visibility timeout of `visibility_secs`, as
    /// the event source mapping's event.
    pub async fn receive(&self, visibility_secs: i32) -> SqsEvent {
        let output = self
            .sqs
            .receive_message()
            .queue_url(&self.queue_url)
            .max_number_of_messages(10)
            .visibility_timeout(visibility_secs)
            .message_system_attribute_names(MessageSystemAttributeName::All)
            .message_attribute_names("All")
            .send()
            .await
            .expect("receive from the comments queue");
        local_cloud::sqs::event(
            &output.messages.unwrap_or_default(),
            &self.queue_arn,
            REGION,
        )
    }

    /// Delivers a batch to `push-to-db` in process and settles it as the event source
    /// mapping does with `ReportBatchItemFailures`.
    pub async fn deliver(&self, event: SqsEvent) -> SqsBatchResponse {
        self.deliver_with(event, &self.store, &self.source).await
    }

    /// [`TestApp::deliver`], with another store or queue adapter (one that fails).
    pub async fn deliver_with(
        &self,
        event: SqsEvent,
        store: &impl CommentStore,
        source: &impl SourceQueue,
    ) -> SqsBatchResponse {
        let records = event.records.clone();
        let response = push_to_db::handle(
            lambda_runtime::LambdaEvent::new(event, lambda_context()),
            store,
            source,
        )
        .await;
        self.settle(
            &records,
            &serde_json::to_value(&response).expect("a batch response"),
        )
        .await;
        response
    }

    /// Delivers a batch to a running `push-to-db` process (through its Runtime API)
    /// and settles it; returns its answer.
    ///
    /// # Panics
    /// When the function answers with an invocation error.
    pub async fn deliver_via(&self, process: &FunctionProcess, event: SqsEvent) -> Value {
        let (_, answer) = process
            .invoke(serde_json::to_value(&event).expect("an SQS event"))
            .await;
        let Answer::Response(response) = answer else {
            panic!("push-to-db failed the invocation: {answer:?}");
        };
        self.settle(&event.records, &response).await;
        response
    }

    /// Deletes the records the response does not report as failed, by the event source
    /// mapping's own rules; the failed ones stay for redelivery.
    async fn settle(&self, records: &[SqsMessage], response: &Value) {
        let ids: Vec<String> = records
            .iter()
            .filter_map(|r| r.message_id.clone())
            .collect();
        let failed = local_cloud::sqs::failures(response, &ids, true);
        let done: Vec<&str> = records
            .iter()
            .filter(|r| r.message_id.as_ref().is_some_and(|id| !failed.contains(id)))
            .filter_map(|r| r.receipt_handle.as_deref())
            .collect();
        local_cloud::sqs::delete(&self.sqs, &self.queue_url, &done)
            .await
            .expect("delete the processed messages");
    }

    /// Receives and delivers until the queue has nothing visible; returns the batches'
    /// responses.
    pub async fn drain(&self) -> Vec<SqsBatchResponse> {
        let mut responses = Vec::new();
        loop {
            let event = self.receive(30).await;
            if event.records.is_empty() {
                return responses;
            }
            responses.push(self.deliver(event).await);
        }
    }

    /// Every comment item in the table (by `Scan`: fine in a test, never in a handler).
    pub async fn stored_comments(
        &self,
    ) -> Vec<HashMap<String, aws_sdk_dynamodb::types::AttributeValue>> {
        let mut items = Vec::new();
        let mut start = None;
        loop {
            let output = self
                .dynamodb
                .scan()
                .table_name(&self.table)
                .filter_expression("begins_with(pk, :comment)")
                .expression_attribute_values(
                    ":comment",
                    aws_sdk_dynamodb::types::AttributeValue::S("COMMENT#".into()),
                )
                .set_exclusive_start_key(start)
                .send()
                .await
                .expect("scan the table");
            items.extend(output.items.unwrap_or_default());
            start = output.last_evaluated_key;
            if start.is_none() {
                return items;
            }
        }
    }

    /// The approximate number of visible plus in-flight messages on a queue.
    pub async fn depth(&self, queue_url: &str) -> u64 {
        let (visible, hidden) = self.visible_and_hidden(queue_url).await;
        visible + hidden
    }

    /// The approximate numbers of visible and of in-flight (hidden) messages on a queue.
    pub async fn visible_and_hidden(&self, queue_url: &str) -> (u64, u64) {
        let attributes = self
            .sqs
            .get_queue_attributes()
            .queue_url(queue_url)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessages)
            .attribute_names(QueueAttributeName::ApproximateNumberOfMessagesNotVisible)
            .send()
            .await
            .expect("read queue attributes")
            .attributes
            .unwrap_or_default();
        let number = |name| {
            attributes
                .get(&name)
                .and_then(|n| n.parse::<u64>().ok())
                .unwrap_or_default()
        };
        (
            number(QueueAttributeName::ApproximateNumberOfMessages),
            number(QueueAttributeName::ApproximateNumberOfMessagesNotVisible),
        )
    }

    /// Every message in the dead-letter queue, with its attributes (received with a
    /// visibility timeout of 30 s, so each is returned once).
    pub async fn dead_letters(&self) -> Vec<aws_sdk_sqs::types::Message> {
        let mut messages = Vec::new();
        loop {
            let output = self
                .sqs
                .receive_message()
                .queue_url(&self.dlq_url)
                .max_number_of_messages(10)
                .visibility_timeout(30)
                .message_system_attribute_names(MessageSystemAttributeName::All)
                .message_attribute_names("All")
                .send()
                .await
                .expect("receive from the dead-letter queue");
            let batch = output.messages.unwrap_or_default();
            if batch.is_empty() {
                return messages;
            }
            messages.extend(batch);
        }
    }
}

/// The string value of a message's attribute `name`.
pub fn attribute<'m>(message: &'m aws_sdk_sqs::types::Message, name: &str) -> Option<&'m str> {
    message
        .message_attributes()
        .and_then(|attributes| attributes.get(name))
        .and_then(|value| value.string_value())
}

/// The test's store adapter, with an outage that a test switches on and off: while it
/// is down every write fails as a refused request would, and reads go through.
pub struct OutageStore {
    store: DynamoCommentStore,
    down: AtomicBool,
}

impl OutageStore {
    /// The store, up.
    pub fn new(store: DynamoCommentStore) -> Self {
        Self {
            store,
            down: AtomicBool::new(false),
        }
    }

    /// Starts (`true`) or ends (`false`) the outage.
    pub fn set_down(&self, down: bool) {
        self.down.store(down, Ordering::SeqCst);
    }
}

impl CommentStore for OutageStore {
    async fn insert(&self, comment: &feedback::Comment) -> Result<Inserted, StoreError> {
        if self.down.load(Ordering::SeqCst) {
            return Err(StoreError::Request(
                "the table is down (a test's outage)".into(),
            ));
        }
        self.store.insert(comment).await
    }

    async fn newest(
        &self,
        limit: PageLimit,
        after: Option<PageCursor>,
    ) -> Result<Page, StoreError> {
        self.store.newest(limit, after).await
    }

    async fn get(&self, id: CommentId) -> Result<Option<StoredComment>, StoreError> {
        self.store.get(id).await
    }
}

/// The message ids a batch response reports as failed.
pub fn failed_ids(response: &SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

/// A Lambda context like the one the runtime gives a function invoked via its alias.
pub fn lambda_context() -> lambda_runtime::Context {
    let mut context = lambda_runtime::Context::default();
    context.request_id = uuid::Uuid::new_v4().to_string();
    context.invoked_function_arn =
        "arn:aws:lambda:eu-west-1:123456789012:function:online-feedback-test:live".into();
    context
}

/// An API Gateway REST (v1) proxy request, built from the same JSON the service
/// sends, on stage `dev`, with a Lambda context.
pub fn api_request(
    method: &str,
    resource: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
    query: &[(&str, &str)],
    path_parameters: &[(&str, &str)],
) -> Request {
    from_event(&api_event(
        method,
        resource,
        path,
        body,
        headers,
        query,
        path_parameters,
    ))
}

/// An API Gateway REST (v1) event as JSON, for tests that alter it before use: the
/// event the local cloud's API Gateway builds for the same request, on stage `dev`.
///
/// # Panics
/// When a header is not a valid HTTP header.
pub fn api_event(
    method: &str,
    resource: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
    query: &[(&str, &str)],
    path_parameters: &[(&str, &str)],
) -> Value {
    let mut header_map = http::HeaderMap::new();
    for (name, value) in headers {
        header_map.append(
            http::HeaderName::from_bytes(name.as_bytes()).expect("a header name"),
            http::HeaderValue::from_str(value).expect("a header value"),
        );
    }
    // The query travels in the URI, encoded, as a client sends it; the gateway decodes it.
    let encoded: Vec<String> = query
        .iter()
        .map(|(name, value)| format!("{}={}", percent_encode(name), percent_encode(value)))
        .collect();
    let uri: http::Uri = format!("/dev{}?{}", path_for_uri(path), encoded.join("&"))
        .parse()
        .expect("a request URI");
    let method: http::Method = method.parse().expect("an HTTP method");
    let event = local_cloud::apigateway::proxy_event(&local_cloud::apigateway::ProxyRequest {
        method: &method,
        uri: &uri,
        path,
        headers: &header_map,
        body: body.unwrap_or_default().as_bytes(),
        resource,
        path_parameters: path_parameters
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        stage: "dev",
        request_id: &uuid::Uuid::new_v4().to_string(),
        client: std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        trace_root: &ops_wire::trace::TraceId::generate().to_string(),
        now_ms: local_cloud::clock::now_ms(),
    });
    serde_json::to_value(event).expect("a proxy event")
}

/// Every byte but unreserved ones as `%XX`.
fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                char::from(b).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// A path as it can stand in a URI (only the query is read from it).
fn path_for_uri(path: &str) -> String {
    path.split('/')
        .map(percent_encode)
        .collect::<Vec<_>>()
        .join("/")
}

/// A request from an event's JSON, with a Lambda context.
pub fn from_event(event: &Value) -> Request {
    lambda_http::request::from_str(&event.to_string())
        .expect("a valid API Gateway event")
        .with_lambda_context(lambda_context())
}

/// The response body as JSON.
pub fn json_body(response: &http::Response<String>) -> Value {
    serde_json::from_str(response.body()).unwrap_or_else(|e| {
        panic!("the body is not JSON ({e}): {}", response.body());
    })
}
