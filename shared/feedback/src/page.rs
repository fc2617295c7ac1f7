//! Pagination: the page size and the opaque cursor of `GET /comments`.
//!
//! A cursor is the position after the last comment of a page: that comment's id, which
//! is also its sort key. It is sent as 28 URL-safe characters that clients must treat
//! as opaque: a version byte, the 16 id bytes and a 4-byte check, base64url-encoded.
//! The check catches a truncated, altered or foreign cursor, so it is answered with a
//! 400 instead of silently starting elsewhere. It is not a signature: someone who
//! recomputes it can start a page at any id, which is harmless because every comment
//! is public and the cursor can name nothing but a position in the one query.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::comment::{CommentId, FieldProblem};

const CURSOR_VERSION: u8 = 1;
const CURSOR_BYTES: usize = 1 + 16 + 4;
const CHECK_DOMAIN: &[u8] = b"online-feedback/page-cursor";

/// The position after the last comment of a page.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageCursor {
    after: CommentId,
}

impl PageCursor {
    /// The cursor for the page that follows `id`.
    pub fn after(id: CommentId) -> Self {
        Self { after: id }
    }

    /// The last comment of the previous page.
    pub fn last_seen(&self) -> CommentId {
        self.after
    }

    /// Parses a cursor a client sent back.
    ///
    /// # Errors
    /// [`FieldProblem`] when it is not a cursor this service issued, whole and unaltered.
    pub fn parse(raw: &str) -> Result<Self, FieldProblem> {
        const INVALID: FieldProblem = FieldProblem::new(
            "cursor is not one this service issued; send back next_cursor unchanged, or leave it out for the first page",
        );
        if raw.len() != 28 {
            return Err(INVALID);
        }
        let bytes = URL_SAFE_NO_PAD.decode(raw).map_err(|_| INVALID)?;
        let bytes: [u8; CURSOR_BYTES] = bytes.try_into().map_err(|_| INVALID)?;
        if bytes[0] != CURSOR_VERSION || bytes[17..] != check(&bytes[..17]) {
            return Err(INVALID);
        }
        let mut id = [0; 16];
        id.copy_from_slice(&bytes[1..17]);
        CommentId::from_bytes(id)
            .map(Self::after)
            .map_err(|_| INVALID)
    }
}

fn check(payload: &[u8]) -> [u8; 4] {
    let digest = Sha256::new()
        .chain_update(CHECK_DOMAIN)
        .chain_update(payload)
        .finalize();
    [digest[0], digest[1], digest[2], digest[3]]
}

impl fmt::Display for PageCursor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut bytes = [0_u8; CURSOR_BYTES];
        bytes[0] = CURSOR_VERSION;
        bytes[1..17].copy_from_slice(self.after.as_bytes());
        let check = check(&bytes[..17]);
        bytes[17..].copy_from_slice(&check);
        f.write_str(&URL_SAFE_NO_PAD.encode(bytes))
    }
}

/// How many comments one page holds: 1 to 100, 20 when the client does not say.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PageLimit(u16);

impl PageLimit {
    /// The page size when `limit` is not given.
    pub const DEFAULT: Self = Self(20);
    /// The largest page.
    pub const MAX: u16 = 100;

    /// Parses the `limit` query parameter; `None` gives the default.
    ///
    /// # Errors
    /// [`FieldProblem`] when it is not a whole number from 1 to 100.
    pub fn parse(raw: Option<&str>) -> Result<Self, FieldProblem> {
        let Some(raw) = raw else {
            return Ok(Self::DEFAULT);
        };
        // Digits only: `+5`, ` 5` and `5.0` are refused rather than guessed at.
        if raw.is_empty() || raw.len() > 3 || !raw.bytes().all(|b| b.is_ascii_digit()) {
            return Err(Self::problem());
        }
        match raw.parse::<u16>() {
            Ok(n @ 1..=Self::MAX) => Ok(Self(n)),
            _ => Err(Self::problem()),
        }
    }

    const fn problem() -> FieldProblem {
        FieldProblem::new("limit must be a whole number from 1 to 100")
    }

    /// The number of comments.
    pub fn get(self) -> u16 {
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_cursor_round_trips_and_is_28_url_safe_characters() {
        let id = CommentId::new();
        let text = PageCursor::after(id).to_string();
        assert_eq!(text.len(), 28);
        assert!(
            text.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        );
        assert_eq!(PageCursor::parse(&text).unwrap().last_seen(), id);
    }

    #[test]
    fn truncated_foreign_and_altered_cursors_are_refused() {
        let good = PageCursor::after(CommentId::new()).to_string();
        assert!(PageCursor::parse(&good[..27]).is_err());
        assert!(PageCursor::parse("").is_err());
        assert!(PageCursor::parse("eyJwayI6eyJTIjoiQ09NTUVOVCMxIn19").is_err());
        assert!(PageCursor::parse("' OR 1=1 --               ").is_err());
        let mut altered = good.into_bytes();
        altered[10] = if altered[10] == b'A' { b'B' } else { b'A' };
        assert!(PageCursor::parse(&String::from_utf8(altered).unwrap()).is_err());
    }

    #[test]
    fn limits_are_digits_from_1_to_100() {
        assert_eq!(PageLimit::parse(None).unwrap().get(), 20);
        assert_eq!(PageLimit::parse(Some("100")).unwrap().get(), 100);
        for bad in [
            "0",
            "101",
            "-1",
            "+5",
            " 5",
            "5.0",
            "abc",
            "",
            "99999999999999999999",
        ] {
            assert!(PageLimit::parse(Some(bad)).is_err(), "{bad:?}");
        }
    }

    proptest! {
        #[test]
        fn every_single_character_change_is_caught(pos in 0_usize..28, c in "[A-Za-z0-9_-]") {
            let good = PageCursor::after(CommentId::new()).to_string();
            let mut altered = good.clone().into_bytes();
            altered[pos] = c.as_bytes()[0];
            let altered = String::from_utf8(altered).unwrap();
            prop_assume!(altered != good);
            // The last character carries 2 padding bits that decoding ignores or refuses:
            // either way the cursor must not parse to a *different* position.
            if let Ok(cursor) = PageCursor::parse(&altered) {
                prop_assert_eq!(cursor, PageCursor::parse(&good).unwrap());
            }
        }

        #[test]
        fn parse_never_panics(raw in "\\PC{0,64}") {
            let _ = PageCursor::parse(&raw);
        }
    }
}
