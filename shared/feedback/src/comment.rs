//! A comment and the value types it is made of.
//!
//! Each value type has a `parse` constructor that is the only way to make one, so a
//! [`Comment`] that exists is a valid comment: the handlers check input once, at the
//! edge, and the queue consumer re-checks every message through the same constructors
//! (a message that fails is poison, not a crash).

use std::fmt;

use ops_kit::CorrelationId;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use uuid::Uuid;

/// A comment's id: a UUIDv7, so ids sort in the order comments were accepted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CommentId(Uuid);

impl CommentId {
    /// A new id for a comment accepted now.
    pub fn new() -> Self {
        Self(Uuid::now_v7())
    }

    /// Parses the hyphenated form of a version 7 UUID (hex digits in either case), the
    /// only form the API gives out. The other forms `Uuid` reads (32 bare digits,
    /// `{…}`, `urn:uuid:…`) are refused: one comment has one id.
    ///
    /// # Errors
    /// [`FieldProblem`] when the text is not a hyphenated UUIDv7.
    pub fn parse(raw: &str) -> Result<Self, FieldProblem> {
        // 36 characters is the hyphenated form and no other.
        Some(raw)
            .filter(|raw| raw.len() == 36)
            .and_then(|raw| Uuid::try_parse(raw).ok())
            .filter(|id| id.get_version_num() == 7)
            .map(Self)
            .ok_or(FieldProblem::new(
                "a comment id is a UUIDv7 such as 019ac4d2-7f1e-7c3a-9b2d-4e5f60718293",
            ))
    }

    /// The id as a UUID.
    pub fn as_uuid(&self) -> Uuid {
        self.0
    }

    /// The id's 16 bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        self.0.as_bytes()
    }

    /// An id from its 16 bytes.
    ///
    /// # Errors
    /// [`FieldProblem`] when the bytes are not a version 7 UUID.
    pub fn from_bytes(bytes: [u8; 16]) -> Result<Self, FieldProblem> {
        let id = Uuid::from_bytes(bytes);
        if id.get_version_num() == 7 {
            Ok(Self(id))
        } else {
            Err(FieldProblem::new("not a UUIDv7"))
        }
    }
}

impl Default for CommentId {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Display for CommentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.hyphenated().fmt(f)
    }
}

impl TryFrom<String> for CommentId {
    type Error = FieldProblem;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<CommentId> for String {
    fn from(id: CommentId) -> Self {
        id.to_string()
    }
}

/// What is wrong with one field, in words a person can act on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldProblem(&'static str);

impl FieldProblem {
    /// A problem with a fixed message.
    pub const fn new(message: &'static str) -> Self {
        Self(message)
    }

    /// The message.
    pub fn message(&self) -> &'static str {
        self.0
    }
}

impl fmt::Display for FieldProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for FieldProblem {}

/// Defines a text newtype whose only constructor is `parse` and that (de)serialises
/// through it, so a stored or queued value is re-validated when read back.
macro_rules! text_value {
    ($(#[$doc:meta])* $name:ident, $check:expr) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// Parses the value, keeping it exactly as given.
            ///
            /// # Errors
            /// [`FieldProblem`] names the rule the input broke.
            pub fn parse(raw: impl Into<String>) -> Result<Self, FieldProblem> {
                let raw = raw.into();
                let check: fn(&str) -> Result<(), FieldProblem> = $check;
                check(&raw)?;
                Ok(Self(raw))
            }

            /// The value as given.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl TryFrom<String> for $name {
            type Error = FieldProblem;
            fn try_from(raw: String) -> Result<Self, Self::Error> {
                Self::parse(raw)
            }
        }

        impl From<$name> for String {
            fn from(value: $name) -> Self {
                value.0
            }
        }
    };
}

text_value!(
    /// A comment's text: 1 to 2000 characters, not only white space, no control
    /// characters but tab and line breaks. Stored exactly as given; escaping is the
    /// renderer's job.
    CommentText,
    |raw| {
        let chars = raw.chars().count();
        if chars == 0 {
            return Err(FieldProblem::new("text must not be empty"));
        }
        if chars > CommentText::MAX_CHARS {
            return Err(FieldProblem::new("text must be at most 2000 characters"));
        }
        if raw.chars().all(is_blank) {
            return Err(FieldProblem::new("text must not be only white space"));
        }
        if raw.chars().any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) {
            return Err(FieldProblem::new(
                "text must not contain control characters other than tab and line breaks",
            ));
        }
        Ok(())
    }
);

impl CommentText {
    /// The longest text, in characters (Unicode scalar values).
    pub const MAX_CHARS: usize = 2000;
}

text_value!(
    /// An author's name: 1 to 100 characters, not only white space, no control
    /// characters. Optional on a comment: omit it to post anonymously.
    AuthorName,
    |raw| {
        let chars = raw.chars().count();
        if chars == 0 || raw.chars().all(is_blank) {
            return Err(FieldProblem::new(
                "author must not be empty; leave it out to post anonymously",
            ));
        }
        if chars > AuthorName::MAX_CHARS {
            return Err(FieldProblem::new("author must be at most 100 characters"));
        }
        if raw.chars().any(char::is_control) {
            return Err(FieldProblem::new("author must not contain control characters"));
        }
        if raw.chars().any(is_bidi_control) {
            // A name is shown inline beside other text: an override in it would reorder
            // what follows (a name that makes the comment read backwards).
            return Err(FieldProblem::new(
                "author must not contain bidirectional control characters (U+202A to U+202E, U+2066 to U+2069)",
            ));
        }
        Ok(())
    }
);

impl AuthorName {
    /// The longest name, in characters.
    pub const MAX_CHARS: usize = 100;
}

/// White space, or a character that shows nothing at all (zero-width space and joiners,
/// word joiner, byte-order mark, soft hyphen): text made only of these looks empty.
fn is_blank(c: char) -> bool {
    c.is_whitespace()
        || matches!(
            c,
            '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}' | '\u{00AD}' | '\u{180E}'
        )
}

/// The bidirectional embedding, override and isolate controls.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

/// A rating from 1 to 5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
pub struct Rating(u8);

impl Rating {
    /// Parses a rating.
    ///
    /// # Errors
    /// [`FieldProblem`] when it is outside 1 to 5.
    pub fn parse(raw: u64) -> Result<Self, FieldProblem> {
        match u8::try_from(raw) {
            Ok(value @ 1..=5) => Ok(Self(value)),
            _ => Err(FieldProblem::new(
                "rating must be a whole number from 1 to 5",
            )),
        }
    }

    /// The rating's value.
    pub fn get(self) -> u8 {
        self.0
    }
}

impl TryFrom<u8> for Rating {
    type Error = FieldProblem;
    fn try_from(raw: u8) -> Result<Self, Self::Error> {
        Self::parse(raw.into())
    }
}

impl From<Rating> for u8 {
    fn from(rating: Rating) -> Self {
        rating.0
    }
}

/// A validated comment that has not been accepted yet (no id, no time).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewComment {
    /// Who wrote it, if they said.
    pub author: Option<AuthorName>,
    /// What they wrote.
    pub text: CommentText,
    /// Their rating, if they gave one.
    pub rating: Option<Rating>,
}

impl NewComment {
    /// Accepts the comment: gives it an id, a time and the request's correlation id.
    pub fn accept(self, correlation_id: CorrelationId) -> Comment {
        let id = CommentId::new();
        Comment {
            created_at: id_time(id),
            id,
            author: self.author,
            text: self.text,
            rating: self.rating,
            correlation_id,
            smoke_test: false,
        }
    }
}

/// The creation time is the time in the id, so the two can never disagree.
fn id_time(id: CommentId) -> OffsetDateTime {
    let (secs, nanos) = id
        .as_uuid()
        .get_timestamp()
        .map_or((0, 0), |ts| ts.to_unix());
    let nanos = i128::from(secs) * 1_000_000_000 + i128::from(nanos);
    OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or_else(|_| OffsetDateTime::now_utc())
}

/// An accepted comment: what travels on the queue and is stored in the table.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Comment {
    /// Its id, time-ordered.
    pub id: CommentId,
    /// Who wrote it, if they said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<AuthorName>,
    /// What they wrote, exactly as given.
    pub text: CommentText,
    /// Their rating, if they gave one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<Rating>,
    /// When it was accepted (the time in its id).
    #[serde(with = "time::serde::rfc3339")]
    pub created_at: OffsetDateTime,
    /// The correlation id of the request that posted it.
    pub correlation_id: CorrelationId,
    /// A deployment's smoke test (the `PreTraffic` hook's, on the API stage
    /// [`SMOKE_TEST_STAGE`] that only a direct invocation can name): it travels and is
    /// stored like any comment, but is never listed and expires.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub smoke_test: bool,
}

/// The API stage the `PreTraffic` hook names in its requests. API Gateway always
/// passes the real stage, so no caller of the API can claim to be a smoke test.
pub const SMOKE_TEST_STAGE: &str = "smoke-test";

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn text_is_kept_exactly_as_given() {
        let raw = "  <script>alert('x')</script> \"; DROP TABLE comments; -- 🎉 \u{200f}שלום\n";
        assert_eq!(CommentText::parse(raw).unwrap().as_str(), raw);
    }

    #[test]
    fn text_limits_count_characters_not_bytes() {
        assert!(CommentText::parse("é".repeat(2000)).is_ok());
        assert!(CommentText::parse("é".repeat(2001)).is_err());
    }

    #[test]
    fn empty_blank_and_control_character_text_is_rejected() {
        for bad in ["", "   ", "\n\t", "a\u{0}b", "bell\u{7}", "esc\u{1b}[31m"] {
            assert!(CommentText::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn text_that_only_looks_empty_is_blank() {
        for invisible in ["\u{200B}", "\u{200B}\u{200D} \u{FEFF}", "\u{2060}\u{00AD}"] {
            let problem = CommentText::parse(invisible).unwrap_err();
            assert_eq!(problem.to_string(), "text must not be only white space");
        }
        // Joiners inside real text are part of it (emoji sequences need them).
        assert!(CommentText::parse("👩\u{200D}💻 great").is_ok());
        assert!(AuthorName::parse("\u{200B}").is_err());
    }

    #[test]
    fn an_author_may_not_reorder_the_text_around_it() {
        for bad in ["Ada\u{202E}", "\u{2066}Ada\u{2069}", "x\u{202A}y"] {
            let problem = AuthorName::parse(bad).unwrap_err();
            assert!(problem.to_string().contains("bidirectional"), "{bad:?}");
        }
        assert!(AuthorName::parse("عربي Ada").is_ok());
    }

    #[test]
    fn an_author_may_not_hold_a_line_break() {
        assert!(AuthorName::parse("Ada\nLovelace").is_err());
        assert!(AuthorName::parse("Ada Lovelace").is_ok());
        assert!(AuthorName::parse("a".repeat(101)).is_err());
    }

    #[test]
    fn ratings_are_one_to_five() {
        assert!(Rating::parse(0).is_err());
        assert_eq!(Rating::parse(5).unwrap().get(), 5);
        assert!(Rating::parse(6).is_err());
        assert!(Rating::parse(u64::MAX).is_err());
    }

    #[test]
    fn created_at_is_the_time_in_the_id() {
        let comment = NewComment {
            author: None,
            text: CommentText::parse("hi").unwrap(),
            rating: None,
        }
        .accept(CorrelationId::generate());
        let ms = comment.id.as_uuid().get_timestamp().unwrap().to_unix();
        assert_eq!(
            comment.created_at.unix_timestamp(),
            i64::try_from(ms.0).unwrap()
        );
    }

    #[test]
    fn a_comment_id_has_one_written_form() {
        let id = "019ac4d2-7f1e-7c3a-9b2d-4e5f60718293";
        assert_eq!(CommentId::parse(id).unwrap().to_string(), id);
        assert_eq!(
            CommentId::parse(&id.to_ascii_uppercase())
                .unwrap()
                .to_string(),
            id
        );
        for other_form in [
            "019ac4d27f1e7c3a9b2d4e5f60718293",
            "{019ac4d2-7f1e-7c3a-9b2d-4e5f60718293}",
            "urn:uuid:019ac4d2-7f1e-7c3a-9b2d-4e5f60718293",
        ] {
            assert!(CommentId::parse(other_form).is_err(), "{other_form}");
        }
        assert!(CommentId::parse("4e2bd1c2-7a0b-4c5e-9f3a-1b2c3d4e5f60").is_err());
    }

    #[test]
    fn a_comment_with_invalid_fields_does_not_deserialise() {
        let json = r#"{"id":"019ac4d2-7f1e-7c3a-9b2d-4e5f60718293","text":"","created_at":"2026-11-28T04:00:00Z","correlation_id":"c"}"#;
        assert!(serde_json::from_str::<Comment>(json).is_err());
        let v4 = r#"{"id":"4e2bd1c2-7a0b-4c5e-9f3a-1b2c3d4e5f60","text":"x","created_at":"2026-11-28T04:00:00Z","correlation_id":"c"}"#;
        assert!(serde_json::from_str::<Comment>(v4).is_err());
    }

    proptest! {
        #[test]
        fn any_valid_text_round_trips_through_json(raw in "[^\\p{Cc}]{1,200}") {
            prop_assume!(!raw.chars().all(is_blank));
            let text = CommentText::parse(raw.clone()).unwrap();
            let back: CommentText = serde_json::from_str(&serde_json::to_string(&text).unwrap()).unwrap();
            prop_assert_eq!(back.as_str(), raw.as_str());
        }

        #[test]
        fn text_parse_never_panics(raw in "\\PC*|.*") {
            let _ = CommentText::parse(raw);
        }
    }
}
