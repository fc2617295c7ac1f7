//! X-Ray trace ids, segment ids and the trace header that carries them.
//!
//! The same header travels as `X-Amzn-Trace-Id` on HTTP, as `Lambda-Runtime-Trace-Id`
//! from the runtime API (and `_X_AMZN_TRACE_ID` in the environment), and as the SQS
//! system attribute `AWSTraceHeader`:
//!
//! ```text
//! Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1
//! ```
//!
//! Ids are parsed once into [`TraceId`] and [`SegmentId`], so a document or header built
//! from them cannot carry a malformed id. Hex digits of either case are accepted, as
//! X-Ray's segment schema accepts them, and an id keeps the text it was parsed from:
//! rewriting the case of an id someone else minted would file our segments under a
//! different trace than theirs. Generated ids are lowercase.

use std::fmt;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// An X-Ray trace id: `1-{8 hex digits: epoch seconds}-{24 hex digits: random}`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TraceId(String);

/// A 64-bit X-Ray segment or subsegment id: 16 hex digits.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct SegmentId(String);

/// Why a string is not a [`TraceId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTraceId {
    /// Not 35 bytes long.
    #[error("an X-Ray trace id has 35 characters (1-5759e988-bd862e3fe1be46a994272793), not {0}")]
    Length(usize),
    /// Does not start with version `1-`.
    #[error("an X-Ray trace id starts with its version, `1-`")]
    Version,
    /// The dashes or the hex digits are not where they belong.
    #[error("an X-Ray trace id is 1-, 8 hex digits, a dash and 24 hex digits")]
    Format,
}

/// Why a string is not a [`SegmentId`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidSegmentId {
    /// Not 16 bytes long.
    #[error("an X-Ray segment id has 16 hex digits, not {0} characters")]
    Length(usize),
    /// Has a character that is not a hex digit.
    #[error("an X-Ray segment id has only hex digits (0-9, a-f)")]
    NotHex,
}

/// Why a string is not a [`TraceHeader`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidTraceHeader {
    /// There is no `Root=` field: without it there is no trace to continue.
    #[error("a trace header needs a Root= field")]
    MissingRoot,
    /// `Root=` appears more than once: which trace the work belongs to is ambiguous.
    #[error("a trace header has one Root= field, this one has several")]
    DuplicateRoot,
    /// `Root=` is not a trace id.
    #[error("the trace header's Root= is not a trace id")]
    Root(#[source] InvalidTraceId),
}

/// The trace context of a piece of work, as the trace header carries it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceHeader {
    /// The trace.
    pub root: TraceId,
    /// The segment or subsegment the work is a child of; `None` at the root of a trace.
    pub parent: Option<SegmentId>,
    /// The sampling decision; `None` when the sender left it to the receiver
    /// (`Sampled=?`, or no `Sampled` field).
    pub sampled: Option<bool>,
}

const TRACE_ID_LEN: usize = 35;
const SEGMENT_ID_LEN: usize = 16;

impl TraceId {
    /// A new trace id for a trace that starts now: the current epoch second and 96
    /// random bits.
    pub fn generate() -> Self {
        let seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        // A v4 UUID fixes the version nibble in byte 6 and the variant bits in byte 8;
        // bytes 0..6 and 10..16 are 96 bits of pure randomness.
        let bytes = uuid::Uuid::new_v4().into_bytes();
        let mut id = format!("1-{:08x}-", seconds & 0xffff_ffff);
        push_hex(&mut id, &bytes[..6]);
        push_hex(&mut id, &bytes[10..]);
        Self(id)
    }

    /// Parses a trace id: exactly `1-`, 8 hex digits, `-`, 24 hex digits, nothing around
    /// it. Hex digits may be of either case; the text is kept as given.
    ///
    /// # Errors
    /// [`InvalidTraceId`] says which rule the input broke.
    pub fn parse(raw: &str) -> Result<Self, InvalidTraceId> {
        let bytes = raw.as_bytes();
        if bytes.len() != TRACE_ID_LEN {
            return Err(InvalidTraceId::Length(bytes.len()));
        }
        if &bytes[..2] != b"1-" {
            return Err(InvalidTraceId::Version);
        }
        if bytes[10] != b'-' || !is_hex(&bytes[2..10]) || !is_hex(&bytes[11..]) {
            return Err(InvalidTraceId::Format);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl SegmentId {
    /// A new random segment id.
    pub fn generate() -> Self {
        // Bytes 0..6 and 9..11 of a v4 UUID: 64 random bits, clear of the version and
        // variant bits.
        let bytes = uuid::Uuid::new_v4().into_bytes();
        let mut id = String::with_capacity(SEGMENT_ID_LEN);
        push_hex(&mut id, &bytes[..6]);
        push_hex(&mut id, &bytes[9..11]);
        Self(id)
    }

    /// Parses a segment id: exactly 16 hex digits of either case, kept as given.
    ///
    /// # Errors
    /// [`InvalidSegmentId`] says which rule the input broke.
    pub fn parse(raw: &str) -> Result<Self, InvalidSegmentId> {
        if raw.len() != SEGMENT_ID_LEN {
            return Err(InvalidSegmentId::Length(raw.len()));
        }
        if !is_hex(raw.as_bytes()) {
            return Err(InvalidSegmentId::NotHex);
        }
        Ok(Self(raw.to_owned()))
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TraceHeader {
    /// A new sampled trace with no parent, for work that starts without one.
    pub fn new_root() -> Self {
        Self {
            root: TraceId::generate(),
            parent: None,
            sampled: Some(true),
        }
    }

    /// Parses a header: `;`-separated `Key=Value` fields in any order, whitespace
    /// around fields, keys and values ignored. Keys are case-sensitive.
    ///
    /// - `Root` is required, once, and must be a [`TraceId`].
    /// - `Parent` is kept when it is a [`SegmentId`] and ignored otherwise, as is a
    ///   field without `=`; when repeated, the last well-formed one wins.
    /// - `Sampled` is `1` or `0`; anything else (`?`) leaves the decision open.
    /// - Other keys (`Lineage`, `Self`) are ignored.
    ///
    /// # Errors
    /// [`InvalidTraceHeader`] when `Root` is missing, repeated or malformed.
    pub fn parse(raw: &str) -> Result<Self, InvalidTraceHeader> {
        let mut root = None;
        let mut parent = None;
        let mut sampled = None;
        for field in raw.split(';') {
            let Some((key, value)) = field.split_once('=') else {
                continue;
            };
            let value = value.trim();
            match key.trim() {
                "Root" => {
                    if root.is_some() {
                        return Err(InvalidTraceHeader::DuplicateRoot);
                    }
                    root = Some(TraceId::parse(value).map_err(InvalidTraceHeader::Root)?);
                }
                "Parent" => {
                    if let Ok(id) = SegmentId::parse(value) {
                        parent = Some(id);
                    }
                }
                "Sampled" => match value {
                    "1" => sampled = Some(true),
                    "0" => sampled = Some(false),
                    _ => {}
                },
                _ => {}
            }
        }
        Ok(Self {
            root: root.ok_or(InvalidTraceHeader::MissingRoot)?,
            parent,
            sampled,
        })
    }

    /// The same trace and decision with another parent: how a call or a message is made
    /// the child of a subsegment.
    #[must_use]
    pub fn with_parent(&self, parent: SegmentId) -> Self {
        Self {
            parent: Some(parent),
            ..self.clone()
        }
    }

    /// Whether segments should be recorded for this trace.
    pub fn is_sampled(&self) -> bool {
        self.sampled == Some(true)
    }
}

/// Hex digits of either case, as X-Ray's segment schema allows.
fn is_hex(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_hexdigit)
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    use fmt::Write as _;
    for byte in bytes {
        let _ = write!(out, "{byte:02x}");
    }
}

impl fmt::Display for TraceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Display for SegmentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// `Root=…;Parent=…;Sampled=…`, leaving out what is absent.
impl fmt::Display for TraceHeader {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Root={}", self.root)?;
        if let Some(parent) = &self.parent {
            write!(f, ";Parent={parent}")?;
        }
        match self.sampled {
            Some(true) => f.write_str(";Sampled=1"),
            Some(false) => f.write_str(";Sampled=0"),
            None => Ok(()),
        }
    }
}

impl FromStr for TraceId {
    type Err = InvalidTraceId;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl FromStr for SegmentId {
    type Err = InvalidSegmentId;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl FromStr for TraceHeader {
    type Err = InvalidTraceHeader;

    fn from_str(raw: &str) -> Result<Self, Self::Err> {
        Self::parse(raw)
    }
}

impl TryFrom<String> for TraceId {
    type Error = InvalidTraceId;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl TryFrom<String> for SegmentId {
    type Error = InvalidSegmentId;

    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<TraceId> for String {
    fn from(id: TraceId) -> Self {
        id.0
    }
}

impl From<SegmentId> for String {
    fn from(id: SegmentId) -> Self {
        id.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const ROOT: &str = "1-5759e988-bd862e3fe1be46a994272793";
    const PARENT: &str = "53995c3f42cd8ad8";

    #[test]
    fn generated_ids_parse_are_lowercase_and_differ() {
        for _ in 0..100 {
            let trace = TraceId::generate();
            let segment = SegmentId::generate();
            assert_eq!(TraceId::parse(trace.as_str()), Ok(trace.clone()));
            assert_eq!(SegmentId::parse(segment.as_str()), Ok(segment.clone()));
            assert!(!trace.as_str().bytes().any(|b| b.is_ascii_uppercase()));
            assert!(!segment.as_str().bytes().any(|b| b.is_ascii_uppercase()));
        }
        assert_ne!(TraceId::generate(), TraceId::generate());
        assert_ne!(SegmentId::generate(), SegmentId::generate());
    }

    #[test]
    fn a_generated_trace_id_starts_with_the_current_second() {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let id = TraceId::generate();
        let seconds = u64::from_str_radix(&id.as_str()[2..10], 16).unwrap();
        assert!(seconds.abs_diff(now & 0xffff_ffff) <= 1, "{id}");
    }

    #[test]
    fn uppercase_hex_is_accepted_and_kept_as_given() {
        let upper = "1-5759E988-BD862E3FE1BE46A994272793";
        assert_eq!(TraceId::parse(upper).unwrap().as_str(), upper);
        assert_eq!(
            SegmentId::parse("53995C3F42CD8AD8").unwrap().as_str(),
            "53995C3F42CD8AD8"
        );
    }

    #[test]
    fn malformed_trace_ids_are_rejected_with_the_rule_they_broke() {
        let cases = [
            ("", InvalidTraceId::Length(0)),
            (&ROOT[..34], InvalidTraceId::Length(34)),
            (
                " 1-5759e988-bd862e3fe1be46a994272793",
                InvalidTraceId::Length(36),
            ),
            (
                "2-5759e988-bd862e3fe1be46a994272793",
                InvalidTraceId::Version,
            ),
            (
                "1_5759e988-bd862e3fe1be46a994272793",
                InvalidTraceId::Version,
            ),
            (
                "1-5759e988_bd862e3fe1be46a994272793",
                InvalidTraceId::Format,
            ),
            (
                "1-5759e98g-bd862e3fe1be46a994272793",
                InvalidTraceId::Format,
            ),
            (
                "1-5759e988-bd862e3fe1be46a99427279z",
                InvalidTraceId::Format,
            ),
            (
                "1-5759e9-88bd862e3fe1be46a994272793",
                InvalidTraceId::Format,
            ),
            (
                "1-+759e988-bd862e3fe1be46a994272793",
                InvalidTraceId::Format,
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(TraceId::parse(raw), Err(expected), "{raw:?}");
        }
        // 35 bytes, but two of them make one non-ASCII character.
        let multibyte = "1-5759e988-bd862e3fe1be46a9942727é";
        assert_eq!(multibyte.len(), 35);
        assert_eq!(TraceId::parse(multibyte), Err(InvalidTraceId::Format));
    }

    #[test]
    fn malformed_segment_ids_are_rejected() {
        assert_eq!(SegmentId::parse(""), Err(InvalidSegmentId::Length(0)));
        assert_eq!(
            SegmentId::parse("53995c3f42cd8ad"),
            Err(InvalidSegmentId::Length(15))
        );
        assert_eq!(
            SegmentId::parse("53995c3f42cd8adx"),
            Err(InvalidSegmentId::NotHex)
        );
        assert_eq!(
            SegmentId::parse("-3995c3f42cd8ad8"),
            Err(InvalidSegmentId::NotHex)
        );
        assert_eq!(
            SegmentId::parse("é3995c3f42cd8ad"),
            Err(InvalidSegmentId::NotHex)
        );
    }

    #[test]
    fn ids_serialize_as_strings_and_refuse_malformed_ones() {
        let id = TraceId::parse(ROOT).unwrap();
        assert_eq!(serde_json::to_string(&id).unwrap(), format!("\"{ROOT}\""));
        assert_eq!(
            serde_json::from_str::<SegmentId>(&format!("\"{PARENT}\"")).unwrap(),
            SegmentId::parse(PARENT).unwrap()
        );
        assert!(serde_json::from_str::<TraceId>("\"1-nope\"").is_err());
        assert!(serde_json::from_str::<SegmentId>("42").is_err());
    }

    #[test]
    fn lambdas_header_parses_and_prints_back() {
        let raw = format!("Root={ROOT};Parent={PARENT};Sampled=1");
        let header = TraceHeader::parse(&raw).unwrap();
        assert_eq!(header.root.as_str(), ROOT);
        assert_eq!(header.parent.as_ref().map(SegmentId::as_str), Some(PARENT));
        assert_eq!(header.sampled, Some(true));
        assert_eq!(header.to_string(), raw);
    }

    #[test]
    fn keys_come_in_any_order_with_whitespace_and_unknown_keys_ignored() {
        let header = TraceHeader::parse(&format!(
            "  Sampled=0 ; Lineage=a87bd80c:1|68fd508a:5;Parent = {PARENT} ;Self=1-x-y; Root={ROOT}  "
        ))
        .unwrap();
        assert_eq!(header.root.as_str(), ROOT);
        assert_eq!(header.parent.as_ref().map(SegmentId::as_str), Some(PARENT));
        assert_eq!(header.sampled, Some(false));
        assert!(!header.is_sampled());
        assert_eq!(
            header.to_string(),
            format!("Root={ROOT};Parent={PARENT};Sampled=0")
        );
    }

    #[test]
    fn absent_parts_are_left_out_when_printed() {
        let header = TraceHeader::parse(&format!("Root={ROOT};Sampled=?")).unwrap();
        assert_eq!(header.parent, None);
        assert_eq!(header.sampled, None);
        assert_eq!(header.to_string(), format!("Root={ROOT}"));
    }

    #[test]
    fn a_bad_parent_or_sampled_is_ignored_but_a_bad_root_is_an_error() {
        let header =
            TraceHeader::parse(&format!("Root={ROOT};Parent=zz;Sampled=yes;garbage;;")).unwrap();
        assert_eq!((header.parent, header.sampled), (None, None));

        let cases = [
            ("", InvalidTraceHeader::MissingRoot),
            ("garbage", InvalidTraceHeader::MissingRoot),
            (
                "Parent=53995c3f42cd8ad8;Sampled=1",
                InvalidTraceHeader::MissingRoot,
            ),
            (
                "root=1-5759e988-bd862e3fe1be46a994272793",
                InvalidTraceHeader::MissingRoot,
            ),
            (
                "Root=2-5759e988-bd862e3fe1be46a994272793",
                InvalidTraceHeader::Root(InvalidTraceId::Version),
            ),
            (
                "Root=1-xyz-abc",
                InvalidTraceHeader::Root(InvalidTraceId::Length(9)),
            ),
            ("Root=", InvalidTraceHeader::Root(InvalidTraceId::Length(0))),
            (
                "Root=1-5759e988-bd862e3fe1be46a994272793;Root=1-5759e988-bd862e3fe1be46a994272794",
                InvalidTraceHeader::DuplicateRoot,
            ),
        ];
        for (raw, expected) in cases {
            assert_eq!(TraceHeader::parse(raw), Err(expected), "{raw:?}");
        }
    }

    #[test]
    fn with_parent_keeps_the_trace_and_the_decision() {
        let root = TraceHeader::new_root();
        let parent = SegmentId::generate();
        let child = root.with_parent(parent.clone());
        assert_eq!(child.root, root.root);
        assert!(child.is_sampled());
        assert_eq!(child.parent, Some(parent));
        assert_eq!(TraceHeader::parse(&child.to_string()), Ok(child));
    }

    proptest! {
        #[test]
        fn parsing_any_text_never_panics(raw in "\\PC{0,80}") {
            let _ = TraceId::parse(&raw);
            let _ = SegmentId::parse(&raw);
            let _ = TraceHeader::parse(&raw);
        }

        #[test]
        fn trace_id_accepts_exactly_its_grammar(raw in "[12]-[0-9a-fA-FgG-]{8}-[0-9a-fA-FxX]{24}") {
            let valid = raw.starts_with("1-")
                && raw[2..10].bytes().all(|b| b.is_ascii_hexdigit())
                && raw[11..].bytes().all(|b| b.is_ascii_hexdigit());
            prop_assert_eq!(TraceId::parse(&raw).is_ok(), valid);
        }

        #[test]
        fn a_printed_header_parses_back_to_itself(
            root in "1-[0-9a-f]{8}-[0-9a-fA-F]{24}",
            parent in proptest::option::of("[0-9a-fA-F]{16}"),
            sampled in proptest::option::of(any::<bool>()),
        ) {
            let header = TraceHeader {
                root: TraceId::parse(&root).unwrap(),
                parent: parent.map(|p| SegmentId::parse(&p).unwrap()),
                sampled,
            };
            prop_assert_eq!(TraceHeader::parse(&header.to_string()), Ok(header));
        }
    }
}
