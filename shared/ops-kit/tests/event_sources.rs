//! The correlation id of every common event source, read from sample events in the
//! shapes AWS documents (`tests/events/`), through the deserialization a function's
//! runtime uses: `lambda_http::request::from_str` for HTTP, serde for records.
//!
//! Each source is checked three ways: with the caller's id (that id), without one (the
//! source's own id), and with a malformed one (the source's own id, the malformed one
//! never echoed).

// Everything in this binary is test code: a failed unwrap is a failed assertion.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;

use lambda_http::RequestExt as _;
use lambda_http::request::RequestContext;
use ops_kit::aws_lambda_events::eventbridge::EventBridgeEvent;
use ops_kit::aws_lambda_events::sns::SnsEvent;
use ops_kit::aws_lambda_events::sqs::SqsEvent;
use ops_kit::{CORRELATION_HEADER, CorrelationId};
use serde_json::{Value, json};

/// The caller's id in every sample event.
const CALLER_ID: &str = "order-7f3a2c";

/// Ids a caller might send that must never be used: a space and a `!`, and too long.
fn malformed_ids() -> [String; 2] {
    ["bad id!".to_owned(), "a".repeat(200)]
}

fn sample(name: &str) -> Value {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/events")
        .join(name);
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// A fresh id is a v4 UUID: never one of the event's ids.
fn assert_fresh(id: &CorrelationId, what: &str) {
    let text = id.as_str();
    assert_eq!(text.len(), 36, "{what}: {text}");
    assert_eq!(&text[14..15], "4", "{what}: {text}");
}

// ---------------------------------------------------------------------------------
// HTTP: API Gateway REST and HTTP APIs, function URLs, ALBs.

/// Sets (`Some`) or removes (`None`) a header in every header map the payload has, as
/// the service would have sent it.
fn with_header(mut event: Value, name: &str, value: Option<&str>) -> Value {
    for (map, multi) in [("headers", false), ("multiValueHeaders", true)] {
        let Some(headers) = event.get_mut(map).and_then(Value::as_object_mut) else {
            continue;
        };
        headers.retain(|key, _| !key.eq_ignore_ascii_case(name));
        if let Some(value) = value {
            let value = if multi { json!([value]) } else { json!(value) };
            headers.insert(name.to_owned(), value);
        }
    }
    event
}

/// The id a function reads from `event`, after checking that the payload was taken for
/// the expected source.
fn http_id(event: &Value, expected: fn(&RequestContext) -> bool) -> CorrelationId {
    let request = lambda_http::request::from_str(&event.to_string()).unwrap();
    let context = request.request_context_ref().expect("a request context");
    assert!(expected(context), "read as another source: {context:?}");
    CorrelationId::from_request(&request)
}

fn check_http_source(file: &str, own_id: &str, expected: fn(&RequestContext) -> bool) {
    let event = sample(file);
    assert_eq!(
        http_id(&event, expected).as_str(),
        CALLER_ID,
        "{file}: the caller's id"
    );

    let without = with_header(event.clone(), CORRELATION_HEADER, None);
    assert_eq!(
        http_id(&without, expected).as_str(),
        own_id,
        "{file}: no header"
    );

    for bad in malformed_ids() {
        let malformed = with_header(event.clone(), CORRELATION_HEADER, Some(&bad));
        assert_eq!(
            http_id(&malformed, expected).as_str(),
            own_id,
            "{file}: header {bad:?}"
        );
    }
}

#[test]
fn api_gateway_rest_api_falls_back_to_its_request_id() {
    check_http_source(
        "apigw-rest.json",
        "5b0a8c3e-2f4d-4a6b-9c1e-7d8f0a2b4c6e",
        |context| matches!(context, RequestContext::ApiGatewayV1(_)),
    );
}

#[test]
fn http_api_falls_back_to_its_request_id_without_the_padding() {
    // The payload says `Yq7Rt2hKIAMEbVw=`; `=` is outside the id alphabet.
    check_http_source("apigw-http-v2.json", "Yq7Rt2hKIAMEbVw", |context| {
        matches!(context, RequestContext::ApiGatewayV2(_))
    });
}

#[test]
fn function_url_falls_back_to_its_request_id() {
    check_http_source(
        "function-url.json",
        "e1c4a7d2-8b3f-4e6a-9d0c-2f5b8e1a4c7d",
        |context| matches!(context, RequestContext::ApiGatewayV2(_)),
    );
}

#[test]
fn alb_falls_back_to_the_root_of_its_trace_header() {
    check_http_source(
        "alb.json",
        "1-6650f1a5-6f4a8b0c2d3e5f7a9b1c3d4e",
        |context| matches!(context, RequestContext::Alb(_)),
    );
}

#[test]
fn alb_reads_the_root_after_the_self_field_it_adds_to_a_traced_request() {
    let event = with_header(sample("alb.json"), CORRELATION_HEADER, None);
    let event = with_header(
        event,
        "X-Amzn-Trace-Id",
        Some(
            "Self=1-6650f1a6-0a1b2c3d4e5f6a7b8c9d0e1f;Root=1-6650f1a5-6f4a8b0c2d3e5f7a9b1c3d4e;Sampled=1",
        ),
    );
    let id = http_id(&event, |context| matches!(context, RequestContext::Alb(_)));
    assert_eq!(id.as_str(), "1-6650f1a5-6f4a8b0c2d3e5f7a9b1c3d4e");
}

#[test]
fn a_request_with_no_usable_id_gets_a_fresh_one() {
    let alb = with_header(sample("alb.json"), CORRELATION_HEADER, None);
    for trace in [None, Some("Root=bad root!"), Some("Sampled=1")] {
        let event = with_header(alb.clone(), "X-Amzn-Trace-Id", trace);
        let id = http_id(&event, |context| matches!(context, RequestContext::Alb(_)));
        assert_fresh(&id, &format!("ALB, trace header {trace:?}"));
    }

    let mut rest = with_header(
        sample("apigw-rest.json"),
        CORRELATION_HEADER,
        Some("bad id!"),
    );
    rest["requestContext"]["requestId"] = json!("bad id!");
    let id = http_id(&rest, |context| {
        matches!(context, RequestContext::ApiGatewayV1(_))
    });
    assert_fresh(&id, "REST API, malformed header and request id");
}

// ---------------------------------------------------------------------------------
// Records: SQS, SNS, EventBridge.

/// Sets (`Some`) or removes (`None`) the id where a record source carries it.
type SetId = fn(&mut Value, Option<&str>);
/// Reads the id as a function would, from the deserialized event.
type ReadId = fn(&Value) -> CorrelationId;

fn check_record_source(file: &str, own_id: &str, set: SetId, read: ReadId) {
    let event = sample(file);
    assert_eq!(read(&event).as_str(), CALLER_ID, "{file}: the caller's id");

    let mut without = event.clone();
    set(&mut without, None);
    assert_eq!(read(&without).as_str(), own_id, "{file}: no id");

    for bad in malformed_ids() {
        let mut malformed = event.clone();
        set(&mut malformed, Some(&bad));
        assert_eq!(read(&malformed).as_str(), own_id, "{file}: id {bad:?}");
    }
}

fn sqs_set(event: &mut Value, id: Option<&str>) {
    let attributes = event["Records"][0]["messageAttributes"]
        .as_object_mut()
        .unwrap();
    match id {
        Some(id) => attributes["correlation_id"]["stringValue"] = json!(id),
        None => {
            attributes.remove("correlation_id");
        }
    }
}

fn sqs_read(event: &Value) -> CorrelationId {
    let event: SqsEvent = serde_json::from_value(event.clone()).unwrap();
    CorrelationId::from_sqs_message(&event.records[0])
}

fn sns_set(event: &mut Value, id: Option<&str>) {
    let attributes = event["Records"][0]["Sns"]["MessageAttributes"]
        .as_object_mut()
        .unwrap();
    match id {
        Some(id) => attributes["correlation_id"]["Value"] = json!(id),
        None => {
            attributes.remove("correlation_id");
        }
    }
}

fn sns_read(event: &Value) -> CorrelationId {
    let event: SnsEvent = serde_json::from_value(event.clone()).unwrap();
    CorrelationId::from_sns_record(&event.records[0])
}

fn eventbridge_set(event: &mut Value, id: Option<&str>) {
    let detail = event["detail"].as_object_mut().unwrap();
    match id {
        Some(id) => {
            detail.insert("correlation_id".to_owned(), json!(id));
        }
        None => {
            detail.remove("correlation_id");
        }
    }
}

fn eventbridge_read(event: &Value) -> CorrelationId {
    let event: EventBridgeEvent = serde_json::from_value(event.clone()).unwrap();
    CorrelationId::from_eventbridge(&event)
}

#[test]
fn sqs_record_falls_back_to_its_message_id() {
    check_record_source(
        "sqs.json",
        "3f8c2a1e-6b4d-4c9a-8e7f-1a2b3c4d5e6f",
        sqs_set,
        sqs_read,
    );
}

#[test]
fn sns_record_falls_back_to_its_message_id() {
    check_record_source(
        "sns.json",
        "a7b3c9d1-4e2f-5a6b-8c0d-1e3f5a7b9c2d",
        sns_set,
        sns_read,
    );
}

#[test]
fn eventbridge_event_falls_back_to_its_id() {
    check_record_source(
        "eventbridge.json",
        "c2e4a6b8-0d1f-3a5c-7e9b-1d3f5a7c9e0b",
        eventbridge_set,
        eventbridge_read,
    );
}

#[test]
fn an_sqs_attribute_of_a_custom_string_type_is_read() {
    let mut event = sample("sqs.json");
    event["Records"][0]["messageAttributes"]["correlation_id"]["dataType"] = json!("String.id");
    assert_eq!(sqs_read(&event).as_str(), CALLER_ID);
}

#[test]
fn an_sns_attribute_that_is_not_a_string_is_ignored() {
    for data_type in ["Binary", "Number", "String.Array"] {
        let mut event = sample("sns.json");
        event["Records"][0]["Sns"]["MessageAttributes"]["correlation_id"]["Type"] =
            json!(data_type);
        assert_eq!(
            sns_read(&event).as_str(),
            "a7b3c9d1-4e2f-5a6b-8c0d-1e3f5a7b9c2d",
            "{data_type}"
        );
    }
}

#[test]
fn an_eventbridge_detail_without_a_string_member_falls_back_to_the_event_id() {
    for detail in [
        json!("order-7f3a2c"),
        json!(["order-7f3a2c"]),
        json!({ "correlation_id": 7 }),
        json!({ "correlation_id": { "id": "order-7f3a2c" } }),
        json!({ "nested": { "correlation_id": "order-7f3a2c" } }),
    ] {
        let mut event = sample("eventbridge.json");
        event["detail"] = detail.clone();
        assert_eq!(
            eventbridge_read(&event).as_str(),
            "c2e4a6b8-0d1f-3a5c-7e9b-1d3f5a7c9e0b",
            "{detail}"
        );
    }
}

#[test]
fn a_typed_eventbridge_detail_is_read_too() {
    #[derive(serde::Serialize, serde::Deserialize)]
    struct OrderPlaced {
        correlation_id: Option<String>,
        order_id: String,
    }
    let mut event = sample("eventbridge.json");
    let typed: EventBridgeEvent<OrderPlaced> = serde_json::from_value(event.clone()).unwrap();
    assert_eq!(CorrelationId::from_eventbridge(&typed).as_str(), CALLER_ID);

    eventbridge_set(&mut event, Some("bad id!"));
    let typed: EventBridgeEvent<OrderPlaced> = serde_json::from_value(event).unwrap();
    assert_eq!(
        CorrelationId::from_eventbridge(&typed).as_str(),
        "c2e4a6b8-0d1f-3a5c-7e9b-1d3f5a7c9e0b"
    );
}

#[test]
fn a_record_with_no_usable_id_gets_a_fresh_one() {
    let mut sqs = sample("sqs.json");
    sqs_set(&mut sqs, Some("bad id!"));
    sqs["Records"][0]["messageId"] = json!("bad id!");
    assert_fresh(&sqs_read(&sqs), "SQS");

    let mut sns = sample("sns.json");
    sns_set(&mut sns, None);
    sns["Records"][0]["Sns"]["MessageId"] = json!("");
    assert_fresh(&sns_read(&sns), "SNS");

    let mut eventbridge = sample("eventbridge.json");
    eventbridge_set(&mut eventbridge, None);
    eventbridge.as_object_mut().unwrap().remove("id");
    assert_fresh(&eventbridge_read(&eventbridge), "EventBridge");
}

// ---------------------------------------------------------------------------------
// What a producer sends is what the consumer reads.

#[test]
fn the_message_attribute_sent_is_the_one_sqs_and_sns_consumers_read() {
    let id = CorrelationId::parse("sent-42").unwrap();
    let attribute = id.message_attribute();

    // SQS delivers an attribute to Lambda as it was sent, in camelCase.
    let mut sqs = sample("sqs.json");
    sqs["Records"][0]["messageAttributes"] = json!({
        (attribute.name): { "dataType": attribute.data_type, "stringValue": attribute.string_value }
    });
    assert_eq!(sqs_read(&sqs), id);

    // SNS delivers it as `Type` and `Value`.
    let mut sns = sample("sns.json");
    sns["Records"][0]["Sns"]["MessageAttributes"] = json!({
        (attribute.name): { "Type": attribute.data_type, "Value": attribute.string_value }
    });
    assert_eq!(sns_read(&sns), id);
}

#[test]
fn the_eventbridge_detail_sent_is_the_one_an_eventbridge_consumer_reads() {
    let id = CorrelationId::parse("sent-42").unwrap();
    let mut detail = json!({ "order_id": "0190a5c2-7b3e-7f1a-9c4d-2e6f8a0b1c3d" });
    let text = id.eventbridge_detail(&mut detail).unwrap();

    let mut event = sample("eventbridge.json");
    event["detail"] = serde_json::from_str(&text).unwrap();
    assert_eq!(eventbridge_read(&event), id);
}
