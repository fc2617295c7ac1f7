//! Correlation ids: one id that follows a request through every function, queue and log.
//!
//! The talk's log correlation used API Gateway's request id. We take the caller's own id
//! when it is well formed, so a client (or an upstream service) can tie its logs to
//! ours, and fall back to the event source's own id otherwise: API Gateway REST and HTTP
//! APIs, Lambda function URLs, ALBs, SQS, SNS and EventBridge each have a reader (in
//! `sources`), and [`CorrelationId`]'s documentation has the table of what each reads. A
//! malformed id is replaced, never echoed: it would otherwise flow into every log line.
//!
//! Sending the id on (in `propagation`) needs no AWS SDK crate: the SQS and SNS message
//! attribute is three strings, the EventBridge detail a JSON text, handed to whichever
//! client the caller already has.

mod propagation;
mod sources;

use std::fmt;

use serde::{Deserialize, Serialize};

pub use propagation::{EventBridgeDetailError, MessageAttribute};

/// The HTTP header that carries a correlation id in and out of the API.
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// The name that carries a correlation id through records: the SQS and SNS message
/// attribute, and the member of an EventBridge event's `detail`.
pub const CORRELATION_ATTRIBUTE: &str = ops_wire::queue::CORRELATION_ATTRIBUTE;

/// A correlation id: 1 to 128 characters of ASCII letters, digits and `- _ . :`.
///
/// The alphabet covers UUIDs, API Gateway request ids and X-Ray trace ids, and keeps
/// the id safe to put in a header, a log line or a Logs Insights query unescaped.
///
/// # Where an id comes from
///
/// Each reader takes the caller's id when it is well formed, else the event source's
/// own id, else a fresh one: it always returns an id. Every candidate goes through
/// [`CorrelationId::parse`].
///
/// | event | the caller's id | else the source's id | reader |
/// |---|---|---|---|
/// | API Gateway REST API | `X-Correlation-Id` header | `requestContext.requestId` | [`from_request`](Self::from_request) |
/// | API Gateway HTTP API | `X-Correlation-Id` header | `requestContext.requestId`, without its `=` padding | [`from_request`](Self::from_request) |
/// | Lambda function URL | `X-Correlation-Id` header | `requestContext.requestId` | [`from_request`](Self::from_request) |
/// | Application Load Balancer | `X-Correlation-Id` header | the `Root=` of `X-Amzn-Trace-Id`, which ALB adds to every request | [`from_request`](Self::from_request) |
/// | SQS record | [`CORRELATION_ATTRIBUTE`] message attribute | `messageId` | [`from_sqs_message`](Self::from_sqs_message) |
/// | SNS record | [`CORRELATION_ATTRIBUTE`] message attribute of `Type` `String` | `MessageId` | [`from_sns_record`](Self::from_sns_record) |
/// | EventBridge event | [`CORRELATION_ATTRIBUTE`] member of a `detail` object | `id` | [`from_eventbridge`](Self::from_eventbridge) |
///
/// An HTTP API's request id is base64 with `=` padding (`LV7fzho-PHcEJPw=`), outside
/// the alphabet: the padding is dropped, and the rest still finds the access log line
/// that has the whole id. A function URL's request id is a UUID. An ALB has no request
/// id; its trace id is in its access log and in X-Ray.
///
/// # Sending it on
///
/// | to | put the id in | with |
/// |---|---|---|
/// | HTTP | the [`CORRELATION_HEADER`] header | [`as_str`](Self::as_str) |
/// | SQS, SNS | the [`CORRELATION_ATTRIBUTE`] message attribute, a `String` | [`message_attribute`](Self::message_attribute) |
/// | EventBridge | the [`CORRELATION_ATTRIBUTE`] member of the detail | [`eventbridge_detail`](Self::eventbridge_detail) |
///
/// The attribute has the same name on SQS and SNS, so an SNS subscription with raw
/// message delivery hands it to the SQS queue behind it as it is.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CorrelationId(String);

/// Why a string is not a correlation id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InvalidCorrelationId {
    /// The string is empty.
    Empty,
    /// The string is longer than [`CorrelationId::MAX_LEN`].
    TooLong,
    /// The string has a character outside the allowed alphabet.
    BadCharacter,
}

impl CorrelationId {
    /// The longest accepted id, in bytes (all characters are ASCII).
    pub const MAX_LEN: usize = 128;

    /// Parses a correlation id.
    ///
    /// # Errors
    /// [`InvalidCorrelationId`] says which rule the input broke.
    pub fn parse(raw: &str) -> Result<Self, InvalidCorrelationId> {
        if raw.is_empty() {
            return Err(InvalidCorrelationId::Empty);
        }
        if raw.len() > Self::MAX_LEN {
            return Err(InvalidCorrelationId::TooLong);
        }
        if !raw
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'))
        {
            return Err(InvalidCorrelationId::BadCharacter);
        }
        Ok(Self(raw.to_owned()))
    }

    /// A fresh random id, for work that starts without one (a test, a scheduled job).
    pub fn generate() -> Self {
        Self(uuid::Uuid::new_v4().to_string())
    }

    /// Picks the id for an incoming HTTP request: a well-formed `X-Correlation-Id`
    /// header, else `fallback` (the event source's own id) when it is well formed, else
    /// a fresh one. Never fails: a request always gets an id.
    ///
    /// [`CorrelationId::from_request`] finds the fallback for you; this is for requests
    /// that do not come through `lambda_http`.
    pub fn from_headers(headers: &http::HeaderMap, fallback: Option<&str>) -> Self {
        let header = headers
            .get(CORRELATION_HEADER)
            .and_then(|value| value.to_str().ok());
        Self::first_valid([header, fallback])
    }

    /// The first candidate that parses, else a fresh id.
    fn first_valid<'a>(candidates: impl IntoIterator<Item = Option<&'a str>>) -> Self {
        candidates
            .into_iter()
            .flatten()
            .find_map(|raw| Self::parse(raw).ok())
            .unwrap_or_else(Self::generate)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for CorrelationId {
    type Error = InvalidCorrelationId;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<CorrelationId> for String {
    fn from(id: CorrelationId) -> Self {
        id.0
    }
}

impl fmt::Display for InvalidCorrelationId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Empty => "a correlation id must not be empty",
            Self::TooLong => "a correlation id must be at most 128 characters",
            Self::BadCharacter => {
                "a correlation id may contain only ASCII letters, digits and - _ . :"
            }
        })
    }
}

impl std::error::Error for InvalidCorrelationId {}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_uuid_an_api_gateway_request_id_and_an_xray_trace_id_are_valid() {
        for id in [
            "c0ffee00-1234-4abc-8def-0123456789ab",
            "4e2bd1c2-7a0b-4c5e-9f3a-1b2c3d4e5f60",
            "1-5759e988-bd862e3fe1be46a994272793",
        ] {
            assert_eq!(
                CorrelationId::parse(id).map(String::from),
                Ok(id.to_owned())
            );
        }
    }

    #[test]
    fn hostile_ids_are_rejected_with_the_rule_they_broke() {
        assert_eq!(CorrelationId::parse(""), Err(InvalidCorrelationId::Empty));
        assert_eq!(
            CorrelationId::parse(&"a".repeat(129)),
            Err(InvalidCorrelationId::TooLong)
        );
        for bad in ["a b", "a\nb", "a\"b", "<script>", "é", "a;b", "a\u{202e}b"] {
            assert_eq!(
                CorrelationId::parse(bad),
                Err(InvalidCorrelationId::BadCharacter),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_malformed_header_falls_back_to_the_request_id() {
        let mut headers = http::HeaderMap::new();
        headers.insert(CORRELATION_HEADER, http::HeaderValue::from_static("bad id"));
        let id = CorrelationId::from_headers(&headers, Some("req-1"));
        assert_eq!(id.as_str(), "req-1");
    }

    #[test]
    fn a_well_formed_header_wins_over_the_request_id() {
        let mut headers = http::HeaderMap::new();
        headers.insert(
            CORRELATION_HEADER,
            http::HeaderValue::from_static("caller-7"),
        );
        assert_eq!(
            CorrelationId::from_headers(&headers, Some("req-1")).as_str(),
            "caller-7"
        );
    }

    #[test]
    fn with_nothing_usable_a_fresh_id_is_generated() {
        let id = CorrelationId::from_headers(&http::HeaderMap::new(), Some("not valid!"));
        assert_eq!(id.as_str().len(), 36);
    }

    proptest! {
        #[test]
        fn parse_accepts_exactly_the_documented_alphabet(raw in "\\PC{0,140}") {
            let allowed = !raw.is_empty()
                && raw.len() <= CorrelationId::MAX_LEN
                && raw.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.:".contains(&b));
            prop_assert_eq!(CorrelationId::parse(&raw).is_ok(), allowed);
        }

        #[test]
        fn a_valid_id_round_trips_through_json(raw in "[A-Za-z0-9._:-]{1,128}") {
            let id = CorrelationId::parse(&raw).unwrap();
            let json = serde_json::to_string(&id).unwrap();
            let back: CorrelationId = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, id);
        }
    }
}
