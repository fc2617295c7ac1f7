//! Idempotent posting: the `Idempotency-Key` header and the request fingerprint.
//!
//! A client that did not hear our answer may post again with the same key; it gets
//! the same comment id and no second comment. The key is remembered for 24 hours with
//! a fingerprint of the comment, so the same key with a different comment is refused
//! rather than answered with the wrong id.

use std::fmt::Write as _;

use sha2::{Digest, Sha256};

use crate::comment::{FieldProblem, NewComment};

/// The request header.
pub const IDEMPOTENCY_HEADER: &str = "idempotency-key";

/// How long a key is remembered.
pub const IDEMPOTENCY_TTL_SECS: i64 = 24 * 60 * 60;

/// A client's idempotency key: 1 to 255 visible ASCII characters (a UUID is typical).
///
/// It is stored only as a SHA-256 digest ([`IdempotencyKey::digest`]), so whatever a
/// client puts in it never reaches a table key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// The longest key, in bytes.
    pub const MAX_LEN: usize = 255;

    /// Parses the header value.
    ///
    /// # Errors
    /// [`FieldProblem`] when it is empty, too long or has characters outside visible ASCII.
    pub fn parse(raw: &[u8]) -> Result<Self, FieldProblem> {
        if raw.is_empty() || raw.len() > Self::MAX_LEN || !raw.iter().all(u8::is_ascii_graphic) {
            return Err(FieldProblem::new(
                "Idempotency-Key must be 1 to 255 visible ASCII characters, such as a UUID",
            ));
        }
        Ok(Self(String::from_utf8_lossy(raw).into_owned()))
    }

    /// The key's SHA-256 digest, in hex.
    pub fn digest(&self) -> String {
        hex(&Sha256::digest(self.0.as_bytes()))
    }
}

/// A digest of what a request asked for, to tell a true retry from a reused key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Fingerprint(String);

impl Fingerprint {
    /// The fingerprint of a comment's content (not its id, time or correlation id,
    /// which differ between retries).
    pub fn of(comment: &NewComment) -> Self {
        let canonical = serde_json::json!([
            comment.author.as_ref().map(crate::AuthorName::as_str),
            comment.text.as_str(),
            comment.rating.map(crate::Rating::get),
        ]);
        Self(hex(&Sha256::digest(canonical.to_string().as_bytes())))
    }

    /// A fingerprint read back from storage.
    pub fn from_stored(hex: String) -> Self {
        Self(hex)
    }

    /// The fingerprint as hex.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut out, b| {
            let _ = write!(out, "{b:02x}");
            out
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{CommentText, Rating};

    fn comment(text: &str, rating: Option<u64>) -> NewComment {
        NewComment {
            author: None,
            text: CommentText::parse(text).unwrap(),
            rating: rating.map(|r| Rating::parse(r).unwrap()),
        }
    }

    #[test]
    fn keys_are_visible_ascii_up_to_255_bytes() {
        assert!(IdempotencyKey::parse(b"0b5f1c9e-6d0e-4a43-9c1e-8d8f7f0b2a11").is_ok());
        assert!(IdempotencyKey::parse(&[b'k'; 255]).is_ok());
        assert!(IdempotencyKey::parse(&[b'k'; 256]).is_err());
        assert!(IdempotencyKey::parse(b"").is_err());
        assert!(IdempotencyKey::parse(b"has space").is_err());
        assert!(IdempotencyKey::parse("ключ".as_bytes()).is_err());
    }

    #[test]
    fn the_digest_is_64_hex_characters_and_depends_on_the_key() {
        let a = IdempotencyKey::parse(b"a").unwrap().digest();
        assert_eq!(a.len(), 64);
        assert_ne!(a, IdempotencyKey::parse(b"b").unwrap().digest());
    }

    #[test]
    fn fingerprints_match_for_the_same_content_only() {
        assert_eq!(
            Fingerprint::of(&comment("x", Some(3))),
            Fingerprint::of(&comment("x", Some(3)))
        );
        assert_ne!(
            Fingerprint::of(&comment("x", Some(3))),
            Fingerprint::of(&comment("x", None))
        );
        assert_ne!(
            Fingerprint::of(&comment("x", None)),
            Fingerprint::of(&comment("y", None))
        );
    }
}
