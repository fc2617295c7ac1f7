//! Reading a posted comment: the JSON body of `POST /comments` to a [`NewComment`].
//!
//! Every field is checked and every problem reported at once, with the field it belongs
//! to, so a form can show each message next to its field. Unknown and repeated members
//! are rejected rather than ignored: a client that misspells `rating` should hear so.

use serde::Deserialize;
use serde_json::Value;

use crate::comment::{AuthorName, CommentText, FieldProblem, NewComment, Rating};

/// The largest body accepted, in bytes. The longest valid comment is 2000 characters
/// of text and 100 of author; even fully `\u`-escaped that stays well below this.
pub const MAX_BODY_BYTES: usize = 32 * 1024;

/// Why a body is not a comment.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// The body is not JSON at all (or not UTF-8, or nested too deeply).
    #[error("the body is not valid JSON: {0}")]
    Syntax(String),
    /// The body is JSON but not an object of the expected members.
    #[error("{0}")]
    Shape(String),
    /// The members are there but some values break the rules.
    #[error("the comment has {} invalid field(s)", .0.len())]
    Fields(Vec<(&'static str, FieldProblem)>),
}

/// The body as sent, before the values are checked. Members are raw JSON values so
/// that a wrong type is reported per field, in our words, rather than by serde.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawComment {
    #[serde(default)]
    author: Option<Value>,
    #[serde(default)]
    text: Option<Value>,
    #[serde(default)]
    rating: Option<Value>,
}

const OBJECT_EXPECTED: &str =
    "the body must be a JSON object with `text` and optional `author` and `rating`";

/// Parses a `POST /comments` body.
///
/// # Errors
/// [`InputError`] says whether the JSON, its shape or its values are wrong; for values,
/// every invalid field with its own message.
pub fn parse_new_comment(body: &[u8]) -> Result<NewComment, InputError> {
    // Serde would also read a struct from an array, by position: `["Ada", "hi", 5]`.
    // Only an object is a comment.
    if body.trim_ascii_start().first() != Some(&b'{') {
        return Err(
            match serde_json::from_slice::<serde::de::IgnoredAny>(body) {
                Ok(_) => InputError::Shape(OBJECT_EXPECTED.into()),
                Err(e) => describe_json_error(&e),
            },
        );
    }
    let raw: RawComment = serde_json::from_slice(body).map_err(|e| describe_json_error(&e))?;
    let mut problems = Vec::new();

    let text = match raw.text {
        None => Err(FieldProblem::new("text is required")),
        Some(Value::String(text)) => CommentText::parse(text),
        Some(_) => Err(FieldProblem::new("text must be a string")),
    };
    let author = match raw.author {
        None => Ok(None),
        Some(Value::String(author)) => AuthorName::parse(author).map(Some),
        Some(_) => Err(FieldProblem::new("author must be a string")),
    };
    let rating = match raw.rating {
        None => Ok(None),
        Some(Value::Number(n)) => n
            .as_u64()
            .ok_or(FieldProblem::new(
                "rating must be a whole number from 1 to 5",
            ))
            .and_then(Rating::parse)
            .map(Some),
        Some(_) => Err(FieldProblem::new(
            "rating must be a whole number from 1 to 5",
        )),
    };

    if let Err(problem) = &author {
        problems.push(("/author", problem.clone()));
    }
    if let Err(problem) = &text {
        problems.push(("/text", problem.clone()));
    }
    if let Err(problem) = &rating {
        problems.push(("/rating", problem.clone()));
    }
    match (author, text, rating) {
        (Ok(author), Ok(text), Ok(rating)) => Ok(NewComment {
            author,
            text,
            rating,
        }),
        _ => Err(InputError::Fields(problems)),
    }
}

/// Serde's messages name our internal struct; say what the client should send instead.
fn describe_json_error(error: &serde_json::Error) -> InputError {
    use serde_json::error::Category;
    match error.classify() {
        Category::Syntax | Category::Eof | Category::Io => InputError::Syntax(syntax_hint(error)),
        Category::Data => {
            let message = error.to_string();
            if message.starts_with("unknown field") {
                InputError::Shape(
                    "unknown member; a comment has only `text`, `author` and `rating`".into(),
                )
            } else if message.starts_with("duplicate field") {
                InputError::Shape("a member appears more than once".into())
            } else {
                InputError::Shape(OBJECT_EXPECTED.into())
            }
        }
    }
}

/// Line and column, and the reason without echoing the input back.
fn syntax_hint(error: &serde_json::Error) -> String {
    let reason = error.to_string();
    let reason = reason.split(" at line ").next().unwrap_or("malformed");
    format!(
        "{reason} at line {} column {}",
        error.line(),
        error.column()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fields(body: &str) -> Vec<&'static str> {
        match parse_new_comment(body.as_bytes()) {
            Err(InputError::Fields(problems)) => problems.into_iter().map(|(f, _)| f).collect(),
            other => panic!("expected field errors, got {other:?}"),
        }
    }

    #[test]
    fn a_full_comment_parses() {
        let comment =
            parse_new_comment(br#"{"author":"Ada","text":"Great talk","rating":5}"#).unwrap();
        assert_eq!(comment.author.unwrap().as_str(), "Ada");
        assert_eq!(comment.text.as_str(), "Great talk");
        assert_eq!(comment.rating.unwrap().get(), 5);
    }

    #[test]
    fn null_optional_members_mean_absent() {
        let comment = parse_new_comment(br#"{"author":null,"text":"x","rating":null}"#).unwrap();
        assert_eq!(comment.author, None);
        assert_eq!(comment.rating, None);
    }

    #[test]
    fn every_invalid_field_is_reported_at_once() {
        assert_eq!(
            fields(r#"{"author":7,"text":"","rating":9}"#),
            ["/author", "/text", "/rating"]
        );
        assert_eq!(fields(r"{}"), ["/text"]);
        assert_eq!(fields(r#"{"text":"x","rating":4.5}"#), ["/rating"]);
        assert_eq!(
            fields(r#"{"text":"x","rating":123456789012345678901234567890}"#),
            ["/rating"]
        );
        assert!(parse_new_comment(br#"{"text":"x","rating":1e400}"#).is_err());
    }

    #[test]
    fn unknown_and_repeated_members_are_shape_errors() {
        assert!(matches!(
            parse_new_comment(br#"{"text":"x","admin":true}"#),
            Err(InputError::Shape(_))
        ));
        assert!(matches!(
            parse_new_comment(br#"{"text":"x","text":"y"}"#),
            Err(InputError::Shape(_))
        ));
        assert!(matches!(
            parse_new_comment(br#"["text"]"#),
            Err(InputError::Shape(_))
        ));
    }

    #[test]
    fn syntax_errors_do_not_echo_the_input() {
        let Err(InputError::Syntax(message)) = parse_new_comment(b"{\"text\": <script>") else {
            panic!("expected a syntax error");
        };
        assert!(!message.contains("script"), "{message}");
        assert!(message.contains("line 1"), "{message}");
    }

    #[test]
    fn deep_nesting_and_invalid_utf8_are_syntax_errors() {
        let deep = format!("{{\"text\":{}{}}}", "[".repeat(10_000), "]".repeat(10_000));
        assert!(matches!(
            parse_new_comment(deep.as_bytes()),
            Err(InputError::Syntax(_))
        ));
        assert!(matches!(
            parse_new_comment(b"{\"text\":\"\xff\xfe\"}"),
            Err(InputError::Syntax(_))
        ));
    }
}
