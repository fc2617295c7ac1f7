//! Reading the correlation id of an incoming event: one constructor per event source,
//! each falling back to the source's own id (see the table in the parent module).

use std::any::Any;
use std::borrow::Cow;

use aws_lambda_events::eventbridge::EventBridgeEvent;
use aws_lambda_events::sns::SnsRecord;
use aws_lambda_events::sqs::SqsMessage;
use lambda_http::RequestExt as _;
use lambda_http::request::RequestContext;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use super::{CORRELATION_ATTRIBUTE, CorrelationId};

/// The trace header, which ALB adds to every request it forwards.
const TRACE_HEADER: &str = "x-amzn-trace-id";

impl CorrelationId {
    /// The id for an HTTP request, whichever service invoked the function: its
    /// `X-Correlation-Id` header when well formed, else the source's own id, else a fresh
    /// one.
    ///
    /// The source's id is `requestContext.requestId` for an API Gateway REST API, an HTTP
    /// API and a Lambda function URL (the last two send the same v2 payload; an HTTP
    /// API's `=` padding is dropped), and the `Root=` of the `X-Amzn-Trace-Id` header for
    /// an Application Load Balancer, which has no request id.
    pub fn from_request(request: &lambda_http::Request) -> Self {
        Self::from_headers(request.headers(), source_request_id(request))
    }

    /// The id for an SQS record: its [`CORRELATION_ATTRIBUTE`] message attribute when
    /// well formed, else the message id, else a fresh one.
    ///
    /// The attribute's `stringValue` is read whatever its `dataType` (`String` or a
    /// custom `String.…` type); a `Binary` attribute has none.
    pub fn from_sqs_message(message: &SqsMessage) -> Self {
        let attribute = message
            .message_attributes
            .get(CORRELATION_ATTRIBUTE)
            .and_then(|attribute| attribute.string_value.as_deref());
        Self::first_valid([attribute, message.message_id.as_deref()])
    }

    /// The id for an SNS record: its [`CORRELATION_ATTRIBUTE`] message attribute when it
    /// is of `Type` `String` and well formed, else the SNS `MessageId`, else a fresh one.
    ///
    /// A `Binary` attribute's `Value` is base64, so it is never taken for an id.
    pub fn from_sns_record(record: &SnsRecord) -> Self {
        let message = &record.sns;
        let attribute = message
            .message_attributes
            .get(CORRELATION_ATTRIBUTE)
            .filter(|attribute| attribute.data_type == "String")
            .map(|attribute| attribute.value.as_str());
        Self::first_valid([attribute, Some(message.message_id.as_str())])
    }

    /// The id for an EventBridge event: the [`CORRELATION_ATTRIBUTE`] member of its
    /// `detail` when the detail is a JSON object and the member a well-formed string,
    /// else the event's `id`, else a fresh one.
    ///
    /// Works for an untyped detail (`EventBridgeEvent<serde_json::Value>`, the default)
    /// and a typed one alike: a typed detail is serialized to find the member, so give
    /// its struct a `correlation_id` field to carry the id.
    pub fn from_eventbridge<T>(event: &EventBridgeEvent<T>) -> Self
    where
        T: Serialize + DeserializeOwned + 'static,
    {
        let detail = detail_correlation_id(&event.detail);
        Self::first_valid([detail.as_deref(), event.id.as_deref()])
    }
}

/// The id the service that sent the request gave it, if any (unchecked).
fn source_request_id(request: &lambda_http::Request) -> Option<&str> {
    match request.request_context_ref()? {
        RequestContext::ApiGatewayV1(context) => context.request_id.as_deref(),
        // HTTP APIs and function URLs; only the HTTP API's ids are padded.
        RequestContext::ApiGatewayV2(context) => context
            .request_id
            .as_deref()
            .map(|id| id.trim_end_matches('=')),
        RequestContext::Alb(_) => trace_root(request.headers()),
        _ => None,
    }
}

/// The `Root=` field of the `X-Amzn-Trace-Id` header. ALB writes `Root=…` when the
/// request came without one and may put a `Self=…` field first when it came with one.
fn trace_root(headers: &http::HeaderMap) -> Option<&str> {
    headers
        .get(TRACE_HEADER)?
        .to_str()
        .ok()?
        .split(';')
        .find_map(|field| field.trim().strip_prefix("Root="))
}

/// The correlation id member of an EventBridge detail, if the detail is an object and
/// the member a string (unchecked).
fn detail_correlation_id<T: Serialize + 'static>(detail: &T) -> Option<Cow<'_, str>> {
    // An untyped detail is read in place rather than copied.
    if let Some(detail) = (detail as &dyn Any).downcast_ref::<Value>() {
        return object_member(detail).map(Cow::Borrowed);
    }
    let detail = serde_json::to_value(detail).ok()?;
    object_member(&detail).map(|id| Cow::Owned(id.to_owned()))
}

fn object_member(detail: &Value) -> Option<&str> {
    detail.as_object()?.get(CORRELATION_ATTRIBUTE)?.as_str()
}
