//! The ops kit's examples (`shared/ops-kit/examples/`), one per event source plus the
//! README's snippet, run as Lambda runs them: each binary on the local cloud's Runtime
//! API with a sample event from `shared/ops-kit/tests/events/`, its logs, EMF lines and
//! X-Ray subsegments checked. [`check_example`] is also what the copy test
//! (`ops_kit_copy.rs`) runs on the binaries a copy of the kit builds.

use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use feedback_tests::{Answer, FunctionProcess, XrayDaemon, build_binaries, moto};

use crate::telemetry::assert_subsegment_rules;
use ops_kit::CorrelationId;
use ops_wire::emf::EmfDocument;
use ops_wire::log_fields::{CORRELATION_ID, LAMBDA_REQUEST_ID, LEADING, XRAY_TRACE_ID};
use serde_json::{Value, json};

/// The namespace the examples' metrics go to.
const NAMESPACE: &str = "OpsKitExamples";

/// The heading the README's snippet is under.
const README_HEADING: &str = "### Adding the ops kit to another function";

/// Where the example keeps the README's snippet, byte for byte.
const SNIPPET: &str = "shared/ops-kit/examples/readme/snippet.rs";

pub(crate) fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The code block under [`README_HEADING`] in `README.md`, as a reader copies it.
pub(crate) fn readme_snippet() -> String {
    readme_block("```rust")
}

/// The first block opened by `fence` (```` ```rust ````, ```` ```toml ````) under
/// [`README_HEADING`] in `README.md`.
pub(crate) fn readme_block(fence: &str) -> String {
    let readme = std::fs::read_to_string(workspace_root().join("README.md")).unwrap();
    let mut lines = readme
        .lines()
        .skip_while(|line| *line != README_HEADING)
        .skip_while(|line| *line != fence);
    assert!(
        lines.next().is_some(),
        "README.md has no {fence} block under {README_HEADING:?}"
    );
    let mut block = String::new();
    for line in lines.by_ref() {
        if line == "```" {
            return block;
        }
        block.push_str(line);
        block.push('\n');
    }
    panic!("the {fence} block under {README_HEADING:?} in README.md is never closed")
}

#[test]
fn the_readme_example_is_the_readme_snippet_byte_for_byte() {
    let readme = readme_snippet();
    let example = std::fs::read_to_string(workspace_root().join(SNIPPET)).unwrap();
    if readme == example {
        return;
    }
    let (readme_lines, example_lines): (Vec<&str>, Vec<&str>) =
        (readme.lines().collect(), example.lines().collect());
    let mut diff = String::new();
    for line in 0..readme_lines.len().max(example_lines.len()) {
        let (old, new) = (readme_lines.get(line), example_lines.get(line));
        if old != new {
            let number = line + 1;
            if let Some(old) = old {
                writeln!(diff, "-{number:>3} README.md  | {old}").unwrap();
            }
            if let Some(new) = new {
                writeln!(diff, "+{number:>3} snippet.rs | {new}").unwrap();
            }
        }
    }
    if diff.is_empty() {
        diff.push_str("(the lines match: the difference is in line endings or the last newline)\n");
    }
    panic!(
        "README.md's snippet under {README_HEADING:?} and {SNIPPET} differ:\n{diff}\
         Update the one you did not mean to change, so the code readers copy is the code \
         that compiles: copy the README's ```rust block into {SNIPPET}, or the file into \
         the block."
    );
}

// ---------------------------------------------------------------------------------
// The examples and the events they are invoked with.

/// An event source, its sample event, where it carries the caller's correlation id,
/// and what the example answers.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Source {
    ApiGatewayRest,
    HttpApi,
    FunctionUrl,
    Alb,
    Sqs,
    Sns,
    EventBridge,
    /// Any JSON, with no caller's id: the README's function generates one.
    Direct,
}

impl Source {
    fn sample(self) -> Value {
        let file = match self {
            Self::ApiGatewayRest => "apigw-rest.json",
            Self::HttpApi => "apigw-http-v2.json",
            Self::FunctionUrl => "function-url.json",
            Self::Alb => "alb.json",
            Self::Sqs => "sqs.json",
            Self::Sns => "sns.json",
            Self::EventBridge => "eventbridge.json",
            Self::Direct => return json!({ "item": "tea", "quantity": 2 }),
        };
        let path = workspace_root()
            .join("shared/ops-kit/tests/events")
            .join(file);
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap()
    }

    /// The sample with a caller's id of this run, so what the example reports can
    /// only have come from this event. `None` for [`Source::Direct`].
    fn event(self) -> (Value, Option<String>) {
        let mut event = self.sample();
        if matches!(self, Self::Direct) {
            return (event, None);
        }
        let id = format!(
            "caller-{}",
            &uuid::Uuid::new_v4().simple().to_string()[..12]
        );
        let slot = match self {
            Self::Sqs => {
                &mut event["Records"][0]["messageAttributes"]["correlation_id"]["stringValue"]
            }
            Self::Sns => {
                &mut event["Records"][0]["Sns"]["MessageAttributes"]["correlation_id"]["Value"]
            }
            Self::EventBridge => &mut event["detail"]["correlation_id"],
            _ => {
                set_header(&mut event, "x-correlation-id", &id);
                return (event, Some(id));
            }
        };
        assert!(
            slot.is_string(),
            "{self:?}: the sample carries a caller's id"
        );
        *slot = Value::from(id.as_str());
        (event, Some(id))
    }

    /// Checks the example's answer to an event of this source.
    fn check_answer(self, event: &Value, answer: &Value, correlation_id: &str) {
        match self {
            Self::ApiGatewayRest | Self::HttpApi | Self::FunctionUrl | Self::Alb => {
                assert_eq!(answer["statusCode"], 202, "{self:?}: {answer}");
                assert_eq!(
                    header(answer, "x-correlation-id"),
                    Some(correlation_id),
                    "{self:?}: the id goes back to the caller: {answer}"
                );
            }
            Self::Sqs => assert_eq!(answer["batchItemFailures"], json!([]), "{answer}"),
            Self::Sns | Self::EventBridge => assert_eq!(*answer, Value::Null, "{self:?}"),
            Self::Direct => assert_eq!(answer, event, "the README's function echoes"),
        }
    }
}

/// Replaces header `name` in every header map of an HTTP payload; fails if the sample
/// has none to replace.
fn set_header(event: &mut Value, name: &str, value: &str) {
    let mut replaced = false;
    for (map, multi) in [("headers", false), ("multiValueHeaders", true)] {
        let Some(headers) = event.get_mut(map).and_then(Value::as_object_mut) else {
            continue;
        };
        for (key, slot) in headers.iter_mut() {
            if key.eq_ignore_ascii_case(name) {
                *slot = if multi { json!([value]) } else { json!(value) };
                replaced = true;
            }
        }
    }
    assert!(replaced, "the sample carries a {name} header: {event}");
}

/// A response header, from `headers` or `multiValueHeaders` (each payload version
/// answers in its own).
fn header<'a>(answer: &'a Value, name: &str) -> Option<&'a str> {
    answer["headers"][name]
        .as_str()
        .or_else(|| answer["multiValueHeaders"][name][0].as_str())
}

/// What one example must show for every invocation.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Example {
    /// The example's (and the binary's) name.
    pub(crate) name: &'static str,
    /// The name it passes to `ops_kit::init`: the `service` of its lines.
    service: &'static str,
    /// Its own metric, counted once per event.
    metric: &'static str,
    /// The `key_activity` of its log line.
    key_activity: &'static str,
    /// Whether the key activity is a subsegment, with the AWS call inside it.
    activity_subsegment: bool,
    /// The events it is invoked with, in one process.
    sources: &'static [Source],
}

pub(crate) const README: Example = Example {
    name: "readme",
    service: "orders",
    metric: "OrdersPlaced",
    key_activity: "place-order",
    activity_subsegment: false,
    sources: &[Source::Direct],
};

pub(crate) const EXAMPLES: [Example; 5] = [
    README,
    Example {
        name: "http",
        service: "orders-http",
        metric: "OrdersReceived",
        key_activity: "receive-order",
        activity_subsegment: true,
        sources: &[
            Source::ApiGatewayRest,
            Source::HttpApi,
            Source::FunctionUrl,
            Source::Alb,
        ],
    },
    Example {
        name: "sqs",
        service: "orders-sqs",
        metric: "StockReserved",
        key_activity: "reserve-stock",
        activity_subsegment: true,
        sources: &[Source::Sqs],
    },
    Example {
        name: "sns",
        service: "orders-sns",
        metric: "WarehouseNotified",
        key_activity: "notify-warehouse",
        activity_subsegment: true,
        sources: &[Source::Sns],
    },
    Example {
        name: "eventbridge",
        service: "orders-eventbridge",
        metric: "ShippingScheduled",
        key_activity: "schedule-shipping",
        activity_subsegment: true,
        sources: &[Source::EventBridge],
    },
];

// ---------------------------------------------------------------------------------
// The checks, shared with the copy test.

/// Runs `binary` as `example` on the Runtime API, against moto and an X-Ray daemon,
/// invokes it with each of its events and checks what it answers, logs, counts and
/// traces.
pub(crate) async fn check_example(binary: &Path, example: &Example) {
    let daemon = XrayDaemon::start().await;
    let address = daemon.address();
    let process = FunctionProcess::start_binary(
        binary,
        example.service,
        &moto().endpoint,
        &[
            ("METRICS_NAMESPACE", NAMESPACE),
            ("AWS_XRAY_DAEMON_ADDRESS", &address),
        ],
    )
    .await;
    for source in example.sources {
        let (event, caller_id) = source.event();
        let (request_id, answer) = process.invoke(event.clone()).await;
        let Answer::Response(answer) = answer else {
            panic!(
                "{} / {source:?}: an invocation error: {answer:?}",
                example.name
            )
        };
        let invocation = Invocation {
            process: &process,
            example,
            request_id: &request_id,
        };
        let (correlation_id, trace_id) = invocation.check_log_line(caller_id.as_deref()).await;
        source.check_answer(&event, &answer, &correlation_id);
        invocation.check_metrics(&correlation_id, &trace_id).await;
        let documents = daemon.collect(Duration::from_millis(500)).await;
        invocation.check_subsegments(&documents, &correlation_id, &trace_id);
    }
}

/// One invocation of an example, to check.
struct Invocation<'a> {
    process: &'a FunctionProcess,
    example: &'a Example,
    request_id: &'a str,
}

impl Invocation<'_> {
    /// The example's key-activity line: the talk's leading fields, each set, and the
    /// caller's correlation id (or, without one, a fresh id). Returns the line's
    /// correlation id and trace id.
    async fn check_log_line(&self, caller_id: Option<&str>) -> (String, String) {
        let line = self
            .process
            .wait_for_log(|line| {
                line[LAMBDA_REQUEST_ID] == self.request_id
                    && line["key_activity"] == self.example.key_activity
            })
            .await;
        let object = line.as_object().unwrap();
        for field in LEADING {
            assert!(
                object.get(field).is_some_and(|value| !value.is_null()),
                "{}: {field} is set: {line}",
                self.example.name
            );
        }
        assert_eq!(line["level"], "INFO", "{line}");
        assert_eq!(line["service"], self.example.service, "{line}");
        assert_eq!(line["lambda_function_arn"], self.process.invoked_arn());
        assert_eq!(line["function_version"], "1", "{line}");
        assert!(line["cold_start"].is_boolean(), "{line}");
        assert!(line["message"].as_str().is_some_and(|m| !m.is_empty()));
        let timestamp = line["timestamp"].as_str().unwrap();
        time::OffsetDateTime::parse(timestamp, &time::format_description::well_known::Rfc3339)
            .unwrap_or_else(|error| panic!("{timestamp}: {error}"));

        let correlation_id = line[CORRELATION_ID].as_str().unwrap().to_owned();
        if let Some(caller_id) = caller_id {
            assert_eq!(
                correlation_id, caller_id,
                "{}: the caller's id is on the line",
                self.example.name
            );
        } else {
            // The README's function generates its id.
            CorrelationId::parse(&correlation_id).unwrap();
            assert!(
                uuid::Uuid::parse_str(&correlation_id).is_ok_and(|id| id.get_version_num() == 4),
                "a generated id: {correlation_id}"
            );
        }
        let trace_id = line[XRAY_TRACE_ID].as_str().unwrap().to_owned();
        assert!(ops_kit::xray::is_trace_id(&trace_id), "{line}");
        (correlation_id, trace_id)
    }

    /// The invocation's EMF lines: valid EMF, the example's metric counted once with
    /// the kit's dimensions, and the correlation and trace ids as properties.
    async fn check_metrics(&self, correlation_id: &str, trace_id: &str) {
        let deadline = Instant::now() + Duration::from_secs(5);
        let lines = loop {
            let lines: Vec<Value> = self
                .process
                .emf_lines()
                .into_iter()
                .filter(|line| line[LAMBDA_REQUEST_ID] == self.request_id)
                .collect();
            if lines
                .iter()
                .any(|line| line.get(self.example.metric).is_some())
            {
                break lines;
            }
            assert!(
                Instant::now() < deadline,
                "{}: no EMF line with {} for {} in:\n{}",
                self.example.name,
                self.example.metric,
                self.request_id,
                self.process.stdout().join("\n")
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let mut points = Vec::new();
        for line in &lines {
            let document = EmfDocument::parse(line)
                .unwrap_or_else(|| panic!("CloudWatch would extract nothing from {line}"));
            assert_eq!(document.correlation_ids(), [correlation_id], "{line}");
            assert_eq!(line[XRAY_TRACE_ID], trace_id, "{line}");
            points.extend(document.data_points());
        }
        let own: Vec<_> = points
            .iter()
            .filter(|point| point.name == self.example.metric)
            .collect();
        assert_eq!(own.len(), 1, "one data point: {own:?}");
        assert_eq!(own[0].namespace, NAMESPACE);
        assert_eq!(own[0].values, [1.0]);
        assert_eq!(
            own[0].dimensions,
            BTreeMap::from([
                ("function_version".to_owned(), "1".to_owned()),
                ("service".to_owned(), self.example.service.to_owned()),
            ])
        );
        assert!(
            points.iter().any(|point| point.name == "DependencyLatency"),
            "the DynamoDB call's latency: {points:?}"
        );
    }

    /// What reached the daemon since the last invocation: valid subsegments, all in
    /// this invocation's trace, the DynamoDB call among them (inside the key activity's
    /// subsegment when the example makes one), each annotated with the correlation id.
    fn check_subsegments(&self, documents: &[Value], correlation_id: &str, trace_id: &str) {
        let name = self.example.name;
        feedback_tests::assert_xray_schema(documents);
        for document in documents {
            assert_subsegment_rules(document);
            assert_eq!(document["trace_id"], trace_id, "{name}: {document}");
            assert_eq!(
                document["annotations"][CORRELATION_ID], correlation_id,
                "{name}: {document}"
            );
        }
        let find = |wanted: &dyn Fn(&Value) -> bool, what: &str| {
            let found: Vec<&Value> = documents.iter().filter(|d| wanted(d)).collect();
            assert_eq!(
                found.len(),
                1,
                "{name}: one {what} subsegment in {documents:#?}"
            );
            found[0]
        };
        let call = find(
            &|d| d["namespace"] == "aws" && d["aws"]["operation"] == "ListTables",
            "ListTables",
        );
        assert_eq!(call["name"], "DynamoDB", "{call}");
        assert_eq!(call["http"]["response"]["status"], 200, "{call}");
        assert!(
            call.get("fault").is_none() && call.get("error").is_none(),
            "{call}"
        );
        if self.example.activity_subsegment {
            let activity = find(&|d| d["name"] == self.example.key_activity, "key activity");
            assert_eq!(
                call["parent_id"], activity["id"],
                "the call nests in the activity"
            );
            assert_eq!(documents.len(), 2, "{name}: {documents:#?}");
        } else {
            assert_eq!(documents.len(), 1, "{name}: {documents:#?}");
        }
    }
}

// ---------------------------------------------------------------------------------
// The examples of this checkout.

/// The examples, built once per test run with the cargo that runs the tests.
fn example_binaries() -> &'static HashMap<String, PathBuf> {
    static BINARIES: OnceLock<HashMap<String, PathBuf>> = OnceLock::new();
    // `--workspace`, as the rest of the suite builds: the same feature unification, so
    // the AWS SDK the examples link is not compiled a second time.
    BINARIES.get_or_init(|| build_binaries(&["--workspace", "--examples"]))
}

async fn check(name: &str) {
    let example = EXAMPLES.iter().find(|e| e.name == name).unwrap();
    let binary = example_binaries()
        .get(name)
        .unwrap_or_else(|| panic!("cargo built no example {name}: {:?}", example_binaries()));
    check_example(binary, example).await;
}

#[tokio::test]
async fn the_readme_example_logs_counts_and_traces_under_the_runtime_api() {
    check("readme").await;
}

#[tokio::test]
async fn the_http_example_reads_the_callers_id_from_rest_http_api_function_url_and_alb() {
    check("http").await;
}

#[tokio::test]
async fn the_sqs_example_restores_each_records_id_and_reports_no_failure() {
    check("sqs").await;
}

#[tokio::test]
async fn the_sns_example_reads_the_callers_id_from_the_message_attribute() {
    check("sns").await;
}

#[tokio::test]
async fn the_eventbridge_example_reads_the_callers_id_from_the_detail() {
    check("eventbridge").await;
}

/// `examples/builder.rs`: the builder with the namespace set in code, the kit's log layer
/// in the app's own subscriber, and metrics written by the `MetricsFlush` guard, without
/// the tower layer: exactly one EMF document per invocation, also when the handler
/// returns early with an error.
#[tokio::test]
async fn the_builder_example_flushes_each_invocations_metrics_exactly_once() {
    let process = FunctionProcess::start_binary(
        &example_binaries()["builder"],
        "orders",
        &moto().endpoint,
        &[
            // The prefixed name wins over the older one; the code's namespace over both.
            ("OPS_KIT_SERVICE_NAME", "orders-builder"),
            ("SERVICE_NAME", "not-this-one"),
            ("METRICS_NAMESPACE", "NotThisOne"),
        ],
    )
    .await;
    let caller = format!(
        "caller-{}",
        &uuid::Uuid::new_v4().simple().to_string()[..12]
    );
    let (placed, answer) = process
        .invoke(json!({ "order_id": "o-1", "correlation_id": caller }))
        .await;
    let Answer::Response(answer) = answer else {
        panic!("the order was refused: {answer:?}")
    };
    assert_eq!(answer["correlation_id"], caller.as_str());
    let (rejected, answer) = process.invoke(json!({ "correlation_id": caller })).await;
    assert!(matches!(answer, Answer::Error(_)), "{answer:?}");

    let line = process
        .wait_for_log(|line| line["key_activity"] == "place-order")
        .await;
    assert_eq!(line["service"], "orders-builder", "{line}");
    assert_eq!(line[CORRELATION_ID], caller.as_str(), "{line}");
    for field in LEADING {
        assert!(line.get(field).is_some(), "{field} missing: {line}");
    }

    for (request_id, metric) in [(&placed, "OrdersPlaced"), (&rejected, "OrdersRejected")] {
        let deadline = Instant::now() + Duration::from_secs(5);
        let documents = loop {
            let documents: Vec<Value> = process
                .emf_lines()
                .into_iter()
                .filter(|line| line[LAMBDA_REQUEST_ID] == request_id.as_str())
                .collect();
            if !documents.is_empty() || Instant::now() > deadline {
                break documents;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(
            documents.len(),
            1,
            "one EMF document for {request_id}:\n{}",
            process.stdout().join("\n")
        );
        let document = EmfDocument::parse(&documents[0]).expect("valid EMF");
        assert_eq!(document.correlation_ids(), [caller.as_str()]);
        let points = document.data_points();
        let point = points
            .iter()
            .find(|point| point.name == metric)
            .unwrap_or_else(|| panic!("{metric} in {points:?}"));
        assert_eq!(point.namespace, "Shop", "the namespace set in code");
        assert_eq!(point.dimensions["service"], "orders-builder");
        assert_eq!(point.values, [1.0]);
    }
}
