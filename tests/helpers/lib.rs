//! The integration-test harness: the real handlers, the real AWS SDK, a real moto
//! server.
//!
//! - [`moto`] starts one moto server per test binary, on a free loopback port, the
//!   first time a test asks for it. A watchdog stops it when the test process ends.
//!   Set `MOTO_ENDPOINT` to use a server that is already running instead.
//! - [`TestApp::spawn`] creates a fresh table, queue and dead-letter queue with unique
//!   names, so tests run in parallel against one server without seeing each other.
//! - [`TestApp`]'s methods drive the handlers the way API Gateway and the SQS event
//!   source mapping would.
//!
//! - [`FunctionProcess`] runs a function's real binary against a [`RuntimeApi`], as
//!   Lambda runs it.
//!
//! If moto cannot be started the test fails with what to do; it is never skipped.

// A harness that cannot set up must stop the test loudly, with the reason.
#![allow(clippy::expect_used, clippy::missing_panics_doc)]

mod function_process;
mod runtime_api;
mod xray_daemon;

pub use function_process::{
    FUNCTIONS, FunctionProcess, build_binaries, function_binaries, invoked_arn,
};
pub use runtime_api::{Answer, RuntimeApi};
pub use xray_daemon::{Datagram, XrayDaemon};

use std::collections::HashMap;
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent, SqsMessage, SqsMessageAttribute};
use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection,
    ProjectionType, ScalarAttributeType,
};
use aws_sdk_sqs::types::{MessageSystemAttributeName, QueueAttributeName};
use feedback::{CommentStore as _, DynamoCommentStore, SqsCommentQueue};
use lambda_http::{Request, RequestExt as _};
use serde_json::{Value, json};

/// The moto version `make test` installs; the harness says so when it is missing.
pub const MOTO_VERSION: &str = "5.2.5";

/// A running moto server.
pub struct Moto {
    /// `http://127.0.0.1:PORT`.
    pub endpoint: String,
    _watchdog: Option<Child>,
}

/// The moto server for this test binary, started on first use.
///
/// # Panics
/// When moto is not installed or does not start: the message says what to run.
pub fn moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(start_moto)
}

fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// Runs moto and stops it when the process that started the watchdog ($3) is gone,
/// however that process ends: a panic, a kill, or the test harness exiting.
const WATCHDOG: &str = r#"
"$1" -H 127.0.0.1 -p "$2" >"$4" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null' EXIT INT TERM
while kill -0 "$3" 2>/dev/null && kill -0 "$server" 2>/dev/null; do sleep 1; done
"#;

fn start_moto() -> Moto {
    if let Ok(endpoint) = std::env::var("MOTO_ENDPOINT") {
        return Moto {
            endpoint,
            _watchdog: None,
        };
    }
    let server = std::env::var_os("MOTO_SERVER").map_or_else(
        || workspace_root().join(".venv/bin/moto_server"),
        PathBuf::from,
    );
    assert!(
        server.exists(),
        "moto_server not found at {}. Run `make test`, which installs moto {MOTO_VERSION} into \
         .venv, or set MOTO_SERVER to a moto_server binary (or MOTO_ENDPOINT to a running server).",
        server.display()
    );
    let port = free_port();
    let log = std::env::temp_dir().join(format!("online-feedback-moto-{port}.log"));
    let watchdog = Command::new("sh")
        .arg("-c")
        .arg(WATCHDOG)
        .arg("moto-watchdog")
        .arg(&server)
        .arg(port.to_string())
        .arg(std::process::id().to_string())
        .arg(&log)
        .stdin(Stdio::null())
        .spawn()
        .expect("sh must be available to start moto");
    let address = SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_err() {
        assert!(
            Instant::now() < deadline,
            "moto did not start on port {port} within 60 s; its output is in {}",
            log.display()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    Moto {
        endpoint: format!("http://{address}"),
        _watchdog: Some(watchdog),
    }
}

/// A port that was free a moment ago.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("the loopback interface must be available")
}

/// An SDK configuration for moto: fixed test credentials, one region.
pub async fn sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new("eu-west-1"))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "testing", "testing", None, None, "moto",
        ))
        .load()
        .await
}

/// One test's own table, queue and dead-letter queue, with the adapters and clients.
pub struct TestApp {
    /// DynamoDB, for assertions on the table.
    pub dynamodb: aws_sdk_dynamodb::Client,
    /// SQS, for assertions on the queues.
    pub sqs: aws_sdk_sqs::Client,
    /// The table's name.
    pub table: String,
    /// The comments queue.
    pub queue_url: String,
    /// Its dead-letter queue.
    pub dlq_url: String,
    /// The store adapter on the table.
    pub store: DynamoCommentStore,
    /// The queue adapter on the queue.
    pub queue: SqsCommentQueue,
}

/// How many receives move a message to the dead-letter queue (the template's value).
pub const MAX_RECEIVE_COUNT: u32 = 3;

impl TestApp {
    /// Creates the resources on the shared moto server.
    pub async fn spawn() -> Self {
        let config = sdk_config(&moto().endpoint).await;
        let dynamodb = aws_sdk_dynamodb::Client::new(&config);
        let sqs = aws_sdk_sqs::Client::new(&config);
        let suffix = uuid::Uuid::new_v4().simple().to_string();
        let table = format!("comments-{suffix}");
        create_table(&dynamodb, &table).await;

        let dlq_url = sqs
            .create_queue()
            .queue_name(format!("comments-dlq-{suffix}"))
            .send()
            .await
            .expect("create the dead-letter queue")
            .queue_url
            .expect("a queue URL");
        let dlq_arn = sqs
            .get_queue_attributes()
            .queue_url(&dlq_url)
            .attribute_names(QueueAttributeName::QueueArn)
            .send()
            .await
            .expect("read the dead-letter queue's ARN")
            .attributes
            .and_then(|a| a.get(&QueueAttributeName::QueueArn).cloned())
            .expect("a queue ARN");
        let redrive = json!({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": MAX_RECEIVE_COUNT});
        let queue_url = sqs
            .create_queue()
            .queue_name(format!("comments-queue-{suffix}"))
            .attributes(QueueAttributeName::RedrivePolicy, redrive.to_string())
            .attributes(QueueAttributeName::VisibilityTimeout, "30")
            .send()
            .await
            .expect("create the comments queue")
            .queue_url
            .expect("a queue URL");

        Self {
            store: DynamoCommentStore::new(dynamodb.clone(), table.clone()),
            queue: SqsCommentQueue::new(sqs.clone(), queue_url.clone()),
            dynamodb,
            sqs,
            table,
            queue_url,
            dlq_url,
        }
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

    /// The environment the template gives `function`, for this test's resources.
    pub fn function_env(&self) -> Vec<(&'static str, String)> {
        vec![
            ("TABLE_NAME", self.table.clone()),
            ("QUEUE_URL", self.queue_url.clone()),
            ("DLQ_URL", self.dlq_url.clone()),
            ("METRICS_NAMESPACE", "OnlineFeedback".to_owned()),
        ]
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

    /// Receives up to 10 messages as the event source mapping would, with a
    /// visibility timeout of `visibility_secs`.
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
        let mut event = SqsEvent::default();
        event.records = output
            .messages
            .unwrap_or_default()
            .into_iter()
            .map(to_record)
            .collect();
        event
    }

    /// Delivers a batch to `push-to-db` and deletes what it did not report as failed,
    /// as the event source mapping does with `ReportBatchItemFailures`.
    pub async fn deliver(&self, event: SqsEvent) -> SqsBatchResponse {
        let records = event.records.clone();
        let response = push_to_db::handle(
            lambda_runtime::LambdaEvent::new(event, lambda_context()),
            &self.store,
        )
        .await;
        self.settle(records, &failed_ids(&response)).await;
        response
    }

    /// Delivers a batch to a running `push-to-db` process (through its Runtime API)
    /// and deletes what it did not report as failed; returns its answer.
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
        let failed: Vec<&str> = response["batchItemFailures"]
            .as_array()
            .map(|failures| {
                failures
                    .iter()
                    .filter_map(|f| f["itemIdentifier"].as_str())
                    .collect()
            })
            .unwrap_or_default();
        self.settle(event.records, &failed).await;
        response
    }

    /// Deletes the records not reported as failed, as the event source mapping does;
    /// the failed ones stay for redelivery.
    async fn settle(&self, records: Vec<SqsMessage>, failed: &[&str]) {
        for record in records {
            if !failed.contains(&record.message_id.as_deref().unwrap_or_default()) {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(record.receipt_handle.unwrap_or_default())
                    .send()
                    .await
                    .expect("delete a processed message");
            }
        }
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
        [
            QueueAttributeName::ApproximateNumberOfMessages,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
        ]
        .iter()
        .filter_map(|name| attributes.get(name)?.parse::<u64>().ok())
        .sum()
    }
}

async fn create_table(client: &aws_sdk_dynamodb::Client, table: &str) {
    let attribute = |name: &str| {
        AttributeDefinition::builder()
            .attribute_name(name)
            .attribute_type(ScalarAttributeType::S)
            .build()
            .expect("attribute definition")
    };
    let key = |name: &str, key_type| {
        KeySchemaElement::builder()
            .attribute_name(name)
            .key_type(key_type)
            .build()
            .expect("key")
    };
    client
        .create_table()
        .table_name(table)
        .billing_mode(BillingMode::PayPerRequest)
        .attribute_definitions(attribute("pk"))
        .attribute_definitions(attribute("feed"))
        .attribute_definitions(attribute("id"))
        .key_schema(key("pk", KeyType::Hash))
        .global_secondary_indexes(
            GlobalSecondaryIndex::builder()
                .index_name(feedback::FEED_INDEX)
                .key_schema(key("feed", KeyType::Hash))
                .key_schema(key("id", KeyType::Range))
                .projection(
                    Projection::builder()
                        .projection_type(ProjectionType::All)
                        .build(),
                )
                .build()
                .expect("index"),
        )
        .send()
        .await
        .expect("create the comments table");
}

/// The message ids a batch response reports as failed.
pub fn failed_ids(response: &SqsBatchResponse) -> Vec<&str> {
    response
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect()
}

/// An SDK message as the Lambda SQS event carries it.
fn to_record(message: aws_sdk_sqs::types::Message) -> SqsMessage {
    let mut record = SqsMessage::default();
    record.message_id = message.message_id;
    record.receipt_handle = message.receipt_handle;
    record.body = message.body;
    record.attributes = message
        .attributes
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| (name.as_str().to_owned(), value))
        .collect();
    record.message_attributes = message
        .message_attributes
        .unwrap_or_default()
        .into_iter()
        .map(|(name, value)| {
            let mut attribute = SqsMessageAttribute::default();
            attribute.string_value = value.string_value;
            attribute.data_type = Some(value.data_type);
            (name, attribute)
        })
        .collect();
    record
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

/// An API Gateway REST (v1) event as JSON, for tests that alter it before use.
pub fn api_event(
    method: &str,
    resource: &str,
    path: &str,
    body: Option<&str>,
    headers: &[(&str, &str)],
    query: &[(&str, &str)],
    path_parameters: &[(&str, &str)],
) -> Value {
    let multi_headers = multi_value(headers);
    let multi_query = multi_value(query);
    let path_parameters: serde_json::Map<String, Value> = path_parameters
        .iter()
        .map(|(k, v)| ((*k).to_owned(), json!(v)))
        .collect();
    json!({
        "resource": resource,
        "path": path,
        "httpMethod": method,
        "headers": {},
        "multiValueHeaders": multi_headers,
        "queryStringParameters": {},
        "multiValueQueryStringParameters": multi_query,
        "pathParameters": if path_parameters.is_empty() { Value::Null } else { Value::Object(path_parameters) },
        "requestContext": {
            "accountId": "123456789012",
            "stage": "dev",
            "requestId": uuid::Uuid::new_v4().to_string(),
            "path": format!("/dev{path}"),
            "resourcePath": resource,
            "httpMethod": method,
            "identity": {"sourceIp": "127.0.0.1"},
        },
        "body": body,
        "isBase64Encoded": false,
    })
}

/// Name-value pairs as API Gateway's multi-value maps: `{"name": ["v1", "v2"]}`.
fn multi_value(pairs: &[(&str, &str)]) -> serde_json::Map<String, Value> {
    let mut map = serde_json::Map::new();
    for (name, value) in pairs {
        if let Some(values) = map
            .entry((*name).to_owned())
            .or_insert_with(|| json!([]))
            .as_array_mut()
        {
            values.push(json!(value));
        }
    }
    map
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
