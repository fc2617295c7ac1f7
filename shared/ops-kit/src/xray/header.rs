//! The X-Ray trace header: `Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1`.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

/// A parsed `X-Amzn-Trace-Id` / `_X_AMZN_TRACE_ID` / SQS `AWSTraceHeader` value.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceHeader {
    /// The trace id: `1-{8 hex: epoch seconds}-{24 hex}`.
    pub root: String,
    /// The id of the segment or subsegment this work is a child of.
    pub parent: Option<String>,
    /// The sampling decision; `None` when the caller left it to us.
    pub sampled: Option<bool>,
}

impl TraceHeader {
    /// Parses a header; fields other than `Root`, `Parent` and `Sampled` (such as
    /// `Lineage`) are ignored. Returns `None` without a well-formed `Root`.
    pub fn parse(raw: &str) -> Option<Self> {
        let mut header = Self {
            root: String::new(),
            parent: None,
            sampled: None,
        };
        for field in raw.split(';') {
            let (key, value) = field.trim().split_once('=')?;
            match key {
                "Root" if is_trace_id(value) => value.clone_into(&mut header.root),
                "Parent" if is_segment_id(value) => header.parent = Some(value.to_owned()),
                "Sampled" => header.sampled = matches!(value, "1" | "0").then_some(value == "1"),
                _ => {}
            }
        }
        (!header.root.is_empty()).then_some(header)
    }

    /// A new trace, sampled, for work that starts without one.
    pub fn new_root() -> Self {
        Self {
            root: new_trace_id(),
            parent: None,
            sampled: Some(true),
        }
    }

    /// The same trace with another parent: how a call is made a child of a subsegment.
    #[must_use]
    pub fn with_parent(&self, parent: &str) -> Self {
        Self {
            parent: Some(parent.to_owned()),
            ..self.clone()
        }
    }

    /// Whether segments should be sent for this trace.
    pub fn is_sampled(&self) -> bool {
        self.sampled == Some(true)
    }
}

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

/// `1-{8 hex}-{24 hex}`.
pub fn is_trace_id(value: &str) -> bool {
    let mut parts = value.split('-');
    matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some("1"), Some(time), Some(random), None)
            if time.len() == 8 && random.len() == 24 && is_hex(time) && is_hex(random)
    )
}

/// 16 hex digits.
pub fn is_segment_id(value: &str) -> bool {
    value.len() == 16 && is_hex(value)
}

fn is_hex(value: &str) -> bool {
    value
        .bytes()
        .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

/// A new random 64-bit segment id as 16 hex digits.
pub fn new_segment_id() -> String {
    let (high, _) = uuid::Uuid::new_v4().as_u64_pair();
    format!("{high:016x}")
}

/// A new trace id for a trace that starts now.
pub fn new_trace_id() -> String {
    let seconds = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs();
    let random = uuid::Uuid::new_v4().simple().to_string();
    format!("1-{:08x}-{}", seconds & 0xffff_ffff, &random[..24])
}

/// Seconds since the epoch with microseconds, as segment documents carry time.
pub(crate) fn epoch_seconds(time: SystemTime) -> f64 {
    let since = time.duration_since(UNIX_EPOCH).unwrap_or_default();
    // Whole microseconds keep the value exact in an f64 for centuries.
    let micros = since.as_secs() * 1_000_000 + u64::from(since.subsec_micros());
    #[allow(
        clippy::cast_precision_loss,
        reason = "2^53 µs is 285 years after 1970"
    )]
    let seconds = micros as f64 / 1_000_000.0;
    seconds
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lambdas_header_parses_and_prints_back() {
        let raw = "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1";
        let header = TraceHeader::parse(raw).unwrap();
        assert_eq!(header.root, "1-5759e988-bd862e3fe1be46a994272793");
        assert_eq!(header.parent.as_deref(), Some("53995c3f42cd8ad8"));
        assert!(header.is_sampled());
        assert_eq!(header.to_string(), raw);
    }

    #[test]
    fn lineage_is_ignored_and_unsampled_is_kept() {
        let header = TraceHeader::parse(
            "Root=1-5759e988-bd862e3fe1be46a994272793;Sampled=0;Lineage=a87bd80c:1|68fd508a:5",
        )
        .unwrap();
        assert_eq!(header.sampled, Some(false));
        assert!(!header.is_sampled());
    }

    #[test]
    fn a_header_without_a_valid_root_is_none() {
        for bad in [
            "",
            "Parent=53995c3f42cd8ad8",
            "Root=2-5759e988-bd862e3fe1be46a994272793",
            "Root=1-xyz-abc",
            "garbage",
        ] {
            assert_eq!(TraceHeader::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn new_ids_have_the_documented_shapes() {
        assert!(is_trace_id(&new_trace_id()));
        assert!(is_segment_id(&new_segment_id()));
        assert_ne!(new_segment_id(), new_segment_id());
    }

    #[test]
    fn with_parent_keeps_the_trace_and_the_decision() {
        let header = TraceHeader::new_root().with_parent("0123456789abcdef");
        assert!(header.is_sampled());
        assert_eq!(header.parent.as_deref(), Some("0123456789abcdef"));
    }
}
