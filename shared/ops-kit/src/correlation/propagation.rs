//! Sending the correlation id on with the work: the SQS and SNS message attribute and
//! the EventBridge detail member. Nothing here depends on an AWS SDK crate: the caller
//! hands the parts to the client it already has.

use std::fmt;

use serde_json::Value;

use super::{CORRELATION_ATTRIBUTE, CorrelationId};

/// The correlation id as a message attribute, in the three parts SQS's `SendMessage`
/// and SNS's `Publish` both take: a name, a data type and a string value.
///
/// The consumer reads it back with [`CorrelationId::from_sqs_message`] or
/// [`CorrelationId::from_sns_record`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MessageAttribute<'a> {
    /// The attribute's name: [`CORRELATION_ATTRIBUTE`].
    pub name: &'static str,
    /// The attribute's data type: always `String`.
    pub data_type: &'static str,
    /// The attribute's value: the id.
    pub string_value: &'a str,
}

/// Why [`CorrelationId::eventbridge_detail`] left a detail unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventBridgeDetailError {
    /// The detail is not a JSON object, so it has no room for the member (and
    /// EventBridge takes only objects as detail).
    NotAnObject,
    /// The detail already carries a different correlation id (or a member of that name
    /// that is not a string); it is left as it is rather than overwritten.
    Conflict,
}

impl CorrelationId {
    /// The message attribute that carries this id on an SQS or SNS message.
    ///
    /// Both SDKs build their attribute value from the same parts:
    ///
    /// ```text
    /// let attribute = correlation_id.message_attribute();
    /// let value = aws_sdk_sqs::types::MessageAttributeValue::builder()  // or aws_sdk_sns::types::…
    ///     .data_type(attribute.data_type)
    ///     .string_value(attribute.string_value)
    ///     .build()?;
    /// sqs.send_message()                  // or sns.publish()
    ///     .queue_url(queue_url)           // or .topic_arn(topic_arn)
    ///     .message_body(body)             // or .message(body)
    ///     .message_attributes(attribute.name, value)
    ///     .send()
    ///     .await?;
    /// ```
    pub fn message_attribute(&self) -> MessageAttribute<'_> {
        MessageAttribute {
            name: CORRELATION_ATTRIBUTE,
            data_type: "String",
            string_value: self.as_str(),
        }
    }

    /// Puts this id in an EventBridge event's `detail` as its [`CORRELATION_ATTRIBUTE`]
    /// member and returns the detail as the JSON text `PutEvents` takes.
    ///
    /// A detail that already carries this id is returned as it is; a `null` member is
    /// replaced.
    ///
    /// ```
    /// let id = ops_kit::CorrelationId::parse("order-7f3a2c")?;
    /// let mut detail = serde_json::json!({ "order_id": 42 });
    /// let text = id.eventbridge_detail(&mut detail)?;
    /// assert!(text.contains(r#""correlation_id":"order-7f3a2c""#));
    /// // Then, with aws-sdk-eventbridge:
    /// // PutEventsRequestEntry::builder().source(…).detail_type(…).detail(text).build()
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// # Errors
    /// [`EventBridgeDetailError::NotAnObject`] when `detail` is not a JSON object, and
    /// [`EventBridgeDetailError::Conflict`] when it already carries another id; `detail`
    /// is unchanged in both cases.
    pub fn eventbridge_detail(&self, detail: &mut Value) -> Result<String, EventBridgeDetailError> {
        let Value::Object(members) = detail else {
            return Err(EventBridgeDetailError::NotAnObject);
        };
        match members.get(CORRELATION_ATTRIBUTE) {
            None | Some(Value::Null) => {
                members.insert(CORRELATION_ATTRIBUTE.to_owned(), Value::from(self.as_str()));
            }
            Some(Value::String(existing)) if existing == self.as_str() => {}
            Some(_) => return Err(EventBridgeDetailError::Conflict),
        }
        Ok(detail.to_string())
    }
}

impl fmt::Display for EventBridgeDetailError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // The existing id is not quoted: it may be anything a producer put there.
        f.write_str(match self {
            Self::NotAnObject => {
                "an EventBridge detail must be a JSON object to carry a correlation id"
            }
            Self::Conflict => "the EventBridge detail already carries a different correlation id",
        })
    }
}

impl std::error::Error for EventBridgeDetailError {}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn id(raw: &str) -> CorrelationId {
        CorrelationId::parse(raw).unwrap()
    }

    #[test]
    fn the_message_attribute_is_a_string_named_correlation_id() {
        let id = id("order-7f3a2c");
        assert_eq!(
            id.message_attribute(),
            MessageAttribute {
                name: "correlation_id",
                data_type: "String",
                string_value: "order-7f3a2c",
            }
        );
    }

    #[test]
    fn the_id_is_added_to_a_detail_object() {
        let mut detail = json!({ "order_id": 42, "items": ["a"] });
        let text = id("order-7f3a2c").eventbridge_detail(&mut detail).unwrap();
        assert_eq!(detail["correlation_id"], "order-7f3a2c");
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), detail);
    }

    #[test]
    fn a_detail_with_the_same_id_or_a_null_one_is_accepted() {
        for before in [
            json!({ "correlation_id": "order-7f3a2c" }),
            json!({ "correlation_id": null }),
        ] {
            let mut detail = before;
            let text = id("order-7f3a2c").eventbridge_detail(&mut detail).unwrap();
            assert_eq!(text, r#"{"correlation_id":"order-7f3a2c"}"#);
        }
    }

    #[test]
    fn a_different_id_is_never_overwritten() {
        for before in [
            json!({ "correlation_id": "someone-else" }),
            json!({ "correlation_id": 7 }),
            json!({ "correlation_id": { "nested": true } }),
        ] {
            let mut detail = before.clone();
            assert_eq!(
                id("order-7f3a2c").eventbridge_detail(&mut detail),
                Err(EventBridgeDetailError::Conflict)
            );
            assert_eq!(detail, before, "the detail must be left unchanged");
        }
    }

    #[test]
    fn a_detail_that_is_not_an_object_is_refused() {
        for before in [json!(null), json!("text"), json!([1, 2]), json!(3)] {
            let mut detail = before.clone();
            assert_eq!(
                id("order-7f3a2c").eventbridge_detail(&mut detail),
                Err(EventBridgeDetailError::NotAnObject)
            );
            assert_eq!(detail, before);
        }
    }

    #[test]
    fn the_conflict_message_does_not_quote_the_existing_id() {
        let mut detail = json!({ "correlation_id": "<script>" });
        let error = id("order-7f3a2c")
            .eventbridge_detail(&mut detail)
            .unwrap_err();
        assert!(!error.to_string().contains("<script>"));
    }
}
